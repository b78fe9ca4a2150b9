using System;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// IMEXnet's steps (Haber et al., ICML 2019): Y &lt;- (I + hL)^-1 (Y + hLY + hF), F = K^T relu(BN(K Y)), L = C^T C with C
/// a grouped periodic convolution. Since (I + hL)^-1 (Y + hLY + hF) = Y + h (I + hL)^-1 F exactly, the paper's form
/// lowers to the solve of F alone (no L Y product). The released form is (I + hL)^-1 BN(Y + hF).
/// </summary>
internal sealed class Imex : Op<ImexSpec>
{
    public static readonly Imex Instance = new();

    public override string Name => "Imex";

    public override LayerKind Syntax { get; } = new("ImexAttribute", ["IMEX"], [],
        [("steps", "Steps", ArgumentType.Int), ("h", "H", ArgumentType.Float), ("kernel", "Kernel", ArgumentType.Int),
         ("ckernel", "ImplicitKernel", ArgumentType.Int), ("groups", "Groups", ArgumentType.Int),
         ("released", "ReleasedVariant", ArgumentType.Bool)],
        a => new ImexSpec(a.Name, a.Span, a.Spans, a.Int("Steps", 1), a.Float("H", 1f), a.Int("Kernel", 3),
            a.Int("ImplicitKernel", 3), a.Int("Groups", 0), a.Bool("ReleasedVariant", false)));

    protected override LayerOutcome Check(ImexSpec imex, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        int channels = input.Channels;
        int groups = imex.Groups == 0 ? channels : imex.Groups;
        string description = $"Imex({channels}, steps={imex.Steps}, h={Format.Invariant(imex.H)}, kernel_size={imex.Kernel}, "
            + $"implicit_kernel_size={imex.ImplicitKernel}, groups={groups}" + (imex.ReleasedVariant ? ", released" : "") + ")";
        bool valid = rules.Spatial(imex, input) & rules.AtLeast(imex, "Steps", imex.Steps, 1) & rules.PositiveStep(imex, imex.H)
            & rules.OddKernel(imex, "Kernel", imex.Kernel) & rules.OddKernel(imex, "ImplicitKernel", imex.ImplicitKernel)
            & rules.AtLeast(imex, "Groups", imex.Groups, 0);
        if (!valid || !rules.GroupsDivide(imex, groups, channels, channels))
        {
            return LayerOutcome.Failed(description);
        }

        int extent = Math.Max(imex.Kernel, imex.ImplicitKernel);
        if (rules.Slide(imex, input, extent, 1, extent / 2) is null)
        {
            return LayerOutcome.Failed(description);
        }

        int groupSize = channels / groups;
        var tensors = new System.Collections.Generic.List<LayerTensor>();
        for (int step = 0; step < imex.Steps; step++)
        {
            string prefix = Format.Invariant(step) + ".";
            tensors.Add(new LayerTensor(prefix + "conv", TensorRole.Weight, [channels, channels, imex.Kernel, imex.Kernel], true));
            tensors.AddRange(OpCatalog.NormTensors(prefix + "bn", channels));
            tensors.Add(new LayerTensor(prefix + "implicit", TensorRole.Weight, [channels, groupSize, imex.ImplicitKernel, imex.ImplicitKernel], true));
            if (imex.ReleasedVariant)
            {
                tensors.AddRange(OpCatalog.NormTensors(prefix + "norm", channels));
            }
        }

        // The implicit solve couples every pixel with every other (periodic boundaries).
        field = field.Everything;
        long pixels = (long)input.Height * input.Width;
        long explicitMacs = 2L * channels * channels * imex.Kernel * imex.Kernel * pixels;
        return new LayerOutcome(input, description, tensors, (explicitMacs + SolveMultiplyAccumulates(input, groupSize)) * imex.Steps);
    }

    /// <summary>
    /// What the solve runs per image (both forms run the same one): a real 2-D FFT of each right-hand-side plane and an
    /// inverse of each solution plane, counted as 2 N log2 N multiply-adds each (N pixels; radix-2 butterflies), plus the
    /// per-frequency solve: a real scale of each complex value when depthwise, forward and back substitution with the
    /// g x g Cholesky factor otherwise (8 g^2 per frequency and group). The kernel spectra and factors are computed once
    /// per call, not per image, and are not counted.
    /// </summary>
    private static long SolveMultiplyAccumulates(Shape input, int groupSize)
    {
        long pixels = (long)input.Height * input.Width;
        long frequencies = (long)input.Height * ((input.Width / 2) + 1);
        long transforms = 2L * input.Channels * 2 * pixels * (long)Math.Round(Math.Log(pixels, 2));
        long solve = groupSize == 1 ? 2L * input.Channels * frequencies : 8L * input.Channels * groupSize * frequencies;
        return transforms + solve;
    }

    protected override BufferOperand Lower(ImexSpec imex, LayerLowering lowering)
    {
        Shape input = lowering.Layer.Input;
        if (!lowering.Backend.CanTransform(input.Height, input.Width))
        {
            lowering.Report(DiagnosticDescriptors.FftSizeNotPlannable, imex.Span, ShapeRules.Label(imex), input.Height, input.Width);
        }

        string shape = Residual.BranchShape(lowering, imex.Kernel);
        string solveShape = lowering.Shape("Implicit", "IImplicitShape",
            ("Channels", input.Channels), ("Height", input.Height), ("Width", input.Width),
            ("Kernel", imex.ImplicitKernel), ("Groups", imex.Groups == 0 ? input.Channels : imex.Groups));
        BufferOperand y = lowering.Input;
        for (int step = 0; step < imex.Steps; step++)
        {
            lowering.BeginTimeStep(step);
            BufferOperand explicitBranch = Residual.LowerBranch(lowering, shape, y, second: null, "explicit", first: "conv");
            Operand c = lowering.Value(lowering.StepModule("implicit"), TensorRole.Weight);
            BufferOperand output = lowering.Activation("output");
            if (imex.ReleasedVariant)
            {
                BufferOperand rhs = lowering.Activation("rhs");
                lowering.Emit(new AddScaled(y, imex.H, explicitBranch, rhs));
                BufferOperand normed = lowering.BatchNorm(lowering.Norm(lowering.StepModule("norm"), BatchNormSpec.DefaultEps, BatchNormSpec.DefaultMomentum), rhs, "normed", Activation.None);
                lowering.Emit(new ImplicitSolve(solveShape, normed, c, imex.H, output));
            }
            else
            {
                BufferOperand solved = lowering.Activation("solved");
                lowering.Emit(new ImplicitSolve(solveShape, explicitBranch, c, imex.H, solved));
                lowering.Emit(new AddScaled(y, imex.H, solved, output));
            }

            y = output;
        }

        return y;
    }

    /// <summary>Batch norms start as the identity; K (followed by BN and ReLU) is He-initialised, C Xavier.</summary>
    public override Initialiser Initialise(TensorSpec tensor, Activation activation) =>
        tensor.Key.Module.EndsWith(".bn", StringComparison.Ordinal) || tensor.Key.Module.EndsWith(".norm", StringComparison.Ordinal)
            ? OpCatalog.NormInitialiser(tensor)
            : base.Initialise(tensor, tensor.Key.Module.EndsWith(".conv", StringComparison.Ordinal) ? Activation.Relu : activation);
}
