using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using NetCompiler;
using NetCompiler.Bench;
using NetCompiler.Ilgpu;

// NetCompiler on a device (bench/gpu.sh runs it after bench/gpu_peer.py, whose JSON it prints beside its own figures):
// images/s of whole networks, training (TrainStep with Adam) and inference (Forward), and DeviceConv2d's GFLOP/s on
// CifarVgg's convolutions as a fraction of the FP32 peak. Both network calls take a host batch and synchronise (the
// loss and the scores come back to the host), as the peer's steps do.
const string Usage = "usage: Gpu [--device cuda|opencl|simulator|best] [--peak-tflops X (67, the H200's FP32 peak without tensor cores)] [--quick] [--peer-json FILE]";
GpuOptions options;
try
{
    options = GpuOptions.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

GpuPeerReport? peer = options.PeerJson is null ? null : GpuPeerReport.Read(options.PeerJson);
using IlgpuDevice device = IlgpuDevice.Create(options.Device);
Schedule schedule = options.Quick ? Schedule.Quick : Schedule.Full;
Console.WriteLine($"device: {device.Description}");
Console.WriteLine($"CPU: {CpuModel()}");
Console.WriteLine(peer switch
{
    null => "peer: not run",
    { Device: null } => $"peer: none ({peer.Reason})",
    { Device: "cuda" } => $"peer: PyTorch {peer.Torch}, cuDNN {peer.Cudnn}, on {peer.Gpu}; TF32 off, cudnn.benchmark on",
    _ => $"peer: PyTorch {peer.Torch} on the {peer.Device} (a check of bench/gpu_peer.py: its figures compare nothing)",
});
if (device.Kind == DeviceKind.Simulator)
{
    if (!options.Quick)
    {
        Console.Error.WriteLine("The simulator runs one CPU thread per GPU thread: the full sizes would take hours there. Pass --quick, or run where there is a GPU.");
        return 1;
    }

    Console.WriteLine("NOTE: this is ILGPU's simulator (one CPU thread per GPU thread): the figures below only show that the benchmark runs; they measure nothing.");
}

Console.WriteLine();
Console.WriteLine($"Networks, float32, images/s: median of {schedule.Repeats} repeats of at least {schedule.MinSeconds} s after {schedule.Warmup} warm-up calls; "
    + "host batch in, loss or scores back on the host");
Console.WriteLine($"{"Network",-16} {"Batch",5} {"Params",10}   {"Train ours",10} {"Train torch",11} {"ratio",6}   {"Infer ours",10} {"Infer torch",11} {"ratio",6}");
foreach (NetworkBenchmark network in NetworkBenchmark.All(options.Quick))
{
    var clock = Stopwatch.StartNew();
    Console.Error.Write($"gpu: measuring {network.Name} at batch {network.Batch} ...");
    (double train, double inference) = network.Measure(device, schedule);
    Console.Error.WriteLine($" {clock.Elapsed.TotalSeconds:F0} s");
    GpuPeerNetwork? theirs = peer?.Networks?.FirstOrDefault(entry => entry.Name == network.Name && entry.Batch == network.Batch);
    Console.WriteLine($"{network.Name,-16} {network.Batch,5} {network.Parameters,10:N0}   {Figure(train),10} {Figure(theirs?.TrainImagesPerS),11} {Ratio(train, theirs?.TrainImagesPerS),6}   "
        + $"{Figure(inference),10} {Figure(theirs?.InferenceImagesPerS),11} {Ratio(inference, theirs?.InferenceImagesPerS),6}");
    if (theirs is not null && theirs.Parameters != network.Parameters)
    {
        Console.WriteLine($"  WARNING: the peer's {network.Name} has {theirs.Parameters:N0} parameters, ours {network.Parameters:N0}: not the same network");
    }
}

int convBatch = options.Quick ? 1 : 256;
double peakGflops = options.PeakTflops * 1e3;
Console.WriteLine();
Console.WriteLine($"DeviceConv2d on CifarVgg's convolutions, batch {convBatch}: GFLOP/s (2 n OutC OutH OutW InC K K per call), % of {options.PeakTflops} TFLOP/s FP32 peak, "
    + $"ratio to cuDNN; median of {schedule.Repeats}, {schedule.LaunchesPerSync} launches per synchronisation");
Console.WriteLine($"{"Shape",-13} {"GFLOP",7}   {"Forward",8} {"peak",5} {"cuDNN",8} {"ratio",5}   {"BwdData",8} {"peak",5} {"cuDNN",8} {"ratio",5}   {"BwdWgt",8} {"peak",5} {"cuDNN",8} {"ratio",5}");
var convClock = Stopwatch.StartNew();
Console.Error.Write($"gpu: measuring the convolutions at batch {convBatch} ...");
IReadOnlyList<ConvFigure> convs = ConvThroughput.Measure(device, convBatch, schedule);
Console.Error.WriteLine($" {convClock.Elapsed.TotalSeconds:F0} s");
GpuPeerConv?[] peerConvs = convs.Select(conv => peer?.Conv?.FirstOrDefault(entry => entry.Shape == conv.Shape && entry.Batch == conv.Batch)).ToArray();
for (int i = 0; i < convs.Count; i++)
{
    ConvFigure conv = convs[i];
    GpuPeerConv? theirs = peerConvs[i];
    Console.WriteLine($"{conv.Shape,-13} {conv.Flops / 1e9,7:G3}   {ConvCells(conv.ForwardGflops, theirs?.ForwardGflops)}   "
        + $"{ConvCells(conv.BackwardDataGflops, theirs?.BackwardDataGflops)}   {ConvCells(conv.BackwardWeightGflops, theirs?.BackwardWeightGflops)}");
}

// All six as one workload, each shape weighted by its FLOPs (the time they take together), as a training step sees them.
double totalFlops = convs.Sum(conv => conv.Flops);
double Overall(Func<int, double> gflops) => totalFlops / Enumerable.Range(0, convs.Count).Sum(i => convs[i].Flops / gflops(i));
double? PeerOverall(Func<GpuPeerConv, double> gflops) => peerConvs.All(theirs => theirs is not null) ? Overall(i => gflops(peerConvs[i]!)) : null;
Console.WriteLine($"{"all six",-13} {totalFlops / 1e9,7:G3}   {ConvCells(Overall(i => convs[i].ForwardGflops), PeerOverall(theirs => theirs.ForwardGflops))}   "
    + $"{ConvCells(Overall(i => convs[i].BackwardDataGflops), PeerOverall(theirs => theirs.BackwardDataGflops))}   "
    + $"{ConvCells(Overall(i => convs[i].BackwardWeightGflops), PeerOverall(theirs => theirs.BackwardWeightGflops))}");
Console.WriteLine("aims (issue 15): conv at batch 256 at 40% or more of the FP32 peak; training within 1.5x of PyTorch+cuDNN (ratio 0.67 or more)");
return 0;

string ConvCells(double ours, double? theirs) => $"{Figure(ours),8} {ours / peakGflops,5:P0} {Figure(theirs),8} {Ratio(ours, theirs),5}";

// Whole numbers, but three significant digits below 100 (the simulator's figures).
static string Figure(double? value) => value switch
{
    null => "-",
    >= 100 => value.Value.ToString("N0", CultureInfo.InvariantCulture),
    _ => value.Value.ToString("G3", CultureInfo.InvariantCulture),
};

static string Ratio(double ours, double? theirs) => theirs is double figure && figure > 0
    ? (ours / figure).ToString(ours / figure < 0.01 ? "G2" : "F2", CultureInfo.InvariantCulture) + "x"
    : "-";

// lscpu's "Model name", else /proc/cpuinfo's.
static string CpuModel()
{
    try
    {
        using Process lscpu = Process.Start(new ProcessStartInfo("lscpu") { RedirectStandardOutput = true })!;
        string? line = lscpu.StandardOutput.ReadToEnd().Split('\n').FirstOrDefault(line => line.TrimStart().StartsWith("Model name:", StringComparison.Ordinal));
        lscpu.WaitForExit();
        if (line is not null)
        {
            return line[(line.IndexOf(':') + 1)..].Trim();
        }
    }
    catch (System.ComponentModel.Win32Exception)
    {
        // no lscpu: fall back on the kernel's list
    }

    string? model = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal)) : null;
    return model is null ? "unknown" : model[(model.IndexOf(':') + 1)..].Trim();
}
