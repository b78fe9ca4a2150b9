using System;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>
/// The IMEX implicit solve (I + h C^T C)^-1 R on the peer's tensor (bench/peer.py IMPLICIT_SHAPE: 8 x 32 x 64 x 64,
/// depthwise 3x3, h = 1): the solve alone, and forward + backward (gradients for the rhs and the weight), in ms per
/// call against the peer's torch.fft version. Same timing as the peer: median of repeats of at least a second.
/// </summary>
internal static class ImplicitSolveBench
{
    private const int Images = 8;
    private const float Step = 1f;
    private const int Repeats = 7;

    public static void Report(PeerImplicit peer)
    {
        string shape = $"{Images}x{ImplicitBenchShape.Channels}x{ImplicitBenchShape.Height}x{ImplicitBenchShape.Width}";
        if (peer.Shape != shape || peer.Kernel != ImplicitBenchShape.Kernel || peer.Groups != ImplicitBenchShape.Groups || peer.Step != Step)
        {
            throw new InvalidOperationException($"The peer solved {peer.Shape}, kernel {peer.Kernel}, groups {peer.Groups}, h = {peer.Step}; this side solves {shape}, kernel 3, groups 32, h = 1.");
        }

        int size = Images * ImplicitBenchShape.Channels * ImplicitBenchShape.Height * ImplicitBenchShape.Width;
        using var context = new KernelContext(2);
        var random = new Random(1);
        float[] rhs = Random(random, size, 1f), weight = Random(random, ImplicitBenchShape.Channels * 9, 0.5f), upstream = Random(random, size, 1f);
        float[] y = new float[size], drhs = new float[size], dweight = new float[weight.Length];
        double forward = MedianMs(() => ImplicitSolve.Forward<ImplicitBenchShape>(context, rhs, weight, Step, y, Images), Repeats);
        double both = MedianMs(
            () =>
            {
                ImplicitSolve.Forward<ImplicitBenchShape>(context, rhs, weight, Step, y, Images);
                ImplicitSolve.Backward<ImplicitBenchShape>(context, upstream, y, weight, Step, drhs, dweight, Images);
            },
            Repeats);

        Console.WriteLine($"IMEX implicit solve, {peer.Shape} depthwise {peer.Kernel}x{peer.Kernel}, h = {peer.Step}: ms per call, median of {Repeats}");
        Console.WriteLine($"{"",-18} {"ours",9} {"peer",9} {"speed-up",9}");
        Console.WriteLine($"{"forward",-18} {forward,9:F3} {peer.ForwardMs,9:F3} {peer.ForwardMs / forward,8:F2}x");
        Console.WriteLine($"{"forward+backward",-18} {both,9:F3} {peer.ForwardBackwardMs,9:F3} {peer.ForwardBackwardMs / both,8:F2}x");
    }

    /// <summary>Median ms per call over repeats of at least a second each, after warm-up calls.</summary>
    private static double MedianMs(Action call, int repeats) => 1e3 * Timing.MedianSeconds(call, warmup: 5, minSeconds: 1.0, repeats);

    private static float[] Random(Random random, int length, float scale)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = scale * (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private readonly struct ImplicitBenchShape : IImplicitShape
    {
        public static int Channels => 32; public static int Height => 64; public static int Width => 64; public static int Kernel => 3; public static int Groups => 32;
    }
}
