using System.Linq;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Program;

internal enum ElementType
{
    Float32,

    /// <summary>Max-pool switches: a window position, as oneDNN keeps them.</summary>
    UInt8,
}

/// <summary>What a buffer holds; memory planning shares storage between buffers whose lifetimes do not overlap.</summary>
internal enum BufferRole
{
    /// <summary>The network's input images: the caller's memory, never allocated.</summary>
    Input,

    /// <summary>A forward result.</summary>
    Activation,

    /// <summary>State the forward keeps for the backward: batch statistics, max-pool switches, dropout masks.</summary>
    SavedForBackward,

    /// <summary>d(loss)/d(a buffer).</summary>
    Gradient,

    /// <summary>A part of a gradient that is added to another, or a weight gradient's second contribution.</summary>
    Scratch,

    /// <summary>Parameters derived from others (batch norm folded into weights); kept across calls, never shared.</summary>
    Derived,
}

/// <summary>How a buffer's elements are laid out. The network's boundaries are NCHW; a backend may block the inside.</summary>
internal enum BufferLayout
{
    /// <summary>PyTorch's layout: image, channel, row, column (a flat feature vector is NCHW with H = W = 1).</summary>
    Nchw,

    /// <summary>A vector of per-channel or per-tensor values, not per image.</summary>
    Vector,
}

/// <summary>
/// A named size: the elements of one image's activation ("Features_3 = 32x64x64") or of a per-channel vector.
/// Buffers name their size, so printed code says <c>n * Features_3Elements</c> rather than <c>n * 131072</c>.
/// </summary>
internal sealed record SizeConstant(string Name, long Elements, string Description);

/// <summary>
/// A buffer of the program: <see cref="Size"/> elements per image (times the batch) when <see cref="PerImage"/>,
/// else in all. <see cref="Name"/> is readable and unique ("features.0.output", "features.3.1.bn.saved_mean").
/// </summary>
internal sealed record ProgramBuffer(int Id, string Name, ElementType Type, SizeConstant Size, bool PerImage, BufferRole Role, BufferLayout Layout)
{
    public long Elements => Size.Elements;
}

/// <summary>How a parameter starts. Fans are PyTorch's: weight [a, b, k, k] has fan_in b*k*k and fan_out a*k*k.</summary>
internal enum InitScheme
{
    /// <summary>A constant (batch norm weight and running variance 1, biases and running means 0).</summary>
    Constant,

    /// <summary>He (Kaiming) normal, std sqrt(2 / fan_in): for weights followed by ReLU, ReLU6, ELU or SiLU (LeakyReLU: see NegativeSlope).</summary>
    HeNormal,

    /// <summary>Xavier (Glorot) uniform, bound sqrt(6 / (fan_in + fan_out)): for the others (sigmoid, tanh, none).</summary>
    XavierUniform,

    /// <summary>Uniform within 1/sqrt(fan_in), fan_in the layer weight's: PyTorch's default for weights and biases.</summary>
    FanInUniform,

    /// <summary>N(0, 0.01^2), AlexNet's weights.</summary>
    SmallNormal,

    /// <summary>torch.nn.init.orthogonal_ with gain 1 over the weight flattened to [dims[0], rest].</summary>
    Orthogonal,
}

internal sealed record Initialiser(InitScheme Scheme, int FanIn, int FanOut, float Fill)
{
    /// <summary>He for a LeakyReLU's weights: its negative slope a, so the std is sqrt(2 / ((1 + a^2) fan_in)).</summary>
    public float NegativeSlope { get; init; }
}

/// <summary>A stored tensor: its checkpoint key, PyTorch shape, whether the optimiser trains it, how it starts.</summary>
internal sealed record ProgramTensor(TensorKey Key, EquatableArray<int> Dimensions, bool Trainable, Initialiser Init)
{
    public long Elements => Dimensions.Product();
}

/// <summary>
/// A kernel template's compile-time shape: a struct implementing <see cref="Interface"/> (IConvShape ...) whose
/// static members are <see cref="Members"/>; the time steps of a layer share one.
/// </summary>
internal sealed record ShapeStruct(string Name, string Interface, string Comment, EquatableArray<ShapeMember> Members);

internal sealed record ShapeMember(string Name, int Value);

