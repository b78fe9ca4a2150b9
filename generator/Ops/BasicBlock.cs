using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;

namespace NetCompiler.Generator.Ops;

/// <summary>torchvision's BasicBlock (ResNet-18/34): conv3x3(stride)-BN-ReLU-conv3x3-BN, the shortcut, ReLU; expansion 1.</summary>
internal sealed class BasicBlock : ResNetBlocks<BasicBlockSpec>
{
    public static readonly BasicBlock Instance = new();

    public override string Name => "BasicBlock";

    public override LayerKind Syntax { get; } = new("BasicBlockAttribute", ["BASICBLOCK"], [("OutChannels", ArgumentType.Int, true)], Options,
        a => new BasicBlockSpec(a.Name, a.Span, a.Spans, a.Int("OutChannels", 1), a.Int("Blocks", 1), a.Int("Stride", 1)));

    protected override int Expansion => 1;

    protected override string ChannelsArgument => "OutChannels";

    protected override BlockConv[] MainPath(int channels) =>
        [new("conv1", "bn1", 3, channels, Strided: true), new("conv2", "bn2", 3, channels, Strided: false)];
}
