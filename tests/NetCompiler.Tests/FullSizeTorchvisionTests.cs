using System;
using System.Collections.Generic;
using System.Linq;

namespace NetCompiler.Tests;

// torchvision's resnet18 at 3x64x64 and googlenet at 3x80x80: the attribute lines of ResNet18 (ResNetTests.cs) and
// GoogLeNet (InceptionTests.cs) with a smaller input, which the layer-table test below holds them to. GoogLeNet's
// dropout is at p = 0 here and in the fixture's torchvision model; make_fullsize_fixtures.py says why, and why 80x80.
[Network("3x64x64")]
[Conv(64, 7, Stride = 2, Pad = 3, Bias = false, Name = "conv1"), BatchNorm(Name = "bn1"), Relu(Name = "relu"), MaxPool(3, Stride = 2, Pad = 1, Name = "maxpool")]
[BasicBlock(64, Blocks = 2, Name = "layer1"), BasicBlock(128, Blocks = 2, Stride = 2, Name = "layer2")]
[BasicBlock(256, Blocks = 2, Stride = 2, Name = "layer3"), BasicBlock(512, Blocks = 2, Stride = 2, Name = "layer4")]
[GlobalAvgPool(Name = "avgpool"), Dense(1000, Name = "fc")]
public partial class ResNet18At64;

