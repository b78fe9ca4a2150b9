using System;
using System.Linq;

namespace NetCompiler.Tests;

// Linear networks whose gains are known by hand: a 1x1 conv from one channel to two multiplies every pixel by
// (w0, w1), so every direction has gain sqrt(w0^2 + w1^2); a 3x3 conv's gain along a direction is that of its
// zero-padded correlation, computed here in double, and at most its operator norm.
[Network("1x6x6", Loss = Loss.PixelCrossEntropy)]
[Conv(2, 1)]
public partial class PointwiseGainNet;

[Network("1x6x6", Loss = Loss.PixelCrossEntropy)]
[Conv(2, 3, Pad = 1)]
public partial class StencilGainNet;

/// <summary>Stability's gains against hand-computed ones, and its FGSM over a data set against the sign of the input gradient.</summary>
public sealed class StabilityTests
{
    private const int Side = 6, Pixels = Side * Side, Batch = 2;

    private static readonly float[] PointwiseWeights = [1.2f, -0.5f];   // gain sqrt(1.44 + 0.25) = 1.3

    private static readonly float[] StencilWeights =
    [
        0.1f, -0.4f, 0.2f, 0.7f, 1.0f, -0.3f, 0.0f, 0.5f, -0.2f,   // output channel 0, row-major 3x3
        -0.6f, 0.3f, 0.8f, 0.2f, -0.1f, 0.4f, 0.9f, -0.7f, 0.3f,   // output channel 1
    ];

    [Fact]
    public void EveryDirectionThroughAPointwiseConvHasItsGain()
    {
        using PointwiseGainNet net = Pointwise();
        float[] images = Images(5, seed: 1);

        // f(x + d) - f(x) is a float32 difference of scores of order 1 for a change of order 1e-2: relative rounding
        // ~1e-7 / 1e-2 = 1e-5 per element, averaged over 72 scores; 1e-4 leaves room, a wrong norm or scale is far off.
        double expected = Math.Sqrt((1.2 * 1.2) + (0.5 * 0.5));
        Assert.All(Stability.Gains(net, images, Images(5, seed: 2)), gain => Assert.Equal(expected, gain, 1e-4));
        Assert.Equal(expected, Stability.Amplification(net, images, draws: 3, seed: 4), 1e-4);
    }

    [Fact]
    public void AStencilsGainAlongADirectionIsItsCorrelationsAndAtMostItsOperatorNorm()
    {
        using StencilGainNet net = Stencil();
        float[] images = Images(5, seed: 3), directions = Images(5, seed: 4);
        double[] gains = Stability.Gains(net, images, directions);

        // The reference takes the direction as given: the scale cancels in the ratio of a linear map.
        for (int i = 0; i < gains.Length; i++)
        {
            double[] d = directions.AsSpan(i * Pixels, Pixels).ToArray().Select(v => (double)v).ToArray();
            double expected = Math.Sqrt(Correlate(d).Sum(v => v * v) / d.Sum(v => v * v));
            Assert.Equal(expected, gains[i], 1e-4 * expected);   // float32 rounding as above
        }

        // Young's inequality: ||k * d|| <= ||k||_1 ||d|| per output channel, so the gain is at most sqrt(sum ||k_o||_1^2).
        double bound = Math.Sqrt(Enumerable.Range(0, 2).Sum(o => Math.Pow(StencilWeights.Skip(9 * o).Take(9).Sum(w => Math.Abs((double)w)), 2)));
        double amplification = Stability.Amplification(net, images, draws: 4, seed: 9);
        Assert.InRange(amplification, 0.1, bound);
        Assert.Equal(amplification, Stability.Amplification(net, images, draws: 4, seed: 9));
        Assert.NotEqual(amplification, Stability.Amplification(net, images, draws: 4, seed: 10));
    }

    [Fact]
    public void FgsmOverASetStepsEachImageAlongItsOwnGradientSignAndRaisesTheLoss()
    {
        using PointwiseGainNet net = Pointwise();
        DataSet clean = Labelled(5);   // three batches of two, the last one short
        const float epsilon = 0.05f, min = -1.5f, max = 1.5f;
        DataSet attacked = Stability.Fgsm(net, clean, epsilon, min, max);

        Assert.True(attacked.Labels.SequenceEqual(clean.Labels));
        for (int i = 0; i < clean.Count; i++)
        {
            float[] gradient = net.InputGradient(clean.Image(i), clean.LabelsOf(i)).ToArray();
            for (int p = 0; p < Pixels; p++)
            {
                Assert.Equal(Math.Clamp(clean.Image(i)[p] + (epsilon * MathF.Sign(gradient[p])), min, max), attacked.Image(i)[p]);
            }

            // The loss is linear in the scores' change to first order: a step of 0.05 against the gradient's sign raises it.
            Assert.True(PixelCrossEntropy(net, attacked, i) > PixelCrossEntropy(net, clean, i), $"image {i}: FGSM did not raise the loss");
        }
    }

