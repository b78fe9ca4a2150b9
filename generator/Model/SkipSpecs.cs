namespace NetCompiler.Generator.Model;

/// <summary>nn.Upsample(scale_factor=Scale, mode=Mode) as written; <see cref="Mode"/> is checked ("nearest" or "bilinear").</summary>
internal sealed record UpsampleSpec(string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, int Scale, string Mode)
    : LayerSpec(Name, Span, Arguments)
{
    public const string Nearest = "nearest";

    public const string Bilinear = "bilinear";
}

/// <summary>What a named-skip layer does with the tensor kept under <see cref="SkipSpec.Skip"/>.</summary>
internal enum SkipAction
{
    /// <summary>Keeps the current tensor under the name; computes nothing.</summary>
    Save,

    /// <summary>torch.cat([current, saved], dim=1).</summary>
    Concat,

    /// <summary>current + saved, of one shape.</summary>
    Add,
}

/// <summary>A named skip: Save keeps the current tensor, Concat and Add join it later. <see cref="Skip"/> is the name.</summary>
internal sealed record SkipSpec(string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, SkipAction Action, string Skip)
    : LayerSpec(Name, Span, Arguments)
{
    /// <summary>The argument that names the skip, as the attributes' constructor parameter and the diagnostics call it.</summary>
    public const string SkipArgument = "Skip";
}
