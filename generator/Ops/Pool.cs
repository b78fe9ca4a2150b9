using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// nn.MaxPool2d (with ceil_mode: its windows past the input are clipped, as the kernels clip every window) and
/// nn.AvgPool2d; the blueprint may mark either optional ('POOL 2?').
/// </summary>
internal abstract class Pool(PoolKind kind, string name, string[] keywords) : Op<PoolSpec>
{
    private static readonly (string, string, ArgumentType)[] Options =
    [
        ("stride", "Stride", ArgumentType.Int), ("pad", "Pad", ArgumentType.Int),
    ];

    /// <summary>Max pooling also takes PyTorch's ceil_mode (average pooling's would change its divisor at the edge).</summary>
    private static readonly (string, string, ArgumentType)[] MaxOptions = [.. Options, ("ceil", "CeilMode", ArgumentType.Bool)];

    /// <summary>The kernels' limit (NetCompiler.Kernels.MaxPool2d.MaxKernel): a window position fits a byte.</summary>
    private const int MaxKernel = 16;

    public override string Name => name;

    public override LayerKind Syntax { get; } = new(name + "Attribute", keywords, [("Kernel", ArgumentType.Int, false)], kind == PoolKind.Max ? MaxOptions : Options,
        a =>
        {
            int kernel = a.Int("Kernel", 2);
            int stride = a.Int("Stride", 0);
            // PyTorch: a stride of None (here 0) means the kernel size.
            return new PoolSpec(a.Name, a.Span, a.Spans, kind, kernel, stride == 0 ? kernel : stride, a.Int("Pad", 0), a.Bool("Optional", false),
                a.Bool("CeilMode", false));
        },
        CanBeOptional: true);

    protected override LayerOutcome Check(PoolSpec pool, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        string description = $"{name}2d(kernel_size={pool.Kernel}, stride={pool.Stride}" + ShapeRules.Option("padding", pool.Pad, 0)
            + (pool.CeilMode ? ", ceil_mode=True" : "") + ")";
        bool valid = rules.Spatial(pool, input)
            & rules.AtLeast(pool, "Kernel", pool.Kernel, 1) & rules.AtLeast(pool, "Stride", pool.Stride, 1) & rules.AtLeast(pool, "Pad", pool.Pad, 0);
        if (valid && kind == PoolKind.Max && pool.Kernel > MaxKernel)
        {
            rules.OutOfRange(pool, "Kernel", pool.Kernel, $"max pooling windows go up to {MaxKernel} x {MaxKernel}: each output keeps its argmax's place as one byte");
            valid = false;
        }

        if (valid && pool.Pad > pool.Kernel / 2)
        {
            rules.Report(DiagnosticDescriptors.PoolPaddingTooLarge, pool.SpanOf("Pad"), ShapeRules.Label(pool), pool.Pad, pool.Kernel);
            valid = false;
        }

        if (!valid)
        {
            return LayerOutcome.Failed(description);
        }

        if (pool.Optional && (input.Height + (2 * pool.Pad) < pool.Kernel || input.Width + (2 * pool.Pad) < pool.Kernel))
        {
            rules.Report(DiagnosticDescriptors.OptionalLayerSkipped, pool.Span, name, input.Height, input.Width, pool.Kernel);
            return new LayerOutcome(input, "", LayerOutcome.NoTensors, 0); // skipped: the checker drops a layer with an empty description
        }

        if (rules.Slide(pool, input, pool.Kernel, pool.Stride, pool.Pad, pool.CeilMode) is not (int height, int width))
        {
            return LayerOutcome.Failed(description);
        }

        field = field.Window(pool.Kernel, pool.Stride);
        return new LayerOutcome(Shape.Image(input.Channels, height, width), description, LayerOutcome.NoTensors, 0);
    }

    protected override BufferOperand Lower(PoolSpec pool, LayerLowering lowering)
    {
        Shape input = lowering.Layer.Input, output = lowering.Layer.Output;
        string shape = lowering.Shape("Shape", "IPoolShape",
            ("Channels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width),
            ("OutHeight", output.Height), ("OutWidth", output.Width), ("Kernel", pool.Kernel), ("Stride", pool.Stride), ("Pad", pool.Pad));
        BufferOperand y = lowering.Activation("output");
        BufferOperand? switches = kind == PoolKind.Max ? lowering.Saved("switches", ElementType.UInt8, lowering.OutputSize, perImage: true) : null;
        lowering.Emit(new PoolForward(kind == PoolKind.Max ? PoolOp.Max : PoolOp.Average, shape, lowering.Input, y, switches));
        return y;
    }
}

internal sealed class MaxPool() : Pool(PoolKind.Max, "MaxPool", ["POOL", "MAXPOOL"])
{
    public static readonly MaxPool Instance = new();
}

internal sealed class AvgPool() : Pool(PoolKind.Average, "AvgPool", ["AVGPOOL"])
{
    public static readonly AvgPool Instance = new();
}

/// <summary>nn.AdaptiveAvgPool2d(1): one value per channel.</summary>
internal sealed class GlobalAvgPool : Op<GlobalAvgPoolSpec>
{
    public static readonly GlobalAvgPool Instance = new();

    public override string Name => "GlobalAvgPool";

    public override LayerKind Syntax { get; } = new("GlobalAvgPoolAttribute", ["GAP", "GLOBALAVGPOOL"], [], [],
        a => new GlobalAvgPoolSpec(a.Name, a.Span, a.Spans));

    protected override LayerOutcome Check(GlobalAvgPoolSpec gap, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        if (!rules.Spatial(gap, input))
        {
            return LayerOutcome.Failed("AdaptiveAvgPool2d(1)");
        }

        field = field.Everything;
        return new LayerOutcome(Shape.Image(input.Channels, 1, 1), "AdaptiveAvgPool2d(1)", LayerOutcome.NoTensors, 0);
    }

    protected override BufferOperand Lower(GlobalAvgPoolSpec gap, LayerLowering lowering)
    {
        Shape input = lowering.Layer.Input;
        BufferOperand y = lowering.Activation("output");
        lowering.Emit(new GlobalAvgPoolForward(lowering.Input, y, input.Channels, input.Height * input.Width));
        return y;
    }
}
