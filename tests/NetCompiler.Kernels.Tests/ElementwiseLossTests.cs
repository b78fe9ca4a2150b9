using System;

namespace NetCompiler.Kernels.Tests;

public class ElementwiseLossTests
{
    private delegate float LossKernel(ReadOnlySpan<float> scores, ReadOnlySpan<float> targets, Span<float> dscores);

    public enum Kind
    {
        MeanSquaredError,
        L1,
        SmoothL1,
        BinaryCrossEntropy,
    }

    /// <summary>
    /// Each loss against its definition in double (the mean over every element) and its gradient against central
    /// differences of that definition. Lengths 1, 7 (scalar only), 37 and 1000 (whole vectors and a scalar tail).
    /// Scores span [-3, 3] so smooth L1 has elements on both sides of |e| = 1, and BCE logits are large enough to
    /// saturate the sigmoid; random floats never land within the differences' step of a kink.
    /// Tolerances: the kernels round the difference s - t to float once (relative 6e-8) and sum in double, so the loss
    /// is good to 1e-6 relative; each gradient element is one float product or sigmoid, 1e-5 of the largest element
    /// covers that plus the differences' own error (~1e-10).
    /// </summary>
    [Theory]
    [InlineData(Kind.MeanSquaredError, 1)]
    [InlineData(Kind.MeanSquaredError, 37)]
    [InlineData(Kind.MeanSquaredError, 1000)]
    [InlineData(Kind.L1, 7)]
    [InlineData(Kind.L1, 1000)]
    [InlineData(Kind.SmoothL1, 7)]
    [InlineData(Kind.SmoothL1, 37)]
    [InlineData(Kind.SmoothL1, 1000)]
    [InlineData(Kind.BinaryCrossEntropy, 1)]
    [InlineData(Kind.BinaryCrossEntropy, 37)]
    [InlineData(Kind.BinaryCrossEntropy, 1000)]
    public void LossMatchesItsDefinitionAndGradientMatchesFiniteDifferences(Kind kind, int length)
    {
        float[] scores = TestData.Random(length, 1, scale: 3f);
        float[] targets = kind == Kind.BinaryCrossEntropy ? Probabilities(length, 2) : TestData.Random(length, 2, scale: 3f);
        double[] t = TestData.ToDouble(targets);
        Func<double[], double> reference = s => Mean(s, t, Term(kind));
        var dscores = new float[length];

        float loss = Kernel(kind)(scores, targets, dscores);

        double[] s = TestData.ToDouble(scores);
        double expected = reference(s);
        Assert.Equal(expected, loss, 1e-6 * (1 + Math.Abs(expected)));
        Check.Close(Reference.NumericGradient(s, reference), dscores, 1e-5, kind + " d(loss)/d(scores)");
    }

    [Fact]
    public void L1GradientIsZeroWhereTheScoreEqualsTheTarget()
    {
        // torch.sign(0) = 0: a score on its target gets no push, in the vector part and in the scalar tail.
        float[] scores = TestData.Random(37, 3);
        float[] targets = (float[])scores.Clone();
        targets[5] += 1f;
        targets[36] -= 1f;
        var dscores = new float[scores.Length];
        float loss = ElementwiseLoss.L1(scores, targets, dscores);
        Assert.Equal(2.0 / 37, loss, 1e-7);
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(i == 5 ? -1f / 37 : i == 36 ? 1f / 37 : 0f, dscores[i]);
        }
    }

    [Fact]
    public void BinaryCrossEntropyIsStableForHugeLogits()
    {
        // log(1 + exp(1000)) overflows in the naive form; the stable form gives 1000 (t = 0) and log(1 + e^-1000) = 0.
        float[] logits = [1000f, -1000f, 1000f, 0f];
        float[] targets = [0f, 0f, 1f, 0.5f];
        var dlogits = new float[4];
        float loss = ElementwiseLoss.BinaryCrossEntropy(logits, targets, dlogits);
        Assert.Equal((1000 + Math.Log(2)) / 4, loss, 1e-4);
        Assert.Equal([0.25f, 0f, 0f, 0f], dlogits);
    }

    [Fact]
    public void LengthsAreChecked()
    {
        foreach (Kind kind in Enum.GetValues<Kind>())
        {
            LossKernel kernel = Kernel(kind);
            Assert.Equal("targets", Assert.Throws<ArgumentException>(() => kernel(new float[4], new float[3], new float[4])).ParamName);
            Assert.Equal("dscores", Assert.Throws<ArgumentException>(() => kernel(new float[4], new float[4], new float[5])).ParamName);
            Assert.Equal("scores", Assert.Throws<ArgumentOutOfRangeException>(() => kernel([], [], [])).ParamName);
        }
    }

    private static LossKernel Kernel(Kind kind) => kind switch
    {
        Kind.MeanSquaredError => ElementwiseLoss.MeanSquaredError,
        Kind.L1 => ElementwiseLoss.L1,
        Kind.SmoothL1 => ElementwiseLoss.SmoothL1,
        _ => ElementwiseLoss.BinaryCrossEntropy,
    };

    /// <summary>The per-element loss as PyTorch documents it, in double.</summary>
    private static Func<double, double, double> Term(Kind kind) => kind switch
    {
        Kind.MeanSquaredError => (s, t) => (s - t) * (s - t),
        Kind.L1 => (s, t) => Math.Abs(s - t),
        Kind.SmoothL1 => (s, t) => Math.Abs(s - t) < 1 ? 0.5 * (s - t) * (s - t) : Math.Abs(s - t) - 0.5,
        // -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), written directly: the logits here stay below 3.
        _ => (x, t) => -((t * Math.Log(1 / (1 + Math.Exp(-x)))) + ((1 - t) * Math.Log(1 - (1 / (1 + Math.Exp(-x)))))),
    };

    private static double Mean(double[] scores, double[] targets, Func<double, double, double> term)
    {
        double sum = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            sum += term(scores[i], targets[i]);
        }

        return sum / scores.Length;
    }

    private static float[] Probabilities(int length, int seed)
    {
        float[] values = TestData.Random(length, seed);
        for (int i = 0; i < length; i++)
        {
            values[i] = i % 3 == 0 ? (values[i] > 0 ? 1f : 0f) : 0.5f * (values[i] + 1f); // hard labels and soft targets
        }

        return values;
    }
}
