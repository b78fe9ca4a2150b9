using System.Collections.Generic;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Program;

/// <summary>What a call reads or writes: a program buffer, a parameter's value or gradient, or nothing (no bias).</summary>
internal abstract record Operand;

internal sealed record BufferOperand(int Id) : Operand;

internal sealed record TensorOperand(TensorKey Key, bool Gradient) : Operand;

internal sealed record NoOperand : Operand
{
    public static readonly NoOperand Instance = new();
}

/// <summary>
/// The activation a call applies: in a kernel's epilogue, while the tile is still in registers, or as a call of its own
/// (<see cref="ActivationForward"/>). <see cref="Alpha"/> is LeakyReLU's negative slope or ELU's alpha, 0 otherwise.
/// </summary>
internal readonly record struct Activation(ActivationKind Kind, float Alpha)
{
    public static Activation None => default;

    public static Activation Relu => new(ActivationKind.Relu, 0f);

    public bool IsNone => Kind == ActivationKind.None;

    /// <summary>
    /// Whether the backward needs the forward's input: SiLU is not monotonic, so its output does not determine its
    /// derivative. Every other kind's derivative is a function of its output (with LeakyReLU's slope at least 0 and
    /// ELU's alpha above 0, as checking ensures), so those fuse into the kernel before them in training.
    /// </summary>
    public bool BackwardReadsInput => Kind == ActivationKind.Silu;

    /// <summary>The activation in the printed program: relu, leaky_relu, sigmoid, tanh, elu, relu6, silu.</summary>
    public string Name => Kind switch
    {
        ActivationKind.Relu => "relu",
        ActivationKind.LeakyRelu => "leaky_relu",
        ActivationKind.Sigmoid => "sigmoid",
        ActivationKind.Tanh => "tanh",
        ActivationKind.Elu => "elu",
        ActivationKind.Relu6 => "relu6",
        ActivationKind.Silu => "silu",
        _ => "identity",
    };

    private bool HasParameter => Kind is ActivationKind.LeakyRelu or ActivationKind.Elu;

    /// <summary>The parameter of a standalone call: "negative_slope=0.1", "alpha=1", or nothing.</summary>
    public string Parameter => !HasParameter ? "" : (Kind == ActivationKind.LeakyRelu ? "negative_slope=" : "alpha=") + Format.Invariant(Alpha);

    /// <summary>The activation as a kernel's epilogue in the printed program: " +relu", " +leaky_relu(0.1)", nothing for none.</summary>
    public string Flag => IsNone ? "" : " +" + Name + (HasParameter ? "(" + Format.Invariant(Alpha) + ")" : "");
}

/// <summary>
/// The residual operand a producer adds in its epilogue, before its activation: y = act(producer(x) + r), a ResNet
/// block's skip (FuseEpilogues.Residuals). Listed last among the call's inputs, so liveness keeps r alive up to it.
/// </summary>
internal static class ResidualOperand
{
    /// <summary>The inputs of a call with its residual, when it has one, appended.</summary>
    public static IEnumerable<Operand> With(Operand residual, params Operand[] inputs) => residual is NoOperand ? inputs : [.. inputs, residual];

    /// <summary>The residual in the printed program: " +add" (its operand is the call's last input), nothing without one.</summary>
    public static string Flag(Operand residual) => residual is NoOperand ? "" : " +add";
}

/// <summary>The kernels that share the linear-layer form y = W x (+ b): convolution, transposed convolution, dense.</summary>
internal enum LinearOp
{
    Conv2d,
    ConvTranspose2d,
    Dense,
}

/// <summary>
/// One primitive call of a routine. <see cref="Inputs"/> and <see cref="Outputs"/> name every operand (an in-place
/// kernel lists its buffer in both), so liveness and the printed program see exactly what the call touches.
/// </summary>
internal abstract record Call
{
    /// <summary>The primitive's name in the printed program.</summary>
    public abstract string Op { get; }

    public abstract IEnumerable<Operand> Inputs { get; }

    public abstract IEnumerable<Operand> Outputs { get; }

    /// <summary>Constants of the call in the printed program ("Features_0Shape +relu").</summary>
    public virtual string Attributes => "";

    /// <summary>
    /// An input the call reads wholly before writing the same elements of its outputs (none by default): its storage
    /// may go to an output, as PlanMemory ends its life just before the call.
    /// </summary>
    public virtual Operand ReadBeforeWritten => NoOperand.Instance;

    /// <summary>The layer (or time step) the call belongs to, for comments and the printed program.</summary>
    public string Layer { get; init; } = "";
}

