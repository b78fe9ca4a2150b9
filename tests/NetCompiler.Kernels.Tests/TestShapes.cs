namespace NetCompiler.Kernels.Tests;

/// <summary>The shape constants in plain form, for the references.</summary>
internal readonly record struct ConvDims(int InChannels, int InHeight, int InWidth, int OutChannels, int OutHeight, int OutWidth, int Kernel, int Stride, int Pad, int Dilation, int Groups)
{
    public static ConvDims Of<S>() where S : IConvShape =>
        new(S.InChannels, S.InHeight, S.InWidth, S.OutChannels, S.OutHeight, S.OutWidth, S.Kernel, S.Stride, S.Pad, S.Dilation, S.Groups);

    public int InputSize => InChannels * InHeight * InWidth;
    public int OutputSize => OutChannels * OutHeight * OutWidth;

    public static int ConvOut(int size, int kernel, int stride, int pad, int dilation) => ((size + (2 * pad) - (dilation * (kernel - 1)) - 1) / stride) + 1;

    public static int TransposedOut(int size, int kernel, int stride, int pad, int dilation, int outputPadding) =>
        ((size - 1) * stride) - (2 * pad) + (dilation * (kernel - 1)) + outputPadding + 1;
}

internal readonly record struct PoolDims(int Channels, int InHeight, int InWidth, int OutHeight, int OutWidth, int Kernel, int Stride, int Pad)
{
    public static PoolDims Of<S>() where S : IPoolShape =>
        new(S.Channels, S.InHeight, S.InWidth, S.OutHeight, S.OutWidth, S.Kernel, S.Stride, S.Pad);

    public int InputSize => Channels * InHeight * InWidth;
    public int OutputSize => Channels * OutHeight * OutWidth;

    public static int PoolOut(int size, int kernel, int stride, int pad) => ((size + (2 * pad) - kernel) / stride) + 1;
}

// Convolutions: odd sizes, stride, padding, dilation, groups, depthwise, 1x1 (fast path and strided), 5x5,
// and one large enough to cross the GEMM's KC block and the column-chunk budget.
internal struct ConvBasic : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 7; public static int InWidth => 6;
    public static int OutChannels => 5; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>A shape Winograd takes (3x3, stride 1, 16 or more channels each way; its data gradient too), small enough for finite differences.</summary>
