using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace NetCompiler.Tests;

// The PyTorch twins of these networks are in Fixtures/make_fixtures.py, which made the fixtures. The dense layer reads
// the whole image (no pooling), so a shifted or flipped map shows in the scores.
[Network("2x8x8")]
[Conv(4, 3, Pad = 1), Relu]
[Residual(Steps = 2, H = 0.5f)]
[Dense(3)]
public partial class FixtureResidualNet;

[Network("2x8x8")]
[Conv(4, 3, Pad = 1), Relu]
[Residual(Steps = 2, H = 0.3f, Symmetric = true)]
[Dense(3)]
public partial class FixtureSymmetricNet;

[Network("2x8x8")]
[Conv(4, 3, Pad = 1), Relu]
[Imex(Steps = 2, H = 0.5f)]
[Dense(3)]
public partial class FixtureImexNet;

[Network("2x8x8")]
[Conv(4, 3, Pad = 1), Relu]
[Imex(Steps = 1, H = 2f, Groups = 2, ReleasedVariant = true, ImplicitKernel = 5)]
[Dense(3)]
public partial class FixtureReleasedImexNet;

// Fixtures/make_activation_fixtures.py: every activation past ReLU, fused in training (LeakyReLU after a convolution,
// ELU after a batch norm, tanh, sigmoid after a dense layer, ReLU6 after a BatchNorm1d) or not (SiLU, fused in inference).
[Network("2x8x8")]
[Conv(4, 3, Pad = 1), LeakyRelu(0.1f)]
[Conv(4, 3, Pad = 1, Bias = false), BatchNorm, Elu(0.5f)]
[Conv(6, 3, Stride = 2, Pad = 1), Silu]
[Conv(6, 3, Pad = 1), Tanh]
[Dense(10), Sigmoid]
[Dense(8, Bias = false), BatchNorm, Relu6]
[Dense(3)]
public partial class FixtureActivationNet;

/// <summary>
/// Residual, IMEX and activation networks against independent PyTorch twins: from a PyTorch state_dict, one SGD step in training
/// mode gives PyTorch's scores, loss, gradients, weights, running statistics and batch counts (and, where the fixture
/// has them, Forward gives its evaluation-mode scores first).
/// </summary>
public sealed class TrainingFixtureTests
{
    private const int BatchSize = 4;

    /// <summary>
    /// Relative to each tensor's largest reference value. The fixtures are float64 steps rounded to float32, so this
    /// covers NetCompiler's float32 rounding alone, in another summation order: ~6e-8 per operation over sums of a few
    /// hundred terms, batch norm's cancellations and the FFT solves; measured at most 6e-7 (scores) and 3e-7
    /// (gradients). A misplaced or transposed kernel, a wrong boundary, a missing term or a biased running variance
    /// moves a tensor by far more.
    /// </summary>
    private const double Tolerance = 1e-4;

    /// <summary>
    /// The part of an updated value that is float32 storage, relative to the tensor's largest value: NetCompiler's
    /// w - lr * g and the fixture's value are each rounded to float32 (2^-24 relative at most).
    /// </summary>
    internal const double Storage = 2.5e-7;

    [Theory]
    [InlineData("residual")]
    [InlineData("symmetric")]
    [InlineData("imex")]
    [InlineData("released")]
    [InlineData("activations")]
    public void OneSgdStepFromAPyTorchStateGivesPyTorchsStep(string name)
    {
        using CompiledNetwork net = Create(name);
        net.Load(Fixture(name + ".safetensors"));
        Dictionary<string, SafeTensor> torch = SafeTensors.Read(Fixture(name + ".step.safetensors")).Tensors.ToDictionary(t => t.Name);
        Dictionary<string, float[]> before = net.Parameters.ToDictionary(p => p.Name, p => (float[])p.Value.Clone());
        int[] labels = Array.ConvertAll(torch["labels"].ToInt64Array(), label => (int)label);
        if (torch.TryGetValue("eval_scores", out SafeTensor? evaluation))
        {
            var evaluationFailures = new List<string>();
            Compare("evaluation scores", net.Forward(torch["input"].ToFloat32Array()).ToArray(), evaluation.ToFloat32Array(), allowed: null, evaluationFailures);
            Assert.True(evaluationFailures.Count == 0, string.Join("\n", evaluationFailures));
        }

        float loss = net.TrainStep(torch["input"].ToFloat32Array(), labels, new Sgd(learningRate: 0.1f));

        AssertStepMatches(net, torch, before, loss);
    }