internal sealed record LinearForward(LinearOp Kind, string Shape, Operand X, Operand Weight, Operand Bias, BufferOperand Y, Activation Activation) : Call
{
    /// <summary>Added to the layer's output before the activation (<see cref="ResidualOperand"/>); none by default.</summary>
    public Operand Residual { get; init; } = NoOperand.Instance;

    public override string Op => Name(Kind);

    public override IEnumerable<Operand> Inputs => ResidualOperand.With(Residual, X, Weight, Bias);

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => Shape + ResidualOperand.Flag(Residual) + Activation.Flag;

    public static string Name(LinearOp kind) => kind switch { LinearOp.Conv2d => "conv2d", LinearOp.ConvTranspose2d => "conv_transpose2d", _ => "dense" };
}

internal sealed record LinearBackwardData(LinearOp Kind, string Shape, Operand DY, Operand Weight, Operand DX) : Call
{
    public override string Op => LinearForward.Name(Kind) + ".backward_data";

    public override IEnumerable<Operand> Inputs => [DY, Weight];

    public override IEnumerable<Operand> Outputs => [DX];

    public override string Attributes => Shape;
}

internal sealed record LinearBackwardWeight(LinearOp Kind, string Shape, Operand X, Operand DY, Operand DWeight, Operand DBias) : Call
{
    public override string Op => LinearForward.Name(Kind) + ".backward_weight";

    public override IEnumerable<Operand> Inputs => [X, DY];

    public override IEnumerable<Operand> Outputs => [DWeight, DBias];

    public override string Attributes => Shape;
}

/// <summary>The tensors of one batch norm module and its configuration.</summary>
internal sealed record BatchNormParameters(TensorKey Weight, int Channels, int Plane, float Eps, float Momentum)
{
    public TensorOperand Gamma => new(Weight, false);

    public TensorOperand Beta => new(Weight.With(TensorRole.Bias), false);

    public TensorOperand RunningMean => new(Weight.With(TensorRole.RunningMean), false);

    public TensorOperand RunningVar => new(Weight.With(TensorRole.RunningVar), false);

    public override string ToString() => Weight.Module;
}

/// <summary>
/// Batch norm on batch statistics; saves the mean, 1/sqrt(var + eps) and the unbiased variance. It leaves the running
/// statistics alone: <see cref="BatchNormCommit"/> moves them once the step's loss is known to be finite.
/// </summary>
internal sealed record BatchNormTraining(BatchNormParameters Norm, Operand X, BufferOperand Y, BufferOperand SavedMean, BufferOperand SavedInvStd, BufferOperand SavedVariance, Activation Activation) : Call
{
    /// <summary>Added to the normalised output before the activation (<see cref="ResidualOperand"/>); none by default.</summary>
    public Operand Residual { get; init; } = NoOperand.Instance;

    public override string Op => "batch_norm.training";

    public override IEnumerable<Operand> Inputs => ResidualOperand.With(Residual, X, Norm.Gamma, Norm.Beta);

    public override IEnumerable<Operand> Outputs => [Y, SavedMean, SavedInvStd, SavedVariance];

    public override string Attributes => "eps=" + Format.Invariant(Norm.Eps) + ResidualOperand.Flag(Residual) + Activation.Flag;
}

/// <summary>Moves the running statistics towards the batch's: running = (1 - momentum) running + momentum batch.</summary>
internal sealed record BatchNormCommit(BatchNormParameters Norm, BufferOperand SavedMean, BufferOperand SavedVariance) : Call
{
    public override string Op => "batch_norm.update_running";

    public override IEnumerable<Operand> Inputs => [SavedMean, SavedVariance, Norm.RunningMean, Norm.RunningVar];

    public override IEnumerable<Operand> Outputs => [Norm.RunningMean, Norm.RunningVar];

    public override string Attributes => "momentum=" + Format.Invariant(Norm.Momentum);
}

internal sealed record BatchNormInference(BatchNormParameters Norm, Operand X, BufferOperand Y, Activation Activation) : Call
{
    /// <summary>Added to the normalised output before the activation (<see cref="ResidualOperand"/>); none by default.</summary>
    public Operand Residual { get; init; } = NoOperand.Instance;

    public override string Op => "batch_norm.inference";

    public override IEnumerable<Operand> Inputs => ResidualOperand.With(Residual, X, Norm.Gamma, Norm.Beta, Norm.RunningMean, Norm.RunningVar);

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => "eps=" + Format.Invariant(Norm.Eps) + ResidualOperand.Flag(Residual) + Activation.Flag;
}

