using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using NetCompiler;
using NetCompiler.Bench;

// Side by side with the peer: bench/run.sh passes the JSON of bench/peer.py (its environment, BLAS, SGEMM and what
// each part computes) and the command that starts it as a server (peer.py --serve). The same networks, batch and
// optimiser; each of our repeats (at least a second, after warm-up) sits beside one of the peer's, and a ratio is the
// median of the pairs' (Timing.Paired). --only networks or --only implicit runs one part. --small-conv, --dispatch and
// --kernels run SmallConvBench, DispatchBench and KernelThroughput (GFLOP/s only) alone.
const string Usage = "usage: NetCompiler.Bench --peer-json <file written by bench/peer.py> [--only networks|implicit] --peer <peer.py --serve command...>"
    + " | --small-conv | --dispatch | --kernels | --fma";
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
        KernelThroughput.Report(peerSgemmGflops: null);
        return 0;
}

int peerAt = Array.IndexOf(args, "--peer");
(string peerJsonPath, string? only) = args[..Math.Max(peerAt, 0)] switch
{
    ["--peer-json", string path] => (path, null),
    ["--peer-json", string path, "--only", string part] when part is "networks" or "implicit" => (path, part),
    _ => (null!, null),
};
if (peerJsonPath is null || peerAt == args.Length - 1)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var options = new JsonSerializerOptions
{
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
};
PeerReport report = JsonSerializer.Deserialize<PeerReport>(File.ReadAllText(peerJsonPath), options)
    ?? throw new InvalidDataException($"{peerJsonPath}: holds null, not a peer report.");

Console.WriteLine($"Machine: {KernelThroughput.CpuModel()}, {Environment.ProcessorCount} processors, load average {KernelThroughput.LoadAverage()}");
(double fmaOneThread, string width) = KernelThroughput.FmaPeak(1);
(double fmaPeak, _) = KernelThroughput.FmaPeak(2);
Console.WriteLine($"FMA peak ({width}): {fmaOneThread:N1} GFLOP/s on 1 thread, {fmaPeak:N1} on 2");
Console.WriteLine($"Peer's BLAS: {report.Blas.OpenblasConfig ?? string.Join(", ", report.Blas.Libraries)}"
    + (report.Blas.OpenblasCore is { } core ? $", core {core}, {report.Blas.OpenblasThreading} with {report.Blas.OpenblasThreads} threads" : ""));
Console.WriteLine();

using var peer = new PeerProcess(args[(peerAt + 1)..]);
const int Batch = 64;
if (only is null or "networks")
{
    Console.WriteLine($"NetCompiler against PyTorch {report.Torch} ({report.Threads} threads), float32, Adam; images/s, medians of 7 paired repeats");
    Console.WriteLine("(a ratio is the median of the 7 pairs' ratios, their lowest and highest in brackets)");
    Console.WriteLine();
    Console.WriteLine($"{"Network",-10} {"batch",5} {"Train ours",11} {"peer",8} {"ratio",6} {"(pairs)",13}   {"Infer ours",11} {"peer",8} {"ratio",6} {"(pairs)",13}");
    CompareNetwork("lenet5", batch => new LeNet5(batch, seed: 1, threads: 2), LeNet5.Summary, labelsPerImage: 1, LeNet5.ClassCount);
    CompareNetwork("cifar_vgg", batch => new CifarVgg(batch, seed: 1, threads: 2), CifarVgg.Summary, labelsPerImage: 1, CifarVgg.ClassCount);
    CompareNetwork(
        "qtips_imex",
        batch => new QTipsImex(batch, seed: 1, threads: 2) { ClassWeights = report.QtipsClassWeights },
        QTipsImex.Summary,
        QTipsImex.LabelsPerImage,
        QTipsImex.ClassCount);

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

    Console.WriteLine();
    Console.WriteLine($"Peer SGEMM 2048^3: {report.Matmul2048Gflops:N1} GFLOP/s = {report.Matmul2048Gflops / fmaPeak:P0} of the FMA peak probed at the start");
    KernelThroughput.Report(report.Matmul2048Gflops);
}

