using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

[Network("2x6x6")]
[Conv(3, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Conv(4, 3, Pad = 1, Groups = 1, Bias = false), Relu, AvgPool(3)]
[Dense(5), Relu, Dense(3)]
public partial class GradientNet;

[Network("1x8x8")]
[Conv(4, 3, Pad = 1), Relu, MaxPool(2), Dropout(0.25f), Dense(2)]
public partial class SeparableNet;

[Network("1x8x8")]
[Conv(4, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(8), BatchNorm, Relu, Dropout(0.5f)]
[Dense(3)]
public partial class DivergingNet;

// The case: 4096 channels of 64x64 are 16.8M floats an image, past what one array holds at a batch of 65,536.
[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(4096, 3, Pad = 1), Conv(2, 1)]
public partial class WideNet;

/// <summary>A compiled network end to end: gradients, training, determinism, allocation, bad input.</summary>
[Collection(Allocations.Alone)]
public sealed class CompiledNetworkTests
{
    [Fact]
    public void ABatchTooLargeToAllocateIsAnExceptionNamingTheStorage()
    {
        var error = Assert.Throws<InsufficientMemoryException>(() => new WideNet(batchSize: 65_536));
        Assert.Contains("features.0", error.Message);
        Assert.Contains("batch size 65536", error.Message);
        Assert.Contains("bytes", error.Message);
        Assert.DoesNotContain("overflow", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ParameterAndInputGradientsMatchFiniteDifferences()
    {
        using var net = new GradientNet(batchSize: 4, seed: 5, threads: 1);
        var random = new Random(11);
        float[] images = RandomImages(random, 4 * GradientNet.InputLength);
        int[] labels = [0, 1, 2, 1];
        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.02);
    }

    [Fact]
    public void ScoreGradientIsTheGradientOfOneClassScore()
    {
        using var net = new GradientNet(batchSize: 2, seed: 2, threads: 1);
        float[] images = RandomImages(new Random(4), 2 * GradientNet.InputLength);
        float[] gradient = net.ScoreGradient(images, classIndex: 1).ToArray();
        var analytic = new List<double>();
        var numeric = new List<double>();
        for (int i = 0; i < images.Length; i += 7)
        {
            analytic.Add(gradient[i]);
            numeric.Add(GradientCheck.Central(images, i, () => net.Forward(images)[1] + net.Forward(images)[GradientNet.OutputLength + 1]));
        }

        GradientCheck.AssertClose(analytic, numeric, 0.02, "score gradients");
    }

    [Fact]
    public void TrainingDrivesTheLossDownOnASeparableTask()
    {
        using var net = new SeparableNet(batchSize: 16, seed: 3);
        var random = new Random(9);
        var adam = new Adam(learningRate: 1e-2f);
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            (float[] images, int[] labels) = BrightHalf(random, 16);
            float loss = net.TrainStep(images, labels, adam);
            first = step == 0 ? loss : first;
            last = loss;
        }

        Assert.True(last < first / 4, $"loss went from {first} to {last}");
        (float[] testImages, int[] testLabels) = BrightHalf(random, 16);
        float[] scores = net.Forward(testImages).ToArray();
        int correct = Enumerable.Range(0, 16).Count(i => (scores[(2 * i) + 1] > scores[2 * i] ? 1 : 0) == testLabels[i]);
        Assert.True(correct >= 15, $"{correct}/16 correct");
    }

    [Fact]
    public void SameSeedAndThreadsGiveBitIdenticalTraining()
    {
        float[] Run()
        {
            using var net = new GradientNet(batchSize: 8, seed: 42, threads: 2);
            var adam = new Adam(learningRate: 1e-2f);
            var random = new Random(1);
            var losses = new float[5];
            for (int step = 0; step < losses.Length; step++)
            {
                losses[step] = net.TrainStep(RandomImages(random, 8 * GradientNet.InputLength), [0, 1, 2, 0, 1, 2, 0, 1], adam);
            }

            return [.. losses, .. net.Parameters.SelectMany(p => p.Value)];
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void SteadyStateStepsAllocateNothing()
    {
        using var net = new SeparableNet(batchSize: 16, seed: 1);
        (float[] images, int[] labels) = BrightHalf(new Random(2), 16);
        var adam = new Adam();
        Allocations.AssertNone("a training step and a forward pass", () =>
        {
            net.TrainStep(images, labels, adam);
            net.Forward(images);
        });
    }

    [Fact]
    public void BadInputIsRejectedWithAMessageNamingIt()
    {
        using var net = new SeparableNet(batchSize: 2, seed: 1);
        var sgd = new Sgd(learningRate: 0.1f);
        float[] two = new float[2 * SeparableNet.InputLength];

        Assert.Contains("not a whole number of 1x8x8 images", Assert.Throws<ArgumentException>(() => net.Forward(new float[65])).Message);
        Assert.Contains("more than the batch size 2", Assert.Throws<ArgumentException>(() => net.Forward(new float[3 * 64])).Message);
        Assert.Contains("labels[1] = 2", Assert.ThrowsAny<ArgumentException>(() => net.TrainStep(two, [0, 2], sgd)).Message);
        Assert.Contains("has 1 labels", Assert.Throws<ArgumentException>(() => net.TrainStep(two, [0], sgd)).Message);
        two[70] = float.NaN;
        Assert.Contains("images[70] (image 1, element 6) is NaN", Assert.Throws<ArgumentException>(() => net.TrainStep(two, [0, 1], sgd)).Message);
    }

    [Fact]
    public void ANonFiniteLossStopsTrainingNamingTheStep()
    {
        using var net = new SeparableNet(batchSize: 2, seed: 1);
        var sgd = new Sgd(learningRate: 0.1f);
        float[] images = new float[2 * SeparableNet.InputLength];
        net.TrainStep(images, [0, 1], sgd);
        Parameter weight = net.Parameters.First(p => p.Name == "classifier.1.weight");
        weight.Value[3] = float.PositiveInfinity;

        var error = Assert.Throws<TrainingDivergedException>(() => net.TrainStep(images.Select(_ => 1f).ToArray(), [0, 1], sgd));
        Assert.Equal(2, error.Step);
        Assert.Contains("step 2", error.Message);
    }

    /// <summary>
    /// A step whose loss is not finite throws and leaves the network exactly as it was: weights, running statistics,
    /// batch counts and step count bit for bit, and the dropout stream too, since a twin that never took the step then
    /// trains identically.
    /// </summary>
    [Fact]
    public void ADivergedStepLeavesTheNetworkExactlyAsItWas()
    {
        using var net = new DivergingNet(batchSize: 4, seed: 3, threads: 1);
        using var twin = new DivergingNet(batchSize: 4, seed: 3, threads: 1);
        Sgd sgd = new(0.1f, momentum: 0.9f), twinSgd = new(0.1f, momentum: 0.9f);
        var random = new Random(12);
        float[] first = RandomImages(random, 4 * DivergingNet.InputLength), second = RandomImages(random, first.Length);
        int[] labels = [0, 1, 2, 0];
        net.TrainStep(first, labels, sgd);
        twin.TrainStep(first, labels, twinSgd);

        // An infinite weight in the last layer makes the scores and the loss non-finite while the inputs stay finite,
        // and the batch norms before it see ordinary batches.
        float[] weight = net.Parameters.Single(p => p.Name == "classifier.4.weight").Value;
        float saved = weight[3];
        weight[3] = float.PositiveInfinity;
        net.MarkParametersChanged();
        Dictionary<string, long[]> before = State(net);

        Assert.Throws<TrainingDivergedException>(() => net.TrainStep(second, labels, sgd));

        string changed = Differences(before, State(net));
        Assert.True(changed.Length == 0, "the diverged step changed " + changed);
        Assert.Equal(twinSgd.StepCount, sgd.StepCount);

        weight[3] = saved;
        net.MarkParametersChanged();
        Assert.Equal(twin.TrainStep(second, labels, twinSgd), net.TrainStep(second, labels, sgd));
        string unlike = Differences(State(twin), State(net));
        Assert.True(unlike.Length == 0, "after the diverged step, the network trains unlike its twin: " + unlike);
    }

    private static float[] RandomImages(Random random, int length) => GradientCheck.RandomImages(random, length);

    /// <summary>Every tensor's bits, every batch count and the step count, by name.</summary>
    private static Dictionary<string, long[]> State(CompiledNetwork net)
    {
        Dictionary<string, long[]> state = net.Parameters.ToDictionary(p => p.Name, p => Array.ConvertAll(p.Value, v => (long)BitConverter.SingleToInt32Bits(v)));
        foreach (BatchCounter counter in net.BatchCounters)
        {
            state[counter.Name] = [counter.Count];
        }

        state[nameof(net.StepCount)] = [net.StepCount];
        return state;
    }

    /// <summary>The entries whose values differ, with how many of their elements do; empty when the states are equal.</summary>
    private static string Differences(Dictionary<string, long[]> expected, Dictionary<string, long[]> actual) =>
        string.Join(", ", expected.Where(e => !e.Value.SequenceEqual(actual[e.Key]))
            .Select(e => $"{e.Key} ({e.Value.Zip(actual[e.Key]).Count(pair => pair.First != pair.Second)} of {e.Value.Length})"));

    /// <summary>8x8 images whose left (label 0) or right (label 1) half is brighter, plus noise.</summary>
    private static (float[] Images, int[] Labels) BrightHalf(Random random, int count)
    {
        var images = new float[count * 64];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(2);
            for (int pixel = 0; pixel < 64; pixel++)
            {
                bool bright = (pixel % 8 < 4) == (labels[i] == 0);
                images[(i * 64) + pixel] = (bright ? 1f : 0f) + (float)(random.NextDouble() * 0.5);
            }
        }

        return (images, labels);
    }
}
