using System;

namespace NetCompiler.Kernels.Tests;

/// <summary>A test body run for one compile-time shape, so theories can name shapes.</summary>
internal interface IConvCase
{
    void Run<S>() where S : struct, IConvShape;
}

internal static class ConvCases
{
    // Float32 sums of at most ~300 products (Cin/g * K^2): worst-case rounding ~K * 2^-24 ~ 2e-5 of the terms.
    public const double ForwardTolerance = 1e-4;

    // Float kernels against double central differences: the float backward's rounding (~1e-6) dominates the
    // FD error (~1e-10); 1e-3 keeps margin, while an indexing mistake shows up as an O(1) difference.
    public const double GradientTolerance = 1e-3;

    public static void Run(string shape, IConvCase test)
    {
        switch (shape)
        {
            case nameof(ConvBasic): test.Run<ConvBasic>(); break;
            case nameof(ConvWinograd): test.Run<ConvWinograd>(); break;
            case nameof(ConvStride2): test.Run<ConvStride2>(); break;
            case nameof(ConvDilated): test.Run<ConvDilated>(); break;
            case nameof(ConvGroups2): test.Run<ConvGroups2>(); break;
            case nameof(ConvDepthwise): test.Run<ConvDepthwise>(); break;
            case nameof(ConvPointwise): test.Run<ConvPointwise>(); break;
            case nameof(ConvPointwiseStride2): test.Run<ConvPointwiseStride2>(); break;
            case nameof(Conv5x5): test.Run<Conv5x5>(); break;
            case nameof(ConvLarge): test.Run<ConvLarge>(); break;
            case nameof(ConvTStride2): test.Run<ConvTStride2>(); break;
            case nameof(ConvTWinograd): test.Run<ConvTWinograd>(); break;
            case nameof(ConvTGroups2): test.Run<ConvTGroups2>(); break;
            case nameof(ConvTDilated): test.Run<ConvTDilated>(); break;
            case nameof(ConvTPointwise): test.Run<ConvTPointwise>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    public static double[] Relu(double[] values) => Array.ConvertAll(values, v => Math.Max(v, 0));
}

public class ConvTests
{
    public static TheoryData<string> SmallShapes => new()
    {
        nameof(ConvBasic), nameof(ConvStride2), nameof(ConvDilated), nameof(ConvGroups2), nameof(ConvDepthwise),
        nameof(ConvPointwise), nameof(ConvPointwiseStride2), nameof(Conv5x5), nameof(ConvWinograd),
    };

    public static TheoryData<string> AllShapes
    {
        get
        {
            TheoryData<string> shapes = SmallShapes;
            shapes.Add(nameof(ConvLarge));
            return shapes;
        }
    }

    [Theory]
    [MemberData(nameof(AllShapes))]
    public void ForwardMatchesReference(string shape) => ConvCases.Run(shape, new ForwardCase());

    [Theory]
    [MemberData(nameof(SmallShapes))]
    public void GradientsMatchFiniteDifferences(string shape) => ConvCases.Run(shape, new GradientCase());

    [Fact]
    public void LargeGradientsMatchAdjointReference() => ConvCases.Run(nameof(ConvLarge), new AdjointCase());

    [Fact]
    public void RejectsWrongLengths()
    {
        using var context = new KernelContext(1);
        ConvDims d = ConvDims.Of<ConvBasic>();
        float[] w = new float[d.OutChannels * d.InChannels * 9], y = new float[2 * d.OutputSize];
        var exception = Assert.Throws<ArgumentException>(() => Conv2d.Forward<ConvBasic>(context, new float[(2 * d.InputSize) - 1], w, [], y, 2, Activation.None));
        Assert.Equal("x", exception.ParamName);
        Assert.Contains($"{2 * d.InputSize}", exception.Message);
        exception = Assert.Throws<ArgumentException>(() => Conv2d.Forward<ConvBasic>(context, new float[2 * d.InputSize], w, new float[3], y, 2, Activation.None));
        Assert.Equal("bias", exception.ParamName);
        exception = Assert.Throws<ArgumentException>(() => Conv2d.BackwardWeight<ConvBasic>(context, new float[2 * d.InputSize], y, new float[5], [], 2));
        Assert.Equal("dw", exception.ParamName);
    }

    private sealed class ForwardCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            foreach (int n in new[] { 1, 3 })
            {
                float[] x = TestData.Random(n * d.InputSize, 1), w = TestData.Random(d.OutChannels * (d.InChannels / d.Groups) * d.Kernel * d.Kernel, 2);
                float[] bias = TestData.Random(d.OutChannels, 3);
                double[] plain = Reference.Conv(TestData.ToDouble(x), TestData.ToDouble(w), null, n, d);
                double[] biased = Reference.Conv(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), n, d);
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var y = new float[n * d.OutputSize];
                    Conv2d.Forward<S>(context, x, w, [], y, n, Activation.None);
                    Check.Close(plain, y, ConvCases.ForwardTolerance, $"n {n} threads {threads}");
                    Conv2d.Forward<S>(context, x, w, bias, y, n, Activation.Relu);
                    Check.Close(ConvCases.Relu(biased), y, ConvCases.ForwardTolerance, $"bias+relu n {n} threads {threads}");
                }
            }
        }
    }

    private sealed class GradientCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            const int N = 2;
            float[] x = TestData.Random(N * d.InputSize, 4), w = TestData.Random(d.OutChannels * (d.InChannels / d.Groups) * d.Kernel * d.Kernel, 5);
            float[] bias = TestData.Random(d.OutChannels, 6), r = TestData.Random(N * d.OutputSize, 7);
            double[] xd = TestData.ToDouble(x), wd = TestData.ToDouble(w), bd = TestData.ToDouble(bias), rd = TestData.ToDouble(r);
            double[] expectedDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Reference.Conv(t, wd, bd, N, d)));
            double[] expectedDw = Reference.NumericGradient(wd, t => Reference.Dot(rd, Reference.Conv(xd, t, bd, N, d)));
            double[] expectedDb = Reference.NumericGradient(bd, t => Reference.Dot(rd, Reference.Conv(xd, wd, t, N, d)));
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                var dx = new float[x.Length];
                var dw = new float[w.Length];
                var db = new float[bias.Length];
                Conv2d.BackwardData<S>(context, r, w, dx, N);
                Conv2d.BackwardWeight<S>(context, x, r, dw, db, N);
                Check.Close(expectedDx, dx, ConvCases.GradientTolerance, $"dx threads {threads}");
                Check.Close(expectedDw, dw, ConvCases.GradientTolerance, $"dw threads {threads}");
                Check.Close(expectedDb, db, ConvCases.GradientTolerance, $"dbias threads {threads}");
            }
        }
    }

    /// <summary>
    /// Too large for finite differences: dx is the reference transposed convolution of dy (the adjoint, exact for a
    /// linear map) and dw the direct correlation of x with dy. Tolerance: float sums of up to ~2000 terms.
    /// </summary>
    /// <summary>Both gradients against the double reference (the data gradient as the adjoint, the transposed convolution).</summary>
    internal sealed class AdjointCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            const int N = 2;
            float[] x = TestData.Random(N * d.InputSize, 8), w = TestData.Random(d.OutChannels * (d.InChannels / d.Groups) * d.Kernel * d.Kernel, 9);
            float[] r = TestData.Random(N * d.OutputSize, 10);
            ConvDims adjoint = new(d.OutChannels, d.OutHeight, d.OutWidth, d.InChannels, d.InHeight, d.InWidth, d.Kernel, d.Stride, d.Pad, d.Dilation, d.Groups);
            double[] expectedDx = Reference.ConvTranspose(TestData.ToDouble(r), TestData.ToDouble(w), null, N, adjoint);
            double[] expectedDw = Reference.ConvWeightGradient(TestData.ToDouble(x), TestData.ToDouble(r), N, d);
            using var context = new KernelContext(2);
            var dx = new float[x.Length];
            var dw = new float[w.Length];
            Conv2d.BackwardData<S>(context, r, w, dx, N);
            Conv2d.BackwardWeight<S>(context, x, r, dw, [], N);
            Check.Close(expectedDx, dx, 1e-4, "dx");
            Check.Close(expectedDw, dw, 1e-4, "dw");
        }
    }
}
