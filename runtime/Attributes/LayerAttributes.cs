using System;

namespace NetCompiler;

/// <summary>The base of every layer attribute: layers run in the order they are written on the class.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
    // Only NetCompiler's own layers exist: the generator knows each op's shape rule and kernels.
    private protected LayerAttribute()
    {
    }

    /// <summary>
    /// The layer's checkpoint key prefix. When unset it is derived torchvision style:
    /// "features.{i}" before the first dense layer, "classifier.{i}" from it on.
    /// </summary>
    public string? Name { get; set; }
}

/// <summary>2-D convolution (PyTorch's nn.Conv2d) with a square kernel.</summary>
public sealed class ConvAttribute(int outChannels, int kernel) : LayerAttribute
{
    public int OutChannels { get; } = outChannels;
    public int Kernel { get; } = kernel;
    public int Stride { get; set; } = 1;
    public int Pad { get; set; }
    public int Dilation { get; set; } = 1;
    /// <summary>Channel groups; set it to the input channels for a depthwise convolution.</summary>
    public int Groups { get; set; } = 1;
    public bool Bias { get; set; } = true;
}

/// <summary>Transposed 2-D convolution (PyTorch's nn.ConvTranspose2d), the upsampling layer of segmentation nets.</summary>
public sealed class ConvTransposeAttribute(int outChannels, int kernel) : LayerAttribute
{
    public int OutChannels { get; } = outChannels;
    public int Kernel { get; } = kernel;
    public int Stride { get; set; } = 1;
    public int Pad { get; set; }
    public int OutputPad { get; set; }
    public int Dilation { get; set; } = 1;
    public int Groups { get; set; } = 1;
    public bool Bias { get; set; } = true;
}

/// <summary>Batch normalisation over channels (nn.BatchNorm2d after spatial layers, nn.BatchNorm1d after dense ones).</summary>
public sealed class BatchNormAttribute : LayerAttribute
{
    public float Eps { get; set; } = 1e-5f;
    public float Momentum { get; set; } = 0.1f;
}

/// <summary>
/// Rectified linear unit (nn.ReLU). After a Conv, ConvTranspose, Dense or BatchNorm it runs in that kernel's epilogue,
/// as do the other activations but SiLU, which fuses in inference only (its backward needs its input).
/// </summary>
public sealed class ReluAttribute : LayerAttribute;

/// <summary>Leaky ReLU (nn.LeakyReLU): x for x &gt; 0, <see cref="Slope"/> x otherwise; the slope is finite and at least 0.</summary>
public sealed class LeakyReluAttribute(float slope = 0.01f) : LayerAttribute
{
    /// <summary>PyTorch's negative_slope.</summary>
    public float Slope { get; } = slope;
}

/// <summary>The logistic sigmoid 1 / (1 + e^-x) (nn.Sigmoid).</summary>
public sealed class SigmoidAttribute : LayerAttribute;

/// <summary>The hyperbolic tangent (nn.Tanh).</summary>
public sealed class TanhAttribute : LayerAttribute;

/// <summary>Exponential linear unit (nn.ELU): x for x &gt; 0, <see cref="Alpha"/> (e^x - 1) otherwise; alpha is positive.</summary>
public sealed class EluAttribute(float alpha = 1f) : LayerAttribute
{
    public float Alpha { get; } = alpha;
}

/// <summary>min(max(x, 0), 6) (nn.ReLU6).</summary>
public sealed class Relu6Attribute : LayerAttribute;

/// <summary>Sigmoid linear unit x / (1 + e^-x), also called swish (nn.SiLU).</summary>
public sealed class SiluAttribute : LayerAttribute;

/// <summary>Max pooling (nn.MaxPool2d); the stride defaults to the kernel.</summary>
public sealed class MaxPoolAttribute(int kernel) : LayerAttribute
{
    public int Kernel { get; } = kernel;
    /// <summary>The stride; 0 (the default) means the kernel size, as in PyTorch.</summary>
    public int Stride { get; set; }
    public int Pad { get; set; }
    /// <summary>
    /// PyTorch's ceil_mode: ceil((W + 2 Pad - Kernel) / Stride) + 1 outputs, keeping a last window that runs past the
    /// input as long as it starts inside the input or its left padding; such windows are clipped to the input.
    /// </summary>
    public bool CeilMode { get; set; }
    /// <summary>The blueprint's POOL?: skipped, with an info diagnostic, where the input is too small to pool.</summary>
    public bool Optional { get; set; }
}

/// <summary>Average pooling (nn.AvgPool2d, padding counted in the average); the stride defaults to the kernel.</summary>
public sealed class AvgPoolAttribute(int kernel) : LayerAttribute
{
    public int Kernel { get; } = kernel;
    /// <summary>The stride; 0 (the default) means the kernel size, as in PyTorch.</summary>
    public int Stride { get; set; }
    public int Pad { get; set; }
    /// <summary>The blueprint's POOL?: skipped, with an info diagnostic, where the input is too small to pool.</summary>
    public bool Optional { get; set; }
}

/// <summary>Global average pooling to C x 1 x 1 (nn.AdaptiveAvgPool2d(1)).</summary>
public sealed class GlobalAvgPoolAttribute : LayerAttribute;

