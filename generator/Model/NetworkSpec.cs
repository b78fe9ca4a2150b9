namespace NetCompiler.Generator.Model;

/// <summary>The loss named on the Network attribute; mirrors NetCompiler.Loss.</summary>
internal enum LossKind
{
    CrossEntropy = 0,
    PixelCrossEntropy = 1,
    MeanSquaredError = 2,
    L1 = 3,
    SmoothL1 = 4,
    BinaryCrossEntropy = 5,
}

internal static class LossKinds
{
    /// <summary>Whether the loss trains on one float target per output element rather than on class labels.</summary>
    public static bool TakesFloatTargets(this LossKind loss) => loss >= LossKind.MeanSquaredError;
}

/// <summary>The initialisation named on the Network attribute; mirrors NetCompiler.Initialization.</summary>
internal enum InitKind
{
    HeXavier = 0,
    PyTorchDefault = 1,
    SmallNormal = 2,
    Orthogonal = 3,
}

/// <summary>The C# declaration the generated part must match: namespace, containing types and the class itself.</summary>
internal sealed record TypeDeclaration(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string Name)
{
    public string FullName => (Namespace is null ? "" : Namespace + ".")
        + string.Concat(System.Linq.Enumerable.Select(ContainingTypes, t => t.Name + ".")) + Name;
}

/// <summary>A type the network class is nested in: its keyword (class, struct, record ...) and name.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>
/// A network as written: its declaration, input, loss and layers in order. Produced by parsing, consumed by
/// checking. Holds no Roslyn objects, so the incremental pipeline caches it by value.
/// </summary>
internal sealed record NetworkSpec(
    TypeDeclaration Declaration,
    SourceSpan AttributeSpan,
    InputSpec Input,
    LossKind Loss,
    SourceSpan LossSpan,
    EquatableArray<LayerSpec> Layers)
{
    /// <summary>The layers named by Keep, whose output and gradient stay readable after a call.</summary>
    public EquatableArray<string> Keep { get; init; } = EquatableArray<string>.Empty;

    /// <summary>Where Keep was written.</summary>
    public SourceSpan KeepSpan { get; init; } = AttributeSpan;

    /// <summary>How weights and biases start (batch norms start as the identity whatever it is).</summary>
    public InitKind Init { get; init; } = InitKind.HeXavier;
}

/// <summary>The input of one image, C x H x W.</summary>
internal sealed record InputSpec(int Channels, int Height, int Width, SourceSpan Span);
