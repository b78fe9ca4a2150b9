using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// torchvision's Bottleneck (ResNet-50/101/152): conv1x1-BN-ReLU, conv3x3(stride)-BN-ReLU, conv1x1 to width * 4 -BN,
/// the shortcut, ReLU. The stride is on the 3x3 convolution, as torchvision's ResNet v1.5.
/// </summary>
internal sealed class Bottleneck : ResNetBlocks<BottleneckSpec>
{
    public static readonly Bottleneck Instance = new();

    public override string Name => "Bottleneck";

    public override LayerKind Syntax { get; } = new("BottleneckAttribute", ["BOTTLENECK"], [("Width", ArgumentType.Int, true)], Options,
        a => new BottleneckSpec(a.Name, a.Span, a.Spans, a.Int("Width", 1), a.Int("Blocks", 1), a.Int("Stride", 1)));

    protected override int Expansion => 4;

    protected override string ChannelsArgument => "Width";

    protected override BlockConv[] MainPath(int width) =>
    [
        new("conv1", "bn1", 1, width, Strided: false), new("conv2", "bn2", 3, width, Strided: true),
        new("conv3", "bn3", 1, width * Expansion, Strided: false),
    ];
}
