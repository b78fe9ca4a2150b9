using NetCompiler;

// The two networks of the Q-tips comparison. The ResNet is IMEXnet's forward Euler twin, as in Haber et al.'s ODE
// view: the same steps Y + h K^T relu(BN(K Y)) (symmetric residual steps), without the implicit solve. So the two
// have the same depth, the same convolutions and the same parameters but for IMEX's depthwise 3x3 C per step; the
// one difference is the implicit layer's global reach.
//
// CPU-sized: a strided stem to 16x32x32, the steps, and a transposed convolution back to 64x64 with one score per class.

/// <summary>IMEXnet, CPU-sized: four IMEX steps of 16 channels at 32x32.</summary>
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Imex(Steps = 4, H = 1f)]
[ConvTranspose(QTips.Classes, 2, Stride = 2)]
public partial class QTipsImex;

/// <summary>The ResNet it is compared with: four symmetric residual steps of 16 channels at 32x32.</summary>
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Residual(Steps = 4, H = 1f, Symmetric = true)]
[ConvTranspose(QTips.Classes, 2, Stride = 2)]
public partial class QTipsResNet;

// The paper's size (Haber et al. 2019, Q-tips): widths 64/128/256 at 64, 32 and 16 pixels, three steps each, about
// 2.7M parameters.

/// <summary>IMEXnet at the paper's size.</summary>
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(64, 3, Pad = 1), BatchNorm, Relu, Imex(Steps = 3)]
[Conv(128, 3, Stride = 2, Pad = 1), BatchNorm, Relu, Imex(Steps = 3)]
[Conv(256, 3, Stride = 2, Pad = 1), BatchNorm, Relu, Imex(Steps = 3)]
[ConvTranspose(QTips.Classes, 4, Stride = 4)]
public partial class QTipsImexFull;

/// <summary>The ResNet at the paper's size.</summary>
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(64, 3, Pad = 1), BatchNorm, Relu, Residual(Steps = 3, Symmetric = true)]
[Conv(128, 3, Stride = 2, Pad = 1), BatchNorm, Relu, Residual(Steps = 3, Symmetric = true)]
[Conv(256, 3, Stride = 2, Pad = 1), BatchNorm, Relu, Residual(Steps = 3, Symmetric = true)]
[ConvTranspose(QTips.Classes, 4, Stride = 4)]
public partial class QTipsResNetFull;
