namespace NetCompiler.Generator.Model;

/// <summary>
/// A layer as written, before shapes are known. One record per op; the op's shape rule lives in
/// Checking/LayerRules.cs. <see cref="Arguments"/> locates each argument the user wrote, so a diagnostic
/// about an argument lands on it; <see cref="Span"/> is the whole attribute or blueprint layer.
/// </summary>
internal abstract record LayerSpec(string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments)
{
    /// <summary>The span of the named argument, or of the whole layer when it was not written out.</summary>
    public SourceSpan SpanOf(string argument)
    {
        foreach (ArgumentSpan written in Arguments)
        {
            if (written.Name == argument)
            {
                return written.Span;
            }
        }

        return Span;
    }
}

/// <summary>Where a layer argument was written. Names are the attribute property names (Kernel, Stride ...).</summary>
internal sealed record ArgumentSpan(string Name, SourceSpan Span);

internal sealed record ConvSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments,
    int OutChannels, int Kernel, int Stride, int Pad, int Dilation, int Groups, bool Bias)
    : LayerSpec(Name, Span, Arguments);

internal sealed record ConvTransposeSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments,
    int OutChannels, int Kernel, int Stride, int Pad, int OutputPad, int Dilation, int Groups, bool Bias)
    : LayerSpec(Name, Span, Arguments);

/// <summary>A batch norm layer; residual and IMEX steps use PyTorch's defaults for their inner ones.</summary>
internal sealed record BatchNormSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, float Eps, float Momentum)
    : LayerSpec(Name, Span, Arguments)
{
    public const float DefaultEps = 1e-5f;

    public const float DefaultMomentum = 0.1f;
}

/// <summary>The element-wise activations, nn.ReLU ... nn.SiLU; a kernel program carries them as its calls' activations.</summary>
internal enum ActivationKind
{
    None,
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    Elu,
    Relu6,
    Silu,
}

/// <summary>
/// An activation layer; <see cref="Alpha"/> is LeakyReLU's negative slope or ELU's alpha, 0 for the kinds without a
/// parameter.
/// </summary>
internal sealed record ActivationSpec(string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, ActivationKind Kind, float Alpha)
    : LayerSpec(Name, Span, Arguments);

internal enum PoolKind
{
    Max,
    Average,
}

/// <summary>Max or average pooling; <see cref="Stride"/> is already resolved (the kernel when unset).</summary>
internal sealed record PoolSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments,
    PoolKind Kind, int Kernel, int Stride, int Pad, bool Optional, bool CeilMode)
    : LayerSpec(Name, Span, Arguments);

internal sealed record GlobalAvgPoolSpec(string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments)
    : LayerSpec(Name, Span, Arguments);

/// <summary>A fully connected layer; <see cref="InFeatures"/> is 0 when it is to be inferred.</summary>
internal sealed record DenseSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, int OutFeatures, int InFeatures, bool Bias)
    : LayerSpec(Name, Span, Arguments);

internal sealed record DropoutSpec(string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, float P)
    : LayerSpec(Name, Span, Arguments);

internal sealed record ResidualSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments,
    int Steps, float H, int Kernel, bool Symmetric)
    : LayerSpec(Name, Span, Arguments);

/// <summary>IMEX steps; <see cref="Groups"/> is 0 for depthwise (one group per channel).</summary>
internal sealed record ImexSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments,
    int Steps, float H, int Kernel, int ImplicitKernel, int Groups, bool ReleasedVariant)
    : LayerSpec(Name, Span, Arguments);

/// <summary>
/// A stage of torchvision ResNet blocks: <see cref="Blocks"/> of them, the first with <see cref="Stride"/> (and the
/// downsample shortcut where the shape changes). <see cref="Channels"/> is BasicBlock's planes or Bottleneck's width.
/// </summary>
internal abstract record ResNetBlockSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, int Channels, int Blocks, int Stride)
    : LayerSpec(Name, Span, Arguments);

internal sealed record BasicBlockSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, int Channels, int Blocks, int Stride)
    : ResNetBlockSpec(Name, Span, Arguments, Channels, Blocks, Stride);

internal sealed record BottleneckSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments, int Channels, int Blocks, int Stride)
    : ResNetBlockSpec(Name, Span, Arguments, Channels, Blocks, Stride);

/// <summary>
/// GoogLeNet's Inception module as torchvision builds it: four branches of the same input, joined along channels
/// (1x1; 1x1 reduce then 3x3; 1x1 reduce then torchvision's "5x5", a 3x3; 3x3 max pool then a 1x1 projection).
/// </summary>
internal sealed record InceptionSpec(
    string? Name, SourceSpan Span, EquatableArray<ArgumentSpan> Arguments,
    int Ch1x1, int Ch3x3Reduce, int Ch3x3, int Ch5x5Reduce, int Ch5x5, int PoolProj)
    : LayerSpec(Name, Span, Arguments);