internal sealed record BatchNormBackward(BatchNormParameters Norm, Operand DY, Operand X, BufferOperand SavedMean, BufferOperand SavedInvStd, Operand DX) : Call
{
    /// <summary>
    /// The forward's fused activation (none by default): its backward runs inside this call, in place on dy from
    /// <see cref="Saved"/>, the forward's output, instead of as a pass of its own.
    /// </summary>
    public Activation Activation { get; init; }

    public Operand Saved { get; init; } = NoOperand.Instance;

    public override string Op => "batch_norm.backward";

    /// <summary>With a fused activation, the saved output is read and dy written in place.</summary>
    public override IEnumerable<Operand> Inputs => [DY, X, Norm.Gamma, SavedMean, SavedInvStd, .. Fused(Saved)];

    public override IEnumerable<Operand> Outputs => [DX, Norm.Gamma with { Gradient = true }, Norm.Beta with { Gradient = true }, .. Fused(DY)];

    public override string Attributes => Activation.Flag.TrimStart();

    /// <summary>Each channel's planes of the saved output are read (for the activation's backward) before that channel's dx is written.</summary>
    public override Operand ReadBeforeWritten => Saved;

    private IEnumerable<Operand> Fused(Operand operand) => Activation.IsNone ? [] : [operand];
}

internal sealed record BatchNormBackwardInference(BatchNormParameters Norm, Operand DY, Operand DX) : Call
{
    public override string Op => "batch_norm.backward_inference";

    public override IEnumerable<Operand> Inputs => [DY, Norm.Gamma, Norm.RunningVar];

    public override IEnumerable<Operand> Outputs => [DX];
}

/// <summary>w' = w g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) + beta: the batch norm folded into the layer before.</summary>
internal sealed record BatchNormFold(BatchNormParameters Norm, Operand Weight, Operand Bias, BufferOperand FoldedWeight, BufferOperand FoldedBias) : Call
{
    public override string Op => "batch_norm.fold";

    public override IEnumerable<Operand> Inputs => [Weight, Bias, Norm.Gamma, Norm.Beta, Norm.RunningMean, Norm.RunningVar];

    public override IEnumerable<Operand> Outputs => [FoldedWeight, FoldedBias];
}

/// <summary>y = f(x), an activation not fused into the kernel before it.</summary>
internal sealed record ActivationForward(Activation Activation, Operand X, BufferOperand Y) : Call
{
    public override string Op => Activation.Name;

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => Activation.Parameter;
}

/// <summary>
/// dy *= f'(.), in place, from <see cref="Saved"/>: the forward's output, from which every derivative but SiLU's follows
/// (a ReLU's mask is its output's sign), or its input for SiLU (<see cref="Activation.BackwardReadsInput"/>).
/// </summary>
internal sealed record ActivationBackward(Activation Activation, BufferOperand Saved, BufferOperand DY) : Call
{
    public override string Op => Activation.Name + ".backward";

    public override IEnumerable<Operand> Inputs => [Saved, DY];

    public override IEnumerable<Operand> Outputs => [DY];

    public override string Attributes => Activation.Parameter;
}

internal enum PoolOp
{
    Max,
    Average,
}

/// <summary>Pooling; max pooling saves its switches (the argmax of each window) for the backward.</summary>
internal sealed record PoolForward(PoolOp Kind, string Shape, Operand X, BufferOperand Y, BufferOperand? Switches) : Call
{
    public override string Op => Kind == PoolOp.Max ? "max_pool2d" : "avg_pool2d";

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => Switches is null ? [Y] : [Y, Switches];

    public override string Attributes => Shape;
}

internal sealed record PoolBackward(PoolOp Kind, string Shape, Operand DY, BufferOperand? Switches, Operand DX) : Call
{
    public override string Op => (Kind == PoolOp.Max ? "max_pool2d" : "avg_pool2d") + ".backward";

    public override IEnumerable<Operand> Inputs => Switches is null ? [DY] : [DY, Switches];

    public override IEnumerable<Operand> Outputs => [DX];

    public override string Attributes => Shape;
}

/// <summary>nn.AdaptiveAvgPool2d(1): the mean of each plane.</summary>
internal sealed record GlobalAvgPoolForward(Operand X, BufferOperand Y, int Channels, int Plane) : Call
{
    public override string Op => "global_avg_pool";

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => [Y];
}

