using System;
using System.Linq;

namespace NetCompiler.Kernels.Tests;

internal interface IPoolCase
{
    void Run<S>() where S : struct, IPoolShape;
}

public class PoolTests
{
    // Window sums of at most 9 floats: the only error is float rounding of the sum and the division.
    private const double Tolerance = 1e-5;

    public static TheoryData<string> Shapes => new() { nameof(Pool2), nameof(Pool3Stride2), nameof(Pool3Padded), nameof(Pool2Floored) };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardAndGradientsMatchReference(string shape)
    {
        switch (shape)
        {
            case nameof(Pool2): new PoolCase().Run<Pool2>(); break;
            case nameof(Pool3Stride2): new PoolCase().Run<Pool3Stride2>(); break;
            case nameof(Pool3Padded): new PoolCase().Run<Pool3Padded>(); break;
            case nameof(Pool2Floored): new PoolCase().Run<Pool2Floored>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    /// <summary>PyTorch's ceil_mode: the last windows run past the input (and right padding) and are clipped to it.</summary>
    [Theory]
    [InlineData(nameof(Pool3Stride2Ceil))]
    [InlineData(nameof(Pool3PaddedCeil))]
    public void CeilModeMaxPoolMatchesReference(string shape)
    {
        switch (shape)
        {
            case nameof(Pool3Stride2Ceil): new CeilMaxPoolCase().Run<Pool3Stride2Ceil>(); break;
            case nameof(Pool3PaddedCeil): new CeilMaxPoolCase().Run<Pool3PaddedCeil>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    [Fact]
    public void MaxPoolTiesPickTheFirstElement()
    {
        using var context = new KernelContext(1);
        float[] x = [1, 3, 3, 0, 3, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0];
        var y = new float[4];
        var switches = new byte[4];
        MaxPool2d.Forward<TiePool>(context, x, y, switches, 1);
        Assert.Equal([1, 2, 8, 10], switches.Select((s, output) => MaxPool2d.InputIndex<TiePool>(output, s)));
    }

    /// <summary>
    /// The vector path of 2 x 2 windows (full and partial vectors of outputs, and the window-by-window tail near x's end)
    /// keeps the scalar rule exactly: on values with many ties and some NaNs, the first maximum's switch, and the last NaN's.
    /// </summary>
    [Fact]
    public void PairwiseMaxPoolKeepsTiesAndNaNs()
    {
        const int N = 2;
        var random = new Random(5);
        int planeIn = WidePool.InHeight * WidePool.InWidth, planeOut = WidePool.OutHeight * WidePool.OutWidth;
        float[] x = Enumerable.Range(0, N * WidePool.Channels * planeIn).Select(_ => random.Next(8) == 0 ? float.NaN : random.Next(3)).ToArray();
        var expected = new float[N * WidePool.Channels * planeOut];
        var expectedSwitches = new byte[expected.Length];
        for (int o = 0; o < expected.Length; o++)
        {
            int plane = o / planeOut, oh = o % planeOut / WidePool.OutWidth, ow = o % WidePool.OutWidth;
            float best = float.NegativeInfinity;
            for (int place = 0; place < 4; place++)
            {
                float value = x[(plane * planeIn) + (((2 * oh) + (place / 2)) * WidePool.InWidth) + (2 * ow) + (place % 2)];
                if (value > best || float.IsNaN(value))
                {
                    best = value;
                    expectedSwitches[o] = (byte)place;
                }
            }

            expected[o] = best;
        }

        foreach (int threads in new[] { 1, 2 })
        {
            using var context = new KernelContext(threads);
            var y = new float[expected.Length];
            var switches = new byte[expected.Length];
            MaxPool2d.Forward<WidePool>(context, x, y, switches, N);
            Assert.Equal(expected, y);
            Assert.Equal(expectedSwitches, switches);
        }
    }

    [Fact]
    public void GlobalAveragePoolMatchesReferenceAndFiniteDifferences()
    {
        const int N = 3, Channels = 4, Plane = 13;
        float[] x = TestData.Random(N * Channels * Plane, 1), r = TestData.Random(N * Channels, 2);
        double[] Mean(double[] values)
        {
            var means = new double[N * Channels];
            for (int i = 0; i < values.Length; i++)
            {
                means[i / Plane] += values[i] / Plane;
            }

            return means;
        }

        double[] xd = TestData.ToDouble(x), rd = TestData.ToDouble(r);
        double[] expectedDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Mean(t)));
        using var context = new KernelContext(2);
        var y = new float[N * Channels];
        var dx = new float[x.Length];
        GlobalAvgPool.Forward(context, x, y, N, Channels, Plane);
        GlobalAvgPool.Backward(context, r, dx, N, Channels, Plane);
        Check.Close(Mean(xd), y, Tolerance, "y");
        Check.Close(expectedDx, dx, ConvCases.GradientTolerance, "dx");
    }

    private struct TiePool : IPoolShape
    {
        public static int Channels => 1; public static int InHeight => 4; public static int InWidth => 4; public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
        public static int OutHeight => 2; public static int OutWidth => 2;
    }

    /// <summary>Rows of 35 outputs (two full AVX-512 vectors and a partial one; four and a partial at AVX2), an odd input width and height.</summary>
    private struct WidePool : IPoolShape
    {
        public static int Channels => 3; public static int InHeight => 7; public static int InWidth => 71; public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
        public static int OutHeight => 3; public static int OutWidth => 35;
    }

    /// <summary>Max pooling alone: average pooling in ceil mode would divide its clipped windows differently (PyTorch's rule), and NetCompiler does not offer it.</summary>
    private sealed class CeilMaxPoolCase : IPoolCase
    {
        public void Run<S>() where S : struct, IPoolShape
        {
            PoolDims d = PoolDims.Of<S>();
            const int n = 2;
            float[] x = TestData.Random(n * d.InputSize, 3), r = TestData.Random(n * d.OutputSize, 4);
            double[] xd = TestData.ToDouble(x), rd = TestData.ToDouble(r);
            var argmax = new int[n * d.OutputSize];
            double[] expected = Reference.Pool(xd, n, d, average: false, argmax);
            double[] expectedDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Reference.Pool(t, n, d, average: false)));
            using var context = new KernelContext(2);
            var y = new float[n * d.OutputSize];
            var switches = new byte[y.Length];
            var dx = new float[x.Length];
            MaxPool2d.Forward<S>(context, x, y, switches, n);
            Check.Close(expected, y, Tolerance, "max");
            Assert.Equal(argmax, switches.Select((s, i) => MaxPool2d.InputIndex<S>(i % (d.OutHeight * d.OutWidth), s)));
            MaxPool2d.Backward<S>(context, r, switches, dx, n);
            Check.Close(expectedDx, dx, ConvCases.GradientTolerance, "max dx");
        }
    }

