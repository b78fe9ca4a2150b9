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
