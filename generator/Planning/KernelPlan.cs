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
}

/// <summary>
/// One fusion group: a layer and the ReLU folded into its epilogue, if any. A step reads the output of the step
/// named <see cref="Input"/> (null: the network input) and writes its own output buffer; backward it reads its
/// output gradient and writes its input's. <see cref="Identifier"/> names its fields in generated code.
/// </summary>
internal sealed record PlanStep(
    int Index,
    StepKind Kind,
    CheckedLayer Layer,
    string? FusedRelu,
    string? Input,
    string Identifier)
{
    public Shape InputShape => Layer.Input;

    public Shape OutputShape => Layer.Output;
}

/// <summary>
/// The backend-neutral plan of a network: fusion groups in execution order. The buffer plan follows from it
/// (one activation and one gradient buffer per step, plus each kind's saved state) and the backward plan is
/// the steps in reverse. Null steps with a reason when the network uses an op not compiled yet.
/// </summary>
internal sealed record KernelPlan(CheckedNetwork Network, EquatableArray<PlanStep> Steps, string? NotCompiled);
