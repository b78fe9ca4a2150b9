using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace NetCompiler;

/// <summary>
/// Checkpoints: the network's state_dict in a safetensors file, under PyTorch's names and shapes, so weights move
/// between a NetCompiler network and the equivalent PyTorch module in both directions. Optimiser state is not saved.
/// </summary>
public abstract partial class CompiledNetwork
{
    private const string StreamName = "(stream)";

    /// <summary>
    /// Saves every parameter (F32) and every batch norm's num_batches_tracked (an I64 scalar) to
    /// <paramref name="path"/>. The file is written beside the target under a temporary name, flushed to disk and then
    /// renamed over it, so a crash leaves either the old checkpoint or the new one, never a half-written file.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written; an existing file at <paramref name="path"/> is left as it was.</exception>
    public void Save(string path) => AtomicFile.Write(path, Save);

    /// <summary>Writes the checkpoint (see <see cref="Save(string)"/>) to <paramref name="stream"/>.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        SynchronizeHost();
        var tensors = new List<SafeTensor>(_parameters.Count + _batchCounters.Count);
        foreach (Parameter parameter in _parameters)
        {
            tensors.Add(SafeTensor.Float32(parameter.Name, [.. parameter.Shape.Select(d => (long)d)], parameter.Value));
        }

        foreach (BatchCounter counter in _batchCounters)
        {
            tensors.Add(SafeTensor.Int64(counter.Name, [], [counter.Count]));
        }

        // safetensors.torch.save_file writes no metadata unless asked; "format": "pt" is what Hugging Face tools write
        // for PyTorch-layout files, and some readers look for it.
        SafeTensors.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>
    /// Loads a checkpoint saved by <see cref="Save(string)"/> or by PyTorch (a state_dict written with safetensors):
    /// it must hold exactly this network's tensors, F32 with the network's shapes, and each batch norm's
    /// num_batches_tracked as an I64 scalar. Everything is read and checked before any parameter changes, so a
    /// failed load leaves the network as it was.
    /// </summary>
    /// <exception cref="CheckpointException">The file is not valid safetensors or does not fit this network; the message names the file and the tensor.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public void Load(string path) => Load(path, strict: true);

    /// <summary>Loads a checkpoint (see <see cref="Load(string)"/>) from <paramref name="stream"/>'s position to its end.</summary>
    /// <exception cref="CheckpointException">The stream does not hold a valid checkpoint for this network.</exception>
    public void Load(Stream stream) => Load(stream, strict: true);

