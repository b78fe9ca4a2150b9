using System;

namespace NetCompiler;

/// <summary>The loss a network is trained with; it must fit the network's output.</summary>
public enum Loss
{
    /// <summary>Softmax cross-entropy over a flat class-score vector (PyTorch's nn.CrossEntropyLoss).</summary>
    CrossEntropy = 0,

    /// <summary>Per-pixel softmax cross-entropy over a K x H x W score map (segmentation).</summary>
    PixelCrossEntropy = 1,

    /// <summary>Mean squared error against one float target per output element (nn.MSELoss), e.g. per-pixel depth.</summary>
    MeanSquaredError = 2,

    /// <summary>Mean absolute error against one float target per output element (nn.L1Loss).</summary>
    L1 = 3,

    /// <summary>Huber loss with beta 1 (nn.SmoothL1Loss): squared below an error of 1, absolute above.</summary>
    SmoothL1 = 4,

    /// <summary>
    /// Binary cross-entropy on logits (nn.BCEWithLogitsLoss), one independent label per output element with a target in
    /// [0, 1]: multi-label classification. The network ends in logits, not a sigmoid.
    /// </summary>
    BinaryCrossEntropy = 5,
}

/// <summary>How a network's weights and biases start; batch norm always starts as the identity (weight 1, bias 0).</summary>
public enum Initialization
{
    /// <summary>He (Kaiming) normal for weights a ReLU follows, Xavier (Glorot) uniform for the others; biases 0.</summary>
    HeXavier = 0,

    /// <summary>
    /// PyTorch's default for conv and linear layers: kaiming_uniform_ with a = sqrt(5), i.e. weights uniform within
    /// 1/sqrt(fan_in), and biases uniform within the same bound.
    /// </summary>
    PyTorchDefault = 1,

    /// <summary>Weights drawn from N(0, 0.01^2) and biases 0, as AlexNet (Krizhevsky et al. 2012; its biases of 1 aside).</summary>
    SmallNormal = 2,

    /// <summary>
    /// torch.nn.init.orthogonal_ with gain 1: each weight flattened to out x (in * k * k) has orthonormal rows (or
    /// columns, when it is taller than wide); biases 0.
    /// </summary>
    Orthogonal = 3,
}

/// <summary>
/// Marks a partial class as a network for the NetCompiler generator. The layers follow either as layer
/// attributes on the same class, in order, or as <see cref="Blueprint"/> text.
/// </summary>
/// <param name="input">The input shape of one image as "CxHxW", e.g. "1x28x28".</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute(string input) : Attribute
{
    /// <summary>The input shape of one image as "CxHxW".</summary>
    public string Input { get; } = input;

    /// <summary>
    /// The layers in the cs231n blueprint notation, e.g.
    /// "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 128 -> RELU]*2 -> FC 10".
    /// </summary>
    public string? Blueprint { get; set; }

    /// <summary>The training loss; <see cref="Loss.CrossEntropy"/> unless set.</summary>
    public Loss Loss { get; set; } = Loss.CrossEntropy;

    /// <summary>How weights and biases start; <see cref="Initialization.HeXavier"/> unless set.</summary>
    public Initialization Init { get; set; } = Initialization.HeXavier;

    /// <summary>
    /// The layers whose output and gradient stay readable after a call (LayerOutput, LayerGradient, Grad-CAM), as
    /// comma-separated names from the Summary, e.g. "features.7". The memory planner reuses every other layer's storage
    /// once the network is done with it, as PyTorch frees a tensor no hook holds.
    /// </summary>
    public string? Keep { get; set; }
}