[Network("3x80x80")]
[Conv(64, 7, Stride = 2, Pad = 3, Bias = false, Name = "conv1.conv"), BatchNorm(Eps = 0.001f, Name = "conv1.bn"), Relu, MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool1")]
[Conv(64, 1, Bias = false, Name = "conv2.conv"), BatchNorm(Eps = 0.001f, Name = "conv2.bn"), Relu]
[Conv(192, 3, Pad = 1, Bias = false, Name = "conv3.conv"), BatchNorm(Eps = 0.001f, Name = "conv3.bn"), Relu, MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool2")]
[Inception(64, 96, 128, 16, 32, 32, Name = "inception3a"), Inception(128, 128, 192, 32, 96, 64, Name = "inception3b"), MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool3")]
[Inception(192, 96, 208, 16, 48, 64, Name = "inception4a"), Inception(160, 112, 224, 24, 64, 64, Name = "inception4b"), Inception(128, 128, 256, 24, 64, 64, Name = "inception4c")]
[Inception(112, 144, 288, 32, 64, 64, Name = "inception4d"), Inception(256, 160, 320, 32, 128, 128, Name = "inception4e"), MaxPool(2, Stride = 2, CeilMode = true, Name = "maxpool4")]
[Inception(256, 160, 320, 32, 128, 128, Name = "inception5a"), Inception(384, 192, 384, 48, 128, 128, Name = "inception5b")]
[GlobalAvgPool(Name = "avgpool"), Dropout(0f, Name = "dropout"), Dense(1000, Name = "fc")]
public partial class GoogLeNetAt80;

/// <summary>
/// torchvision's own full-size resnet18 and googlenet (1000 classes) against NetCompiler's at 64x64 and 80x80, batch 2: eval
/// scores and one SGD step, every tensor checked. Their state_dicts (45 and 26 MB) stay out of the repository: both
/// sides draw the same weights from a counter-based generator (<see cref="WriteGeneratedWeights"/>, the fixture
/// script's generated_state), so the fixtures hold only the input, the results and a sampled step.
/// </summary>
public sealed class FullSizeTorchvisionTests
{
    private const int BatchSize = 2;

    /// <summary>Elements of a tensor whose step the fixture holds (all of a smaller one); make_fullsize_fixtures.py's SAMPLES.</summary>
    private const int Samples = 32;

    /// <summary>The counter's top bit: set for the sampled indices' draws, clear for the weights'.</summary>
    private const ulong SampleStream = 1UL << 63;

    /// <summary>
    /// The "one SGD step matches within 1e-3 of the step": each sampled entry of after - before within 1e-3 of
    /// the tensor's largest |step| (PyTorch's, over the whole tensor), and each tensor's step norm within 1e-3 of
    /// PyTorch's. The reference is float64; this covers NetCompiler's float32 forward and backward through 20 (ResNet)
    /// or 57 (GoogLeNet) batch norms in training mode over as few as 8 (ResNet) or 18 values per channel: measured at
    /// most 1e-5 (ResNet) and 1e-4 (GoogLeNet) of the step, where the fixture script's conditioning check bounds the
    /// float64 step's own sensitivity to float32-sized input changes at 1e-4. A lost shortcut, branch or fan-out sum,
    /// or a misplaced running statistic, moves a tensor's step by far more.
    /// </summary>
    private const double StepTolerance = 1e-3;

    public static TheoryData<string> Networks => new() { "resnet18", "googlenet" };

    [Fact]
    public void DeclarationsAreTheFullSizeOnesAtAnotherInput()
    {
        Assert.Equal(11_689_512, ResNet18At64.Summary.ParameterCount);
        Assert.Equal(6_624_904, GoogLeNetAt80.Summary.ParameterCount);
        Assert.Equal(Layers(ResNet18.Summary), Layers(ResNet18At64.Summary));
        Assert.Equal(Layers(GoogLeNet.Summary), Layers(GoogLeNetAt80.Summary));
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void TorchvisionsEvalScoresFromGeneratedWeights(string name)
    {
        Dictionary<string, SafeTensor> torch = ReadFixture(name);
        using CompiledNetwork net = Create(name);
        WriteGeneratedWeights(net);
        var failures = new List<string>();
        foreach (bool folded in new[] { true, false })
        {
            net.FoldBatchNorm = folded;
            // Within 1e-4 of the largest |score| (Compare's default), as the narrow twins' eval scores.
            TrainingFixtureTests.Compare($"eval scores, folded={folded}", net.Forward(torch["input"].ToFloat32Array()).ToArray(), torch["eval_scores"].ToFloat32Array(), allowed: null, failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void OneSgdStepFromGeneratedWeightsGivesTorchvisionsStep(string name)
    {
        Dictionary<string, SafeTensor> torch = ReadFixture(name);
        using CompiledNetwork net = Create(name);
        List<string> keys = WriteGeneratedWeights(net);
        Dictionary<string, float[]> before = net.Parameters.ToDictionary(p => p.Name, p => (float[])p.Value.Clone());
        int[] labels = Array.ConvertAll(torch["labels"].ToInt64Array(), label => (int)label);

        float loss = net.TrainStep(torch["input"].ToFloat32Array(), labels, new Sgd(learningRate: 0.1f));

        var failures = new List<string>();
        TrainingFixtureTests.Compare("scores", net.LastScores.ToArray(), torch["scores"].ToFloat32Array(), allowed: null, failures);
        TrainingFixtureTests.Compare("loss", [loss], torch["loss"].ToFloat32Array(), allowed: null, failures);
        foreach (Parameter parameter in net.Parameters)
        {
            CompareStep(keys.IndexOf(parameter.Name), parameter, before[parameter.Name], torch, failures);
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
        Assert.Equal(net.Parameters.Select(p => "step." + p.Name).Order(StringComparer.Ordinal), torch.Keys.Where(k => k.StartsWith("step.", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(net.BatchCounters.Select(c => "after." + c.Name).Order(StringComparer.Ordinal), torch.Keys.Where(k => k.StartsWith("after.", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// One tensor's step (weights by the optimiser, running statistics by the forward pass) against PyTorch's: the norm
    /// of after - before and its sampled entries. Each allowance adds the float32 storage of NetCompiler's updated
    /// values (<see cref="TrainingFixtureTests.Storage"/> of their largest |value|, or of their norm).
    /// </summary>
    private static void CompareStep(int tensorIndex, Parameter parameter, float[] before, Dictionary<string, SafeTensor> torch, List<string> failures)
    {
        double[] step = [.. parameter.Value.Select((after, i) => (double)after - before[i])];
        double norm = Math.Sqrt(step.Sum(s => s * s)), valueNorm = Math.Sqrt(parameter.Value.Sum(v => (double)v * v));
        double expectedNorm = torch["norm." + parameter.Name].ToFloat32Array().Single();
        double largestStep = torch["max." + parameter.Name].ToFloat32Array().Single();
        if (expectedNorm == 0)
        {
            failures.Add($"{parameter.Name}: PyTorch's step is zero, so the comparison would prove nothing");
        }
        else if (!(Math.Abs(norm - expectedNorm) <= (StepTolerance * expectedNorm) + (TrainingFixtureTests.Storage * valueNorm)))
        {
            failures.Add($"{parameter.Name}: step norm {norm:G6}, PyTorch {expectedNorm:G6}");
        }

        float[] sampled = [.. SampleIndices(tensorIndex, parameter.Length).Select(i => (float)step[i])];
        double allowed = (StepTolerance * largestStep) + (TrainingFixtureTests.Storage * parameter.Value.Max(Math.Abs));
        TrainingFixtureTests.Compare(parameter.Name + " step", sampled, torch["step." + parameter.Name].ToFloat32Array(), allowed, failures);
    }

    /// <summary>
    /// Writes make_fullsize_fixtures.py's weights into the network: element i of state_dict tensor t (in state_dict
    /// order, num_batches_tracked included) is float32(low + width * u), u the top 24 bits of SplitMix64(t * 2^32 + i)
    /// over 2^24, with the script's range per kind of tensor. Returns the state_dict keys in order.
    /// </summary>
    private static List<string> WriteGeneratedWeights(CompiledNetwork net)
    {
        List<string> keys = ResNetTests.StateDictKeys(net);
        Dictionary<string, Parameter> parameters = net.Parameters.ToDictionary(p => p.Name);
        Dictionary<string, BatchCounter> counters = net.BatchCounters.ToDictionary(c => c.Name);
        for (int t = 0; t < keys.Count; t++)
        {
            if (counters.TryGetValue(keys[t], out BatchCounter? counter))
            {
                counter.Count = 1 + (long)(Draw(t, 0) >> 40) % 10_000;
                continue;
            }

            Parameter parameter = parameters[keys[t]];
            (double low, double width) = ValueRange(parameter);
            for (int i = 0; i < parameter.Length; i++)
            {
                parameter.Value[i] = (float)(low + (width * ((Draw(t, i) >> 40) / (double)(1 << 24))));
            }
        }

        net.MarkParametersChanged();
        return keys;
    }

    /// <summary>The script's value_range: low and width of a tensor's uniform, both float32 numbers.</summary>
    private static (double Low, double Width) ValueRange(Parameter parameter)
    {
        if (parameter.Shape.Length > 1)
        {
            double bound = (float)Math.Sqrt(6.0 / (parameter.Length / parameter.Shape[0])); // He uniform over the fan-in
            return (-bound, 2 * bound);
        }

        return parameter.Name switch
        {
            _ when parameter.Name.StartsWith("fc.", StringComparison.Ordinal) => (-(double)0.1f, 0.2f),
            _ when parameter.Name.EndsWith("running_var", StringComparison.Ordinal) => (0.5, 1.5),
            _ when parameter.Name.EndsWith(".weight", StringComparison.Ordinal) => (0.5, 1.0),
            _ => (-0.5, 1.0), // batch norm bias, running mean
        };
    }

    /// <summary>The script's sample_indices: every element of a small tensor, else SAMPLES drawn ones.</summary>
    private static IEnumerable<int> SampleIndices(int tensorIndex, int length) => length <= Samples
        ? Enumerable.Range(0, length)
        : Enumerable.Range(0, Samples).Select(j => (int)(Draw(tensorIndex, j, SampleStream) % (ulong)length));

    private static ulong Draw(int tensorIndex, int element, ulong stream = 0)
    {
        ulong state = stream + ((ulong)tensorIndex << 32) + (ulong)element;
        return SeededRandom.SplitMix(ref state);
    }

    private static CompiledNetwork Create(string name) => name switch
    {
        "resnet18" => new ResNet18At64(BatchSize, seed: 1, threads: 2),
        "googlenet" => new GoogLeNetAt80(BatchSize, seed: 1, threads: 2),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    private static Dictionary<string, SafeTensor> ReadFixture(string name) =>
        SafeTensors.Read(TrainingFixtureTests.Fixture(name + "_fullsize.step.safetensors")).Tensors.ToDictionary(t => t.Name);

    /// <summary>Each layer's name, parameters and kind, dropout's probability left out (p = 0 at 64x64).</summary>
    private static IEnumerable<(string, long, string)> Layers(NetworkSummary summary) =>
        summary.Layers.Select(l => (l.Name, l.Parameters, l.Kind.StartsWith("Dropout", StringComparison.Ordinal) ? "Dropout" : l.Kind));
}
