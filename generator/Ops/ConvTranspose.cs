using System;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.ConvTranspose2d: the upsampling of segmentation decoders.</summary>
internal sealed class ConvTranspose : Op<ConvTransposeSpec>
{
    public static readonly ConvTranspose Instance = new();

    public override string Name => "ConvTranspose";

    public override bool TakesActivationEpilogue => true;

    public override LayerKind Syntax { get; } = new("ConvTransposeAttribute", ["CONVT", "DECONV", "UPCONV"],
        [("OutChannels", ArgumentType.Int, true), ("Kernel", ArgumentType.Int, true)],
        [.. Conv.Options, ("outpad", "OutputPad", ArgumentType.Int)],
        a => new ConvTransposeSpec(a.Name, a.Span, a.Spans, a.Int("OutChannels", 1), a.Int("Kernel", 1),
            a.Int("Stride", 1), a.Int("Pad", 0), a.Int("OutputPad", 0), a.Int("Dilation", 1), a.Int("Groups", 1),
            a.Bool("Bias", true)));

    protected override LayerOutcome Check(ConvTransposeSpec conv, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        string description = $"ConvTranspose2d({input.Channels}, {conv.OutChannels}, kernel_size={conv.Kernel}"
            + ShapeRules.Option("stride", conv.Stride, 1) + ShapeRules.Option("padding", conv.Pad, 0) + ShapeRules.Option("output_padding", conv.OutputPad, 0)
            + ShapeRules.Option("dilation", conv.Dilation, 1) + ShapeRules.Option("groups", conv.Groups, 1) + (conv.Bias ? "" : ", bias=False") + ")";
        bool valid = rules.Spatial(conv, input)
            & rules.AtLeast(conv, "OutChannels", conv.OutChannels, 1) & rules.AtLeast(conv, "Kernel", conv.Kernel, 1)
            & rules.AtLeast(conv, "Stride", conv.Stride, 1) & rules.AtLeast(conv, "Pad", conv.Pad, 0)
            & rules.AtLeast(conv, "Dilation", conv.Dilation, 1) & rules.AtLeast(conv, "Groups", conv.Groups, 1);
        if (valid && (conv.OutputPad < 0 || conv.OutputPad >= Math.Max(conv.Stride, conv.Dilation)))
        {
            rules.OutOfRange(conv, "OutputPad", conv.OutputPad, "it must be at least 0 and smaller than the stride or the dilation, as in PyTorch");
            valid = false;
        }

        if (!valid || !rules.GroupsDivide(conv, conv.Groups, input.Channels, conv.OutChannels))
        {
            return LayerOutcome.Failed(description);
        }

        int extent = (conv.Dilation * (conv.Kernel - 1)) + 1;
        long height = ((long)(input.Height - 1) * conv.Stride) - (2L * conv.Pad) + extent + conv.OutputPad;
        long width = ((long)(input.Width - 1) * conv.Stride) - (2L * conv.Pad) + extent + conv.OutputPad;
        if (height < 1 || width < 1 || height > int.MaxValue || width > int.MaxValue)
        {
            rules.Report(DiagnosticDescriptors.NoOutput, conv.SpanOf("Pad"), ShapeRules.Label(conv), height, width);
            return LayerOutcome.Failed(description);
        }

        // Each output sees ceil(extent / stride) inputs per side; outputs sit 1/stride input pixels apart.
        field = field.Window((extent + conv.Stride - 1) / conv.Stride, 1.0 / conv.Stride);
        long macs = (long)input.Channels * input.Height * input.Width * (conv.OutChannels / conv.Groups) * conv.Kernel * conv.Kernel;
        return new LayerOutcome(Shape.Image(conv.OutChannels, (int)height, (int)width), description,
            Conv.WeightAndBias([input.Channels, conv.OutChannels / conv.Groups, conv.Kernel, conv.Kernel], conv.OutChannels, conv.Bias), macs);
    }

    protected override BufferOperand Lower(ConvTransposeSpec conv, LayerLowering lowering)
    {
        string shape = lowering.Shape("Shape", "IConvShape", Conv.ShapeMembers(lowering.Layer.Input, lowering.Layer.Output, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation, conv.Groups));
        return Conv.LowerLinear(lowering, LinearOp.ConvTranspose2d, shape);
    }
}
