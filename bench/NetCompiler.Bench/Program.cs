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
    case ["--fma"]: // the machine's FMA peak alone
        Console.WriteLine($"FMA peak: {KernelThroughput.FmaPeak(1).Gflops:F1} GFLOP/s on 1 thread, {KernelThroughput.FmaPeak(2).Gflops:F1} on 2");
        return 0;
    case ["--kernels"]:
        KernelThroughput.Report(KernelThroughput.FmaPeak(2).Gflops, peerSgemmGflops: null);
        return 0;
}

if (args is not ["--peer-json", string peerJsonPath])
{
    Console.Error.WriteLine("usage: NetCompiler.Bench --peer-json <file written by bench/peer.py> | --small-conv | --dispatch | --kernels | --fma");
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

Console.WriteLine($"Machine: {KernelThroughput.CpuModel()}, {Environment.ProcessorCount} processors, load average {KernelThroughput.LoadAverage()}");
(double fmaOneThread, string width) = KernelThroughput.FmaPeak(1);
(double fmaPeak, _) = KernelThroughput.FmaPeak(2);
Console.WriteLine($"FMA peak ({width}): {fmaOneThread:N1} GFLOP/s on 1 thread, {fmaPeak:N1} on 2");
Console.WriteLine($"Peer's BLAS: {peer.Blas.OpenblasConfig ?? string.Join(", ", peer.Blas.Libraries)}"
    + (peer.Blas.OpenblasCore is { } core ? $", core {core}, {peer.Blas.OpenblasThreading} with {peer.Blas.OpenblasThreads} threads" : ""));
Console.WriteLine();

const int Batch = 64;
if (peer.Networks is { } networks)
{
    // Each network at the peer's batch size for it, and the Q-tips net with the peer's class weights.
    var ours = new Dictionary<string, (double Train, double Inference)>
    {
        ["lenet5"] = Measure(new LeNet5(networks["lenet5"].Batch, seed: 1, threads: 2), LeNet5.InputLength, labelsPerImage: 1, LeNet5.ClassCount),
        ["cifar_vgg"] = Measure(new CifarVgg(networks["cifar_vgg"].Batch, seed: 1, threads: 2), CifarVgg.InputLength, labelsPerImage: 1, CifarVgg.ClassCount),
        ["qtips_imex"] = Measure(
            new QTipsImex(networks["qtips_imex"].Batch, seed: 1, threads: 2)
            {
                ClassWeights = peer.QtipsClassWeights ?? throw new InvalidDataException($"{peerJsonPath}: measured qtips_imex but holds no qtips_class_weights."),
            },
            QTipsImex.InputLength, QTipsImex.LabelsPerImage, QTipsImex.ClassCount),
    };

    Console.WriteLine($"NetCompiler against PyTorch {peer.Torch} ({peer.Threads} threads), float32, Adam; images/s, median of 7");
    Console.WriteLine();
    Console.WriteLine($"{"Network",-10} {"batch",5} {"Train ours",11} {"Train peer",11} {"ratio",6}   {"Infer ours",11} {"Infer peer",11} {"ratio",6}");
    foreach ((string name, (double train, double inference)) in ours)
    {
        PeerNetwork theirs = networks[name];
        Console.WriteLine($"{name,-10} {theirs.Batch,5} {train,11:N0} {theirs.TrainImagesPerS,11:N0} {train / theirs.TrainImagesPerS,5:F2}x   "
            + $"{inference,11:N0} {theirs.InferenceImagesPerS,11:N0} {inference / theirs.InferenceImagesPerS,5:F2}x");
    }

    // Batch norm folding (inference only): the same network with the batch norms folded into the convolutions and
    // run as their own kernels, one process, one run.
    using (var vgg = new CifarVgg(Batch, seed: 1, threads: 2))
    {
        float[] images = RandomImages(Batch * CifarVgg.InputLength);
        double folded = MedianRate(() => vgg.Forward(images), Batch);
        vgg.FoldBatchNorm = false;
        double unfolded = MedianRate(() => vgg.Forward(images), Batch);
        Console.WriteLine();
        Console.WriteLine($"cifar_vgg inference, batch norm folded {folded:N0} images/s, unfolded {unfolded:N0}: {folded / unfolded:F2}x");
    }

    if (peer.Matmul2048Gflops is double peerSgemm)
    {
        Console.WriteLine();
        Console.WriteLine($"Peer SGEMM 2048^3: {peerSgemm:N1} GFLOP/s = {peerSgemm / fmaPeak:P0} of the FMA peak");
        KernelThroughput.Report(fmaPeak, peerSgemm);
    }
}

if (peer.Implicit is not null)
{
    Console.WriteLine();
    Console.WriteLine($"NetCompiler against PyTorch {peer.Torch} torch.fft ({peer.Threads} threads)");
    ImplicitSolveBench.Report(peer.Implicit);
}

Console.WriteLine();
Console.WriteLine($"Load average at the end: {KernelThroughput.LoadAverage()}");

return 0;

// Training and inference images/s of one network at its batch size, on random images and labels in [0, classes).
static (double Train, double Inference) Measure(CompiledNetwork network, int inputLength, int labelsPerImage, int classes)
{
    using (network)
    {
        int batch = network.BatchSize;
        float[] images = RandomImages(batch * inputLength);
        var random = new Random(2);
        int[] labels = Enumerable.Range(0, batch * labelsPerImage).Select(_ => random.Next(classes)).ToArray();
        var adam = new Adam(1e-3f);
        double train = MedianRate(() => network.TrainStep(images, labels, adam), batch);
        double inference = MedianRate(() => network.Forward(images), batch);
        return (train, inference);
    }
}

static float[] RandomImages(int length)
{
    var random = new Random(1);
    return Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
}

// Images per second: the median time per call (median of 7 repeats of at least a second each, after 5 warm-up calls).
static double MedianRate(Action step, int batch) => batch / Timing.MedianSeconds(step, warmup: 5, minSeconds: 1.0);

/// <summary>bench/peer.py's output; property names are its keys in PascalCase. A part the peer skipped is null.</summary>
internal sealed record PeerReport(
    string Torch,
    int Threads,
    int Batch,
    string Dtype,
    PeerBlas Blas,
    IReadOnlyDictionary<string, PeerNetwork>? Networks = null,
    [property: JsonPropertyName("qtips_class_weights")] float[]? QtipsClassWeights = null,
    [property: JsonPropertyName("matmul_2048_gflops")] double? Matmul2048Gflops = null,
    PeerImplicit? Implicit = null);

internal sealed record PeerNetwork(string Input, int Batch, long Parameters, double TrainImagesPerS, double InferenceImagesPerS);

/// <summary>The BLAS torch loaded (peer.py loaded_blas); the OpenBLAS fields are null for another BLAS.</summary>
internal sealed record PeerBlas(
    IReadOnlyList<string> Libraries, string? OpenblasConfig = null, string? OpenblasCore = null, string? OpenblasThreading = null, int? OpenblasThreads = null);

/// <summary>The peer's implicit solve: its problem and ms per call.</summary>
internal sealed record PeerImplicit(string Shape, int Kernel, int Groups, float Step, double ForwardMs, double ForwardBackwardMs);
