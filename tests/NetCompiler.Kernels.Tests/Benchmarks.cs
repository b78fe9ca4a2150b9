using System;
using System.Diagnostics;
using Xunit.Abstractions;

namespace NetCompiler.Kernels.Tests;

/// <summary>
/// Throughput figures, not assertions. Runs only with NETCOMPILER_BENCH=1:
/// <c>NETCOMPILER_BENCH=1 dotnet test tests/NetCompiler.Kernels.Tests -c Release --filter Benchmarks --logger "console;verbosity=detailed"</c>.
/// </summary>
public class Benchmarks(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("NETCOMPILER_BENCH") == "1";

    [Fact]
    public void GemmThroughput()
    {
        if (!Enabled)
        {
            return;
        }

        using var context = new KernelContext();
        foreach ((int m, int n, int k) in new[] { (2048, 2048, 2048), (64, 1024, 576), (128, 256, 1152), (1024, 1024, 1024), (64, 4096, 576) })
        {
            float[] a = TestData.Random(m * k, 1), b = TestData.Random(k * n, 2), c = new float[m * n];
            double seconds = Time(() => Gemm.Multiply(context, a, false, b, false, c, m, n, k));
            output.WriteLine($"GEMM {m}x{n}x{k}, {context.ThreadCount} threads: {2.0 * m * n * k / seconds / 1e9:F1} GFLOP/s");
        }
    }

    [Fact]
    public void ConvThroughput()
    {
        if (!Enabled)
        {
            return;
        }

        Report<BenchConv64>(16);
        Report<BenchConv128>(16);
        Report<BenchConvFirst>(16);
    }

    private void Report<S>(int n) where S : struct, IConvShape
    {
        using var context = new KernelContext();
        ConvDims d = ConvDims.Of<S>();
        float[] x = TestData.Random(n * d.InputSize, 1), w = TestData.Random(d.OutChannels * d.InChannels / d.Groups * d.Kernel * d.Kernel, 2);
        float[] bias = new float[d.OutChannels], y = new float[n * d.OutputSize], dx = new float[x.Length], dw = new float[w.Length];
        double flops = 2.0 * n * d.OutputSize * (d.InChannels / d.Groups) * d.Kernel * d.Kernel;
        double forward = Time(() => Conv2d.Forward<S>(context, x, w, bias, y, n, relu: true));
        double data = Time(() => Conv2d.BackwardData<S>(context, y, w, dx, n));
        double weight = Time(() => Conv2d.BackwardWeight<S>(context, x, y, dw, bias, n));
        output.WriteLine($"Conv {typeof(S).Name} n={n}: forward {flops / forward / 1e9:F1}, backward data {flops / data / 1e9:F1}, backward weight {flops / weight / 1e9:F1} GFLOP/s");
    }

    /// <summary>Best of several runs after a warm-up, each run repeated to last at least ~50 ms.</summary>
    internal static double Time(Action action)
    {
        action();
        var watch = Stopwatch.StartNew();
        int repeats = 0;
        do
        {
            action();
            repeats++;
        }
        while (watch.Elapsed.TotalMilliseconds < 50);
        double best = watch.Elapsed.TotalSeconds / repeats;
        for (int run = 0; run < 4; run++)
        {
            watch.Restart();
            for (int i = 0; i < repeats; i++)
            {
                action();
            }

            best = Math.Min(best, watch.Elapsed.TotalSeconds / repeats);
        }

        return best;
    }
}

internal struct BenchConv64 : IConvShape
{
    public static int InChannels => 64; public static int InHeight => 32; public static int InWidth => 32;
    public static int OutChannels => 64; public static int OutHeight => 32; public static int OutWidth => 32;
    public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
}

internal struct BenchConv128 : IConvShape
{
    public static int InChannels => 128; public static int InHeight => 16; public static int InWidth => 16;
    public static int OutChannels => 128; public static int OutHeight => 16; public static int OutWidth => 16;
    public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
}

internal struct BenchConvFirst : IConvShape
{
    public static int InChannels => 3; public static int InHeight => 32; public static int InWidth => 32;
    public static int OutChannels => 32; public static int OutHeight => 32; public static int OutWidth => 32;
    public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
}