    /// <summary>
    /// The step NetCompiler took against PyTorch's: scores, loss, each gradient, each tensor after the update (measured
    /// against how far the step moved it) and the batch counts; fails naming every tensor that is off.
    /// </summary>
    internal static void AssertStepMatches(CompiledNetwork net, Dictionary<string, SafeTensor> torch, Dictionary<string, float[]> before, float loss)
    {
        var failures = new List<string>();
        Compare("scores", net.LastScores.ToArray(), torch["scores"].ToFloat32Array(), allowed: null, failures);
        Compare("loss", [loss], torch["loss"].ToFloat32Array(), allowed: null, failures);
        foreach (Parameter parameter in net.Parameters)
        {
            if (parameter.Trainable)
            {
                Compare(parameter.Name + " gradient", parameter.Gradient, torch["grad." + parameter.Name].ToFloat32Array(), allowed: null, failures);
            }

            // Measured against how far the step moved the tensor, not its size, so a small wrong update shows.
            float[] expected = torch["after." + parameter.Name].ToFloat32Array();
            double moved = expected.Zip(before[parameter.Name], (e, b) => Math.Abs((double)e - b)).Max();
            Compare(parameter.Name, parameter.Value, expected, (Tolerance * moved) + (Storage * expected.Max(Math.Abs)), failures);
        }

        foreach (BatchCounter counter in net.BatchCounters)
        {
            long expected = torch["after." + counter.Name].ToInt64Array().Single();
            if (counter.Count != expected)
            {
                failures.Add($"{counter.Name}: {counter.Count}, PyTorch {expected}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        string[] stateKeys = [.. net.Parameters.Select(p => "after." + p.Name), .. net.BatchCounters.Select(c => "after." + c.Name)];
        Assert.Equal(torch.Keys.Where(k => k.StartsWith("after.", StringComparison.Ordinal)).Order(StringComparer.Ordinal), stateKeys.Order(StringComparer.Ordinal));
    }

    private static CompiledNetwork Create(string name) => name switch
    {
        "residual" => new FixtureResidualNet(BatchSize, seed: 1, threads: 2),
        "symmetric" => new FixtureSymmetricNet(BatchSize, seed: 1, threads: 2),
        "imex" => new FixtureImexNet(BatchSize, seed: 1, threads: 2),
        "released" => new FixtureReleasedImexNet(BatchSize, seed: 1, threads: 2),
        "activations" => new FixtureActivationNet(BatchSize, seed: 1, threads: 2),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    internal static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", file);

    /// <summary>
    /// Adds a failure naming the worst element when max |actual - expected| exceeds <paramref name="allowed"/>, by
    /// default <see cref="Tolerance"/> times the largest |expected|, which must not be zero (that would prove nothing).
    /// </summary>
    internal static void Compare(string what, float[] actual, float[] expected, double? allowed, List<string> failures)
    {
        Assert.Equal(expected.Length, actual.Length);
        double largest = expected.Max(Math.Abs), limit = allowed ?? (Tolerance * largest);
        int worst = Enumerable.Range(0, expected.Length).MaxBy(i => Math.Abs((double)actual[i] - expected[i]));
        double difference = Math.Abs((double)actual[worst] - expected[worst]);
        if (allowed is null && largest == 0)
        {
            failures.Add($"{what}: PyTorch's values are all zero, so the comparison would prove nothing");
        }
        else if (!(difference <= limit))
        {
            failures.Add($"{what}: [{worst}] is {actual[worst]}, PyTorch {expected[worst]}; max |difference| {difference:G3} > {limit:G3} (max |PyTorch| {largest:G3})");
        }
    }
}
