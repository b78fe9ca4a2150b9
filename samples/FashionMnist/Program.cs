using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using NetCompiler;
using NetCompiler.Samples;

// Trains DESIGN.md's FashionNet on Debian's Fashion-MNIST and reports the test accuracy.
// Options: --epochs N (default 15), --batch N (64, per rank), --lr X (0.001), --seed N (1), --threads N (all),
// --save PATH (fashion.safetensors: the trained weights, which the Explain sample loads), --curves PATH
// (fashion-curves.png: loss and test accuracy per epoch),
// --limit N (all: train on the first N training images only, for quick checks such as CI's; the test set stays whole),
// --device cpu|cuda|opencl|simulator|best (cpu: where it trains; README: GPUs; the NativeAOT build has the CPU alone).
// Data-parallel under MPI: `mpiexec.mpich -n 2 dotnet run -c Release --project samples/FashionMnist -- --threads 1`;
// each rank trains on its shard of every global batch, the gradients are averaged, and rank 0 alone prints and saves.
using ProcessGroup group = ProcessGroup.Mpi(ref args);
int epochs = Option("--epochs", 15);
int batchSize = Option("--batch", 64);
float learningRate = Option("--lr", 1e-3f);
int seed = Option("--seed", 1);
int threads = Option("--threads", 0);
string savePath = Option("--save", "fashion.safetensors");
string curvesPath = Option("--curves", "fashion-curves.png");
int limit = Option("--limit", int.MaxValue);
string deviceName = Option("--device", "cpu");
ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);

(DataSet train, DataSet test) = FashionMnist.Load();
CheckSplit("training", train, expectedCount: 60_000);
CheckSplit("test", test, expectedCount: 10_000);
Say($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images of {train.ImageShape}, {train.ClassCount} balanced classes.");
if (limit < train.Count)
{
    train = new DataSet(train.Images[..(limit * train.ImageSize)].ToArray(), train.Labels[..limit].ToArray(), train.ImageShape, train.ClassCount);
    Say($"training on the first {train.Count:N0} images only (--limit)");
}

Say(FashionNet.Summary.ToString());
if (group.Size > 1)
{
    Say($"data parallel: {group.Size} ranks, batch {batchSize} each ({batchSize * group.Size} in all)");
}

#if NETCOMPILER_DEVICES
using NetCompiler.Ilgpu.IlgpuDevice? device = deviceName is "cpu" ? null : NetCompiler.Ilgpu.IlgpuDevice.Create(deviceName);
Say(device is null ? "device: the CPU" : "device: " + device.Description);
using var net = device is null ? new FashionNet(batchSize, seed, threads) : new FashionNet(batchSize, seed, device);
#else
if (deviceName is not "cpu")
{
    throw new ArgumentException("This NativeAOT build runs on the CPU only: ILGPU compiles device kernels at run time, with Reflection.Emit.");
}

using var net = new FashionNet(batchSize, seed, threads);
#endif
net.Distribute(group);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, press) =>
{
    press.Cancel = true; // Ctrl+C ends training after the current step, so the weights are whole and still saved
    stop.Cancel();
};

// The test set doubles as the per-epoch validation set for the curves; nothing is selected on it (no early stopping).
var options = new FitOptions
{
    BatchSize = batchSize,
    Seed = seed,
    Schedule = new MultiStepSchedule(learningRate, [Math.Max(1, epochs * 2 / 3)], gamma: 0.25f), // a quarter for the last third
    Augmentation = MirrorHalf,
    Validation = test,
};
TrainingHistory history;
try
{
    history = TrainingDisplay.Run("FashionNet", progress => net.Fit(train, epochs, new Adam(learningRate), options with { Progress = progress }, stop.Token));
}
catch (FitCanceledException cancelled)
{
    history = cancelled.History;
    Say($"stopped by Ctrl+C after {cancelled.Steps} steps");
}

if (!group.IsRoot)
{
    return; // the ranks hold identical weights: rank 0 alone tests, saves and reports
}

net.Save(savePath);
Console.WriteLine($"saved the weights to {savePath}");
if (history.Epochs.Count > 0)
{
    TrainingCurves.Write(history, curvesPath, "FashionNet on Fashion-MNIST");
    Console.WriteLine($"wrote the training curves to {curvesPath}");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {history.Epochs.Count} epochs in {history.Epochs.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Time):mm\\:ss}"));
if (history.StopReason == StopReason.Completed)
{
    // The last validation pass ran on the whole test set with the final weights: it is the test accuracy.
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy {history.Epochs[^1].Validation("accuracy"):F4}"));
}

// Augmentation: a garment mirrored left to right is the same garment, so each image is mirrored with
// probability 1/2 (torchvision's RandomHorizontalFlip).
void Say(string line)
{
    if (group.IsRoot)
    {
        Console.WriteLine(line);
    }
}

static void MirrorHalf(TrainingBatch batch, Random random)
{
    const int side = 28;
    for (int offset = 0; offset < batch.Images.Length; offset += side * side)
    {
        if (random.Next(2) == 0)
        {
            for (int row = offset; row < offset + (side * side); row += side)
            {
                batch.Images.Slice(row, side).Reverse();
            }
        }
    }
}

// Fashion-MNIST is balanced: other counts mean the installed files are not the data set these results assume.
static void CheckSplit(string name, DataSet split, int expectedCount)
{
    if (split.Count != expectedCount)
    {
        throw new InvalidDataException($"The Fashion-MNIST {name} set has {split.Count} images; it should have {expectedCount}.");
    }

    int[] perClass = split.CountPerClass();
    for (int label = 0; label < perClass.Length; label++)
    {
        if (perClass[label] != expectedCount / perClass.Length)
        {
            throw new InvalidDataException(
                $"The Fashion-MNIST {name} set has {perClass[label]} images of class {label} ({FashionMnist.ClassNames[label]}); it should have {expectedCount / perClass.Length}.");
        }
    }
}

T Option<T>(string name, T fallback) where T : IParsable<T>
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? T.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}
