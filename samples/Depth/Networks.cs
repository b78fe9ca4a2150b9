using NetCompiler;

// The two depth networks: the Q-tips pair (samples/QTips/Networks.cs) with one output channel, depth in metres, trained
// with mean squared error. The ResNet is IMEXnet's forward Euler twin: the same steps Y + h K^T relu(BN(K Y)) without the
// implicit solve, so the parameter counts differ only by IMEX's depthwise 3x3 C per step. Each output pixel of the ResNet
// sees a 2 * (3 + 4 * 2 * 2) + 2 pixel window; IMEXnet's sees the whole image through the solve.

/// <summary>IMEXnet for depth: a strided stem to 16x32x32, four IMEX steps, a transposed convolution back to 64x64.</summary>
[Network("1x64x64", Loss = Loss.MeanSquaredError)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Imex(Steps = 4, H = 1f)]
[ConvTranspose(1, 2, Stride = 2)]
public partial class DepthImex;

/// <summary>The ResNet it is compared with: four symmetric residual steps of 16 channels at 32x32.</summary>
[Network("1x64x64", Loss = Loss.MeanSquaredError)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Residual(Steps = 4, H = 1f, Symmetric = true)]
[ConvTranspose(1, 2, Stride = 2)]
public partial class DepthResNet;