    [Fact]
    public void BadInputsAreRejectedByName()
    {
        using PointwiseGainNet net = Pointwise();
        float[] images = Images(2, seed: 5);

        Assert.Throws<ArgumentException>(() => Stability.Gains(net, images, images.AsSpan(1).ToArray()));
        Assert.Throws<ArgumentException>(() => Stability.Gains(net, images.AsSpan(1).ToArray(), images.AsSpan(1).ToArray()));
        Assert.Throws<ArgumentException>(() => Stability.Gains(net, images, new float[images.Length]));
        Assert.Throws<ArgumentException>(() => Stability.Gains(net, new float[images.Length], images));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stability.Gains(net, images, images, relativeSize: 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Stability.Amplification(net, images, draws: 0));

        DataSet data = Labelled(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => Stability.Fgsm(net, data, -0.1f));
        Assert.Throws<ArgumentException>(() => Stability.Fgsm(net, new DataSet(new float[2 * 49], new int[2 * 49], TensorShape.Image(1, 7, 7), 2, 49), 0.1f));
        Assert.Throws<ArgumentException>(() => Stability.Fgsm(net, new DataSet(images, new float[2 * 72], TensorShape.Image(1, Side, Side), 72), 0.1f));

        // Per-pixel labels: a whole number per image, and the network's own count.
        Assert.Throws<ArgumentException>(() => Explanations.Fgsm(net, images, new int[Pixels + 1], 0.1f));
        Assert.Throws<ArgumentException>(() => Explanations.Fgsm(net, images, new int[2 * (Pixels - 1)], 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Fgsm(net, images, Enumerable.Repeat(2, 2 * Pixels).ToArray(), 0.1f));
    }

    private static PointwiseGainNet Pointwise()
    {
        var net = new PointwiseGainNet(Batch, seed: 1, threads: 1);
        PointwiseWeights.CopyTo(net.Parameters.Single(p => p.Name.EndsWith("weight", StringComparison.Ordinal)).Value, 0);
        net.Parameters.Single(p => p.Name.EndsWith("bias", StringComparison.Ordinal)).Value.AsSpan().Fill(0.3f);   // biases cancel in f(x + d) - f(x)
        net.MarkParametersChanged();
        return net;
    }

    private static StencilGainNet Stencil()
    {
        var net = new StencilGainNet(Batch, seed: 1, threads: 1);
        StencilWeights.CopyTo(net.Parameters.Single(p => p.Name.EndsWith("weight", StringComparison.Ordinal)).Value, 0);
        net.MarkParametersChanged();
        return net;
    }

    /// <summary>The two output channels of the stencil's zero-padded cross-correlation, without bias.</summary>
    private static double[] Correlate(double[] d)
    {
        var output = new double[2 * Pixels];
        for (int o = 0; o < 2; o++)
        {
            for (int y = 0; y < Side; y++)
            {
                for (int x = 0; x < Side; x++)
                {
                    double sum = 0;
                    for (int ky = 0; ky < 3; ky++)
                    {
                        for (int kx = 0; kx < 3; kx++)
                        {
                            int sy = y + ky - 1, sx = x + kx - 1;
                            if (sy is >= 0 and < Side && sx is >= 0 and < Side)
                            {
                                sum += StencilWeights[(9 * o) + (3 * ky) + kx] * d[(sy * Side) + sx];
                            }
                        }
                    }

                    output[(o * Pixels) + (y * Side) + x] = sum;
                }
            }
        }

        return output;
    }

    /// <summary>The mean per-pixel softmax cross-entropy of image <paramref name="index"/>, in double.</summary>
    private static double PixelCrossEntropy(CompiledNetwork net, DataSet data, int index)
    {
        float[] scores = net.Forward(data.Image(index)).ToArray();
        ReadOnlySpan<int> labels = data.LabelsOf(index);
        double loss = 0;
        for (int p = 0; p < Pixels; p++)
        {
            double s0 = scores[p], s1 = scores[Pixels + p], top = Math.Max(s0, s1);
            double logSum = top + Math.Log(Math.Exp(s0 - top) + Math.Exp(s1 - top));
            loss += logSum - (labels[p] == 0 ? s0 : s1);
        }

        return loss / Pixels;
    }

    private static float[] Images(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count * Pixels).Select(_ => (random.NextSingle() * 2) - 1).ToArray();
    }

    private static DataSet Labelled(int count)
    {
        var random = new Random(8);
        return new DataSet(Images(count, seed: 7), Enumerable.Range(0, count * Pixels).Select(_ => random.Next(2)).ToArray(), TensorShape.Image(1, Side, Side), 2, Pixels);
    }
}
