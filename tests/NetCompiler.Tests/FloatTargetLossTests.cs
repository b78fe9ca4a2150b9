using System;
using System.Collections.Generic;
using System.Linq;

namespace NetCompiler.Tests;

// The PyTorch twins of the fixture networks are in Fixtures/make_loss_fixtures.py, which made the fixtures.
[Network("1x12x12", Loss = Loss.MeanSquaredError)]
[Conv(4, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Conv(1, 3, Pad = 1)]
public partial class FixtureDepthNet;

// Per-pixel regression through LeakyReLU and Tanh, each fused into the kernel before it, ending in a Tanh.
[Network("2x10x10", Loss = Loss.MeanSquaredError)]
[Conv(4, 3, Pad = 1), LeakyRelu(0.2f)]
[Conv(4, 3, Pad = 1, Bias = false), BatchNorm, Tanh]
[Conv(1, 3, Pad = 1), Tanh]
public partial class FixtureActivatedDepthNet;

[Network("2x6x6", Loss = Loss.L1)]
[Conv(3, 3, Pad = 1), Relu]
[Dense(5)]
public partial class FixtureL1Net;

[Network("2x6x6", Loss = Loss.SmoothL1)]
[Conv(3, 3, Pad = 1), Relu]
[Dense(5)]
public partial class FixtureSmoothL1Net;

[Network("2x6x6", Loss = Loss.BinaryCrossEntropy)]
[Conv(3, 3, Pad = 1), Relu]
[Dense(5)]
public partial class FixtureMultiLabelNet;

// Per-pixel twins for the gradient checks: a 2-channel map, batch norm and a ReLU inside.
[Network("2x6x6", Loss = Loss.L1)]
[Conv(3, 3, Pad = 1), BatchNorm, Relu]
[Conv(2, 3, Pad = 1)]
public partial class PixelL1Net;

[Network("2x6x6", Loss = Loss.SmoothL1)]
[Conv(3, 3, Pad = 1), BatchNorm, Relu]
[Conv(2, 3, Pad = 1)]
public partial class PixelSmoothL1Net;

[Network("2x6x6", Loss = Loss.BinaryCrossEntropy)]
[Conv(3, 3, Pad = 1), BatchNorm, Relu]
[Conv(2, 3, Pad = 1)]
public partial class PixelMultiLabelNet;

[Network("2x6x6", Loss = Loss.MeanSquaredError)]
[Conv(3, 3, Pad = 1), Relu]
[Dense(5)]
public partial class FlatMseNet;

/// <summary>
/// The float-target losses through compiled networks: gradients against finite differences, one SGD step against
/// PyTorch's, and bad targets refused with the network as it was.
/// </summary>
[Collection(Allocations.Alone)]
public sealed class FloatTargetLossTests
{
    private const int BatchSize = 4;

    public static TheoryData<string> Networks => ["depth mse", "flat mse", "flat l1", "pixel l1", "flat smooth_l1", "pixel smooth_l1", "flat bce", "pixel bce"];

    /// <summary>
    /// Every trainable tensor's gradient and d(loss)/d(images) against central differences (GradientCheck: h = 1e-3,
    /// within 2% plus float32's noise floor, as the other network checks). Regression targets spread over +-2 around
    /// scores of about 1, so smooth L1 has errors on both sides of 1; BCE targets are probabilities.
    /// </summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public void GradientsMatchFiniteDifferences(string name)
    {
        using CompiledNetwork net = Create(name, seed: 3);
        var random = new Random(7);
        float[] images = GradientCheck.RandomImages(random, BatchSize * (int)net.InputShape.Elements);
        float[] targets = Targets(net, random, net.Forward(images).Length);
        GradientCheck.Parameters(net, images, targets, random, tolerance: 0.02);
        GradientCheck.Input(net, images, targets, random, tolerance: 0.02);
    }

    /// <summary>
    /// From a PyTorch state_dict, one SGD step (lr 0.1) in training mode gives PyTorch's scores, loss, gradients,
    /// weights, running statistics and batch counts, within TrainingFixtureTests' tolerances: the fixtures are float64
    /// steps rounded to float32, so 1e-4 of each tensor's largest value covers NetCompiler's float32 rounding alone.
    /// </summary>
    [Theory]
    [InlineData("depth_mse")]
    [InlineData("flat_l1")]
    [InlineData("flat_smooth_l1")]
    [InlineData("flat_bce")]
    [InlineData("activated_mse")]
    public void OneSgdStepFromAPyTorchStateGivesPyTorchsStep(string fixture)
    {
        using CompiledNetwork net = fixture switch
        {
            "depth_mse" => new FixtureDepthNet(BatchSize, seed: 1, threads: 2),
            "flat_l1" => new FixtureL1Net(BatchSize, seed: 1, threads: 2),
            "flat_smooth_l1" => new FixtureSmoothL1Net(BatchSize, seed: 1, threads: 2),
            "activated_mse" => new FixtureActivatedDepthNet(BatchSize, seed: 1, threads: 2),
            _ => new FixtureMultiLabelNet(BatchSize, seed: 1, threads: 2),
        };
        net.Load(TrainingFixtureTests.Fixture(fixture + ".safetensors"));
        Dictionary<string, SafeTensor> torch = SafeTensors.Read(TrainingFixtureTests.Fixture(fixture + ".step.safetensors")).Tensors.ToDictionary(t => t.Name);
        Dictionary<string, float[]> before = net.Parameters.ToDictionary(p => p.Name, p => (float[])p.Value.Clone());

        // Evaluation mode first (running statistics, batch norm folded), then the training step from the same state.
        var evaluation = new List<string>();
        TrainingFixtureTests.Compare("evaluation scores", net.Forward(torch["input"].ToFloat32Array()).ToArray(), torch["eval_scores"].ToFloat32Array(), allowed: null, evaluation);
        Assert.True(evaluation.Count == 0, string.Join("\n", evaluation));
        float loss = net.TrainStep(torch["input"].ToFloat32Array(), torch["targets"].ToFloat32Array(), new Sgd(learningRate: 0.1f));

        TrainingFixtureTests.AssertStepMatches(net, torch, before, loss);
    }

    [Fact]
    public void TheLossPropertyNamesTheLossAndWhichTargetsTrainStepTakes()
    {
        using var depth = new FixtureDepthNet(1, threads: 1);
        using var multiLabel = new FixtureMultiLabelNet(1, threads: 1);
        using var classifier = new FixtureResidualNet(1, threads: 1);
        Assert.Equal(Loss.MeanSquaredError, depth.Loss);
        Assert.Equal(Loss.BinaryCrossEntropy, multiLabel.Loss);
        Assert.Equal(Loss.CrossEntropy, classifier.Loss);
        Assert.Equal(144, FixtureDepthNet.OutputLength);
        Assert.Equal(1, FixtureDepthNet.ClassCount);

        // A class-label network refuses float targets, naming its loss.
        var error = Assert.Throws<InvalidOperationException>(() => classifier.TrainStep(new float[FixtureResidualNet.InputLength], new float[3], new Sgd(0.1f)));
        Assert.Contains("Loss.CrossEntropy", error.Message);
    }

    public static TheoryData<string, string> BadTargets => new()
    {
        { "wrong length", "targets has 143 floats, but 1 images need 144" },
        { "NaN", "targets[37] (image 0, element 37) is NaN" },
        { "infinite", "targets[143] (image 0, element 143) is " },
        { "labels", "FixtureDepthNet trains with Loss.MeanSquaredError on float targets, not class labels; call TrainStep(images, targets, optimizer)" },
        { "input gradient labels", "call InputGradient(images, targets) with one float per output element (144 per image)" },
    };

    /// <summary>Each bad call is a clear exception, and the weights, running statistics and counters are as they were.</summary>
    [Theory]
    [MemberData(nameof(BadTargets))]
    public void BadTargetsAreRefusedWithTheNetworkUnchanged(string bad, string message)
    {
        using var net = new FixtureDepthNet(BatchSize, seed: 2, threads: 1);
        var random = new Random(3);
        float[] images = GradientCheck.RandomImages(random, FixtureDepthNet.InputLength);
        float[] targets = Targets(net, random, FixtureDepthNet.OutputLength);
        net.TrainStep(images, targets, new Sgd(0.1f)); // some state to keep
        State before = State.Of(net);
        var sgd = new Sgd(0.1f);

        Exception error = bad switch
        {
            "wrong length" => Assert.Throws<ArgumentException>(() => net.TrainStep(images, targets.AsSpan(1), sgd)),
            "NaN" => Assert.Throws<ArgumentException>(() => net.TrainStep(images, With(targets, 37, float.NaN), sgd)),
            "infinite" => Assert.Throws<ArgumentException>(() => net.InputGradient(images, With(targets, 143, float.NegativeInfinity))),
            "labels" => Assert.Throws<InvalidOperationException>(() => net.TrainStep(images, new int[1], sgd)),
            _ => Assert.Throws<InvalidOperationException>(() => net.InputGradient(images, new int[1])),
        };

        Assert.Contains(message, error.Message);
        if (error is ArgumentException argument)
        {
            Assert.Equal("targets", argument.ParamName);
        }

        before.AssertSame(State.Of(net));
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(-0.25f)]
    public void BinaryCrossEntropyTargetsOutsideZeroToOneAreRefused(float target)
    {
        using var net = new FixtureMultiLabelNet(BatchSize, seed: 2, threads: 1);
        float[] images = GradientCheck.RandomImages(new Random(4), 2 * FixtureMultiLabelNet.InputLength);
        float[] targets = new float[2 * FixtureMultiLabelNet.OutputLength];
        targets[0] = 1f; // the bounds themselves are fine
        targets[7] = target;
        State before = State.Of(net);

        var error = Assert.Throws<ArgumentException>(() => net.TrainStep(images, targets, new Sgd(0.1f)));

        Assert.Contains(FormattableString.Invariant($"targets[7] (image 1, element 2) is {target}"), error.Message);
        Assert.Contains("[0, 1]", error.Message);
        before.AssertSame(State.Of(net));
        targets[7] = 0f;
        Assert.True(float.IsFinite(net.TrainStep(images, targets, new Sgd(0.1f))));
    }

    private static CompiledNetwork Create(string name, int seed) => name switch
    {
        "depth mse" => new FixtureDepthNet(BatchSize, seed, threads: 1),
        "flat mse" => new FlatMseNet(BatchSize, seed, threads: 1),
        "flat l1" => new FixtureL1Net(BatchSize, seed, threads: 1),
        "pixel l1" => new PixelL1Net(BatchSize, seed, threads: 1),
        "flat smooth_l1" => new FixtureSmoothL1Net(BatchSize, seed, threads: 1),
        "pixel smooth_l1" => new PixelSmoothL1Net(BatchSize, seed, threads: 1),
        "flat bce" => new FixtureMultiLabelNet(BatchSize, seed, threads: 1),
        "pixel bce" => new PixelMultiLabelNet(BatchSize, seed, threads: 1),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    private static float[] Targets(CompiledNetwork net, Random random, int length) => net.Loss == Loss.BinaryCrossEntropy
        ? Enumerable.Range(0, length).Select(i => i % 3 == 0 ? random.Next(2) : (float)random.NextDouble()).ToArray()
        : Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();

    private static float[] With(float[] values, int index, float value)
    {
        float[] copy = (float[])values.Clone();
        copy[index] = value;
        return copy;
    }

    /// <summary>What a training step keeps: every tensor's values (running statistics included), the batch counts, the step count.</summary>
    private sealed record State(float[][] Values, long[] Counters, long Steps)
    {
        public static State Of(CompiledNetwork net) => new(
            net.Parameters.Select(p => (float[])p.Value.Clone()).ToArray(), net.BatchCounters.Select(c => c.Count).ToArray(), net.StepCount);

        public void AssertSame(State after)
        {
            Assert.Equal(Steps, after.Steps);
            Assert.Equal(Counters, after.Counters);
            for (int i = 0; i < Values.Length; i++)
            {
                Assert.Equal(Values[i], after.Values[i]);
            }
        }
    }
}
