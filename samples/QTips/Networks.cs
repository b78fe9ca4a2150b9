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

// The third way to widen the receptive field, coarsening: a U-Net (Ronneberger et al. 2015) of about the same
// parameter count. It has the other two's stem and head; in between, two max pools take 32x32 down to 8x8, where a 3x3
// conv spans 24 input pixels, and nearest upsampling brings it back, each level concatenated with the encoder's tensor
// of its size. The convs a batch norm follows have no bias (the norm cancels it).

/// <summary>The U-Net, CPU-sized: 16 channels at 32, 16 and 8 pixels down, 12 and 8 back up.</summary>
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu, Save("enc1")]
[MaxPool(2), Conv(16, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc2")]
[MaxPool(2), Conv(16, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2), Concat("enc2"), Conv(12, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2), Concat("enc1"), Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[ConvTranspose(QTips.Classes, 2, Stride = 2)]
public partial class QTipsUNet;

/// <summary>The U-Net at about the paper-size networks' parameter count, in Ronneberger et al.'s form: two convs per
/// level, widths 38/76/152/304 at 64, 32, 16 and 8 pixels.</summary>
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(38, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(38, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc1")]
[MaxPool(2), Conv(76, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(76, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc2")]
[MaxPool(2), Conv(152, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(152, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc3")]
[MaxPool(2), Conv(304, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(304, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2), Concat("enc3"), Conv(152, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(152, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2), Concat("enc2"), Conv(76, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(76, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2), Concat("enc1"), Conv(38, 3, Pad = 1, Bias = false), BatchNorm, Relu, Conv(38, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Conv(QTips.Classes, 1)]
public partial class QTipsUNetFull;
