namespace NetCompiler.Generator.Model;

/// <summary>What a stored tensor is to its module, PyTorch's attribute name for it.</summary>
internal enum TensorRole
{
    Weight,
    Bias,
    RunningMean,
    RunningVar,
}

/// <summary>
/// A checkpoint key as structure: the module path ("features.3.0.bn") and the tensor's role in it; its text is
/// PyTorch's state_dict key, "features.3.0.bn.running_mean".
/// </summary>
internal sealed record TensorKey(string Module, TensorRole Role)
{
    public string RoleName => Role switch
    {
        TensorRole.Weight => "weight",
        TensorRole.Bias => "bias",
        TensorRole.RunningMean => "running_mean",
        _ => "running_var",
    };

    public override string ToString() => Module + "." + RoleName;

    /// <summary>The key of another tensor of the same module (a batch norm's bias beside its weight).</summary>
    public TensorKey With(TensorRole role) => this with { Role = role };
}