internal sealed record GlobalAvgPoolBackward(Operand DY, Operand DX, int Channels, int Plane) : Call
{
    public override string Op => "global_avg_pool.backward";

    public override IEnumerable<Operand> Inputs => [DY];

    public override IEnumerable<Operand> Outputs => [DX];
}

/// <summary>Training-mode dropout: y = x * mask, the mask 0 or 1/(1-p), drawn from the step's generator state.</summary>
internal sealed record DropoutForward(Operand X, BufferOperand Y, BufferOperand Mask, float P) : Call
{
    public override string Op => "dropout";

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => [Y, Mask];

    public override string Attributes => "p=" + Format.Invariant(P);
}

internal sealed record DropoutBackward(Operand DY, BufferOperand Mask, Operand DX) : Call
{
    public override string Op => "dropout.backward";

    public override IEnumerable<Operand> Inputs => [DY, Mask];

    public override IEnumerable<Operand> Outputs => [DX];
}

internal sealed record Copy(Operand X, Operand Y) : Call
{
    public override string Op => "copy";

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => [Y];
}

/// <summary>y = a + scale * b (y may be a: the in-place sum of two gradient contributions).</summary>
internal sealed record AddScaled(Operand A, float Scale, Operand B, Operand Y) : Call
{
    public override string Op => "add_scaled";

    public override IEnumerable<Operand> Inputs => [A, B];

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => "scale=" + Format.Invariant(Scale);
}

internal sealed record Scale(Operand X, float Factor, Operand Y) : Call
{
    public override string Op => "scale";

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => "factor=" + Format.Invariant(Factor);
}

/// <summary>Y = (I + h C^T C)^-1 rhs with periodic boundaries: an FFT per plane and a per-frequency solve.</summary>
internal sealed record ImplicitSolve(string Shape, Operand Rhs, Operand Weight, float H, BufferOperand Y) : Call
{
    public override string Op => "implicit_solve";

    public override IEnumerable<Operand> Inputs => [Rhs, Weight];

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => Shape + " h=" + Format.Invariant(H);
}

/// <summary>The solve's adjoint (the same solve: the operator is symmetric) and, when asked, d(loss)/dC.</summary>
internal sealed record ImplicitSolveBackward(string Shape, Operand DY, BufferOperand Y, Operand Weight, float H, Operand DRhs, Operand DWeight) : Call
{
    public override string Op => "implicit_solve.backward";

    public override IEnumerable<Operand> Inputs => [DY, Y, Weight];

    public override IEnumerable<Operand> Outputs => [DRhs, DWeight];

    public override string Attributes => Shape + " h=" + Format.Invariant(H);
}

/// <summary>
/// The training loss of the scores against the step's labels or float targets: the mean loss, and d(loss)/d(scores).
/// Printed as "loss(...)" with the PyTorch function it matches ("mse_loss", "cross_entropy per_pixel" ...).
/// </summary>
internal sealed record LossAndGradient(LossKind Kind, BufferOperand Scores, BufferOperand DScores) : Call
{
    public override string Op => "loss";

    public override IEnumerable<Operand> Inputs => [Scores];

    public override IEnumerable<Operand> Outputs => [DScores];

    public override string Attributes => Kind switch
    {
        LossKind.CrossEntropy => "cross_entropy",
        LossKind.PixelCrossEntropy => "cross_entropy per_pixel",
        LossKind.MeanSquaredError => "mse_loss",
        LossKind.L1 => "l1_loss",
        LossKind.SmoothL1 => "smooth_l1_loss beta=1",
        _ => "binary_cross_entropy_with_logits",
    };
}

/// <summary>
/// The point of no return of a training step: a non-finite loss throws here, before anything the network keeps
/// (running statistics, counters, the dropout generator, weights) has changed; after it the step's state is committed.
/// </summary>
internal sealed record CheckLoss : Call
{
    public override string Op => "check_loss";

    public override IEnumerable<Operand> Inputs => [];

    public override IEnumerable<Operand> Outputs => [];
}

/// <summary>Counts the step (StepCount, num_batches_tracked), keeps the dropout generator's new state.</summary>
internal sealed record CommitStep : Call
{
    public override string Op => "commit_step";

    public override IEnumerable<Operand> Inputs => [];

    public override IEnumerable<Operand> Outputs => [];
}

internal sealed record OptimizerStep : Call
{
    public override string Op => "optimizer_step";

    public override IEnumerable<Operand> Inputs => [];

    public override IEnumerable<Operand> Outputs => [];
}
