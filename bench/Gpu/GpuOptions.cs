using System;
using System.Globalization;

namespace NetCompiler.Bench;

/// <summary>The command line: --device (best), --peak-tflops (67), --quick, --peer-json FILE.</summary>
internal sealed record GpuOptions(string Device, double PeakTflops, bool Quick, string? PeerJson)
{
    /// <summary>The H200's FP32 peak without tensor cores, TFLOP/s.</summary>
    public const double H200PeakTflops = 67;

    /// <exception cref="ArgumentException">An unknown option, a missing value, another device, or a peak that is not a positive number.</exception>
    public static GpuOptions Parse(string[] args)
    {
        var options = new GpuOptions("best", H200PeakTflops, Quick: false, PeerJson: null);
        for (int i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--device" => options with { Device = KnownDevice(Value(args, ref i)) },
                "--peak-tflops" => options with { PeakTflops = Peak(Value(args, ref i)) },
                "--quick" => options with { Quick = true },
                "--peer-json" => options with { PeerJson = Value(args, ref i) },
                _ => throw new ArgumentException($"'{args[i]}' is not an option."),
            };
        }

        return options;
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");

    private static string KnownDevice(string name) => name is "cuda" or "opencl" or "simulator" or "best"
        ? name
        : throw new ArgumentException($"--device takes cuda, opencl, simulator or best, not '{name}'.");

    private static double Peak(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double tflops) && tflops > 0 && double.IsFinite(tflops)
            ? tflops
            : throw new ArgumentException($"--peak-tflops takes a positive number of TFLOP/s, not '{text}'.");
}