    private sealed class PoolCase : IPoolCase
    {
        public void Run<S>() where S : struct, IPoolShape
        {
            PoolDims d = PoolDims.Of<S>();
            foreach (int n in new[] { 1, 2 })
            {
                float[] x = TestData.Random(n * d.InputSize, n), r = TestData.Random(n * d.OutputSize, 10 + n);
                double[] xd = TestData.ToDouble(x), rd = TestData.ToDouble(r);
                var argmax = new int[n * d.OutputSize];
                double[] expectedMax = Reference.Pool(xd, n, d, average: false, argmax);
                double[] expectedAverage = Reference.Pool(xd, n, d, average: true);
                double[] expectedMaxDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Reference.Pool(t, n, d, average: false)));
                double[] expectedAverageDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Reference.Pool(t, n, d, average: true)));
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var y = new float[n * d.OutputSize];
                    var switches = new byte[y.Length];
                    var dx = new float[x.Length];
                    MaxPool2d.Forward<S>(context, x, y, switches, n);
                    Check.Close(expectedMax, y, Tolerance, "max");
                    // Each switch names its window's argmax: decoded, the reference's index within the input plane.
                    Assert.Equal(argmax, switches.Select((s, i) => MaxPool2d.InputIndex<S>(i % (d.OutHeight * d.OutWidth), s)));
                    MaxPool2d.Backward<S>(context, r, switches, dx, n);
                    Check.Close(expectedMaxDx, dx, ConvCases.GradientTolerance, "max dx");

                    AvgPool2d.Forward<S>(context, x, y, n);
                    Check.Close(expectedAverage, y, Tolerance, "average");
                    AvgPool2d.Backward<S>(context, r, dx, n);
                    Check.Close(expectedAverageDx, dx, ConvCases.GradientTolerance, "average dx");
                }
            }
        }
    }
}
