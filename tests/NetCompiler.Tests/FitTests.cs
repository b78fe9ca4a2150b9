using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using NetCompiler;

namespace NetCompiler.Tests;

[Network("1x8x8")]
[Conv(4, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(3)]
public partial class FitNet;

[Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
[Conv(4, 3, Pad = 1), Relu, Conv(3, 1)]
public partial class FitSegmenter;

/// <summary>
/// Fit against hand-written loops of TrainStep: cancellation, augmentation, schedules, progress, validation figures,
/// early stopping and best checkpoints. Every weight comparison is bitwise: Fit must take exactly the steps a
/// hand-written loop takes (same batches, same order, same augmentation draws), and one kernel thread makes every
/// step deterministic.
/// </summary>
[Collection(Allocations.Alone)]
public sealed class FitTests : IDisposable
{
    private const int Batch = 8;
    private const int Seed = 5;
    private readonly string _directory = Directory.CreateTempSubdirectory("netcompiler-fit-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>40 images (5 batches of 8) whose class is the quadrant holding the brightest pixel, mod 3: learnable, not trivial.</summary>
    private static DataSet Images(int count, int seed)
    {
        var random = new Random(seed);
        var images = new float[count * 64];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            Span<float> image = images.AsSpan(i * 64, 64);
            for (int p = 0; p < 64; p++)
            {
                image[p] = (float)random.NextDouble();
            }

            int brightest = random.Next(64);
            image[brightest] = 3f;
            labels[i] = ((brightest / 32 * 2) + (brightest % 8 / 4)) % 3;
        }

        return new DataSet(images, labels, TensorShape.Image(1, 8, 8), classCount: 3);
    }

    /// <summary>Mirrors each image left to right with probability 1/2, drawing one number per image.</summary>
    private static void Mirror(TrainingBatch batch, Random random)
    {
        for (int image = 0; image < batch.Count; image++)
        {
            if (random.Next(2) == 0)
            {
                for (int row = 0; row < 8; row++)
                {
                    batch.Images.Slice((image * 64) + (row * 8), 8).Reverse();
                }
            }
        }
    }

    /// <summary>The reference: <paramref name="steps"/> TrainSteps over the same shuffled batches, mirrored as Fit does with the same generator.</summary>
    private static FitNet TrainByHand(DataSet train, int steps, Func<int, int, float>? learningRate = null)
    {
        var net = new FitNet(Batch, seed: 1, threads: 1);
        var adam = new Adam(1e-2f);
        MiniBatches batches = train.Batches(Batch, shuffle: true, seed: Seed);
        var images = new float[Batch * 64];
        var labels = new int[Batch];
        var random = new Random(Seed);
        for (int step = 0; step < steps;)
        {
            int n = batches.Next(images, labels);
            if (n == 0)
            {
                continue; // the epoch's end; the next call starts the next epoch
            }

            Mirror(new TrainingBatch(images.AsSpan(0, n * 64), labels.AsSpan(0, n), [], n, train.ImageShape), random);
            adam.LearningRate = learningRate?.Invoke(step / batches.BatchesPerEpoch, step % batches.BatchesPerEpoch) ?? adam.LearningRate;
            net.TrainStep(images.AsSpan(0, n * 64), labels.AsSpan(0, n), adam);
            step++;
        }

        return net;
    }

    private static void AssertSameState(CompiledNetwork expected, CompiledNetwork actual)
    {
        Assert.Equal(expected.StepCount, actual.StepCount);
        for (int i = 0; i < expected.Parameters.Count; i++)
        {
            Assert.True(expected.Parameters[i].Value.AsSpan().SequenceEqual(actual.Parameters[i].Value), $"{expected.Parameters[i].Name} differs");
        }

        Assert.Equal(expected.BatchCounters.Select(c => c.Count), actual.BatchCounters.Select(c => c.Count));
    }

    private static FitOptions Options(IProgress<TrainingProgress>? progress = null) => new()
    {
        Seed = Seed,
        Augmentation = Mirror,
        Progress = progress,
    };

    [Fact]
    public void CancellationMidEpochLeavesExactlyTheWeightsOfTheStepsTaken()
    {
        const int StepsBeforeCancel = 7; // the third step of the second epoch (5 batches an epoch)
        DataSet train = Images(40, seed: 1);
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        using var cancel = new CancellationTokenSource();
        int reports = 0;
        var progress = new Reporter(p =>
        {
            if (p.EpochEnd is null && ++reports == StepsBeforeCancel)
            {
                cancel.Cancel();
            }
        });

        var error = Assert.Throws<FitCanceledException>(() => net.Fit(train, epochs: 3, new Adam(1e-2f), Options(progress), cancel.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.Equal(StepsBeforeCancel, error.Steps);
        Assert.Equal(StopReason.Canceled, error.History.StopReason);
        Assert.Single(error.History.Epochs);
        using FitNet reference = TrainByHand(train, StepsBeforeCancel);
        AssertSameState(reference, net);
    }

    [Fact]
    public void AnUncancelledFitTakesTheStepsOfAHandWrittenLoopAndRecordsEveryEpoch()
    {
        DataSet train = Images(40, seed: 1);
        using var net = new FitNet(Batch, seed: 1, threads: 1);

        TrainingHistory history = net.Fit(train, epochs: 2, new Adam(1e-2f), Options());

        using FitNet reference = TrainByHand(train, 10);
        AssertSameState(reference, net);
        Assert.Equal(StopReason.Completed, history.StopReason);
        Assert.Equal([1, 2], history.Epochs.Select(e => e.Epoch));
        Assert.All(history.Epochs, e => Assert.True(double.IsNaN(e.ValidationLoss) && e.Metrics.Count == 0));
        Assert.All(history.Epochs, e => Assert.True(e.TrainLoss > 0 && e.ImagesPerSecond > 0 && e.Time > TimeSpan.Zero));
        Assert.Null(history.Monitor);
        Assert.Equal(0, history.BestEpoch);
    }

    /// <summary>lr = 0.02 / (1 + global step): a different rate every step, so a schedule applied late or skipped shows.</summary>
    private sealed class InverseSchedule : LearningRateSchedule
    {
        public List<int> BatchesPerEpochSeen { get; } = [];

        public override float LearningRate(int epoch, int batch, int batchesPerEpoch)
        {
            BatchesPerEpochSeen.Add(batchesPerEpoch);
            return Rate(epoch, batch);
        }

        public static float Rate(int epoch, int batch) => 0.02f / (1 + (epoch * 5) + batch);
    }

    [Fact]
    public void TheScheduleSetsTheLearningRateBeforeEveryStep()
    {
        DataSet train = Images(40, seed: 1);
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        var schedule = new InverseSchedule();
        var rates = new List<(int Epoch, int Batch, float Rate)>();
        var progress = new Reporter(p =>
        {
            if (p.EpochEnd is null)
            {
                rates.Add((p.Epoch, p.Batch, p.LearningRate));
            }
        });

        TrainingHistory history = net.Fit(train, epochs: 2, new Adam(1f), Options(progress) with { Schedule = schedule });

        Assert.Equal(10, rates.Count);
        Assert.All(rates, r => Assert.Equal(InverseSchedule.Rate(r.Epoch - 1, r.Batch - 1), r.Rate));
        Assert.All(schedule.BatchesPerEpochSeen, b => Assert.Equal(5, b));
        Assert.Equal([InverseSchedule.Rate(0, 4), InverseSchedule.Rate(1, 4)], history.Epochs.Select(e => e.LearningRate));
        using FitNet reference = TrainByHand(train, 10, InverseSchedule.Rate);
        AssertSameState(reference, net);
    }

    [Fact]
    public void ProgressComesAfterEveryStepAndAtEveryEpochsEndWithMonotonicFields()
    {
        DataSet train = Images(40, seed: 1);
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        var reports = new List<TrainingProgress>();

        TrainingHistory history = net.Fit(train, epochs: 3, new Adam(1e-2f), Options(new Reporter(reports.Add)) with { Validation = Images(16, seed: 2) });

        Assert.Equal((3 * 5) + 3, reports.Count);
        Assert.All(reports, r => Assert.True(r.Epochs == 3 && r.Batches == 5 && r.Loss > 0 && r.ImagesPerSecond > 0));
        for (int i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].Elapsed >= reports[i - 1].Elapsed);
            Assert.True((reports[i].Epoch, reports[i].Batch).CompareTo((reports[i - 1].Epoch, reports[i - 1].Batch)) >= 0);
        }

        // Each epoch: batches 1..5 as steps, then batch 5 again as its end, carrying the history's record.
        for (int epoch = 0; epoch < 3; epoch++)
        {
            TrainingProgress[] ofEpoch = reports.Skip(epoch * 6).Take(6).ToArray();
            Assert.Equal([1, 2, 3, 4, 5, 5], ofEpoch.Select(r => r.Batch));
            Assert.All(ofEpoch, r => Assert.Equal(epoch + 1, r.Epoch));
            Assert.All(ofEpoch[..5], r => Assert.Null(r.EpochEnd));
            Assert.Same(history.Epochs[epoch], ofEpoch[5].EpochEnd);
            Assert.Equal(history.Epochs[epoch].TrainLoss, ofEpoch[5].Loss);
            Assert.Equal(ofEpoch[4].Loss, ofEpoch[5].Loss); // the running mean after the last step is the epoch's
        }

        // The last step's estimate leaves out the validation pass after it, as the epoch's end does.
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero], reports.TakeLast(2).Select(r => r.Remaining));
        Assert.All(reports.SkipLast(2), r => Assert.True(r.Remaining > TimeSpan.Zero));
    }

    [Fact]
    public void TheValidationFiguresAreTheEvaluationModeLossAndAccuracyOfTheEpochsWeights()
    {
        DataSet train = Images(40, seed: 1), validation = Images(20, seed: 2);
        using var net = new FitNet(Batch, seed: 1, threads: 1);

        TrainingHistory history = net.Fit(train, epochs: 1, new Adam(1e-2f), Options() with { Validation = validation });

        // The reference: scores from Forward, one image at a time, softmax cross-entropy and argmax in double.
        double lossSum = 0;
        int correct = 0;
        for (int i = 0; i < validation.Count; i++)
        {
            double[] scores = [.. net.Forward(validation.Image(i)).ToArray().Select(s => (double)s)];
            double max = scores.Max();
            lossSum += Math.Log(scores.Sum(s => Math.Exp(s - max))) + max - scores[validation.LabelsOf(i)[0]];
            correct += Array.IndexOf(scores, max) == validation.LabelsOf(i)[0] ? 1 : 0;
        }

        EpochRecord record = history.Epochs[0];
        Assert.Equal("accuracy", Assert.Single(record.Metrics).Key);
        Assert.Equal((double)correct / validation.Count, record.Validation("accuracy"));

        // Batched and one-image forward passes round differently (blocked kernels): 1e-5 relative covers float32 scores.
        Assert.Equal(lossSum / validation.Count, record.ValidationLoss, 1e-5 * lossSum / validation.Count);
        Assert.Equal("loss", history.Monitor);
        Assert.Equal(1, history.BestEpoch);
    }

    [Fact]
    public void ASegmentersDefaultValidationFiguresAreMeanIoUAndPixelAccuracy()
    {
        var random = new Random(3);
        float[] images = [.. Enumerable.Range(0, 8 * 64).Select(_ => (float)random.NextDouble())];
        int[] labels = [.. images.Select(v => v < 0.3f ? 0 : v < 0.7f ? 1 : 2)]; // each pixel's class is its brightness band
        var data = new DataSet(images, labels, TensorShape.Image(1, 8, 8), classCount: 3, labelsPerSample: 64);
        using var net = new FitSegmenter(Batch, seed: 1, threads: 1);

        TrainingHistory history = net.Fit(data, epochs: 2, new Adam(1e-2f), new FitOptions { Validation = data, Monitor = "mean IoU" });

        var reference = new SegmentationMetrics(3);
        reference.Add(net.Forward(images), labels, 8);
        EpochRecord last = history.Epochs[^1];
        Assert.Equal(["mean IoU", "pixel accuracy"], last.Metrics.Select(m => m.Key));
        Assert.Equal(reference.MeanIoU, last.Validation("mean IoU"));
        Assert.Equal(reference.PixelAccuracy, last.Validation("pixel accuracy"));
    }

    /// <summary>A pluggable metric that reads a script, one value per validation pass, to make early stopping deterministic.</summary>
    private sealed class ScriptedMetric(params double[] values) : ValidationMetric("score", higherIsBetter: true)
    {
        private int _pass = -1;

        public override double Value => values[_pass];

        public override void Reset() => _pass++;

        public override void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count)
        {
        }
    }

    /// <summary>Scores 0.5, 0.6, 0.7, then 0.705 and 0.69: with MinDelta 0.01, epochs 4 and 5 do not improve on epoch 3.</summary>
    private static ScriptedMetric PeakAtEpochThree() => new(0.5, 0.6, 0.7, 0.705, 0.69, 0.9, 0.9, 0.9);

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovementAndRestoresTheBestWeights()
    {
        DataSet train = Images(40, seed: 1);
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        FitOptions options = Options() with
        {
            Validation = Images(16, seed: 2),
            Metrics = [PeakAtEpochThree()],
            Monitor = "score",
            Patience = 2,
            MinDelta = 0.01,
            RestoreBestWeights = true,
        };

        TrainingHistory history = net.Fit(train, epochs: 8, new Adam(1e-2f), options);

        Assert.Equal(StopReason.EarlyStopped, history.StopReason);
        Assert.Equal(5, history.Epochs.Count);
        Assert.Equal(3, history.BestEpoch);
        Assert.Equal("score", history.Monitor);
        Assert.Equal([0.5, 0.6, 0.7, 0.705, 0.69], history.Epochs.Select(e => e.Validation("score")));

        // The weights are epoch 3's (15 steps); StepCount still counts the 25 steps taken.
        using FitNet best = TrainByHand(train, 15);
        Assert.Equal(25, net.StepCount);
        for (int i = 0; i < best.Parameters.Count; i++)
        {
            Assert.True(best.Parameters[i].Value.AsSpan().SequenceEqual(net.Parameters[i].Value), $"{best.Parameters[i].Name} differs");
        }

        Assert.Equal(best.BatchCounters.Select(c => c.Count), net.BatchCounters.Select(c => c.Count));
    }

    [Fact]
    public void TheBestCheckpointHoldsTheBestEpochsWeightsAndNoTemporaryFile()
    {
        DataSet train = Images(40, seed: 1);
        string path = Path.Combine(_directory, "best.safetensors");
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        FitOptions options = Options() with { Validation = Images(16, seed: 2), Metrics = [PeakAtEpochThree()], Monitor = "score", MinDelta = 0.01, BestCheckpoint = path };

        TrainingHistory history = net.Fit(train, epochs: 5, new Adam(1e-2f), options);

        Assert.Equal(StopReason.Completed, history.StopReason);
        Assert.Equal(3, history.BestEpoch);
        Assert.Equal([path], Directory.GetFiles(_directory));
        using var loaded = new FitNet(Batch, seed: 2, threads: 1);
        loaded.Load(path);
        using FitNet best = TrainByHand(train, 15);
        for (int i = 0; i < best.Parameters.Count; i++)
        {
            Assert.True(best.Parameters[i].Value.AsSpan().SequenceEqual(loaded.Parameters[i].Value), $"{best.Parameters[i].Name} differs");
        }
    }

    [Fact]
    public void AFailingSaveOfANewBestThrowsAndLeavesThePreviousBest()
    {
        DataSet train = Images(40, seed: 1);
        string path = Path.Combine(_directory, "best.safetensors");
        using var net = new FitNet(Batch, seed: 1, threads: 1);

        // After epoch 3's save the file is made immutable (chattr +i: even root cannot rename over it), so epoch 6's
        // new best cannot replace it.
        var progress = new Reporter(p =>
        {
            if (p.EpochEnd?.Epoch == 3)
            {
                Chattr("+i", path);
            }
        });
        FitOptions options = Options(progress) with { Validation = Images(16, seed: 2), Metrics = [PeakAtEpochThree()], Monitor = "score", MinDelta = 0.01, BestCheckpoint = path };
        try
        {
            Exception error = Assert.ThrowsAny<Exception>(() => net.Fit(train, epochs: 8, new Adam(1e-2f), options));
            Assert.True(error is IOException or UnauthorizedAccessException, error.ToString()); // EPERM reads as the latter
        }
        finally
        {
            Chattr("-i", path);
        }

        Assert.Equal(30, net.StepCount); // epoch 6 trained; its save failed
        Assert.Equal([path], Directory.GetFiles(_directory));
        using var loaded = new FitNet(Batch, seed: 2, threads: 1);
        loaded.Load(path);
        using FitNet best = TrainByHand(train, 15);
        for (int i = 0; i < best.Parameters.Count; i++)
        {
            Assert.True(best.Parameters[i].Value.AsSpan().SequenceEqual(loaded.Parameters[i].Value), $"{best.Parameters[i].Name} differs");
        }
    }

    private static void Chattr(string flag, string path)
    {
        using var process = Process.Start(new ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"chattr {flag} {path} failed (the test needs e2fsprogs' chattr on ext4 and root): {error}");
    }

    [Fact]
    public void AClassifierGivenFloatTargetsIsAClearErrorAndStaysUntrained()
    {
        var targets = new DataSet(new float[16 * 64], new float[16 * 3], TensorShape.Image(1, 8, 8), targetsPerSample: 3);
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        float[] before = net.Parameters[0].Value.ToArray();

        var error = Assert.Throws<ArgumentException>(() => net.Fit(targets, epochs: 1, new Adam(1e-2f)));

        Assert.Contains("FitNet trains with Loss.CrossEntropy on class labels, but the training set holds float targets", error.Message);
        Assert.Equal(0, net.StepCount);
        Assert.Equal(before, net.Parameters[0].Value);
    }

    [Fact]
    public void FitOptionsThatContradictTheDataAreArgumentErrors()
    {
        DataSet train = Images(16, seed: 1);
        using var net = new FitNet(Batch, seed: 1, threads: 1);
        var targets = new DataSet(new float[16 * 64], new float[16 * 3], TensorShape.Image(1, 8, 8), targetsPerSample: 3);
        var wrongShape = new DataSet(new float[4 * 16], new int[4], TensorShape.Image(1, 4, 4), classCount: 3);
        var adam = new Adam(1e-2f);

        Assert.Contains("needs a validation set", Assert.Throws<ArgumentException>(() => net.Fit(train, 1, adam, new FitOptions { Patience = 2 })).Message);
        Assert.Contains("needs a validation set", Assert.Throws<ArgumentException>(() => net.Fit(train, 1, adam, new FitOptions { BestCheckpoint = "x" })).Message);
        Assert.Contains("'iou' is not a validation figure; the figures are loss, accuracy",
            Assert.Throws<ArgumentException>(() => net.Fit(train, 1, adam, new FitOptions { Validation = train, Monitor = "iou" })).Message);
        Assert.Contains("on class labels, but the validation set holds float targets",
            Assert.Throws<ArgumentException>(() => net.Fit(train, 1, adam, new FitOptions { Validation = targets })).Message);
        Assert.Contains("images are 1x4x4", Assert.Throws<ArgumentException>(() => net.Fit(wrongShape, 1, adam)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Fit(train, 1, adam, new FitOptions { BatchSize = Batch + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Fit(train, 1, adam, new FitOptions { Validation = train, Patience = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Fit(train, 0, adam));
        Assert.Equal(0, net.StepCount);
    }

    [Fact]
    public void AFloatTargetSetBatchesItsTargetsAndRefusesTheWrongBuffers()
    {
        float[] images = [.. Enumerable.Range(0, 5 * 4).Select(i => (float)(i / 4))];
        float[] values = [.. Enumerable.Range(0, 5 * 2).Select(i => (i / 2) + 0.5f)];
        var data = new DataSet(images, values, TensorShape.Image(1, 2, 2), targetsPerSample: 2);
        MiniBatches batches = data.Batches(batchSize: 2, shuffle: true, seed: 3);
        var imageBuffer = new float[8];
        var targetBuffer = new float[4];

        var visited = new List<int>();
        for (int n; (n = batches.Next(imageBuffer, targetBuffer)) > 0;)
        {
            for (int b = 0; b < n; b++)
            {
                int index = (int)imageBuffer[b * 4];
                Assert.Equal([index + 0.5f, index + 0.5f], targetBuffer.AsSpan(b * 2, 2).ToArray());
                visited.Add(index);
            }
        }

        Assert.True(data.HasFloatTargets);
        Assert.Equal(0, data.ClassCount);
        Assert.Equal(Enumerable.Range(0, 5), visited.Order());
        Assert.Contains("holds float targets", Assert.Throws<InvalidOperationException>(() => batches.Next(imageBuffer, new int[4])).Message);
        Assert.Contains("holds class labels", Assert.Throws<InvalidOperationException>(() => Images(4, 1).Batches(2).Next(new float[128], targetBuffer)).Message);
        Assert.Contains("not a whole number", Assert.Throws<ArgumentException>(() => new DataSet(images, new float[9], TensorShape.Image(1, 2, 2), 2)).Message);
        Assert.Contains("Target 1 of image 2 is NaN",
            Assert.Throws<ArgumentException>(() => new DataSet(images, [.. values.Select((v, i) => i == 5 ? float.NaN : v)], TensorShape.Image(1, 2, 2), 2)).Message);
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
