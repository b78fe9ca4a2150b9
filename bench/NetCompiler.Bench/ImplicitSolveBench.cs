using System;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>
/// The IMEX implicit solve (I + h C^T C)^-1 R on the peer's tensor (bench/peer.py IMPLICIT_SHAPE: 8 x 32 x 64 x 64,
/// depthwise 3x3, h = 1): the solve alone, and forward + backward (gradients for the rhs and the weight), in ms per
/// call against the peer's torch.fft version, each repeat of ours (at least a second) beside one of the peer's.
/// </summary>
internal static class ImplicitSolveBench
{
    private const int Images = 8;
    private const float Step = 1f;
    public static void Report(PeerImplicit peer, PeerProcess peerProcess)
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
        PairedSeconds forward = Pair(() => ImplicitSolve.Forward<ImplicitBenchShape>(context, rhs, weight, Step, y, Images), "forward");
        PairedSeconds both = Pair(
            () =>
            {
                ImplicitSolve.Forward<ImplicitBenchShape>(context, rhs, weight, Step, y, Images);
                ImplicitSolve.Backward<ImplicitBenchShape>(context, upstream, y, weight, Step, drhs, dweight, Images);
            },
            "forward_backward");

        Console.WriteLine($"IMEX implicit solve, {peer.Shape} depthwise {peer.Kernel}x{peer.Kernel}, h = {peer.Step}: ms per call, medians of 7 paired repeats");
        Console.WriteLine($"{"",-18} {"ours",9} {"peer",9} {"speed-up",9} {"(pairs)",13}");
        Console.WriteLine(Row("forward", forward));
        Console.WriteLine(Row("forward+backward", both));

        PairedSeconds Pair(Action ours, string mode)
        {
            peerProcess.SecondsPerCall("implicit", mode, 0); // the peer's warm-up, before the first pair
            return Timing.Paired(ours, minSeconds => peerProcess.SecondsPerCall("implicit", mode, minSeconds), warmup: 5, minSeconds: 1.0);
        }
    }

    private static string Row(string name, PairedSeconds timing) =>
        $"{name,-18} {1e3 * timing.Ours,9:F3} {1e3 * timing.Peer,9:F3} {timing.Speedup,8:F2}x {$"({timing.LowestSpeedup:F2}-{timing.HighestSpeedup:F2})",13}";

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
