using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using NetCompiler;

// Trains DESIGN.md's FashionNet on Debian's Fashion-MNIST and reports the test accuracy.
// Options: --epochs N (default 15), --batch N (64, per rank), --lr X (0.001), --seed N (1), --threads N (all),
// --save PATH (fashion.safetensors: the trained weights, which the Explain sample loads),
// --limit N (all: train on the first N training images only, for quick checks such as CI's; the test set stays whole).
// Data-parallel under MPI: `mpiexec.mpich -n 2 dotnet run -c Release --project samples/FashionMnist -- --threads 1`;
// each rank trains on its shard of every global batch, the gradients are averaged, and rank 0 alone prints and saves.
using ProcessGroup group = ProcessGroup.Mpi(ref args);
int epochs = Option("--epochs", 15);
int batchSize = Option("--batch", 64);
float learningRate = Option("--lr", 1e-3f);
int seed = Option("--seed", 1);
int threads = Option("--threads", 0);
string savePath = Option("--save", "fashion.safetensors");
int limit = Option("--limit", int.MaxValue);
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

using var net = new FashionNet(batchSize, seed, threads);
net.Distribute(group);
var adam = new Adam(learningRate);
MiniBatches batches = train.Batches(batchSize, shuffle: true, seed: seed, rank: group.Rank, ranks: group.Size);
var images = new float[batchSize * train.ImageSize];
var labels = new int[batchSize];
var flips = new Random(seed + group.Rank);
var clock = Stopwatch.StartNew();
for (int epoch = 1; epoch <= epochs; epoch++)
{
    // A quarter of the step size for the last third of training: the usual final gain of a step schedule.
    adam.LearningRate = epoch > epochs * 2 / 3 ? learningRate / 4 : learningRate;
    double lossSum = 0;
    int seen = 0, correct = 0;
    TimeSpan epochStart = clock.Elapsed;
    for (int n; (n = batches.Next(images, labels)) > 0;)
    {
        MirrorHalf(images.AsSpan(0, n * train.ImageSize), flips);
        lossSum += net.TrainStep(images.AsSpan(0, n * train.ImageSize), labels.AsSpan(0, n), adam) * n;
        correct += CountCorrect(net.LastScores, labels.AsSpan(0, n));
        seen += n;
    }

    // Loss and accuracy are rank 0's shard; images/s counts every rank's.
    double seconds = (clock.Elapsed - epochStart).TotalSeconds;
    TimeSpan left = TimeSpan.FromSeconds(seconds * (epochs - epoch));
    Say(string.Create(CultureInfo.InvariantCulture,
        $"epoch {epoch,2}/{epochs}  loss {lossSum / seen:F4}  train accuracy {(double)correct / seen:F4}  {seen * group.Size / seconds,6:F0} images/s  time left {left:mm\\:ss}"));
}

if (!group.IsRoot)
{
    return; // the ranks hold identical weights: rank 0 alone tests, saves and reports
}

int testCorrect = 0;
MiniBatches testBatches = test.Batches(batchSize, shuffle: false);
for (int n; (n = testBatches.Next(images, labels)) > 0;)
{
    testCorrect += CountCorrect(net.Forward(images.AsSpan(0, n * test.ImageSize)), labels.AsSpan(0, n));
}

net.Save(savePath);
Console.WriteLine($"saved the weights to {savePath}");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {epochs} epochs in {clock.Elapsed:mm\\:ss}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy {(double)testCorrect / test.Count:F4}"));

// Augmentation: a garment mirrored left to right is the same garment, so each image is mirrored with
// probability 1/2 (torchvision's RandomHorizontalFlip).
void Say(string line)
{
    if (group.IsRoot)
    {
        Console.WriteLine(line);
    }
}

static void MirrorHalf(Span<float> images, Random random)
{
    const int side = 28;
    for (int offset = 0; offset < images.Length; offset += side * side)
    {
        if (random.Next(2) == 0)
        {
            for (int row = offset; row < offset + (side * side); row += side)
            {
                images.Slice(row, side).Reverse();
            }
        }
    }
}

static int CountCorrect(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels)
{
    int correct = 0, classes = scores.Length / labels.Length;
    for (int i = 0; i < labels.Length; i++)
    {
        ReadOnlySpan<float> row = scores.Slice(i * classes, classes);
        int best = 0;
        for (int c = 1; c < classes; c++)
        {
            best = row[c] > row[best] ? c : best;
        }

        correct += best == labels[i] ? 1 : 0;
    }

    return correct;
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
