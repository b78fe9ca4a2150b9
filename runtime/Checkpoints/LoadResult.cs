using System.Collections.Generic;

namespace NetCompiler;

/// <summary>What a non-strict checkpoint load matched, as PyTorch's load_state_dict result plus the shape mismatches.</summary>
public sealed class LoadResult
{
    internal LoadResult(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>The network's tensors the file lacks; they kept their values.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>The file's keys, after renaming, that the network lacks; they were ignored.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>The tensors in both whose shapes differ; the network kept its own.</summary>
    public IReadOnlyList<string> Mismatched { get; }

    /// <summary>Whether every tensor of the file and of the network matched.</summary>
    public bool Exact => ProblemCount == 0;

    internal int ProblemCount => Missing.Count + Unexpected.Count + Mismatched.Count;

    public override string ToString() =>
        $"{Missing.Count} missing ({CompiledNetwork.List(Missing)}), {Unexpected.Count} unexpected ({CompiledNetwork.List(Unexpected)}), " +
        $"{Mismatched.Count} mismatched ({CompiledNetwork.List(Mismatched)})";
}
