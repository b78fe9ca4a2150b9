using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace NetCompiler.Bench;

/// <summary>
/// bench/gpu_peer.py's output; property names are its keys in PascalCase. Device is "cuda", "cpu" (a check of the script)
/// or null: no figures, and the Reason.
/// </summary>
internal sealed record GpuPeerReport(
    string? Device,
    string? Reason = null,
    string? Torch = null,
    string? Cudnn = null,
    string? Gpu = null,
    IReadOnlyList<GpuPeerNetwork>? Networks = null,
    IReadOnlyList<GpuPeerConv>? Conv = null)
{
    /// <exception cref="InvalidDataException">The file holds null or not such a report.</exception>
    public static GpuPeerReport Read(string path)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            RespectRequiredConstructorParameters = true,
            RespectNullableAnnotations = true,
        };
        try
        {
            return JsonSerializer.Deserialize<GpuPeerReport>(File.ReadAllText(path), options)
                ?? throw new InvalidDataException($"{path}: holds null, not a peer report.");
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{path}: not a report of bench/gpu_peer.py ({exception.Message}).", exception);
        }
    }
}

/// <summary>One network at one batch size: its parameter count (to check it is ours) and images/s.</summary>
internal sealed record GpuPeerNetwork(string Name, int Batch, long Parameters, double TrainImagesPerS, double InferenceImagesPerS);

/// <summary>cuDNN's GFLOP/s on one conv shape (<see cref="ConvThroughput.ShapeName"/>) at one batch size.</summary>
internal sealed record GpuPeerConv(string Shape, int Batch, double ForwardGflops, double BackwardDataGflops, double BackwardWeightGflops);
