using System.Collections.Generic;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// GoogLeNet's Inception module as torchvision.models.googlenet builds it, lowered to primitives: four branches read
/// the same input, each a chain of BasicConv2d (conv without bias, batch norm with eps 0.001 and the ReLU in its
/// epilogue), branch 4 after a 3x3 max pool (stride 1, pad 1); their outputs are joined along channels in branch
/// order by chained two-way concatenations. torchvision's "5x5" branch is a 3x3 convolution, and so is this one. The
/// passes do the rest: each conv + BN folds for inference, the input's four uses add up in the backward.
/// </summary>
internal sealed class Inception : Op<InceptionSpec>
{
    public static readonly Inception Instance = new();

    /// <summary>torchvision's BasicConv2d: BatchNorm2d(out_channels, eps=0.001).</summary>
    private const float BasicConvEps = 0.001f;

    /// <summary>Branch 4's max pool: nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True), which keeps the size.</summary>
    private const int PoolKernel = 3, PoolPad = 1;

    public override string Name => "Inception";

    public override LayerKind Syntax { get; } = new("InceptionAttribute", ["INCEPTION"],
        [
            ("Ch1x1", ArgumentType.Int, true), ("Ch3x3Reduce", ArgumentType.Int, true), ("Ch3x3", ArgumentType.Int, true),
            ("Ch5x5Reduce", ArgumentType.Int, true), ("Ch5x5", ArgumentType.Int, true), ("PoolProj", ArgumentType.Int, true),
        ], [],
        a => new InceptionSpec(a.Name, a.Span, a.Spans, a.Int("Ch1x1", 1), a.Int("Ch3x3Reduce", 1), a.Int("Ch3x3", 1),
            a.Int("Ch5x5Reduce", 1), a.Int("Ch5x5", 1), a.Int("PoolProj", 1)));

    /// <summary>One BasicConv2d of a branch: its module path ("branch2.1"), kernel and output channels.</summary>
    private sealed record BasicConv(string Module, int Kernel, int Channels);

    /// <summary>A branch: whether it starts with the max pool, then its convolutions.</summary>
    private sealed record Branch(bool Pooled, params BasicConv[] Convs);

    /// <summary>The branches in torchvision's module order; branch 4's conv follows its pool ("branch4.0").</summary>
    private static Branch[] Branches(InceptionSpec spec) =>
    [
        new(false, new BasicConv("branch1", 1, spec.Ch1x1)),
        new(false, new BasicConv("branch2.0", 1, spec.Ch3x3Reduce), new BasicConv("branch2.1", 3, spec.Ch3x3)),
        new(false, new BasicConv("branch3.0", 1, spec.Ch5x5Reduce), new BasicConv("branch3.1", 3, spec.Ch5x5)),
        new(true, new BasicConv("branch4.1", 1, spec.PoolProj)),
    ];