if (only is null or "implicit")
{
    Console.WriteLine();
    Console.WriteLine($"NetCompiler against PyTorch {report.Torch} torch.fft ({report.Threads} threads)");
    ImplicitSolveBench.Report(report.Implicit, peer);
}

Console.WriteLine();
Console.WriteLine($"Load average at the end: {KernelThroughput.LoadAverage()}");

return 0;

// One network's training and inference, ours beside the peer's, on random images and labels in [0, classes); ours at
// the peer's batch for it, checked to take the peer's input and have its parameter count.
void CompareNetwork(string name, Func<int, CompiledNetwork> build, NetworkSummary summary, int labelsPerImage, int classes)
{
    PeerNetwork theirs = report.Networks[name];
    if (summary.ParameterCount != theirs.Parameters)
    {
        throw new InvalidOperationException($"{name}: the peer's network has {theirs.Parameters} parameters, ours {summary.ParameterCount}; they are not the same network.");
    }

    using CompiledNetwork network = build(theirs.Batch);
    if (network.InputShape.ToString() != theirs.Input)
    {
        throw new InvalidOperationException($"{name}: the peer's network takes {theirs.Input}, ours {network.InputShape}.");
    }

    int batch = network.BatchSize;
    float[] images = RandomImages(batch * (int)network.InputShape.Elements);
    var random = new Random(2);
    int[] labels = Enumerable.Range(0, batch * labelsPerImage).Select(_ => random.Next(classes)).ToArray();
    var adam = new Adam(1e-3f);
    PairedSeconds train = Pair(() => network.TrainStep(images, labels, adam), name, "train");
    PairedSeconds inference = Pair(() => network.Forward(images), name, "infer");
    Console.WriteLine($"{name,-10} {batch,5} {Row(train, batch)}   {Row(inference, batch)}");
}

// The peer warms its step up before the first pair (a request of 0 s), as Paired warms ours up.
PairedSeconds Pair(Action ours, string part, string mode)
{
    peer.SecondsPerCall(part, mode, 0);
    return Timing.Paired(ours, minSeconds => peer.SecondsPerCall(part, mode, minSeconds), warmup: 5, minSeconds: 1.0);
}

static string Row(PairedSeconds timing, int batch) =>
    $"{batch / timing.Ours,11:N0} {batch / timing.Peer,8:N0} {timing.Speedup,5:F2}x {$"({timing.LowestSpeedup:F2}-{timing.HighestSpeedup:F2})",13}";

static float[] RandomImages(int length)
{
    var random = new Random(1);
    return Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
}

// Images per second: the median time per call (median of 7 repeats of at least a second each, after 5 warm-up calls).
static double MedianRate(Action step, int batch) => batch / Timing.MedianSeconds(step, warmup: 5, minSeconds: 1.0);

/// <summary>bench/peer.py's report; property names are its keys in PascalCase.</summary>
internal sealed record PeerReport(
    string Torch,
    int Threads,
    int Batch,
    string Dtype,
    PeerBlas Blas,
    IReadOnlyDictionary<string, PeerNetwork> Networks,
    [property: JsonPropertyName("qtips_class_weights")] float[] QtipsClassWeights,
    [property: JsonPropertyName("matmul_2048_gflops")] double Matmul2048Gflops,
    PeerImplicit Implicit);

/// <summary>What one of the peer's networks computes: its input shape, batch and parameter count.</summary>
internal sealed record PeerNetwork(string Input, int Batch, long Parameters);

/// <summary>The BLAS torch loaded (peer.py loaded_blas); the OpenBLAS fields are null for another BLAS.</summary>
internal sealed record PeerBlas(
    IReadOnlyList<string> Libraries, string? OpenblasConfig = null, string? OpenblasCore = null, string? OpenblasThreading = null, int? OpenblasThreads = null);

/// <summary>The peer's implicit solve problem.</summary>
internal sealed record PeerImplicit(string Shape, int Kernel, int Groups, float Step);
