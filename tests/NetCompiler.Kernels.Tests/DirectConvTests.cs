using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels.Tests;

/// <summary>
/// The direct convolution of Conv2d (every ungrouped forward, and the stride-1 data gradient) against the
/// double-precision reference: every epilogue, the residual, one and several images on one and two threads, over
/// shapes that hit each of its cases (both tilings) at every width (run the suite also with DOTNET_EnableAVX512=0 and
/// DOTNET_EnableHWIntrinsic=0 for the AVX2 and scalar tiles, as scripts/test.sh does).
/// </summary>
public class DirectConvTests
{
    // Float32 sums of at most 150 products (Cin * K^2) of terms below 1, as ConvCases.ForwardTolerance argues; the
    // activations add a few ulp (exp, Cephes' tanh), far inside it. An indexing mistake is an O(1) error.
    private const double Tolerance = 1e-4;

    private static readonly (Activation Activation, Func<double, double> F)[] Epilogues =
    [
        (Activation.None, v => v),
        (Activation.Relu, v => Math.Max(v, 0)),
        (Activation.LeakyRelu(0.1f), v => v > 0 ? v : 0.1 * v),
        (Activation.Sigmoid, v => 1 / (1 + Math.Exp(-v))),
        (Activation.Tanh, Math.Tanh),
        (Activation.Elu(0.5f), v => v > 0 ? v : 0.5 * (Math.Exp(v) - 1)),
        (Activation.Relu6, v => Math.Min(Math.Max(v, 0), 6)),
        (Activation.Silu, v => v / (1 + Math.Exp(-v))),
    ];

    public static TheoryData<string> Shapes => new()
    {
        nameof(DirectLeNet1), nameof(DirectLeNet2), nameof(DirectOddRows), nameof(DirectStride2),
        nameof(DirectDilated), nameof(Direct5x5Stride2), nameof(DirectNarrow),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesReferenceWithEveryEpilogue(string shape) => Run(shape, new ForwardCase());

    /// <summary>The data gradient of the stride-1 shapes runs the direct forward of its own shape, on flipped weights.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void DataGradientMatchesReference(string shape) => Run(shape, new ConvTests.AdjointCase());

    /// <summary>
    /// The rule: ungrouped layers go direct (but the 3x3 stride-1 ones with 16 or more channels each way, which take
    /// Winograd: WinogradTests), their data gradient too at stride 1, their weight gradient over pixel vectors when the
    /// output channels fill less than half a vector; grouped layers keep im2col + GEMM.
    /// </summary>
    [Fact]
    public void DispatchFollowsTheShape()
    {
        Assert.True(Conv2d.UsesDirectForward<DirectLeNet1>());
        Assert.True(Conv2d.UsesDirectForward<DirectStride2>());
        Assert.False(Conv2d.UsesDirectForward<ConvLarge>());
        Assert.True(Conv2d.UsesWinograd<ConvLarge>());
        Assert.False(Conv2d.UsesDirectForward<ConvGroups2>());
        Assert.True(Conv2d.UsesDirectBackwardData<DirectLeNet2>());
        Assert.True(Conv2d.UsesDirectBackwardData<DirectDilated>());
        Assert.False(Conv2d.UsesDirectBackwardData<DirectStride2>());
        Assert.False(Conv2d.UsesDirectBackwardData<ConvGroups2>());

        // With vectors of 8 or 16 lanes, 3 output channels are summed over pixel vectors, 40 over channel vectors.
        Assert.Equal(Vector256.IsHardwareAccelerated, Conv2d.UsesPixelVectorWeightGradient<Direct5x5Stride2>());
        Assert.False(Conv2d.UsesPixelVectorWeightGradient<ConvLarge>());
    }

    /// <summary>The micro-tile's channel blocks leave the fewest rows idle: 32 channels are 8 blocks of 4 (AVX-512), not 6 of 6.</summary>
    [Theory]
    [InlineData(3, 4, 3)]
    [InlineData(6, 4, 6)]
    [InlineData(7, 4, 4)]
    [InlineData(7, 5, 5)]
    [InlineData(10, 4, 5)]
    [InlineData(17, 4, 6)]
    [InlineData(32, 4, 4)]
    [InlineData(32, 5, 5)]
    [InlineData(40, 4, 5)]
    [InlineData(66, 4, 6)]
    [InlineData(128, 4, 4)]
    [InlineData(128, 5, 5)]
    public void ChannelBlocksLeaveTheFewestRowsIdle(int channels, int smallest, int block) => Assert.Equal(block, Conv2d.ChannelBlock(channels, smallest));

    /// <summary>At the width this run has, the shapes tile both along the rows and over the flattened plane.</summary>
    [Fact]
    public void ShapesCoverBothTilings()
    {
        var tilings = new TilingCase();
        foreach (string shape in Shapes)
        {
            Run(shape, tilings);
        }

        Assert.Contains(true, tilings.Flat);
        Assert.Contains(false, tilings.Flat);
    }

    private sealed class TilingCase : IConvCase
    {
        public List<bool> Flat { get; } = [];

        public void Run<S>() where S : struct, IConvShape => Flat.Add(Conv2d.UsesFlatTiles<S>());
    }

    private static void Run(string shape, IConvCase test)
    {
        switch (shape)
        {
            case nameof(DirectLeNet1): test.Run<DirectLeNet1>(); break;
            case nameof(DirectLeNet2): test.Run<DirectLeNet2>(); break;
            case nameof(DirectOddRows): test.Run<DirectOddRows>(); break;
            case nameof(DirectStride2): test.Run<DirectStride2>(); break;
            case nameof(DirectDilated): test.Run<DirectDilated>(); break;
            case nameof(Direct5x5Stride2): test.Run<Direct5x5Stride2>(); break;
            case nameof(DirectNarrow): test.Run<DirectNarrow>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    private sealed class ForwardCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            Assert.True(Conv2d.UsesDirectForward<S>());
            ConvDims d = ConvDims.Of<S>();
            foreach (int n in new[] { 1, 3 })
            {
                float[] x = TestData.Random(n * d.InputSize, 1), w = TestData.Random(d.OutChannels * d.InChannels * d.Kernel * d.Kernel, 2);
                float[] bias = TestData.Random(d.OutChannels, 3), residual = TestData.Random(n * d.OutputSize, 4);
                double[] plain = Reference.Conv(TestData.ToDouble(x), TestData.ToDouble(w), null, n, d);
                double[] biased = Reference.Conv(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), n, d);
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var y = new float[n * d.OutputSize];
                    Conv2d.Forward<S>(context, x, w, [], y, n, Activation.None);
                    Check.Close(plain, y, Tolerance, $"no bias, n {n}, threads {threads}");
                    foreach ((Activation activation, Func<double, double> f) in Epilogues)
                    {
                        Conv2d.Forward<S>(context, x, w, bias, y, n, activation);
                        Check.Close(Array.ConvertAll(biased, v => f(v)), y, Tolerance, $"bias, {activation}, n {n}, threads {threads}");
                        Conv2d.Forward<S>(context, x, w, bias, y, n, activation, residual);
                        double[] expected = new double[biased.Length];
                        for (int i = 0; i < expected.Length; i++)
                        {
                            expected[i] = f(biased[i] + residual[i]);
                        }

                        Check.Close(expected, y, Tolerance, $"bias and residual, {activation}, n {n}, threads {threads}");
                    }
                }
            }
        }
    }
}