/// <summary>Fully connected layer (nn.Linear); a spatial input is flattened first (nn.Flatten).</summary>
public sealed class DenseAttribute(int outFeatures) : LayerAttribute
{
    public int OutFeatures { get; } = outFeatures;
    /// <summary>The expected input features; 0 (the default) infers them, a value is checked against the input.</summary>
    public int InFeatures { get; set; }
    public bool Bias { get; set; } = true;
}

/// <summary>Inverted dropout with drop probability P, active in training only.</summary>
public sealed class DropoutAttribute(float p) : LayerAttribute
{
    public float P { get; } = p;
}

/// <summary>
/// Residual steps Y &lt;- Y + H K2 relu(BN(K1 Y)), width preserved, Steps of them each with its own weights;
/// Symmetric uses K2 = K1^T (one weight per step, applied as a convolution and its transpose), the forward Euler
/// twin of an IMEX step's explicit part. The convolutions have no bias (the batch norm supplies the shift).
/// </summary>
public sealed class ResidualAttribute : LayerAttribute
{
    public int Steps { get; set; } = 1;
    public float H { get; set; } = 1f;
    public int Kernel { get; set; } = 3;
    public bool Symmetric { get; set; }
}

/// <summary>
/// IMEX steps (Haber et al., IMEXnet, ICML 2019):
/// Y &lt;- (I + hL)^-1 (Y + hLY + h K^T relu(BN(K Y))), L = C^T C with C a grouped convolution solved with FFTs
/// under periodic boundaries (which is why the image height and width must be powers of two). The released
/// variant is Y &lt;- (I + hL)^-1 BN(Y + h K^T relu(BN(K Y))).
/// </summary>
public sealed class ImexAttribute : LayerAttribute
{
    public int Steps { get; set; } = 1;
    public float H { get; set; } = 1f;
    /// <summary>The kernel of the explicit convolution K.</summary>
    public int Kernel { get; set; } = 3;
    /// <summary>The kernel of the implicit operator C.</summary>
    public int ImplicitKernel { get; set; } = 3;
    /// <summary>The groups of C; 0 (the default) means depthwise, one group per channel.</summary>
    public int Groups { get; set; }
    /// <summary>The released code's variant: drops the hLY term and normalises before the solve.</summary>
    public bool ReleasedVariant { get; set; }
}

/// <summary>
/// A stage of torchvision's ResNet BasicBlocks (ResNet-18/34): conv3x3(stride)-BN-ReLU-conv3x3-BN plus the shortcut,
/// then ReLU, OutChannels wide (expansion 1). The first of the Blocks has the stride, and a downsample shortcut
/// (conv1x1(stride) + BN) when the stride is not 1 or the channels change; the others keep the shape. Convolutions
/// have no bias. Named "layer1", its keys are torchvision's: layer1.0.conv1.weight, layer1.0.bn1.running_mean,
/// layer2.0.downsample.0.weight ...
/// </summary>
public sealed class BasicBlockAttribute(int outChannels) : LayerAttribute
{
    public int OutChannels { get; } = outChannels;
    public int Blocks { get; set; } = 1;
    public int Stride { get; set; } = 1;
}

/// <summary>
/// A stage of torchvision's ResNet Bottlenecks (ResNet-50/101/152): conv1x1-BN-ReLU, conv3x3(stride)-BN-ReLU,
/// conv1x1 to Width * 4 -BN, plus the shortcut, then ReLU (expansion 4, the stride on the 3x3 as torchvision's v1.5).
/// The first of the Blocks has the stride and, where the shape changes, the downsample shortcut.
/// </summary>
public sealed class BottleneckAttribute(int width) : LayerAttribute
{
    public int Width { get; } = width;
    public int Blocks { get; set; } = 1;
    public int Stride { get; set; } = 1;
}

/// <summary>
/// GoogLeNet's Inception module as torchvision builds it (torchvision.models.googlenet.Inception): four branches of
/// the same input, concatenated along channels in this order: branch1 a 1x1 BasicConv2d to Ch1x1; branch2 a 1x1 to
/// Ch3x3Reduce, then a 3x3 (pad 1) to Ch3x3; branch3 a 1x1 to Ch5x5Reduce, then torchvision's "5x5", which is a 3x3
/// (pad 1), to Ch5x5; branch4 a 3x3 max pool (stride 1, pad 1, ceil_mode) then a 1x1 to PoolProj. BasicConv2d is a
/// convolution without bias, a batch norm with eps 0.001 and a ReLU. Named "inception3a", its keys are torchvision's:
/// inception3a.branch1.conv.weight, inception3a.branch2.1.bn.running_mean, inception3a.branch4.1.conv.weight ...
/// </summary>
public sealed class InceptionAttribute(int c1, int c3reduce, int c3, int c5reduce, int c5, int poolProj) : LayerAttribute
{
    public int Ch1x1 { get; } = c1;
    public int Ch3x3Reduce { get; } = c3reduce;
    public int Ch3x3 { get; } = c3;
    public int Ch5x5Reduce { get; } = c5reduce;
    public int Ch5x5 { get; } = c5;
    public int PoolProj { get; } = poolProj;
}
