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

    /// <summary>
    /// This step's part of the buffer plan: its output and output gradient, and the state its backward needs
    /// (batch statistics, max-pool switches, the dropout mask). The ReLU mask needs none: it is the output's sign.
    /// </summary>
    public PlanBuffer[] Buffers => Kind switch
    {
        StepKind.BatchNorm => [Output("output"), Output("gradient"), new("savedMean", "float", OutputShape.Channels, PerImage: false),
            new("savedInvStd", "float", OutputShape.Channels, PerImage: false)],
        StepKind.MaxPool => [Output("output"), Output("gradient"), new("switches", "int", OutputShape.Elements, PerImage: true)],
        StepKind.Dropout => [Output("output"), Output("gradient"), Output("mask")],
        _ => [Output("output"), Output("gradient")],
    };

    private PlanBuffer Output(string role) => new(role, "float", OutputShape.Elements, PerImage: true);
}

/// <summary>A buffer allocated once per network: <see cref="Elements"/> per image (times the batch size) or in all.</summary>
internal sealed record PlanBuffer(string Role, string ElementType, long Elements, bool PerImage);

/// <summary>
/// The backend-neutral plan of a network: fusion groups in execution order. The buffer plan follows from it
/// (one activation and one gradient buffer per step, plus each kind's saved state) and the backward plan is
/// the steps in reverse. Null steps with a reason when the network uses an op not compiled yet.
/// </summary>
internal sealed record KernelPlan(CheckedNetwork Network, EquatableArray<PlanStep> Steps, string? NotCompiled);
