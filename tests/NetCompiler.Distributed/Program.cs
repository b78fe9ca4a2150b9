using System;
using System.Linq;
using NetCompiler;

// One rank of a data-parallel check, run by DistributedTests under `mpiexec.mpich -n 2`. Mode "train" checks
// that Distribute makes the ranks' weights rank 0's, that 2 ranks at batch 4 train as one process at batch 8 on the
// same global batches, that the ranks stay identical, and that a loss diverging on one rank stops every rank.
// Mode "fail" makes rank 1 throw, which must abort the whole job with a message naming the rank.
using ProcessGroup group = ProcessGroup.Mpi(ref args);
string mode = args.Length > 0 ? args[0] : "train";
if (group.Size < 2)
{
    Console.Error.WriteLine("run under mpiexec with at least 2 ranks");
    return 2;
}

if (mode == "fail")
{
    if (group.Rank == 1)
    {
        throw new InvalidOperationException("rank 1 fails on purpose");
    }

    group.Barrier(); // would wait forever for rank 1 without the abort
    return 0;
}

const int PerRank = 4, Steps = 3;
int global = PerRank * group.Size;
var data = new DataSet(Enumerable.Range(0, 40 * ShardNet.InputLength).Select(i => MathF.Sin(i * 0.37f)).ToArray(),
    Enumerable.Range(0, 40).Select(i => (i * 7) % 3).ToArray(), TensorShape.Image(1, 8, 8), classCount: 3);

// Each rank starts from its own seed; Distribute must replace that with rank 0's weights.
using var net = new ShardNet(PerRank, seed: 1 + group.Rank, threads: 1);
net.Distribute(group);
using var alone = new ShardNet(global, seed: 1, threads: 1);
Expect(Same(net, alone), "after Distribute the weights are rank 0's");

var sgd = new Sgd(learningRate: 0.1f, momentum: 0.9f);
var reference = new Sgd(learningRate: 0.1f, momentum: 0.9f);
MiniBatches shard = data.Batches(PerRank, seed: 3, rank: group.Rank, ranks: group.Size), whole = data.Batches(global, seed: 3);
float[] images = new float[global * data.ImageSize], wholeImages = new float[global * data.ImageSize];
int[] labels = new int[global], wholeLabels = new int[global];
for (int step = 0; step < Steps; step++)
{
    int n = shard.Next(images, labels), m = whole.Next(wholeImages, wholeLabels);
    Expect(n == PerRank && m == global, $"step {step}: a shard of {PerRank} of a global batch of {global}");
    net.TrainStep(images.AsSpan(0, n * data.ImageSize), labels.AsSpan(0, n), sgd);
    alone.TrainStep(wholeImages.AsSpan(0, m * data.ImageSize), wholeLabels.AsSpan(0, m), reference);
}

// The mean of the two shards' mean gradients is the global batch's mean gradient, up to float rounding.
Expect(Close(net, alone, 1e-5), "2 ranks at batch 4 train as one process at batch 8");
Expect(Agree(group, net), "the ranks hold identical weights");

// A non-finite loss on rank 1 alone (an infinite weight there) must stop both ranks at the same step, with nothing changed.
Parameter scores = net.Parameters.Last(p => p.Trainable && p.Shape.Length == 2);
float kept = scores.Value[0];
if (group.Rank == 1)
{
    scores.Value[0] = float.PositiveInfinity;
    net.MarkParametersChanged();
}

bool diverged = false;
try
{
    net.TrainStep(images.AsSpan(0, PerRank * data.ImageSize), labels.AsSpan(0, PerRank), sgd);
}
catch (TrainingDivergedException)
{
    diverged = true;
}

scores.Value[0] = kept;

Expect(diverged, "a loss diverging on one rank stops every rank");
Expect(net.StepCount == Steps && Close(net, alone, 1e-5), "the diverged step changed nothing");
Console.WriteLine($"rank {group.Rank} of {group.Size}: ok");
return 0;

static void Expect(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException("failed: " + what);
    }
}

static bool Same(CompiledNetwork a, CompiledNetwork b) => a.Parameters.Zip(b.Parameters).All(p => p.First.Value.AsSpan().SequenceEqual(p.Second.Value));

static bool Close(CompiledNetwork a, CompiledNetwork b, double tolerance) => a.Parameters.Zip(b.Parameters).All(p =>
{
    double scale = p.Second.Value.Max(v => Math.Abs((double)v)) + 1e-12;
    return p.First.Value.Zip(p.Second.Value).All(v => Math.Abs(v.First - v.Second) <= tolerance * scale);
});

// Every rank's weights summed over the ranks equal size times its own: identical weights, bit for bit.
static bool Agree(ProcessGroup group, CompiledNetwork net) => net.Parameters.All(p =>
{
    float[] sum = (float[])p.Value.Clone();
    group.AllReduceSum(sum);
    return sum.Zip(p.Value).All(v => v.First == v.Second * group.Size);
});

// No batch norm: its per-rank batch statistics (DDP's default) would make 2 x 4 differ from 1 x 8.
[Network("1x8x8")]
[Conv(4, 3, Pad = 1), Relu, MaxPool(2), Dense(8), Relu, Dense(3)]
public partial class ShardNet;
