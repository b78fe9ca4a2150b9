using System.Collections.Generic;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.Conv2d: stride, padding, dilation and groups (depthwise and 1x1 fall out).</summary>
internal sealed class Conv : Op<ConvSpec>
{
    /// <summary>The options convolutions share in the blueprint (declared before Instance, which uses it).</summary>
    public static readonly (string, string, ArgumentType)[] Options =
    [
        ("stride", "Stride", ArgumentType.Int), ("pad", "Pad", ArgumentType.Int), ("dilation", "Dilation", ArgumentType.Int),
        ("groups", "Groups", ArgumentType.Int), ("bias", "Bias", ArgumentType.Bool),
    ];

    public static readonly Conv Instance = new();

    public override string Name => "Conv";

    public override bool TakesActivationEpilogue => true;

    public override LayerKind Syntax { get; } = new("ConvAttribute", ["CONV"],
        [("OutChannels", ArgumentType.Int, true), ("Kernel", ArgumentType.Int, true)], Options,
        a =>
        {
            int kernel = a.Int("Kernel", 1), dilation = a.Int("Dilation", 1);
            // cs231n's blueprint convention: CONV keeps the spatial size unless told otherwise ("same" padding);
            // the attribute follows nn.Conv2d, whose padding defaults to 0.
            int defaultPad = a.Notation == Notation.Blueprint ? dilation * (kernel - 1) / 2 : 0;
            return new ConvSpec(a.Name, a.Span, a.Spans, a.Int("OutChannels", 1), kernel, a.Int("Stride", 1),
                a.Int("Pad", defaultPad), dilation, a.Int("Groups", 1), a.Bool("Bias", true));
        });

    protected override LayerOutcome Check(ConvSpec conv, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        string description = $"Conv2d({input.Channels}, {conv.OutChannels}, kernel_size={conv.Kernel}"
            + ShapeRules.Option("stride", conv.Stride, 1) + ShapeRules.Option("padding", conv.Pad, 0) + ShapeRules.Option("dilation", conv.Dilation, 1)
            + ShapeRules.Option("groups", conv.Groups, 1) + (conv.Bias ? "" : ", bias=False") + ")";
        bool valid = rules.Spatial(conv, input)
            & rules.AtLeast(conv, "OutChannels", conv.OutChannels, 1) & rules.AtLeast(conv, "Kernel", conv.Kernel, 1)
            & rules.AtLeast(conv, "Stride", conv.Stride, 1) & rules.AtLeast(conv, "Pad", conv.Pad, 0)
            & rules.AtLeast(conv, "Dilation", conv.Dilation, 1) & rules.AtLeast(conv, "Groups", conv.Groups, 1);
        if (!valid || !rules.GroupsDivide(conv, conv.Groups, input.Channels, conv.OutChannels))
        {
            return LayerOutcome.Failed(description);
        }

        int extent = (conv.Dilation * (conv.Kernel - 1)) + 1;
        if (rules.Slide(conv, input, extent, conv.Stride, conv.Pad) is not (int height, int width))
        {
            return LayerOutcome.Failed(description);
        }

        field = field.Window(extent, conv.Stride);
        long macs = (long)conv.OutChannels * height * width * (input.Channels / conv.Groups) * conv.Kernel * conv.Kernel;
        return new LayerOutcome(Shape.Image(conv.OutChannels, height, width), description,
            WeightAndBias([conv.OutChannels, input.Channels / conv.Groups, conv.Kernel, conv.Kernel], conv.OutChannels, conv.Bias), macs);
    }

    protected override BufferOperand Lower(ConvSpec conv, LayerLowering lowering)
    {
        string shape = lowering.Shape("Shape", "IConvShape", ShapeMembers(lowering.Layer.Input, lowering.Layer.Output, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation, conv.Groups));
        return LowerLinear(lowering, LinearOp.Conv2d, shape);
    }

    /// <summary>The forward of a layer of the form y = W x + b: one call, the activation after it fused in later.</summary>
    public static BufferOperand LowerLinear(LayerLowering lowering, LinearOp kind, string shape)
    {
        BufferOperand output = lowering.Activation("output");
        lowering.Emit(new LinearForward(kind, shape, lowering.Input, lowering.Value("", TensorRole.Weight), lowering.Value("", TensorRole.Bias), output, Activation.None));
        return output;
    }

    /// <summary>A weight, and a bias of <paramref name="channels"/> when the layer has one.</summary>
    public static IReadOnlyList<LayerTensor> WeightAndBias(int[] weight, int channels, bool bias) => bias
        ? [new LayerTensor("", TensorRole.Weight, weight, true), new LayerTensor("", TensorRole.Bias, [channels], true)]
        : [new LayerTensor("", TensorRole.Weight, weight, true)];

    /// <summary>The members of an IConvShape struct.</summary>
    public static (string, int)[] ShapeMembers(Shape input, Shape output, int kernel, int stride, int pad, int dilation, int groups) =>
    [
        ("InChannels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width),
        ("OutChannels", output.Channels), ("OutHeight", output.Height), ("OutWidth", output.Width),
        ("Kernel", kernel), ("Stride", stride), ("Pad", pad), ("Dilation", dilation), ("Groups", groups),
    ];
}
