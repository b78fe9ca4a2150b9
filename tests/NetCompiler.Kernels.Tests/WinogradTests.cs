using System;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels.Tests;

/// <summary>
/// Winograd F(2x2, 3x3) (the ungrouped 3x3 stride-1 forward with 16 or more channels each way, and such a layer's data
/// gradient) against the double-precision reference, per output: |y - reference| must stay within
/// <see cref="Tolerance"/> of sum |w| |x| + |bias| + |residual| for that output, the scale its rounding grows with
/// (its transforms have entries 0, +-1 and +-1/2, and the products they feed are bounded by 4 times the direct terms).
/// A mistake in a transform, a tile's position or the interleaving is an error of the size of the output itself.
/// ConvTests checks ConvWinograd's gradients against finite differences. The
/// shapes hit each case of the tiling at every width (run with DOTNET_EnableAVX512=0 and DOTNET_EnableHWIntrinsic=0
/// too, as scripts/test.sh does): several small images sharing a unit, odd output sizes (a tile half outside),
/// uneven channel blocks, rows wider than a unit (split into segments), padding 0 and 2.
/// </summary>
public class WinogradTests
{
    // 4e-6 of the absolute sum is about 70 ulp of it; the measured worst over these shapes, on every width, lies
    // between 2e-7 and 5e-7 (a 1e-3 error in one output transform term fails 14 of these tests).
    private const double Tolerance = 4e-6;

    public static TheoryData<string> Shapes => new()
    {
        nameof(WinogradSmallImages), nameof(WinogradOddSizes), nameof(WinogradWideRows), nameof(WinogradPad2), nameof(ConvLarge), nameof(DirectImex16),
        nameof(ConvWinograd),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesReferenceWithEachEpilogue(string shape) => Run(shape, new ForwardCase());

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DataGradientMatchesReference(string shape) => Run(shape, new DataGradientCase());

    /// <summary>3x3 at stride 1 with 16 or more channels in and out takes Winograd; the rest stays direct.</summary>
    [Fact]
    public void DispatchFollowsTheShape()
    {
        foreach (string shape in Shapes)
        {
            Run(shape, new DispatchCase());
        }

        Assert.False(Conv2d.UsesWinograd<DirectOddRows>()); // 3 -> 5 channels
        Assert.False(Conv2d.UsesWinograd<DirectStride2>());
        Assert.False(Conv2d.UsesWinograd<DirectDilated>());
        Assert.False(Conv2d.UsesWinograd<DirectLeNet2>()); // 5x5
        Assert.False(Conv2d.UsesWinograd<ConvGroups2>());
        Assert.True(Conv2d.UsesDirectForward<DirectOddRows>());
        Assert.False(Conv2d.UsesDirectForward<ConvLarge>());
    }

    /// <summary>Interleave puts back what Deinterleave took apart, at every width this machine has.</summary>
    [Fact]
    public unsafe void InterleaveInvertsDeinterleave()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            RoundTrip<Simd512, Vector512<float>>();
        }

        if (Vector256.IsHardwareAccelerated)
        {
            RoundTrip<Simd256, Vector256<float>>();
        }

        if (Vector128.IsHardwareAccelerated)
        {
            RoundTrip<Simd128, Vector128<float>>();
        }

        RoundTrip<SimdScalar, float>();

        static void RoundTrip<TSimd, TVector>()
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
        {
            int count = TSimd.Count;
            float* values = stackalloc float[2 * count], even = stackalloc float[count], odd = stackalloc float[count], back = stackalloc float[2 * count];
            for (int i = 0; i < 2 * count; i++)
            {
                values[i] = i + 1;
            }

            (TVector evens, TVector odds) = TSimd.Deinterleave(TSimd.Load(values), TSimd.Load(values + count));
            TSimd.Store(even, evens);
            TSimd.Store(odd, odds);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal(values[2 * i], even[i]);
                Assert.Equal(values[(2 * i) + 1], odd[i]);
            }