// LeNet-5's two convolutions (rows wider than 16 lanes with a partial second vector; rows of 10, two per tile on
// AVX-512) and the 16-channel IMEX step (Winograd's: WinogradTests).
internal struct DirectLeNet1 : IConvShape
{
    public static int InChannels => 1; public static int InHeight => 28; public static int InWidth => 28;
    public static int OutChannels => 6; public static int Kernel => 5; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct DirectLeNet2 : IConvShape
{
    public static int InChannels => 6; public static int InHeight => 14; public static int InWidth => 14;
    public static int OutChannels => 16; public static int Kernel => 5; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

internal struct DirectImex16 : IConvShape
{
    public static int InChannels => 16; public static int InHeight => 32; public static int InWidth => 32;
    public static int OutChannels => 16; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>An odd number of rows narrower than a vector: the last two-row tile has no second row.</summary>
internal struct DirectOddRows : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 9; public static int InWidth => 7;
    public static int OutChannels => 5; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>Stride 2 (two column phases), 19 output columns (a full vector and a tail at 16 lanes), 7 channels (blocks of 4 and 3, or 5 and 2).</summary>
internal struct DirectStride2 : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 19; public static int InWidth => 37;
    public static int OutChannels => 7; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>Dilation 2, 9 channels (blocks of 5 and 4), 23 columns.</summary>
internal struct DirectDilated : IConvShape
{
    public static int InChannels => 2; public static int InHeight => 11; public static int InWidth => 23;
    public static int OutChannels => 9; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 2; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>5x5 at stride 2 over an odd input whose window does not tile it (floored, as PyTorch does).</summary>
internal struct Direct5x5Stride2 : IConvShape
{
    public static int InChannels => 1; public static int InHeight => 14; public static int InWidth => 13;
    public static int OutChannels => 3; public static int Kernel => 5; public static int Stride => 2; public static int Pad => 2; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>Outputs of 3x3: flat tiles at every width (one tile holds the plane); 9 channels, an uneven last block.</summary>
internal struct DirectNarrow : IConvShape
{
    public static int InChannels => 4; public static int InHeight => 3; public static int InWidth => 3;
    public static int OutChannels => 9; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}
