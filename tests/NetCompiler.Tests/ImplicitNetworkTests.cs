using System;
using System.Linq;

namespace NetCompiler.Tests;

[Network("2x8x8")]
[Conv(3, 3, Pad = 1), Relu]
[Residual(Steps = 2, H = 0.5f), Residual(Steps = 1, H = 0.3f, Symmetric = true)]
[GlobalAvgPool, Dense(3)]
public partial class ResidualGradientNet;

[Network("2x8x8")]
[Conv(4, 3, Pad = 1), Relu]
[Imex(Steps = 2, H = 0.5f), Imex(Steps = 1, H = 2f, Groups = 2, ReleasedVariant = true, ImplicitKernel = 5)]
[GlobalAvgPool, Dense(3)]
public partial class ImexGradientNet;

[Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
[Conv(4, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Imex(Steps = 1, H = 1f)]
[ConvTranspose(3, 2, Stride = 2)]
public partial class PixelImexNet;

/// <summary>Residual and IMEX steps and segmentation end to end: every gradient against finite differences.</summary>
public sealed class ImplicitNetworkTests
{
    [Fact]
    public void ResidualStepGradientsMatchFiniteDifferences()
    {
        using var net = new ResidualGradientNet(batchSize: 3, seed: 7, threads: 1);
        var random = new Random(3);
        float[] images = GradientCheck.RandomImages(random, 3 * ResidualGradientNet.InputLength);
        int[] labels = [2, 0, 1];
        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.02);
    }

    [Fact]
    public void ImexStepGradientsMatchFiniteDifferencesInBothFormsAndGroupings()
    {
        using var net = new ImexGradientNet(batchSize: 3, seed: 8, threads: 1);
        var random = new Random(4);
        float[] images = GradientCheck.RandomImages(random, 3 * ImexGradientNet.InputLength);
        int[] labels = [1, 2, 0];
        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.02);
    }

    [Fact]
    public void PixelLossWithClassWeightsHasTheRightValueAndGradients()
    {
        using var net = new PixelImexNet(batchSize: 2, seed: 9, threads: 1);
        var random = new Random(5);
        float[] images = GradientCheck.RandomImages(random, 2 * PixelImexNet.InputLength);
        int[] labels = Enumerable.Range(0, 2 * PixelImexNet.LabelsPerImage).Select(_ => random.Next(PixelImexNet.ClassCount)).ToArray();
        float[] weights = [0.2f, 1f, 3f];
        net.ClassWeights = weights;

        // The loss TrainStep reports is PyTorch's weighted mean over the training-mode scores, recomputed in double.
        float loss = net.TrainStep(images, labels, new GradientCheck.Frozen());
        Assert.Equal(GradientCheck.CrossEntropy(net.LastScores.ToArray(), labels, 2, weights), loss, 1e-5);
        Assert.NotEqual(GradientCheck.CrossEntropy(net.LastScores.ToArray(), labels, 2), loss, 1e-3);

        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.02, classWeights: weights);
    }

    [Fact]
    public void ClassWeightsAreCheckedAndCopied()
    {
        using var net = new PixelImexNet(batchSize: 1, seed: 1);
        Assert.Contains("has 2 weights, but the network has 3 classes", Assert.Throws<ArgumentException>(() => net.ClassWeights = [1f, 2f]).Message);
        Assert.Contains("ClassWeights[1] = -1", Assert.Throws<ArgumentException>(() => net.ClassWeights = [1f, -1f, 1f]).Message);
        Assert.Contains("all zero", Assert.Throws<ArgumentException>(() => net.ClassWeights = [0f, 0f, 0f]).Message);
        float[] weights = [1f, 2f, 3f];
        net.ClassWeights = weights;
        weights[0] = 100f;
        Assert.Equal([1f, 2f, 3f], net.ClassWeights);
        net.ClassWeights = null;
        Assert.Null(net.ClassWeights);
    }

    [Fact]
    public void AnImexNetworkLearnsToSegment()
    {
        // Label each pixel by whether it is brighter than the image mean: a global quantity, so the implicit solve's
        // reach matters. Sanity, not a benchmark: the loss must halve (chance level is ln 3 = 1.1 at the start).
        using var net = new PixelImexNet(batchSize: 8, seed: 2);
        var random = new Random(6);
        var adam = new Adam(learningRate: 1e-2f);
        float first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            float[] images = GradientCheck.RandomImages(random, 8 * PixelImexNet.InputLength);
            int[] labels = new int[images.Length];
            for (int image = 0; image < 8; image++)
            {
                float mean = images.Skip(image * 64).Take(64).Average();
                for (int pixel = 0; pixel < 64; pixel++)
                {
                    labels[(image * 64) + pixel] = images[(image * 64) + pixel] > mean ? 1 : 0;
                }
            }

            float loss = net.TrainStep(images, labels, adam);
            first = step == 0 ? loss : first;
            last = loss;
        }

        Assert.True(last < first / 2, $"loss went from {first} to {last}");
    }
}
