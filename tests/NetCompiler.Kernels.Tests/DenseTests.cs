using System;

namespace NetCompiler.Kernels.Tests;

internal interface IDenseCase
{
    void Run<S>() where S : struct, IDenseShape;
}

public class DenseTests
{
    public static TheoryData<string> Shapes => new() { nameof(Dense1x1), nameof(Dense17x33), nameof(Dense100x3), nameof(Dense70x130) };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesReference(string shape) => Run(shape, new ForwardCase());

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientsMatchFiniteDifferences(string shape) => Run(shape, new GradientCase());

    [Fact]
    public void RejectsWrongLengths()
    {
        using var context = new KernelContext(1);
        var exception = Assert.Throws<ArgumentException>(() => Dense.Forward<Dense17x33>(context, new float[34], new float[17 * 33], [], new float[65], 2, Activation.None));
        Assert.Equal("y", exception.ParamName);
        Assert.Contains("66", exception.Message);
    }

    private static void Run(string shape, IDenseCase test)
    {
        switch (shape)
        {
            case nameof(Dense1x1): test.Run<Dense1x1>(); break;
            case nameof(Dense17x33): test.Run<Dense17x33>(); break;
            case nameof(Dense100x3): test.Run<Dense100x3>(); break;
            case nameof(Dense70x130): test.Run<Dense70x130>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    private sealed class ForwardCase : IDenseCase
    {
        public void Run<S>() where S : struct, IDenseShape
        {
            int inFeatures = S.InFeatures, outFeatures = S.OutFeatures;
            foreach (int n in new[] { 1, 5 })
            {
                float[] x = TestData.Random(n * inFeatures, 1), w = TestData.Random(outFeatures * inFeatures, 2), bias = TestData.Random(outFeatures, 3);
                double[] plain = Reference.Dense(TestData.ToDouble(x), TestData.ToDouble(w), null, n, inFeatures, outFeatures);
                double[] biased = Reference.Dense(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), n, inFeatures, outFeatures);
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var y = new float[n * outFeatures];
                    Dense.Forward<S>(context, x, w, [], y, n, Activation.None);
                    Check.Close(plain, y, ConvCases.ForwardTolerance, $"n {n} threads {threads}");
                    Dense.Forward<S>(context, x, w, bias, y, n, Activation.Relu);
                    Check.Close(ConvCases.Relu(biased), y, ConvCases.ForwardTolerance, $"bias+relu n {n} threads {threads}");
                }
            }
        }
    }

    private sealed class GradientCase : IDenseCase
    {
        public void Run<S>() where S : struct, IDenseShape
        {
            int inFeatures = S.InFeatures, outFeatures = S.OutFeatures;
            const int N = 3;
            float[] x = TestData.Random(N * inFeatures, 4), w = TestData.Random(outFeatures * inFeatures, 5);
            float[] bias = TestData.Random(outFeatures, 6), r = TestData.Random(N * outFeatures, 7);
            double[] xd = TestData.ToDouble(x), wd = TestData.ToDouble(w), bd = TestData.ToDouble(bias), rd = TestData.ToDouble(r);
            double[] expectedDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Reference.Dense(t, wd, bd, N, inFeatures, outFeatures)));
            double[] expectedDw = Reference.NumericGradient(wd, t => Reference.Dot(rd, Reference.Dense(xd, t, bd, N, inFeatures, outFeatures)));
            double[] expectedDb = Reference.NumericGradient(bd, t => Reference.Dot(rd, Reference.Dense(xd, wd, t, N, inFeatures, outFeatures)));
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                var dx = new float[x.Length];
                var dw = new float[w.Length];
                var db = new float[bias.Length];
                Dense.BackwardData<S>(context, r, w, dx, N);
                Dense.BackwardWeight<S>(context, x, r, dw, db, N);
                Check.Close(expectedDx, dx, ConvCases.GradientTolerance, $"dx threads {threads}");
                Check.Close(expectedDw, dw, ConvCases.GradientTolerance, $"dw threads {threads}");
                Check.Close(expectedDb, db, ConvCases.GradientTolerance, $"dbias threads {threads}");
            }
        }
    }
}