/// <summary>What one layer of the network exposes to LayerOutput and LayerGradient after a call.</summary>
/// <param name="Output">The buffer holding the layer's output, or null where a fused kernel keeps only another's.</param>
/// <param name="OutputKeptBy">The layer whose output is kept instead (an activation fused into this layer).</param>
/// <param name="FoldedInto">In folded inference the layer's output is not computed: the batch norm it feeds absorbs it.</param>
/// <param name="GradientOf">The buffer whose gradient is the layer's output gradient (after a fused activation's backward is applied).</param>
/// <param name="GradientKeptBy">The layer whose gradient is kept instead (this activation's backward is applied in the other's).</param>
internal sealed record LayerView(string Layer, long OutputElements, int? Output, string? OutputKeptBy, string? FoldedInto, int? GradientOf, string? GradientKeptBy)
{
    /// <summary>The buffer of d(loss)/d(<see cref="GradientOf"/>), set once the backward is derived.</summary>
    public int? Gradient { get; init; }

    /// <summary>Named by the network's Keep: its buffers are pinned, so they stay readable after a call.</summary>
    public bool Kept { get; init; }
}

/// <summary>The routines of a network, each an ordered list of primitive calls.</summary>
/// <param name="Inference">Evaluation-mode forward with batch norm folded into the layer before (where there is one), and
/// every activation in the epilogue of the kernel before it (SiLU included: nothing is kept for a backward).</param>
/// <param name="InferenceUnfolded">Evaluation-mode forward with every batch norm run; empty when nothing folds.</param>
/// <param name="Fold">Rebuilds the folded weights from the parameters.</param>
/// <param name="Training">Forward in training mode, loss, its check, the state commit, backward and the update.</param>
/// <param name="EvaluationBackward">From d(scores) to d(images) through the evaluation-mode layers, weights untouched.</param>
internal sealed record Routines(
    EquatableArray<Call> Inference,
    EquatableArray<Call> InferenceUnfolded,
    EquatableArray<Call> Fold,
    EquatableArray<Call> Training,
    EquatableArray<Call> EvaluationBackward)
{
    /// <summary>
    /// Where <see cref="Inference"/> fuses an activation whose backward reads its input (SiLU), the same routine without
    /// those fusions: what InputGradient and ScoreGradient run before <see cref="EvaluationBackward"/>. Empty otherwise,
    /// when Inference serves them. (<see cref="InferenceUnfolded"/> never fuses them, so it serves them unfolded.)
    /// </summary>
    public EquatableArray<Call> InferenceForGradients { get; init; } = EquatableArray<Call>.Empty;

    /// <summary>The evaluation-mode forward the gradient entry points run when batch norm is folded.</summary>
    public EquatableArray<Call> GradientForward => InferenceForGradients.Count > 0 ? InferenceForGradients : Inference;
}

/// <summary>Where each buffer lives: storage slots shared by buffers whose lifetimes never overlap.</summary>
/// <param name="SlotOf">The slot of buffer i (-1 for the input, which is the caller's).</param>
/// <param name="Slots">Per slot: element type, elements (per image when per-image), and whether per image.</param>
internal sealed record MemoryPlan(EquatableArray<int> SlotOf, EquatableArray<StorageSlot> Slots)
{
    public long BytesPerImage
    {
        get
        {
            long bytes = 0;
            foreach (StorageSlot slot in Slots)
            {
                bytes += slot.PerImage ? slot.Elements * slot.Bytes : 0;
            }

            return bytes;
        }
    }
}

internal sealed record StorageSlot(int Index, ElementType Type, long Elements, bool PerImage)
{
    public int Bytes => Type == ElementType.UInt8 ? 1 : 4;
}

/// <summary>
/// The kernel program, Planning's output and the one thing every backend prints: typed buffers, tensors with
/// their initialisers, the compile-time shapes, the routines, the memory plan and what each layer exposes.
/// </summary>
internal sealed record KernelProgram(
    CheckedNetwork Network,
    EquatableArray<SizeConstant> Sizes,
    EquatableArray<ProgramBuffer> Buffers,
    EquatableArray<ProgramTensor> Tensors,
    EquatableArray<ShapeStruct> Shapes,
    Routines Routines,
    EquatableArray<LayerView> Layers,
    EquatableArray<int> Pinned,
    MemoryPlan Memory,
    long InferenceBytesPerImage)
{
    public const int InputBuffer = 0;

    /// <summary>The buffer of d(images), written by the evaluation backward.</summary>
    public int InputGradientBuffer { get; init; } = -1;

    /// <summary>The scores: the last layer's output.</summary>
    public int ScoresBuffer { get; init; }

    /// <summary>d(loss)/d(scores), written by the loss or seeded by ScoreGradient.</summary>
    public int ScoresGradientBuffer { get; init; }

    public ProgramBuffer Buffer(int id) => Buffers.First(b => b.Id == id);
}
