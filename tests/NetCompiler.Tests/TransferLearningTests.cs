using System;
using System.IO;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

// One body, two heads: a checkpoint of the first loads into the second, the head left out.
[Network("1x8x8")]
[Conv(4, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(10)]
public partial class TransferNet10;

[Network("1x8x8")]
[Conv(4, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(5)]
public partial class TransferNet5;

/// <summary>Freezing, per-parameter optimiser state, and partial, renamed and strict checkpoint loads.</summary>
public sealed class TransferLearningTests : IDisposable
{
    private const int BatchSize = 4;

    private readonly string _directory = Directory.CreateTempSubdirectory("netcompiler-transfer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ATenClassCheckpointLoadsIntoAFiveClassNetworkKeepingItsHead()
    {
        using var source = new TransferNet10(BatchSize, seed: 1, threads: 1);
        Train(source, steps: 2, classes: 10); // moved running statistics and batch counters too
        string path = Path.Combine(_directory, "ten.safetensors");
        source.Save(path);
        using var target = new TransferNet5(BatchSize, seed: 2, threads: 1);
        float[][] headBefore = [.. Head(target).Select(p => (float[])p.Value.Clone())];
        long version = target.ParameterVersion;

        LoadResult result = target.Load(path, strict: false);

        string[] head = [.. Head(target).Select(p => p.Name)];
        Assert.Equal(head, result.Mismatched);
        Assert.Empty(result.Missing);
        Assert.Empty(result.Unexpected);
        Assert.False(result.Exact);
        foreach (Parameter parameter in target.Parameters.Where(p => !head.Contains(p.Name)))
        {
            Assert.Equal(source.Parameters.Single(p => p.Name == parameter.Name).Value, parameter.Value);
        }

        Assert.Equal(headBefore, Head(target).Select(p => p.Value));
        Assert.Equal(source.BatchCounters.Select(c => c.Count), target.BatchCounters.Select(c => c.Count));
        Assert.True(target.ParameterVersion > version);
    }

    [Fact]
    public void RenamedKeysLoadAndDroppedOnesAreNeitherLoadedNorUnexpected()
    {
        using var source = new TransferNet10(BatchSize, seed: 1, threads: 1);
        string path = Path.Combine(_directory, "module.safetensors");
        // DistributedDataParallel's "module." prefix, plus an entry no network has.
        using (var saved = new MemoryStream())
        {
            source.Save(saved);
            saved.Position = 0;
            var (_, tensors) = SafeTensors.Read(saved, "saved");
            using var file = File.Create(path);
            SafeTensors.Write(file, [.. tensors.Select(t => new SafeTensor("module." + t.Name, t.DType, t.Shape, t.Data)), SafeTensor.Int64("epoch", [], [7])]);
        }

        using var target = new TransferNet10(BatchSize, seed: 2, threads: 1);
        LoadResult result = target.Load(path, strict: true, rename: key => key.StartsWith("module.", StringComparison.Ordinal) ? key["module.".Length..] : null);

        Assert.True(result.Exact);
        Assert.Equal(source.Parameters.Select(p => p.Value), target.Parameters.Select(p => p.Value));

        // Without the renaming every key is unexpected and every tensor missing.
        using var untouched = new TransferNet10(BatchSize, seed: 2, threads: 1);
        LoadResult unrenamed = untouched.Load(path, strict: false);
        Assert.Equal(source.Parameters.Count + source.BatchCounters.Count + 1, unrenamed.Unexpected.Count);
        Assert.Equal(untouched.Parameters.Count + untouched.BatchCounters.Count, unrenamed.Missing.Count);
        Assert.Equal(new TransferNet10(BatchSize, seed: 2, threads: 1).Parameters.Select(p => p.Value), untouched.Parameters.Select(p => p.Value));
    }

    [Fact]
    public void AStrictLoadThatDoesNotFitListsTheProblemsAndChangesNothing()
    {
        using var source = new TransferNet10(BatchSize, seed: 1, threads: 1);
        string path = Path.Combine(_directory, "ten.safetensors");
        source.Save(path);
        using var target = new TransferNet5(BatchSize, seed: 2, threads: 1);
        float[][] before = [.. target.Parameters.Select(p => (float[])p.Value.Clone())];
        long version = target.ParameterVersion;

        var error = Assert.Throws<CheckpointException>(() => target.Load(path, strict: true));

        string[] head = [.. Head(target).Select(p => p.Name)];
        Assert.Equal(head[0], error.TensorName);
        Assert.Contains("has shape [10, 64] in the file, but the network's is [5, 64]", error.Message);
        Assert.Contains($"2 mismatched ({head[0]}, {head[1]})", error.Message);
        Assert.Equal(before, target.Parameters.Select(p => p.Value));
        Assert.Equal(version, target.ParameterVersion);
    }

    [Fact]
    public void ACorruptFileFailsANonStrictLoadTooAndChangesNothing()
    {
        using var source = new TransferNet10(BatchSize, seed: 1, threads: 1);
        string path = Path.Combine(_directory, "truncated.safetensors");
        source.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        using var target = new TransferNet5(BatchSize, seed: 2, threads: 1);
        float[][] before = [.. target.Parameters.Select(p => (float[])p.Value.Clone())];

        var error = Assert.Throws<CheckpointException>(() => target.Load(path, strict: false));

        Assert.Contains("truncated", error.Message);
        Assert.Equal(before, target.Parameters.Select(p => p.Value));
    }

    [Fact]
    public void TwoKeysRenamedToOneNameAreAnError()
    {
        using var source = new TransferNet10(BatchSize, seed: 1, threads: 1);
        string path = Path.Combine(_directory, "ten.safetensors");
        source.Save(path);
        var error = Assert.Throws<CheckpointException>(() => source.Load(path, strict: false, rename: key => key.EndsWith("bias", StringComparison.Ordinal) ? "x" : key));
        Assert.Contains("is renamed to 'x', as is", error.Message);
    }

    [Fact]
    public void FrozenLayersKeepTheirWeightsButGetGradientsAndRunningStatistics()
    {
        using var net = new TransferNet10(BatchSize, seed: 3, threads: 1);
        Assert.Equal(4, net.Freeze("features.")); // conv weight and bias, batch norm weight and bias
        float[][] before = [.. net.Parameters.Select(p => (float[])p.Value.Clone())];

        Train(net, steps: 2, classes: 10, new Adam(1e-2f));

        foreach ((Parameter parameter, float[] old) in net.Parameters.Zip(before))
        {
            bool moved = !parameter.Value.SequenceEqual(old);
            bool body = parameter.Name.StartsWith("features.", StringComparison.Ordinal);
            // Running statistics of a frozen batch norm still move in training mode, as in PyTorch.
            Assert.True(moved == (!body || !parameter.Trainable), $"{parameter.Name} moved: {moved}");
            Assert.True(!parameter.Trainable || parameter.Gradient.Any(g => g != 0), $"{parameter.Name} has no gradient");
        }

        Assert.Equal(4, net.Unfreeze("features."));
        float[] conv = (float[])net.Parameters[0].Value.Clone();
        Train(net, steps: 1, classes: 10, new Adam(1e-2f));
        Assert.NotEqual(conv, net.Parameters[0].Value);
    }

    [Fact]
    public void APrefixMatchingNoTrainableTensorIsAnErrorNamingSome()
    {
        using var net = new TransferNet10(BatchSize, seed: 3, threads: 1);
        var error = Assert.Throws<ArgumentException>(() => net.Freeze("backbone."));
        Assert.Equal("prefix", error.ParamName);
        Assert.Contains("'backbone.'", error.Message);
        Assert.Contains("features.0.weight", error.Message);
        Assert.Throws<ArgumentException>(() => net.Freeze("features.1.running_mean"));
        Assert.Throws<InvalidOperationException>(() => net.Parameters.Single(p => p.Name == "features.1.running_mean").Frozen = true);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void AParameterFirstSteppedAfterUnfreezingStartsItsOwnBiasCorrection(string kind)
    {
        // Adam's first step of a parameter moves each weight by lr * sign(g) (m_hat = g, sqrt(v_hat) = |g|): with the
        // optimiser's step count (4) instead of the parameter's (1), m_hat would be 0.29 g, sqrt(v_hat) 0.50 |g| and the move 0.58 lr.
        const float LearningRate = 1e-3f;
        Optimizer optimizer = kind == "adam" ? new Adam(LearningRate) : new AdamW(LearningRate, weightDecay: 0f);
        var stepped = new Parameter("a", [20], trainable: true);
        var late = new Parameter("b", [20], trainable: true) { Frozen = true };
        var random = new Random(6);
        for (int step = 1; step <= 4; step++)
        {
            foreach (Parameter parameter in new[] { stepped, late })
            {
                for (int i = 0; i < parameter.Length; i++)
                {
                    parameter.Gradient[i] = (float)(random.NextDouble() + 0.5) * (i % 2 == 0 ? 1 : -1);
                }
            }

            late.Frozen = step < 4;
            float[] before = (float[])late.Value.Clone();
            optimizer.Step([stepped, late]);
            for (int i = 0; i < late.Length; i++)
            {
                float expected = step < 4 ? 0f : -LearningRate * Math.Sign(late.Gradient[i]);
                // A first step moves by lr * g / (|g| + eps): lr within eps / |g| < 1e-7.
                Assert.True(Math.Abs(late.Value[i] - before[i] - expected) <= LearningRate * 1e-4, $"step {step}, b[{i}] moved {late.Value[i] - before[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void ClippingMeasuresOnlyTheGradientsTheOptimiserApplies()
    {
        var applied = new Parameter("a", [3], trainable: true);
        var frozen = new Parameter("b", [2], trainable: true) { Frozen = true };
        applied.Gradient.AsSpan().Fill(2f);   // norm sqrt(12)
        frozen.Gradient.AsSpan().Fill(100f);
        var sgd = new Sgd(1f) { MaxGradientNorm = 1f };

        sgd.Step([applied, frozen]);

        Assert.Equal(Math.Sqrt(12), sgd.LastGradientNorm!.Value, 1e-12);
        double scale = 1 / (Math.Sqrt(12) + 1e-6); // clip_grad_norm_'s coefficient
        Assert.All(applied.Value, v => Assert.Equal(-2 * scale, v, 1e-6));
        Assert.All(frozen.Value, v => Assert.Equal(0f, v));
        Assert.All(frozen.Gradient, g => Assert.Equal(100f, g));
    }

    private static Parameter[] Head(CompiledNetwork net) => [.. net.Parameters.Where(p => !p.Name.StartsWith("features.", StringComparison.Ordinal))];

    private static void Train(CompiledNetwork net, int steps, int classes, Optimizer? optimizer = null)
    {
        optimizer ??= new Sgd(0.1f, momentum: 0.9f);
        var random = new Random(9);
        float[] images = [.. Enumerable.Range(0, BatchSize * 64).Select(_ => (float)random.NextDouble())];
        int[] labels = [.. Enumerable.Range(0, BatchSize).Select(i => i % classes)];
        for (int step = 0; step < steps; step++)
        {
            net.TrainStep(images, labels, optimizer);
        }
    }
}
