using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// Residual steps Y &lt;- Y + h K2 relu(BN(K1 Y)), each with its own weights (symmetric: K2 = K1^T, a transposed
/// convolution over K1's weight). Lowered to primitives per time step; both uses of K1 add to its gradient.
/// </summary>
internal sealed class Residual : Op<ResidualSpec>
{
    public static readonly Residual Instance = new();

    public override string Name => "Residual";

    public override LayerKind Syntax { get; } = new("ResidualAttribute", ["RESIDUAL"], [],
        [("steps", "Steps", ArgumentType.Int), ("h", "H", ArgumentType.Float), ("kernel", "Kernel", ArgumentType.Int),
         ("symmetric", "Symmetric", ArgumentType.Bool)],
        a => new ResidualSpec(a.Name, a.Span, a.Spans, a.Int("Steps", 1), a.Float("H", 1f), a.Int("Kernel", 3), a.Bool("Symmetric", false)));

    protected override LayerOutcome Check(ResidualSpec residual, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        int channels = input.Channels;
        string description = $"Residual({channels}, steps={residual.Steps}, h={Format.Invariant(residual.H)}, kernel_size={residual.Kernel}"
            + (residual.Symmetric ? ", symmetric" : "") + ")";
        bool valid = rules.Spatial(residual, input) & rules.AtLeast(residual, "Steps", residual.Steps, 1)
            & rules.PositiveStep(residual, residual.H) & rules.OddKernel(residual, "Kernel", residual.Kernel);
        if (!valid || rules.Slide(residual, input, residual.Kernel, 1, residual.Kernel / 2) is null)
        {
            return LayerOutcome.Failed(description);
        }

        var tensors = new System.Collections.Generic.List<LayerTensor>();
        int[] weight = [channels, channels, residual.Kernel, residual.Kernel];
        for (int step = 0; step < residual.Steps; step++)
        {
            string prefix = Format.Invariant(step) + ".";
            tensors.Add(new LayerTensor(prefix + "conv1", TensorRole.Weight, weight, true));
            tensors.AddRange(OpCatalog.NormTensors(prefix + "bn", channels));
            if (!residual.Symmetric)
            {
                tensors.Add(new LayerTensor(prefix + "conv2", TensorRole.Weight, weight, true));
            }

            // Two convolutions per step, each widening the field by kernel - 1.
            field = field.Window(residual.Kernel, 1).Window(residual.Kernel, 1);
        }

        long convMacs = (long)channels * channels * residual.Kernel * residual.Kernel * input.Height * input.Width;
        return new LayerOutcome(input, description, tensors, 2 * convMacs * residual.Steps);
    }

    protected override BufferOperand Lower(ResidualSpec residual, LayerLowering lowering)
    {
        string shape = BranchShape(lowering, residual.Kernel);
        BufferOperand y = lowering.Input;
        for (int step = 0; step < residual.Steps; step++)
        {
            lowering.BeginTimeStep(step);
            BufferOperand branch = LowerBranch(lowering, shape, y, residual.Symmetric ? null : "conv2", "output");
            BufferOperand output = lowering.Activation("output");
            lowering.Emit(new AddScaled(y, residual.H, branch, output));
            y = output;
        }

        return y;
    }

    /// <summary>The branch convolutions' shape: stride 1, "same" padding, one per layer, shared by its time steps.</summary>
    public static string BranchShape(LayerLowering lowering, int kernel) =>
        lowering.Shape("Shape", "IConvShape", Conv.ShapeMembers(lowering.Layer.Input, lowering.Layer.Output, kernel, 1, kernel / 2, 1, 1));

    /// <summary>
    /// The explicit branch of a residual or IMEX step, K2 relu(BN(K1 Y)) with K1 = <c>conv1</c> (IMEX: <c>conv</c>),
    /// into a buffer named <paramref name="outputName"/>; K2 is the module <paramref name="second"/>, or K1^T when null.
    /// </summary>
    public static BufferOperand LowerBranch(LayerLowering lowering, string shape, BufferOperand y, string? second, string outputName, string first = "conv1")
    {
        Operand k1 = lowering.Value(lowering.StepModule(first), TensorRole.Weight);
        BufferOperand conv = lowering.Activation("conv");
        lowering.Emit(new LinearForward(LinearOp.Conv2d, shape, y, k1, NoOperand.Instance, conv, Activation.None));
        BufferOperand normed = lowering.BatchNorm(lowering.Norm(lowering.StepModule("bn"), BatchNormSpec.DefaultEps, BatchNormSpec.DefaultMomentum), conv, "bn", Activation.Relu);
        BufferOperand branch = lowering.Activation(outputName == "output" ? "branch" : outputName);
        lowering.Emit(second is null
            ? new LinearForward(LinearOp.ConvTranspose2d, shape, normed, k1, NoOperand.Instance, branch, Activation.None)
            : new LinearForward(LinearOp.Conv2d, shape, normed, lowering.Value(lowering.StepModule(second), TensorRole.Weight), NoOperand.Instance, branch, Activation.None));
        return branch;
    }

    /// <summary>Batch norms start as the identity; K1 (followed by BN and ReLU) is He-initialised, the rest Xavier.</summary>
    public override Initialiser Initialise(TensorSpec tensor, Activation activation) => tensor.Key.Module.EndsWith(".bn", System.StringComparison.Ordinal)
        ? OpCatalog.NormInitialiser(tensor)
        : base.Initialise(tensor, tensor.Key.Module.EndsWith(".conv1", System.StringComparison.Ordinal) ? Activation.Relu : activation);
}
