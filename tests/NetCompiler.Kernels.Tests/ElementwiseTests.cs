using System;

namespace NetCompiler.Kernels.Tests;

public class ElementwiseTests
{
    [Fact]
    public void AddScaledAndScaleMatchTheirDefinitionIncludingInPlace()
    {
        // 37 elements: whole vectors and a scalar tail. Products of floats are exact in double, so the
        // reference is the double result rounded once; a fused multiply-add may differ by one rounding.
        float[] x = TestData.Random(37, 1), z = TestData.Random(37, 2);
        var y = new float[x.Length];
        Elementwise.AddScaled(x, 0.75f, z, y);
        var scaled = new float[x.Length];
        Elementwise.Scale(x, -3f, scaled);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] + (0.75 * z[i]), y[i], 1e-6);
            Assert.Equal(-3f * x[i], scaled[i]);
        }

        float[] inPlace = (float[])x.Clone();
        Elementwise.AddScaled(inPlace, 0.75f, z, inPlace);
        Assert.Equal(y, inPlace);
        Assert.Throws<ArgumentException>(() => Elementwise.AddScaled(x, 1f, z.AsSpan(1), y));
        Assert.Throws<ArgumentException>(() => Elementwise.Scale(x, 1f, y.AsSpan(1)));
    }

    [Fact]
    public void ReluForwardAndBackward()
    {
        float[] x = TestData.Random(37, 1);
        var y = new float[x.Length];
        Activation.Relu.Forward(x, y);
        float[] dy = TestData.Random(x.Length, 2), expected = (float[])dy.Clone();
        Activation.Relu.Backward(y, dy);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Math.Max(x[i], 0f), y[i]);
            Assert.Equal(x[i] > 0 ? expected[i] : 0f, dy[i]);
        }
    }

    [Fact]
    public void DropoutIsDeterministicScaledAndDifferentiable()
    {
        const float P = 0.3f;
        float[] x = TestData.Random(10001, 1);
        float[] y = new float[x.Length], mask = new float[x.Length], y2 = new float[x.Length], mask2 = new float[x.Length];
        ulong state = 42, state2 = 42;
        Dropout.Forward(x, y, mask, P, ref state);
        Dropout.Forward(x, y2, mask2, P, ref state2);
        Assert.Equal(mask, mask2);
        Assert.Equal(state, state2);
        Assert.NotEqual(42UL, state);

        int dropped = 0;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(mask[i] == 0f || mask[i] == 1f / (1f - P), $"mask[{i}] = {mask[i]}");
            Assert.Equal(x[i] * mask[i], y[i]);
            dropped += mask[i] == 0f ? 1 : 0;
        }

        // Binomial(10001, 0.3): standard deviation ~46, so +-250 is over five sigma.
        Assert.InRange(dropped, 3000 - 250, 3000 + 250);

        // The next call draws a fresh mask.
        Dropout.Forward(x, y2, mask2, P, ref state2);
        Assert.NotEqual(mask, mask2);

        // Gradient of L = sum r * (x * mask) by finite differences.
        float[] r = TestData.Random(x.Length, 2);
        double[] md = TestData.ToDouble(mask), rd = TestData.ToDouble(r);
        double[] expected = Reference.NumericGradient(TestData.ToDouble(x), t =>
        {
            var output = new double[t.Length];
            for (int i = 0; i < t.Length; i++)
            {
                output[i] = t[i] * md[i];
            }

            return Reference.Dot(rd, output);
        });
        var dx = new float[x.Length];
        Dropout.Backward(r, mask, dx);
        Check.Close(expected, dx, ConvCases.GradientTolerance, "dx");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 10)]
    [InlineData(7, 3)]
    public void SoftmaxCrossEntropyMatchesReferenceAndFiniteDifferences(int n, int classes)
    {
        float[] logits = TestData.Random(n * classes, 1, scale: 5f);
        int[] labels = Labels(n, classes, 2);
        double[] ld = TestData.ToDouble(logits);
        double expectedLoss = Reference.CrossEntropy(ld, labels, null, n, classes, 1);
        double[] expectedGradient = Reference.NumericGradient(ld, t => Reference.CrossEntropy(t, labels, null, n, classes, 1));
        var dlogits = new float[logits.Length];
        float loss = SoftmaxCrossEntropy.Forward(logits, labels, dlogits, n, classes);

        // exp and log in float over at most 10 terms: ~1e-6 relative.
        Assert.Equal(expectedLoss, loss, 1e-5 * (1 + Math.Abs(expectedLoss)));
        Check.Close(expectedGradient, dlogits, ConvCases.GradientTolerance, "dlogits");
    }

    [Fact]
    public void SoftmaxCrossEntropyIsStableForHugeLogits()
    {
        float[] logits = [1000f, -1000f, 999f];
        var dlogits = new float[3];
        float loss = SoftmaxCrossEntropy.Forward(logits, [0], dlogits, 1, 3);
        Assert.Equal(Math.Log(1 + Math.Exp(-1)), loss, 1e-6);
        Assert.All(dlogits, g => Assert.True(float.IsFinite(g)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PixelCrossEntropyMatchesWeightedMeanAndFiniteDifferences(bool weighted)
    {
        const int N = 2, Classes = 4, Plane = 9;
        float[] logits = TestData.Random(N * Classes * Plane, 3, scale: 3f);
        int[] labels = Labels(N * Plane, Classes, 4);
        float[] weights = weighted ? [0.5f, 2f, 1f, 3f] : [];
        double[]? wd = weighted ? TestData.ToDouble(weights) : null;
        double[] ld = TestData.ToDouble(logits);
        double expectedLoss = Reference.CrossEntropy(ld, labels, wd, N, Classes, Plane);
        double[] expectedGradient = Reference.NumericGradient(ld, t => Reference.CrossEntropy(t, labels, wd, N, Classes, Plane));
        var dlogits = new float[logits.Length];
        float loss = SoftmaxCrossEntropy.ForwardPixels(logits, labels, weights, dlogits, N, Classes, Plane);
        Assert.Equal(expectedLoss, loss, 1e-5 * (1 + Math.Abs(expectedLoss)));
        Check.Close(expectedGradient, dlogits, ConvCases.GradientTolerance, "dlogits");
    }

    [Fact]
    public void BadLabelsNameTheIndexAndValueBeforeWritingOutputs()
    {
        var dlogits = new float[6];
        dlogits.AsSpan().Fill(7f);
        var exception = Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.Forward(new float[6], [1, 3], dlogits, 2, 3));
        Assert.Contains("sample 1", exception.Message);
        Assert.Contains("3", exception.Message);
        Assert.All(dlogits, g => Assert.Equal(7f, g));

        exception = Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.ForwardPixels(new float[2 * 2 * 3], [0, 1, 1, 0, -5, 1], [], new float[12], 2, 2, 3));
        Assert.Contains("sample 1, pixel 1", exception.Message);
        Assert.Contains("-5", exception.Message);

        exception = Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(new float[5], [1, 2], new float[6], 2, 3));
        Assert.Equal("logits", exception.ParamName);
    }

    private static int[] Labels(int count, int classes, int seed)
    {
        var random = new Random(seed);
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
        }

        return labels;
    }
}