    protected override LayerOutcome Check(InceptionSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        int output = spec.Ch1x1 + spec.Ch3x3 + spec.Ch5x5 + spec.PoolProj;
        string description = $"Inception({input.Channels}, ch1x1={spec.Ch1x1}, ch3x3red={spec.Ch3x3Reduce}, ch3x3={spec.Ch3x3}, "
            + $"ch5x5red={spec.Ch5x5Reduce}, ch5x5={spec.Ch5x5}, pool_proj={spec.PoolProj})";
        bool valid = rules.Spatial(spec, input)
            & rules.AtLeast(spec, "Ch1x1", spec.Ch1x1, 1) & rules.AtLeast(spec, "Ch3x3Reduce", spec.Ch3x3Reduce, 1)
            & rules.AtLeast(spec, "Ch3x3", spec.Ch3x3, 1) & rules.AtLeast(spec, "Ch5x5Reduce", spec.Ch5x5Reduce, 1)
            & rules.AtLeast(spec, "Ch5x5", spec.Ch5x5, 1) & rules.AtLeast(spec, "PoolProj", spec.PoolProj, 1);
        if (!valid)
        {
            return LayerOutcome.Failed(description);
        }

        // Every branch keeps the height and width ("same" convolutions, the stride-1 pool), so only channels change.
        var tensors = new List<LayerTensor>();
        long macs = 0, plane = (long)input.Height * input.Width;
        ReceptiveField joined = field;
        foreach (Branch branch in Branches(spec))
        {
            ReceptiveField path = branch.Pooled ? field.Window(PoolKernel, 1) : field;
            int channels = input.Channels;
            foreach (BasicConv conv in branch.Convs)
            {
                tensors.Add(new LayerTensor(conv.Module + ".conv", TensorRole.Weight, [conv.Channels, channels, conv.Kernel, conv.Kernel], true));
                tensors.AddRange(OpCatalog.NormTensors(conv.Module + ".bn", conv.Channels));
                macs += plane * conv.Channels * channels * conv.Kernel * conv.Kernel;
                path = path.Window(conv.Kernel, 1);
                channels = conv.Channels;
            }

            joined = joined.Join(path);
        }

        field = joined;
        return new LayerOutcome(Shape.Image(output, input.Height, input.Width), description, tensors, macs);
    }

    protected override BufferOperand Lower(InceptionSpec spec, LayerLowering lowering)
    {
        Shape input = lowering.Layer.Input;
        BufferOperand? joined = null;
        int joinedChannels = 0;
        Branch[] branches = Branches(spec);
        for (int b = 0; b < branches.Length; b++)
        {
            BufferOperand x = branches[b].Pooled ? MaxPool(lowering, input) : lowering.Input;
            Shape shape = input;
            foreach (BasicConv conv in branches[b].Convs)
            {
                (x, shape) = ResNetBlocks<BasicBlockSpec>.ConvNorm(lowering, x, shape, conv.Module + ".conv", conv.Module + ".bn",
                    conv.Kernel, 1, conv.Channels, Activation.Relu, BasicConvEps);
            }

            if (joined is null)
            {
                joined = x;
                joinedChannels = shape.Channels;
                continue;
            }

            // torch.cat(outputs, 1) as a chain: branches 1 and 2, then with 3 ("branches_1_3"), then with 4 into the output.
            joinedChannels += shape.Channels;
            BufferOperand y = b == branches.Length - 1
                ? lowering.Activation("output")
                : lowering.Activation("branches_1_" + Format.Invariant(b + 1), Shape.Image(joinedChannels, input.Height, input.Width));
            lowering.Emit(new ConcatChannels(joined, x, y));
            joined = y;
        }

        return joined!;
    }

    /// <summary>Branch 4's max pool into "branch4.0", with its switches.</summary>
    private static BufferOperand MaxPool(LayerLowering lowering, Shape input)
    {
        string shape = lowering.Shape("_Branch4_0Shape", "IPoolShape",
            $"{lowering.Layer.Name}.branch4.0: MaxPool2d(kernel_size={PoolKernel}, stride=1, padding={PoolPad}, ceil_mode=True), {input} -> {input}.",
            ("Channels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width),
            ("OutHeight", input.Height), ("OutWidth", input.Width), ("Kernel", PoolKernel), ("Stride", 1), ("Pad", PoolPad));
        BufferOperand pooled = lowering.Activation("branch4.0", input);
        BufferOperand switches = lowering.Saved("branch4.0.switches", ElementType.UInt8, lowering.SizeOf(input), perImage: true);
        lowering.Emit(new PoolForward(PoolOp.Max, shape, lowering.Input, pooled, switches));
        return pooled;
    }

    /// <summary>Batch norms start as the identity; every convolution is He-initialised (fan in), as each feeds a batch norm and a ReLU.</summary>
    public override Initialiser Initialise(TensorSpec tensor, Activation activation) =>
        tensor.Key.Module.EndsWith(".bn", System.StringComparison.Ordinal) ? OpCatalog.NormInitialiser(tensor) : base.Initialise(tensor, Activation.Relu);
}
