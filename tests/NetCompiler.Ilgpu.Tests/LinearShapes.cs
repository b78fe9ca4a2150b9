using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

// Tiny shapes (the simulator runs a thread per GPU thread) that still cover the GEMM's edges: rows, columns and
// depths that are not multiples of the 64 x 64 x 16 tile, and one shape (ConvWide) spanning two row tiles, two
// column tiles and many depth steps in every call.
internal static class ConvOut
{
    public static int Of(int size, int kernel, int stride, int pad, int dilation) => ((size + (2 * pad) - (dilation * (kernel - 1)) - 1) / stride) + 1;

    public static int Transposed(int size, int kernel, int stride, int pad, int dilation, int outputPadding) =>
        ((size - 1) * stride) - (2 * pad) + (dilation * (kernel - 1)) + outputPadding + 1;
}

internal struct Conv3x3 : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 7; public static int InWidth => 6;
    public static int OutChannels => 5; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvStride2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 8; public static int InWidth => 7;
    public static int OutChannels => 6; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvDilated : IConvShape
{
    public static int InChannels => 2; public static int InHeight => 8; public static int InWidth => 7;
    public static int OutChannels => 3; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 2; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvGroups2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 6; public static int InWidth => 5;
    public static int OutChannels => 6; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 2;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvDepthwise : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 7; public static int InWidth => 7;
    public static int OutChannels => 4; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 4;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvPointwise : IConvShape
{
    public static int InChannels => 8; public static int InHeight => 5; public static int InWidth => 6;
    public static int OutChannels => 5; public static int Kernel => 1; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct ConvPointwiseStride2 : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 6; public static int InWidth => 7;
    public static int OutChannels => 4; public static int Kernel => 1; public static int Stride => 2; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct Conv5x5 : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 8; public static int InWidth => 7;
    public static int OutChannels => 4; public static int Kernel => 5; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

// Forward: 70 output channels (two row tiles), 2 x 36 pixels (two column tiles), depth 66 (five steps); data gradient:
// 66 input channels by 72 pixels, depth 70; weight gradient: 70 x 66, depth 72. (1x1: a 3x3 kernel's depth would make
// the simulator, a thread per GPU thread, slow; the taps are covered by the other shapes, whose depths span steps too.)
internal struct ConvWide : IConvShape
{
    public static int InChannels => 66; public static int InHeight => 6; public static int InWidth => 6;
    public static int OutChannels => 70; public static int Kernel => 1; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Of(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvOut.Of(InWidth, Kernel, Stride, Pad, Dilation);
}

// Transposed convolutions (In*/Out* are the layer's own input and output).
internal struct ConvTStride2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 4; public static int InWidth => 3;
    public static int OutChannels => 3; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Transposed(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 1);
    public static int OutWidth => ConvOut.Transposed(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 1);
}

internal struct ConvTGroups2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 3; public static int InWidth => 4;
    public static int OutChannels => 6; public static int Kernel => 4; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 2;
    public static int OutHeight => ConvOut.Transposed(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvOut.Transposed(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
}

internal struct ConvTDilated : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 4; public static int InWidth => 4;
    public static int OutChannels => 2; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 2; public static int Groups => 1;
    public static int OutHeight => ConvOut.Transposed(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvOut.Transposed(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
}

internal struct ConvTPointwise : IConvShape
{
    public static int InChannels => 5; public static int InHeight => 4; public static int InWidth => 3;
    public static int OutChannels => 3; public static int Kernel => 1; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvOut.Transposed(InHeight, Kernel, Stride, Pad, Dilation, outputPadding: 0);
    public static int OutWidth => ConvOut.Transposed(InWidth, Kernel, Stride, Pad, Dilation, outputPadding: 0);
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

// Two row tiles in the forward and weight gradient (130 outputs), two in the data gradient (70 inputs).
internal struct Dense70x130 : IDenseShape
{
    public static int InFeatures => 70; public static int OutFeatures => 130;
}
