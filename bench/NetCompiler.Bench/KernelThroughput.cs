using System;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>
/// The kernels alone, in GFLOP/s and as a fraction of the machine's practical peak (the peer's 2048^3 SGEMM):
/// NetCompiler's own GEMM at that size, and each convolution of the VGG-style CIFAR net at batch 64. Without a peak
/// (`--kernels`, no peer run) only GFLOP/s.
/// </summary>
internal static class KernelThroughput
{
    public static void Report(double? peakGflops)
    {
        using var context = new KernelContext(2);
        const int size = 2048;
        float[] a = Random(size * size, 1), b = Random(size * size, 2), c = new float[size * size];
        double gemm = 2.0 * size * size * size / Time(() => Gemm.Multiply(context, a, false, b, false, c, size, size, size)) / 1e9;
        Console.WriteLine(peakGflops is double peak ? $"GEMM 2048^3: {gemm:F1} GFLOP/s = {gemm / peak:P0} of the peer's" : $"GEMM 2048^3: {gemm:F1} GFLOP/s");
        Console.WriteLine();
        Console.WriteLine($"{"Conv (batch 64)",-24} {"forward",16} {"backward data",16} {"backward weight",16}   GFLOP/s, share of peak");
        Conv<Conv3To32>(context, peakGflops);
        Conv<Conv32To32>(context, peakGflops);
        Conv<Conv32To64>(context, peakGflops);
        Conv<Conv64To64>(context, peakGflops);
        Conv<Conv64To128>(context, peakGflops);
        Conv<Conv128To128>(context, peakGflops);
    }

    private static void Conv<S>(KernelContext context, double? peakGflops)
        where S : struct, IConvShape
    {
        const int n = 64;
        int inputSize = S.InChannels * S.InHeight * S.InWidth, outputSize = S.OutChannels * S.OutHeight * S.OutWidth;
        float[] x = Random(n * inputSize, 1), w = Random(S.OutChannels * S.InChannels / S.Groups * S.Kernel * S.Kernel, 2);
        float[] bias = new float[S.OutChannels], y = new float[n * outputSize], dx = new float[x.Length], dw = new float[w.Length];
        double flops = 2.0 * n * outputSize * (S.InChannels / S.Groups) * S.Kernel * S.Kernel;
        double forward = flops / Time(() => Conv2d.Forward<S>(context, x, w, bias, y, n, Activation.Relu)) / 1e9;
        double data = flops / Time(() => Conv2d.BackwardData<S>(context, y, w, dx, n)) / 1e9;
        double weight = flops / Time(() => Conv2d.BackwardWeight<S>(context, x, y, dw, bias, n)) / 1e9;
        string name = $"{S.InChannels}->{S.OutChannels} {S.InHeight}x{S.InWidth} 3x3";
        Console.WriteLine($"{name,-24} {Cell(forward, peakGflops),16} {Cell(data, peakGflops),16} {Cell(weight, peakGflops),16}");
    }

    private static string Cell(double gflops, double? peak) => peak is double p ? $"{gflops,6:F1} ({gflops / p,4:P0})" : $"{gflops,6:F1}";

    /// <summary>Median seconds per call over 7 repeats of at least 0.2 s each, after a warm-up call.</summary>
    private static double Time(Action action) => Timing.MedianSeconds(action, warmup: 1, minSeconds: 0.2);

    private static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private readonly struct Conv3To32 : IConvShape
    {
        public static int InChannels => 3; public static int InHeight => 32; public static int InWidth => 32;
        public static int OutChannels => 32; public static int OutHeight => 32; public static int OutWidth => 32;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Conv32To32 : IConvShape
    {
        public static int InChannels => 32; public static int InHeight => 32; public static int InWidth => 32;
        public static int OutChannels => 32; public static int OutHeight => 32; public static int OutWidth => 32;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Conv32To64 : IConvShape
    {
        public static int InChannels => 32; public static int InHeight => 16; public static int InWidth => 16;
        public static int OutChannels => 64; public static int OutHeight => 16; public static int OutWidth => 16;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Conv64To64 : IConvShape
    {
        public static int InChannels => 64; public static int InHeight => 16; public static int InWidth => 16;
        public static int OutChannels => 64; public static int OutHeight => 16; public static int OutWidth => 16;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Conv64To128 : IConvShape
    {
        public static int InChannels => 64; public static int InHeight => 8; public static int InWidth => 8;
        public static int OutChannels => 128; public static int OutHeight => 8; public static int OutWidth => 8;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Conv128To128 : IConvShape
    {
        public static int InChannels => 128; public static int InHeight => 8; public static int InWidth => 8;
        public static int OutChannels => 128; public static int OutHeight => 8; public static int OutWidth => 8;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }
}
