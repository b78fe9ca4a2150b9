using System.Collections.Generic;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>One convolution of a ResNet block (no bias, "same" padding) and the batch norm after it.</summary>
internal sealed record BlockConv(string Module, string Norm, int Kernel, int Channels, bool Strided);

/// <summary>
/// A stage of torchvision ResNet blocks, lowered to primitives per block ("layer1.0", "layer1.1" ...): the main path's
/// convolutions each followed by a batch norm (with a ReLU in its epilogue but the last), the shortcut (the input, or
/// torchvision's downsample: conv1x1(stride) + BN, in the first block where the shape changes), their sum, a ReLU.
/// The passes do the rest: each conv + BN folds for inference (the shortcut's too), the block input's two uses add up
/// in the backward.
/// </summary>
internal abstract class ResNetBlocks<TSpec> : Op<TSpec>
    where TSpec : ResNetBlockSpec
{
    /// <summary>The blueprint options both blocks take.</summary>
    protected static readonly (string, string, ArgumentType)[] Options = [("blocks", "Blocks", ArgumentType.Int), ("stride", "Stride", ArgumentType.Int)];

    /// <summary>torchvision's expansion: the output channels over <see cref="ResNetBlockSpec.Channels"/>.</summary>
    protected abstract int Expansion { get; }

    /// <summary>The attribute's name for <see cref="ResNetBlockSpec.Channels"/> ("OutChannels", "Width").</summary>
    protected abstract string ChannelsArgument { get; }

    /// <summary>A block's main path, in torchvision's module order.</summary>
    protected abstract BlockConv[] MainPath(int channels);

    protected override LayerOutcome Check(TSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        int output = spec.Channels * Expansion;
        bool downsample = spec.Stride != 1 || input.Channels != output;
        string description = $"{Format.Invariant(spec.Blocks)} x {Name}({input.Channels}, {spec.Channels}"
            + (Expansion == 1 ? "" : ", out=" + Format.Invariant(output)) + ShapeRules.Option("stride", spec.Stride, 1)
            + (downsample ? ", downsample" : "") + ")";
        bool valid = rules.Spatial(spec, input) & rules.AtLeast(spec, ChannelsArgument, spec.Channels, 1)
            & rules.AtLeast(spec, "Blocks", spec.Blocks, 1) & rules.AtLeast(spec, "Stride", spec.Stride, 1);
        if (!valid)
        {
            return LayerOutcome.Failed(description);
        }

        var tensors = new List<LayerTensor>();
        long macs = 0;
        Shape shape = input;
        for (int block = 0; block < spec.Blocks; block++)
        {
            string prefix = Format.Invariant(block) + ".";
            int stride = block == 0 ? spec.Stride : 1;
            Shape blockInput = shape;
            ReceptiveField main = field;
            foreach (BlockConv conv in MainPath(spec.Channels))
            {
                int convStride = conv.Strided ? stride : 1;
                if (rules.Slide(spec, shape, conv.Kernel, convStride, conv.Kernel / 2) is not (int height, int width))
                {
                    return LayerOutcome.Failed(description);
                }

                tensors.Add(new LayerTensor(prefix + conv.Module, TensorRole.Weight, [conv.Channels, shape.Channels, conv.Kernel, conv.Kernel], true));
                tensors.AddRange(OpCatalog.NormTensors(prefix + conv.Norm, conv.Channels));
                long weightsPerOutput = (long)shape.Channels * conv.Kernel * conv.Kernel;
                shape = Shape.Image(conv.Channels, height, width);
                macs += shape.Elements * weightsPerOutput;
                main = main.Window(conv.Kernel, convStride);
            }

            if (block == 0 && downsample)
            {
                tensors.Add(new LayerTensor(prefix + "downsample.0", TensorRole.Weight, [output, blockInput.Channels, 1, 1], true));
                tensors.AddRange(OpCatalog.NormTensors(prefix + "downsample.1", output));
                macs += shape.Elements * blockInput.Channels;
            }

            // Both paths end on the same grid (equal jumps); the field is the wider one's, the main path's in practice.
            ReceptiveField shortcut = field.Window(1, stride);
            field = main.Size >= shortcut.Size ? main : shortcut;
        }

        return new LayerOutcome(shape, description, tensors, macs);
    }

    protected override BufferOperand Lower(TSpec spec, LayerLowering lowering)
    {
        int output = spec.Channels * Expansion;
        BlockConv[] mainPath = MainPath(spec.Channels);
        BufferOperand x = lowering.Input;
        Shape shape = lowering.Layer.Input;
        for (int block = 0; block < spec.Blocks; block++)
        {
            lowering.BeginTimeStep(block, "block");
            int stride = block == 0 ? spec.Stride : 1;
            BufferOperand main = x;
            Shape mainShape = shape;
            for (int i = 0; i < mainPath.Length; i++)
            {
                BlockConv conv = mainPath[i];
                (main, mainShape) = ConvNorm(lowering, main, mainShape, conv.Module, conv.Norm, conv.Kernel, conv.Strided ? stride : 1, conv.Channels,
                    i < mainPath.Length - 1 ? Activation.Relu : Activation.None);
            }

            BufferOperand shortcut = block == 0 && (spec.Stride != 1 || shape.Channels != output)
                ? ConvNorm(lowering, x, shape, "downsample.0", "downsample.1", 1, stride, output, Activation.None).Output
                : x;

            // The add and the ReLU after it run as two elementwise kernels: the batch norm kernel has no residual-add epilogue yet.
            BufferOperand sum = lowering.Activation("sum", mainShape);
            lowering.Emit(new AddScaled(shortcut, 1f, main, sum));
            x = lowering.Activation("output", mainShape);
            lowering.Emit(new ActivationForward(Activation.Relu, sum, x));
            shape = mainShape;
        }

        return x;
    }

    /// <summary>
    /// A convolution without bias ("same" padding) into buffer <paramref name="module"/>, then its batch norm into
    /// <paramref name="norm"/> (also GoogLeNet's BasicConv2d, Ops/Inception.cs, with its eps).
    /// </summary>
    internal static (BufferOperand Output, Shape Shape) ConvNorm(LayerLowering lowering, BufferOperand x, Shape input, string module, string norm,
        int kernel, int stride, int channels, Activation activation, float eps = BatchNormSpec.DefaultEps)
    {
        int pad = kernel / 2;
        var output = Shape.Image(channels, ((input.Height + (2 * pad) - kernel) / stride) + 1, ((input.Width + (2 * pad) - kernel) / stride) + 1);
        string stepModule = lowering.StepModule(module);
        string shape = lowering.Shape("_" + Lowering.Identifier(stepModule) + "Shape", "IConvShape",
            $"{lowering.Layer.Name}.{stepModule}: Conv2d({input.Channels}, {channels}, kernel_size={kernel}" + ShapeRules.Option("stride", stride, 1)
            + ShapeRules.Option("padding", pad, 0) + $", bias=False), {input} -> {output}.",
            Conv.ShapeMembers(input, output, kernel, stride, pad, 1, 1));
        BufferOperand conv = lowering.Activation(module, output);
        lowering.Emit(new LinearForward(LinearOp.Conv2d, shape, x, lowering.Value(stepModule, TensorRole.Weight), NoOperand.Instance, conv, Activation.None));
        BatchNormParameters parameters = lowering.Norm(lowering.StepModule(norm), eps, BatchNormSpec.DefaultMomentum, output);
        return (lowering.BatchNorm(parameters, conv, norm, activation, output), output);
    }

    /// <summary>
    /// Batch norms start as the identity (torchvision's weight 1, bias 0); every convolution is He-initialised (fan in),
    /// as each feeds a batch norm and a ReLU, directly or after the add. torchvision draws kaiming_normal_ with fan_out.
    /// </summary>
    public override Initialiser Initialise(TensorSpec tensor, Activation activation) => IsNorm(tensor.Key.Module)
        ? OpCatalog.NormInitialiser(tensor)
        : base.Initialise(tensor, Activation.Relu);

    private static bool IsNorm(string module) =>
        module.Substring(module.LastIndexOf('.') + 1).StartsWith("bn", System.StringComparison.Ordinal) || module.EndsWith(".downsample.1", System.StringComparison.Ordinal);
}