            (TVector low, TVector high) = TSimd.Interleave(evens, odds);
            TSimd.Store(back, low);
            TSimd.Store(back + count, high);
            for (int i = 0; i < 2 * count; i++)
            {
                Assert.Equal(values[i], back[i]);
            }
        }
    }

    private static void Run(string shape, IConvCase test)
    {
        switch (shape)
        {
            case nameof(WinogradSmallImages): test.Run<WinogradSmallImages>(); break;
            case nameof(WinogradOddSizes): test.Run<WinogradOddSizes>(); break;
            case nameof(WinogradWideRows): test.Run<WinogradWideRows>(); break;
            case nameof(WinogradPad2): test.Run<WinogradPad2>(); break;
            case nameof(ConvLarge): test.Run<ConvLarge>(); break;
            case nameof(DirectImex16): test.Run<DirectImex16>(); break;
            case nameof(ConvWinograd): test.Run<ConvWinograd>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    /// <summary>Each element of <paramref name="actual"/> within <see cref="Tolerance"/> of its own absolute sum.</summary>
    private static void Within(double[] expected, double[] scale, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= Tolerance * scale[i]))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {error:G3}, {error / scale[i]:G3} of the absolute sum {scale[i]:G4}).");
            }
        }
    }

    private static double[] Absolute(float[] values) => Array.ConvertAll(values, v => (double)Math.Abs(v));

    private sealed class DispatchCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            Assert.True(Conv2d.UsesWinograd<S>());
            Assert.True(Conv2d.UsesWinograd<DataGradientShape<S>>());
        }
    }

    private sealed class ForwardCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            foreach (int n in new[] { 1, 5 })
            {
                float[] x = TestData.Random(n * d.InputSize, 1), w = TestData.Random(d.OutChannels * d.InChannels * 9, 2);
                float[] bias = TestData.Random(d.OutChannels, 3), residual = TestData.Random(n * d.OutputSize, 4);
                double[] plain = Reference.Conv(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), n, d);
                double[] scale = Reference.Conv(Absolute(x), Absolute(w), Absolute(bias), n, d);
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var y = new float[n * d.OutputSize];
                    Conv2d.Forward<S>(context, x, w, bias, y, n, Activation.None);
                    Within(plain, scale, y, $"bias, n {n}, threads {threads}");

                    Conv2d.Forward<S>(context, x, w, bias, y, n, Activation.Relu);
                    Within(Array.ConvertAll(plain, v => Math.Max(v, 0)), scale, y, $"bias and relu, n {n}, threads {threads}");

                    // The exp-based function runs after the store's additions; its own error is a few ulp of values below 1.
                    Conv2d.Forward<S>(context, x, w, bias, y, n, Activation.Sigmoid, residual);
                    double[] expected = new double[plain.Length], residualScale = new double[plain.Length];
                    for (int i = 0; i < expected.Length; i++)
                    {
                        expected[i] = 1 / (1 + Math.Exp(-(plain[i] + residual[i])));
                        residualScale[i] = scale[i] + Math.Abs(residual[i]) + 1;
                    }

                    Within(expected, residualScale, y, $"bias, residual and sigmoid, n {n}, threads {threads}");
                }
            }
        }
    }

    /// <summary>The data gradient (the transposed convolution of dy), on the weights read flipped.</summary>
    private sealed class DataGradientCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            ConvDims adjoint = new(d.OutChannels, d.OutHeight, d.OutWidth, d.InChannels, d.InHeight, d.InWidth, d.Kernel, d.Stride, d.Pad, d.Dilation, d.Groups);
            foreach (int n in new[] { 1, 5 })
            {
                float[] dy = TestData.Random(n * d.OutputSize, 5), w = TestData.Random(d.OutChannels * d.InChannels * 9, 6);
                double[] expected = Reference.ConvTranspose(TestData.ToDouble(dy), TestData.ToDouble(w), null, n, adjoint);
                double[] scale = Reference.ConvTranspose(Absolute(dy), Absolute(w), null, n, adjoint);
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var dx = new float[n * d.InputSize];
                    Conv2d.BackwardData<S>(context, dy, w, dx, n);
                    Within(expected, scale, dx, $"n {n}, threads {threads}");
                }
            }
        }
    }
}

/// <summary>8x8 outputs, 4 tiles a row: several images share a unit at 16 lanes (5 images leave the last group short); 20 channels in 4 blocks of 5.</summary>
internal struct WinogradSmallImages : IConvShape
{
    public static int InChannels => 24; public static int InHeight => 8; public static int InWidth => 8;
    public static int OutChannels => 20; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>7x9 outputs (the last tile row and column half outside), 17 output channels (blocks of 6, 6 and 5).</summary>
internal struct WinogradOddSizes : IConvShape
{
    public static int InChannels => 16; public static int InHeight => 7; public static int InWidth => 9;
    public static int OutChannels => 17; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>Unpadded, 3x147 outputs: 74 tiles a row, wider than a unit at every width, so rows split into segments (one ends half outside).</summary>
internal struct WinogradWideRows : IConvShape
{
    public static int InChannels => 16; public static int InHeight => 5; public static int InWidth => 149;
    public static int OutChannels => 16; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}

/// <summary>Padding 2 (even: the staging's phases swap roles against padding 1), 6x6 in, 8x8 out.</summary>
internal struct WinogradPad2 : IConvShape
{
    public static int InChannels => 16; public static int InHeight => 6; public static int InWidth => 6;
    public static int OutChannels => 18; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 1; public static int Groups => 1;
    public static int OutHeight => ConvDims.ConvOut(InHeight, Kernel, Stride, Pad, Dilation);
    public static int OutWidth => ConvDims.ConvOut(InWidth, Kernel, Stride, Pad, Dilation);
}