internal struct ConvWinograd : IConvShape
{
    public static int InChannels => 32; public static int InHeight => 4; public static int InWidth => 3;
    public static int OutChannels => 16; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvStride2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 9; public static int InWidth => 8;
    public static int OutChannels => 6; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvDilated : IConvShape
{
    public static int InChannels => 2; public static int InHeight => 8; public static int InWidth => 9;
    public static int OutChannels => 3; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 2; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvGroups2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 6; public static int InWidth => 7;
    public static int OutChannels => 6; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 2;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvDepthwise : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 7; public static int InWidth => 7;
    public static int OutChannels => 4; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 4;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvPointwise : IConvShape
{
    public static int InChannels => 8; public static int InHeight => 5; public static int InWidth => 7;
    public static int OutChannels => 5; public static int Kernel => 1; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvPointwiseStride2 : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 6; public static int InWidth => 7;
    public static int OutChannels => 4; public static int Kernel => 1; public static int Stride => 2; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct Conv5x5 : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 11; public static int InWidth => 10;
    public static int OutChannels => 4; public static int Kernel => 5; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvLarge : IConvShape
{
    public static int InChannels => 32; public static int InHeight => 33; public static int InWidth => 31;
    public static int OutChannels => 40; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

// Transposed convolutions (In*/Out* are the layer's own input and output).

/// <summary>Stride 1, 3x3, 16 channels each way: its forward is Winograd's (the data gradient of the convolution it transposes).</summary>
internal struct ConvTWinograd : IConvShape
{
    public static int InChannels => 16; public static int InHeight => 5; public static int InWidth => 4;
    public static int OutChannels => 16; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.TransposedOut(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvDims.TransposedOut(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
}

internal struct ConvTStride2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 5; public static int InWidth => 4;
    public static int OutChannels => 3; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.TransposedOut(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 1);
    public static int OutWidth => ConvDims.TransposedOut(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 1);
}

internal struct ConvTGroups2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 3; public static int InWidth => 5;
    public static int OutChannels => 6; public static int Kernel => 4; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 2;
    public static int OutHeight => ConvDims.TransposedOut(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvDims.TransposedOut(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
}

internal struct ConvTDilated : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 4; public static int InWidth => 4;
    public static int OutChannels => 2; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 2; public static int Groups => 1;
    public static int OutHeight => ConvDims.TransposedOut(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvDims.TransposedOut(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
}

internal struct ConvTPointwise : IConvShape
{
    public static int InChannels => 5; public static int InHeight => 4; public static int InWidth => 3;
    public static int OutChannels => 3; public static int Kernel => 1; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.TransposedOut(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvDims.TransposedOut(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
}

// Pooling: non-overlapping, overlapping 3/2, padded, and a size that does not tile (floored).
internal struct Pool2 : IPoolShape
{
    public static int Channels => 3; public static int InHeight => 8; public static int InWidth => 8; public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
    public static int OutHeight => PoolDims.PoolOut(InHeight, Kernel, Stride, Pad);
    public static int OutWidth => PoolDims.PoolOut(InWidth, Kernel, Stride, Pad);
}

internal struct Pool3Stride2 : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 9; public static int InWidth => 7; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 0;
    public static int OutHeight => PoolDims.PoolOut(InHeight, Kernel, Stride, Pad);
    public static int OutWidth => PoolDims.PoolOut(InWidth, Kernel, Stride, Pad);
}

internal struct Pool3Padded : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 7; public static int InWidth => 8; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1;
    public static int OutHeight => PoolDims.PoolOut(InHeight, Kernel, Stride, Pad);
    public static int OutWidth => PoolDims.PoolOut(InWidth, Kernel, Stride, Pad);
}

internal struct Pool2Floored : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 7; public static int InWidth => 5; public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
    public static int OutHeight => PoolDims.PoolOut(InHeight, Kernel, Stride, Pad);
    public static int OutWidth => PoolDims.PoolOut(InWidth, Kernel, Stride, Pad);
}

// Ceil mode (PyTorch's ceil_mode=True): one more output per axis than floor mode where input remains: 9x8 -> 4x4
// (floor 4x3), padded 5x8 -> 3x5 (floor 3x4). (A window that would start in the right padding is dropped: the PyTorch
// fixture's k2s2p1 case in NetCompiler.Tests has one.)
internal struct Pool3Stride2Ceil : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 9; public static int InWidth => 8; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 0;
    public static int OutHeight => 4; public static int OutWidth => 4;
}

internal struct Pool3PaddedCeil : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 5; public static int InWidth => 8; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1;
    public static int OutHeight => 3; public static int OutWidth => 5;
}

internal struct Dense1x1 : IDenseShape
{
    public static int InFeatures => 1; public static int OutFeatures => 1;
}

internal struct Dense17x33 : IDenseShape
{
    public static int InFeatures => 17; public static int OutFeatures => 33;
}

internal struct Dense100x3 : IDenseShape
{
    public static int InFeatures => 100; public static int OutFeatures => 3;
}

internal struct Dense70x130 : IDenseShape
{
    public static int InFeatures => 70; public static int OutFeatures => 130;
}

// FFT sizes: every lane width (1: 2x2, 4x8, 2x32; 4: 8x8; 8: 16x16, 16x64; 16: 64x32, 32x64, 64x64), square and not.
internal struct Fft2x2 : IFftShape
{
    public static int Height => 2; public static int Width => 2;
}

internal struct Fft4x8 : IFftShape
{
    public static int Height => 4; public static int Width => 8;
}

internal struct Fft2x32 : IFftShape
{
    public static int Height => 2; public static int Width => 32;
}

internal struct Fft8x8 : IFftShape
{
    public static int Height => 8; public static int Width => 8;
}

internal struct Fft16x16 : IFftShape
{
    public static int Height => 16; public static int Width => 16;
}

internal struct Fft16x64 : IFftShape
{
    public static int Height => 16; public static int Width => 64;
}

internal struct Fft64x32 : IFftShape
{
    public static int Height => 64; public static int Width => 32;
}

internal struct Fft32x64 : IFftShape
{
    public static int Height => 32; public static int Width => 64;
}

internal struct Fft64x64 : IFftShape
{
    public static int Height => 64; public static int Width => 64;
}

// Implicit solves: depthwise with kernels 1, 3, 5; groups of 2 and 4 (one with a 5x5 kernel wider than the 4-high
// image, so taps wrap onto each other); the larger ones run the 16-lane path.
internal struct ImplicitDepthwise1 : IImplicitShape
{
    public static int Channels => 2; public static int Height => 4; public static int Width => 8; public static int Kernel => 1; public static int Groups => 2;
}

internal struct ImplicitDepthwise3 : IImplicitShape
{
    public static int Channels => 3; public static int Height => 8; public static int Width => 16; public static int Kernel => 3; public static int Groups => 3;
}

internal struct ImplicitDepthwise5 : IImplicitShape
{
    public static int Channels => 2; public static int Height => 16; public static int Width => 16; public static int Kernel => 5; public static int Groups => 2;
}

internal struct ImplicitGroups2 : IImplicitShape
{
    public static int Channels => 4; public static int Height => 8; public static int Width => 8; public static int Kernel => 3; public static int Groups => 2;
}

internal struct ImplicitGroups4 : IImplicitShape
{
    public static int Channels => 4; public static int Height => 4; public static int Width => 8; public static int Kernel => 5; public static int Groups => 1;
}

internal struct ImplicitDepthwiseWide : IImplicitShape
{
    public static int Channels => 2; public static int Height => 32; public static int Width => 64; public static int Kernel => 3; public static int Groups => 2;
}

internal struct ImplicitGroups4Wide : IImplicitShape
{
    public static int Channels => 8; public static int Height => 32; public static int Width => 32; public static int Kernel => 3; public static int Groups => 2;
}