    /// <summary>
    /// Loads a checkpoint for transfer learning, as PyTorch's load_state_dict(strict=...): each key in the file is first
    /// passed through <paramref name="rename"/> (e.g. strip "module."; null drops the tensor), then matched to the
    /// network's tensors by name. The result lists the network's tensors the file lacks (Missing: kept as they are), the
    /// renamed keys the network lacks (Unexpected), and the tensors present in both with different shapes (Mismatched:
    /// skipped, so a checkpoint of a 10-class network loads into a 5-class one with the same body, keeping its own head;
    /// PyTorch throws on a shape mismatch even when not strict). With <paramref name="strict"/> any of the three is a
    /// <see cref="CheckpointException"/> listing them. A corrupt file, a tensor of another dtype or two keys renamed to
    /// one name also throw; whenever anything throws, the network is as it was.
    /// </summary>
    /// <exception cref="CheckpointException">The file is not valid safetensors, or (strict) does not fit this network exactly.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public LoadResult Load(string path, bool strict, Func<string, string?>? rename = null)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Load(file, path, strict, rename);
    }

    /// <summary>Loads a checkpoint (see <see cref="Load(string, bool, Func{string, string?}?)"/>) from <paramref name="stream"/>'s position to its end.</summary>
    /// <exception cref="CheckpointException">The stream does not hold a valid checkpoint, or (strict) not one for this network.</exception>
    public LoadResult Load(Stream stream, bool strict, Func<string, string?>? rename = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Load(stream, stream is FileStream file ? file.Name : StreamName, strict, rename);
    }

    private LoadResult Load(Stream stream, string source, bool strict, Func<string, string?>? rename)
    {
        SynchronizeHost(); // a partial load keeps the tensors the file lacks: their newest values first
        SafeTensorsHeader header = SafeTensors.ReadHeader(stream, source);
        var parameters = new Dictionary<string, Parameter>(_parameters.Count, StringComparer.Ordinal);
        foreach (Parameter parameter in _parameters)
        {
            parameters.Add(parameter.Name, parameter);
        }

        var counters = _batchCounters.ToDictionary(c => c.Name, StringComparer.Ordinal);

        // Each file tensor's name in the network, or null when it is not loaded (dropped, unexpected or mismatched).
        string?[] targets = new string?[header.Tensors.Count];
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        string? firstProblem = null, firstTensor = null;
        void Problem(string tensor, string problem)
        {
            firstTensor ??= tensor;
            firstProblem ??= problem;
        }

        // Every size is checked against the network before anything is allocated, so a corrupt header cannot ask for
        // more memory than the network itself holds.
        for (int i = 0; i < header.Tensors.Count; i++)
        {
            SafeTensorInfo tensor = header.Tensors[i];
            string? name = rename is null ? tensor.Name : rename(tensor.Name);
            if (name is null)
            {
                continue;
            }

            if (!sources.TryAdd(name, tensor.Name))
            {
                throw new CheckpointException(source, tensor.Name, $"is renamed to '{name}', as is '{sources[name]}'; a tensor can be loaded from one key only.");
            }

            string renamed = name == tensor.Name ? "" : $" (renamed '{name}')";
            if (parameters.TryGetValue(name, out Parameter? parameter))
            {
                string? mismatch = Mismatch(tensor, SafeTensorsDType.F32, [.. parameter.Shape.Select(d => (long)d)], source, "");
                targets[i] = mismatch is null ? name : null;
                if (mismatch is not null)
                {
                    mismatched.Add(name);
                    Problem(tensor.Name, mismatch + renamed);
                }
            }
            else if (counters.ContainsKey(name))
            {
                string? mismatch = Mismatch(tensor, SafeTensorsDType.I64, [], source, " (num_batches_tracked is an int64 scalar)");
                targets[i] = mismatch is null ? name : null;
                if (mismatch is not null)
                {
                    mismatched.Add(name);
                    Problem(tensor.Name, mismatch + renamed);
                }
            }
            else
            {
                unexpected.Add(name);
                Problem(tensor.Name, $"is in the file{renamed} but not in this network; the network's tensors are listed in its Parameters and BatchCounters.");
            }
        }

        string[] missing = [.. parameters.Keys.Concat(counters.Keys).Where(name => !sources.ContainsKey(name))];
        if (missing.Length > 0)
        {
            string why = counters.ContainsKey(missing[0])
                ? " PyTorch's batch norm saves num_batches_tracked with its running statistics; a checkpoint must carry it too."
                : "";
            Problem(missing[0], $"is missing from the file{(missing.Length == 1 ? "" : $" ({missing.Length - 1} more missing: {List(missing.Skip(1))})")}.{why}");
        }

        var result = new LoadResult(missing, [.. unexpected], [.. mismatched]);
        if (strict && firstProblem is not null)
        {
            throw new CheckpointException(source, firstTensor, firstProblem + (result.ProblemCount == 1 ? "" : $" In all: {result}."));
        }

        byte[]?[] data = [.. header.Tensors.Select((t, i) => targets[i] is null ? null : new byte[t.ByteLength])];
        SafeTensors.ReadData(stream, header, source, data);

        var values = new List<(Parameter Parameter, float[] Value)>(_parameters.Count);
        var counts = new List<(BatchCounter Counter, long Count)>(_batchCounters.Count);
        for (int i = 0; i < data.Length; i++)
        {
            if (targets[i] is not string name)
            {
                continue;
            }

            string fileName = header.Tensors[i].Name;
            if (parameters.TryGetValue(name, out Parameter? parameter))
            {
                float[] value = SafeTensors.FromLittleEndian<float>(data[i], parameter.Length);
                CheckFinite(fileName, value, source);
                values.Add((parameter, value));
            }
            else
            {
                long count = SafeTensors.FromLittleEndian<long>(data[i], 1)[0];
                if (count < 0)
                {
                    throw new CheckpointException(source, fileName, $"is {count}; a count of batches cannot be negative.");
                }

                counts.Add((counters[name], count));
            }
        }

        // Nothing below can fail: the network changes only now, all at once.
        foreach ((Parameter parameter, float[] value) in values)
        {
            value.CopyTo(parameter.Value, 0);
        }

        foreach ((BatchCounter counter, long count) in counts)
        {
            counter.Count = count;
        }

        MarkParametersChanged();
        return result;
    }

    /// <summary>The first few names of a list, for a message.</summary>
    internal static string List(IEnumerable<string> names)
    {
        string[] all = [.. names];
        return string.Join(", ", all.Take(5)) + (all.Length > 5 ? $", ... ({all.Length} in all)" : "");
    }

    /// <summary>
    /// Why a file tensor does not fit the network's: null when it fits, the problem when only its shape differs; another
    /// dtype throws, as a load cannot convert it.
    /// </summary>
    private static string? Mismatch(SafeTensorInfo tensor, SafeTensorsDType dtype, long[] shape, string source, string why)
    {
        if (tensor.DType != dtype)
        {
            throw new CheckpointException(source, tensor.Name, $"{tensor.DType} not supported; expected {dtype}{why}.");
        }

        return tensor.Shape.SequenceEqual(shape)
            ? null
            : $"has shape {SafeTensors.FormatShape(tensor.Shape)} in the file, but the network's is {SafeTensors.FormatShape(shape)}{why}.";
    }

    /// <summary>A NaN or infinite weight is a diverged or corrupt checkpoint: loading it would only give NaN scores later.</summary>
    private static void CheckFinite(string name, float[] value, string source)
    {
        int bad = IndexOfNonFinite(value);
        if (bad >= 0)
        {
            throw new CheckpointException(source, name, $"element {bad} is {value[bad]}; checkpoint values must be finite.");
        }
    }
}

/// <summary>Replaces a file all at once: write a temporary file beside it, flush it to disk, rename it over the target.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>. If anything fails, the temporary file is
    /// deleted and an existing file at <paramref name="path"/> is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string target = Path.GetFullPath(path);

        // Same directory, so the rename stays on one file system and is atomic; a random suffix, so concurrent saves do not collide.
        string temporary = $"{target}.tmp-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}";
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string temporary)
    {
        try
        {
            File.Delete(temporary);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The original failure is the one worth reporting; a stray temporary file is harmless.
        }
    }
}
