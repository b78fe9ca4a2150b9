using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using NetCompiler;
using NetCompiler.Bench;

// Side by side with the peer (bench/peer.py, whose JSON bench/run.sh passes): the same networks, batch, optimiser
// and timing method (median of repeats, each at least a second, after warm-up), reported as ratios. Only the parts
// the peer measured are run (peer.py --only networks or --only implicit). --small-conv, --dispatch and --kernels run
// SmallConvBench, DispatchBench and KernelThroughput (GFLOP/s only) alone.
switch (args)
{
    case ["--small-conv"]:
        SmallConvBench.Report();
        return 0;
    case ["--dispatch"]:
        DispatchBench.Report();
        return 0;
    case ["--kernels"]:
        KernelThroughput.Report(peakGflops: null);
        return 0;
}

if (args is not ["--peer-json", string peerJsonPath])
{
    Console.Error.WriteLine("usage: NetCompiler.Bench --peer-json <file written by bench/peer.py> | --small-conv | --dispatch | --kernels");
    return 2;
}

var options = new JsonSerializerOptions
{
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
};
PeerReport peer = JsonSerializer.Deserialize<PeerReport>(File.ReadAllText(peerJsonPath), options)
    ?? throw new InvalidDataException($"{peerJsonPath}: holds null, not a peer report.");

const int Batch = 64;
if (peer.Networks is not null)
{
    var ours = new Dictionary<string, (double Train, double Inference)>
    {
        ["lenet5"] = Measure(new LeNet5(Batch, seed: 1, threads: 2), LeNet5.InputLength),
        ["cifar_vgg"] = Measure(new CifarVgg(Batch, seed: 1, threads: 2), CifarVgg.InputLength),
    };

    Console.WriteLine($"NetCompiler against PyTorch {peer.Torch} ({peer.Threads} threads), batch {Batch}, float32, Adam; images/s, median of 7");
    Console.WriteLine();
    Console.WriteLine($"{"Network",-10} {"Train ours",11} {"Train peer",11} {"ratio",6}   {"Infer ours",11} {"Infer peer",11} {"ratio",6}");
    foreach ((string name, (double train, double inference)) in ours)
    {
        PeerNetwork theirs = peer.Networks[name];
        Console.WriteLine($"{name,-10} {train,11:N0} {theirs.TrainImagesPerS,11:N0} {train / theirs.TrainImagesPerS,5:F2}x   "
            + $"{inference,11:N0} {theirs.InferenceImagesPerS,11:N0} {inference / theirs.InferenceImagesPerS,5:F2}x");
    }

    // Batch norm folding (inference only): the same network with the batch norms folded into the convolutions and
    // run as their own kernels, one process, one run.
    using (var vgg = new CifarVgg(Batch, seed: 1, threads: 2))
    {
        float[] images = RandomImages(CifarVgg.InputLength);
        double folded = MedianRate(() => vgg.Forward(images));
        vgg.FoldBatchNorm = false;
        double unfolded = MedianRate(() => vgg.Forward(images));
        Console.WriteLine();
        Console.WriteLine($"cifar_vgg inference, batch norm folded {folded:N0} images/s, unfolded {unfolded:N0}: {folded / unfolded:F2}x");
    }

    if (peer.Matmul2048Gflops is double peak)
    {
        Console.WriteLine();
        Console.WriteLine($"Peer SGEMM 2048^3: {peak:N1} GFLOP/s, the machine's practical peak for what follows");
        KernelThroughput.Report(peak);
    }
}

if (peer.Implicit is not null)
{
    Console.WriteLine();
    Console.WriteLine($"NetCompiler against PyTorch {peer.Torch} torch.fft ({peer.Threads} threads)");
    ImplicitSolveBench.Report(peer.Implicit);
}

return 0;

static (double Train, double Inference) Measure(CompiledNetwork network, int inputLength)
{
    using (network)
    {
        float[] images = RandomImages(inputLength);
        var random = new Random(2);
        int[] labels = Enumerable.Range(0, Batch).Select(_ => random.Next(10)).ToArray();
        var adam = new Adam(1e-3f);
        double train = MedianRate(() => network.TrainStep(images, labels, adam));
        double inference = MedianRate(() => network.Forward(images));
        return (train, inference);
    }
}

static float[] RandomImages(int inputLength)
{
    var random = new Random(1);
    return Enumerable.Range(0, Batch * inputLength).Select(_ => (float)random.NextDouble()).ToArray();
}

// Images per second: the median time per call (median of 7 repeats of at least a second each, after 5 warm-up calls).
static double MedianRate(Action step) => Batch / Timing.MedianSeconds(step, warmup: 5, minSeconds: 1.0);

/// <summary>bench/peer.py's output; property names are its keys in PascalCase. A part the peer skipped is null.</summary>
internal sealed record PeerReport(
    string Torch,
    int Threads,
    int Batch,
    string Dtype,
    IReadOnlyDictionary<string, PeerNetwork>? Networks = null,
    [property: JsonPropertyName("matmul_2048_gflops")] double? Matmul2048Gflops = null,
    PeerImplicit? Implicit = null);

internal sealed record PeerNetwork(string Input, long Parameters, double TrainImagesPerS, double InferenceImagesPerS);

/// <summary>The peer's implicit solve: its problem and ms per call.</summary>
internal sealed record PeerImplicit(string Shape, int Kernel, int Groups, float Step, double ForwardMs, double ForwardBackwardMs);
