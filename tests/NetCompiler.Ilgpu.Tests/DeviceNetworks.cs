using NetCompiler;

namespace NetCompiler.Ilgpu.Tests;

// The networks the device tests train on the simulator and on the CPU: small, as the simulator runs one OS thread per
// GPU thread, but covering every kind of call the issue names. A convolution before a batch norm has no bias: the norm
// cancels it, so its gradient is rounding noise, which Adam's first steps (about lr * sign(g)) would turn into weights
// that differ by 2 lr between any two implementations.

/// <summary>A classifier with batch norm, grouped and strided convolutions, max and average pooling and dropout.</summary>
[Network("3x8x8")]
[Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Conv(8, 3, Stride = 2, Pad = 1, Groups = 2, Bias = false), BatchNorm, LeakyRelu(0.1f), MaxPool(2)]
[Conv(8, 1), Relu, AvgPool(2)]
[Dense(12), Relu, Dropout(0.3f)]
[Dense(4)]
public partial class DeviceClassifier;

/// <summary>An IMEX + residual segmenter: a per-pixel loss, the implicit solve, a transposed convolution.</summary>
[Network("2x8x8", Loss = Loss.PixelCrossEntropy)]
[Conv(4, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Residual(Steps = 1, H = 0.5f)]
[Imex(Steps = 1, H = 1f)]
[Conv(4, 3, Stride = 2, Pad = 1), Relu]
[ConvTranspose(3, 2, Stride = 2)]
public partial class DeviceSegmenter;

/// <summary>A regression net: float targets (mean squared error), global average pooling, Tanh and Sigmoid.</summary>
[Network("1x8x8", Loss = Loss.MeanSquaredError)]
[Conv(4, 3, Pad = 1), Tanh, Conv(4, 3, Pad = 1), Sigmoid]
[GlobalAvgPool]
[Dense(3)]
public partial class DeviceRegressor;

/// <summary>A U-Net: named skips (Save, Concat, Add), nearest and bilinear upsampling, a ceil-mode max pool.</summary>
[Network("2x8x8", Loss = Loss.PixelCrossEntropy)]
[Conv(4, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc1")]
[MaxPool(3, Stride = 2, CeilMode = true), Conv(6, 3, Pad = 1), Relu, Save("enc2")]
[MaxPool(2), Conv(6, 3, Pad = 1), Relu, Upsample(2, Mode = UpsampleMode.Bilinear), Add("enc2")]
[Upsample(2), Concat("enc1"), Conv(4, 3, Pad = 1), Silu]
[Conv(3, 1)]
public partial class DeviceUNet;

/// <summary>ResNet and GoogLeNet blocks: a strided BasicBlock with its downsample, a Bottleneck, an Inception module.</summary>
[Network("3x8x8")]
[Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[BasicBlock(8, Blocks = 1), BasicBlock(12, Blocks = 1, Stride = 2)]
[Bottleneck(4, Blocks = 1)]
[Inception(4, 4, 6, 2, 4, 4)]
[GlobalAvgPool, Dense(5)]
public partial class DeviceBlocks;

/// <summary>Multi-label: binary cross-entropy on logits, Dense with a batch norm (BatchNorm1d), ELU and ReLU6.</summary>
[Network("1x6x6", Loss = Loss.BinaryCrossEntropy)]
[Conv(4, 3, Pad = 1), Elu, MaxPool(2)]
[Dense(10, Bias = false), BatchNorm, Relu6]
[Dense(3)]
public partial class DeviceMultiLabel;
