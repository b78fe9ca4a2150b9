using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Planning;

/// <summary>The kernel family a step runs; one per op.</summary>
internal enum StepKind
{
    Conv,
    ConvTranspose,
    BatchNorm,
    Relu,
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    Dense,
    Dropout,

    /// <summary>One time step of a residual layer: Y + h K2 relu(BN(K1 Y)).</summary>
    ResidualStep,

    /// <summary>One time step of an IMEX layer: an explicit branch K^T relu(BN(K Y)) and the FFT implicit solve.</summary>
    ImexStep,
}

/// <summary>
/// One fusion group: a layer (or one time step of a residual or IMEX layer) and the ReLU folded into its epilogue,
/// if any. A step reads the output of the step named <see cref="Input"/> (null: the network input) and writes its
/// own output buffer; backward it reads its output gradient and writes its input's. <see cref="Identifier"/> names
/// its fields in generated code; <see cref="LayerIdentifier"/> names the layer's compile-time shape structs, which
/// its time steps share.
/// </summary>
internal sealed record PlanStep(int Index, StepKind Kind, CheckedLayer Layer, string? Input, string Identifier, string LayerIdentifier)
{
    /// <summary>The ReLU layer run in this step's epilogue.</summary>
    public string? FusedRelu { get; init; }

    /// <summary>The time step of a residual or IMEX layer, each of which has its own weights and buffers.</summary>
    public int? TimeStep { get; init; }

    /// <summary>
    /// The batch norm step this convolution or dense step absorbs in inference: its weights are folded in, the
    /// folded layer writes that step's output, with its ReLU.
    /// </summary>
    public PlanStep? FoldedBatchNorm { get; init; }

    /// <summary>A batch norm that inference folds into the step before it (and so skips).</summary>
    public bool IsFolded { get; init; }

    public Shape InputShape => Layer.Input;

    public Shape OutputShape => Layer.Output;

    /// <summary>The key prefix of this step's tensors: "features.3." or, for a time step, "features.3.0.".</summary>
    public string TensorPrefix => Layer.Name + "." + (TimeStep is int step ? Format.Invariant(step) + "." : "");

    /// <summary>The tensors this step owns, in checkpoint order.</summary>
    public IEnumerable<TensorSpec> Tensors => Layer.Tensors.Where(t => t.Key.StartsWith(TensorPrefix, System.StringComparison.Ordinal));

    /// <summary>Whether this step writes its layer's final output (false for all but the last time step).</summary>
    public bool EndsLayer => TimeStep is not int step || step == TimeSteps(Layer.Spec) - 1;

    /// <summary>
    /// This step's part of the buffer plan: its output and output gradient, and the state its backward needs
    /// (batch statistics, max-pool switches, the dropout mask, the branch activations of residual and IMEX steps).
    /// The ReLU mask needs none: it is the output's sign.
    /// </summary>
    public PlanBuffer[] Buffers
    {
        get
        {
            var buffers = new List<PlanBuffer> { Activation("output"), Activation("gradient") };
            int channels = OutputShape.Channels;
            switch (Kind)
            {
                case StepKind.BatchNorm:
                    buffers.AddRange([Statistic("savedMean", channels), Statistic("savedInvStd", channels)]);
                    break;
                case StepKind.MaxPool:
                    buffers.Add(new PlanBuffer("switches", "int", OutputShape.Elements, PerImage: true));
                    break;
                case StepKind.Dropout:
                    buffers.Add(Activation("mask"));
                    break;
                case StepKind.ResidualStep or StepKind.ImexStep:
                    // The explicit branch of both: conv = K1 Y, bn = relu(BN(conv)), the gradients of both, and scratch
                    // (the branch's output gradient, then its input gradient). With K2 = K1^T, weightScratch sums K1's two gradients.
                    buffers.AddRange([Activation("conv"), Activation("bn"), Statistic("bnMean", channels), Statistic("bnInvStd", channels),
                        Activation("convGradient"), Activation("bnGradient"), Activation("scratch")]);
                    if (Layer.Spec is ResidualSpec { Symmetric: true } or ImexSpec)
                    {
                        buffers.Add(Statistic("weightScratch", Weight(BranchWeight)));
                    }

                    if (Layer.Spec is not ImexSpec imex)
                    {
                        break;
                    }

                    // explicit = K^T bn and its gradient; the paper's form keeps the solved branch, the released form
                    // the right-hand side and its batch norm.
                    buffers.AddRange([Activation("explicit"), Activation("explicitGradient")]);
                    buffers.AddRange(imex.ReleasedVariant
                        ? [Activation("rhs"), Activation("normed"), Statistic("normMean", channels), Statistic("normInvStd", channels), Activation("normedGradient"), Activation("rhsGradient")]
                        : [Activation("solved")]);
                    break;
            }

            if (FoldedBatchNorm is not null)
            {
                buffers.AddRange([Statistic("foldedWeight", Weight("weight")), Statistic("foldedBias", channels)]);
            }

            return buffers.ToArray();
        }
    }

    /// <summary>The weight of a residual or IMEX step's first branch convolution (K1, or IMEX's K).</summary>
    public string BranchWeight => Layer.Spec is ImexSpec ? "conv.weight" : "conv1.weight";

    /// <summary>The weight of its second convolution, or null where it is the transposed first (symmetric residual, IMEX).</summary>
    public string? SecondBranchWeight => Layer.Spec is ResidualSpec { Symmetric: false } ? "conv2.weight" : null;

    private long Weight(string suffix) => Tensors.Single(t => t.Key == TensorPrefix + suffix).Dimensions.Aggregate(1L, (product, d) => product * d);

    private PlanBuffer Activation(string role) => new(role, "float", OutputShape.Elements, PerImage: true);

    private static PlanBuffer Statistic(string role, long elements) => new(role, "float", elements, PerImage: false);

    /// <summary>The time steps of a residual or IMEX layer, each a plan step of its own; 0 for every other layer.</summary>
    public static int TimeSteps(LayerSpec spec) => spec switch
    {
        ResidualSpec residual => residual.Steps,
        ImexSpec imex => imex.Steps,
        _ => 0,
    };
}

/// <summary>A buffer allocated once per network: <see cref="Elements"/> per image (times the batch size) or in all.</summary>
internal sealed record PlanBuffer(string Role, string ElementType, long Elements, bool PerImage);

/// <summary>
/// The backend-neutral plan of a network: fusion groups in execution order. The buffer plan follows from it
/// (one activation and one gradient buffer per step, plus each kind's saved state) and the backward plan is
/// the steps in reverse.
/// </summary>
internal sealed record KernelPlan(CheckedNetwork Network, EquatableArray<PlanStep> Steps);
