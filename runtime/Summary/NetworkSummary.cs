using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace NetCompiler;

/// <summary>The shape of one image's activations: C x H x W, or a flat vector after a dense layer.</summary>
public readonly record struct TensorShape(int Channels, int Height, int Width, bool IsFlat)
{
    public static TensorShape Image(int channels, int height, int width) => new(channels, height, width, IsFlat: false);

    public static TensorShape Flat(int features) => new(features, 1, 1, IsFlat: true);

    /// <summary>Floats per image.</summary>
    public long Elements => (long)Channels * Height * Width;

    public override string ToString() => IsFlat
        ? Channels.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Channels}x{Height}x{Width}");
}

/// <summary>
/// One row of a network summary. <paramref name="Name"/> is the checkpoint key prefix; figures are per image;
/// <paramref name="ReceptiveField"/> is in input pixels, null where every output sees the whole input.
/// </summary>
public sealed record LayerSummary(
    string Name,
    string Kind,
    TensorShape Output,
    long Parameters,
    long MultiplyAccumulates,
    long ActivationBytes,
    long? ReceptiveField);

/// <summary>
/// The per-layer table of a compiled network: output shape, parameters, multiply-accumulates, activation memory
/// and receptive field, exact figures computed by the generator at build time.
/// </summary>
public sealed class NetworkSummary
{
    /// <param name="inferenceBytesPerImage">Planned storage per image of an evaluation-mode forward pass alone.</param>
    /// <param name="trainingBytesPerImage">Planned storage per image of a network instance (training included).</param>
    public NetworkSummary(string networkName, TensorShape input, IReadOnlyList<LayerSummary> layers, long inferenceBytesPerImage = 0, long trainingBytesPerImage = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A network has at least one layer.", nameof(layers));
        }

        NetworkName = networkName;
        Input = input;
        Layers = layers;
        ParameterCount = layers.Sum(layer => layer.Parameters);
        MultiplyAccumulates = layers.Sum(layer => layer.MultiplyAccumulates);
        ActivationBytes = layers.Sum(layer => layer.ActivationBytes);
        InferenceBytesPerImage = inferenceBytesPerImage;
        TrainingBytesPerImage = trainingBytesPerImage;
    }

    public string NetworkName { get; }

    public TensorShape Input { get; }

    public TensorShape Output => Layers[^1].Output;

    public IReadOnlyList<LayerSummary> Layers { get; }

    /// <summary>Trainable parameters (running statistics are buffers and not counted, as in PyTorch).</summary>
    public long ParameterCount { get; }

    /// <summary>Multiply-accumulates of one image's forward pass (convolutions and dense products).</summary>
    public long MultiplyAccumulates { get; }

    /// <summary>Bytes of every layer's output for one image, float32.</summary>
    public long ActivationBytes { get; }

    /// <summary>
    /// Storage per image the memory plan gives an evaluation-mode forward pass alone: buffers whose lifetimes do not
    /// overlap share memory, so this is below the sum of the layers' activations.
    /// </summary>
    public long InferenceBytesPerImage { get; }

    /// <summary>Storage per image the memory plan gives a network instance: forward, backward and their saved state.</summary>
    public long TrainingBytesPerImage { get; }

    /// <summary>The summary as an aligned table, one row per layer and a total.</summary>
    public override string ToString()
    {
        string[] header = ["Layer", "Kind", "Output", "Params", "MACs", "Act KB", "RF"];
        var rows = new List<string[]> { header };
        rows.AddRange(Layers.Select(layer => new[]
        {
            layer.Name, layer.Kind, layer.Output.ToString(), Count(layer.Parameters), Count(layer.MultiplyAccumulates),
            Kilobytes(layer.ActivationBytes), layer.ReceptiveField?.ToString(CultureInfo.InvariantCulture) ?? "global",
        }));
        rows.Add(["Total", "", "", Count(ParameterCount), Count(MultiplyAccumulates), Kilobytes(ActivationBytes), ""]);

        int[] widths = Enumerable.Range(0, header.Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        text.Append(NetworkName).Append(": input ").Append(Input).Append(", output ").Append(Output).AppendLine();
        foreach (string[] row in rows)
        {
            // Names and kinds read left to right; numbers line up on the right.
            IEnumerable<string> cells = row.Select((cell, column) => column < 2 ? cell.PadRight(widths[column]) : cell.PadLeft(widths[column]));
            text.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }

        if (TrainingBytesPerImage > 0)
        {
            text.Append("Planned memory per image: ").Append(Kilobytes(InferenceBytesPerImage)).Append(" KB inference, ")
                .Append(Kilobytes(TrainingBytesPerImage)).Append(" KB training\n");
        }

        return text.ToString();
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Kilobytes(long bytes) => (bytes / 1024.0).ToString("F2", CultureInfo.InvariantCulture);
}
