using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>
/// The machine and the kernels alone: the CPU model, its FMA peak (a probe of independent FMA chains on every thread),
/// NetCompiler's own GEMM at 2048^3 and each convolution of the VGG-style CIFAR net at batch 64 in GFLOP/s (median of
/// 7 repeats) and as a share of the FMA peak. A share pairs each repeat with one of the FMA probe on the same threads
/// (Timing.Paired) and takes the median of the pairs' ratios: a neighbour on a shared machine slows both sides of a
/// pair, where a peak probed minutes before would make every share read low.
/// </summary>
internal static unsafe class KernelThroughput
{
    // Independent accumulators per thread: an FMA's latency (about 4 cycles) times its ports (2) is the 8 in flight a
    // core needs to issue one per port per cycle; 12 leave slack and, with m and a, fit AVX2's 16 registers.
    private const int Chains = 12;
    // About 40 ms per chain set, so a late start of one thread (a busy machine) costs the peak little.
    private const int ProbeIterations = 1 << 24;

    /// <summary>The CPU as lscpu names it ('Model name', from /proc/cpuinfo), with its family, model and stepping.</summary>
    public static string CpuModel()
    {
        const string CpuInfo = "/proc/cpuinfo";
        if (!File.Exists(CpuInfo))
        {
            return $"unknown ({CpuInfo} not found)";
        }

        string[] lines = File.ReadAllLines(CpuInfo);
        string Field(string name) => lines.FirstOrDefault(line => line.StartsWith(name, StringComparison.Ordinal) && line[name.Length..].TrimStart().StartsWith(':'))
            ?.Split(':', 2)[1].Trim() ?? "?";
        return $"{Field("model name")} (family {Field("cpu family")}, model {Field("model")}, stepping {Field("stepping")})";
    }

    /// <summary>The load averages over 1, 5 and 15 minutes (/proc/loadavg, as uptime prints them): other processes on these cores.</summary>
    public static string LoadAverage()
    {
        const string LoadAverages = "/proc/loadavg";
        return File.Exists(LoadAverages) ? string.Join(", ", File.ReadAllText(LoadAverages).Split(' ')[..3]) : $"unknown ({LoadAverages} not found)";
    }

    /// <summary>
    /// The FMA peak of <paramref name="threads"/> threads in GFLOP/s, on the widest vectors the kernels use here, and
    /// that width's name. Each thread runs <see cref="Chains"/> independent chains c = c * m + a; an FMA counts 2 FLOPs
    /// per lane. The fastest of 7 repeats, as a peak is the best the machine does.
    /// </summary>
    public static (double Gflops, string Width) FmaPeak(int threads) =>
        Vector512.IsHardwareAccelerated ? (FmaPeak<Simd512, Vector512<float>>(threads), "AVX-512")
        : Vector256.IsHardwareAccelerated ? (FmaPeak<Simd256, Vector256<float>>(threads), "AVX2")
        : (FmaPeak<SimdScalar, float>(threads), "scalar");

    private static double FmaPeak<S, TVector>(int threads)
        where S : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        using var context = new KernelContext(threads);
        float* sinks = (float*)NativeMemory.Alloc((nuint)threads, sizeof(float));
        try
        {
            var probe = new FmaProbe<S, TVector> { Sinks = sinks };
            double seconds = Timing.FastestSeconds(() => context.For(threads, ref probe), warmup: 1, minSeconds: 0.2);
            return 2.0 * threads * ProbeIterations * Chains * S.Count / seconds / 1e9;
        }
        finally
        {
            NativeMemory.Free(sinks);
        }
    }

    /// <summary>
    /// GEMM and convolution throughput as shares of the FMA peak probed beside them; the GEMM also against
    /// <paramref name="peerSgemmGflops"/>, the peer's 2048^3 SGEMM, when the peer ran.
    /// </summary>
    public static void Report(double? peerSgemmGflops)
    {
        using var context = new KernelContext(2);
        var probe = FmaPairing.Create(context);
        const int size = 2048;
        float[] a = Random(size * size, 1), b = Random(size * size, 2), c = new float[size * size];
        (double gemm, double gemmShare) = probe.Rate(() => Gemm.Multiply(context, a, false, b, false, c, size, size, size), 2.0 * size * size * size);
        Console.WriteLine($"GEMM 2048^3: {gemm:F1} GFLOP/s = {gemmShare:P0} of the FMA peak"
            + (peerSgemmGflops is double peer ? $", {gemm / peer:P0} of the peer's SGEMM ({peer:F1})" : ""));
        Console.WriteLine();
        Console.WriteLine($"{"Conv (batch 64)",-24} {"forward",14} {"backward data",14} {"backward weight",16}   GFLOP/s, median of 7 (median share of the FMA peak beside it)");
        Conv<Conv3To32>(context, probe);
        Conv<Conv32To32>(context, probe);
        Conv<Conv32To64>(context, probe);
        Conv<Conv64To64>(context, probe);
        Conv<Conv64To128>(context, probe);
        Conv<Conv128To128>(context, probe);
    }

    private static void Conv<S>(KernelContext context, FmaPairing probe)
        where S : struct, IConvShape
    {
        const int n = 64;
        int inputSize = S.InChannels * S.InHeight * S.InWidth, outputSize = S.OutChannels * S.OutHeight * S.OutWidth;
        float[] x = Random(n * inputSize, 1), w = Random(S.OutChannels * S.InChannels / S.Groups * S.Kernel * S.Kernel, 2);
        float[] bias = new float[S.OutChannels], y = new float[n * outputSize], dx = new float[x.Length], dw = new float[w.Length];
        double flops = 2.0 * n * outputSize * (S.InChannels / S.Groups) * S.Kernel * S.Kernel;
        string Rate(Action pass)
        {
            (double gflops, double share) = probe.Rate(pass, flops);
            return $"{gflops,6:F1} ({share,4:P0})";
        }

        string forward = Rate(() => Conv2d.Forward<S>(context, x, w, bias, y, n, Activation.Relu));
        string data = Rate(() => Conv2d.BackwardData<S>(context, y, w, dx, n));
        string weight = Rate(() => Conv2d.BackwardWeight<S>(context, x, y, dw, bias, n));
        string name = $"{S.InChannels}->{S.OutChannels} {S.InHeight}x{S.InWidth} 3x3";
        Console.WriteLine($"{name,-24} {forward,14} {data,14} {weight,16}");
    }

    /// <summary>The FMA probe on a context's threads, one repeat at a time, to pair with a kernel's repeats.</summary>
    private sealed class FmaPairing(Func<double, double> repeatSeconds, double flopsPerCall)
    {
        public static FmaPairing Create(KernelContext context) =>
            Vector512.IsHardwareAccelerated ? Create<Simd512, Vector512<float>>(context)
            : Vector256.IsHardwareAccelerated ? Create<Simd256, Vector256<float>>(context)
            : Create<SimdScalar, float>(context);

        /// <summary>The kernel's median GFLOP/s over 7 repeats, and the median over the pairs of its GFLOP/s over the probe's.</summary>
        public (double Gflops, double Share) Rate(Action pass, double flops)
        {
            PairedSeconds timing = Timing.Paired(pass, repeatSeconds, warmup: 1, minSeconds: 0.2);
            return (flops / timing.Ours / 1e9, timing.Speedup * flops / flopsPerCall);
        }

        private static FmaPairing Create<S, TVector>(KernelContext context)
            where S : unmanaged, ISimd<TVector>
            where TVector : unmanaged
        {
            int threads = context.ThreadCount;
            float[] sinks = GC.AllocateArray<float>(threads, pinned: true);
            var probe = new FmaProbe<S, TVector> { Sinks = (float*)Unsafe.AsPointer(ref sinks[0]) };
            context.For(threads, ref probe); // warm-up, and the sinks stay reachable through the closure below
            return new FmaPairing(
                minSeconds => Timing.RepeatSeconds(() => { GC.KeepAlive(sinks); context.For(threads, ref probe); }, minSeconds),
                2.0 * threads * ProbeIterations * Chains * S.Count);
        }
    }

    /// <summary>Each index runs the chains once and stores their sum, so the JIT cannot drop them.</summary>
    private struct FmaProbe<S, TVector> : IParallelJob
        where S : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        public float* Sinks;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int index = begin; index < end; index++)
            {
                Sinks[index] = Run();
            }
        }

        private static float Run()
        {
            // c -> c * m + a has its fixed point at a / (1 - m) = 1, so the chains stay finite and normal; distinct
            // starting values keep the JIT from merging them.
            TVector m = S.Broadcast(1 - 1e-7f), a = S.Broadcast(1e-7f);
            TVector c0 = S.Broadcast(1), c1 = S.Broadcast(2), c2 = S.Broadcast(3), c3 = S.Broadcast(4), c4 = S.Broadcast(5), c5 = S.Broadcast(6);
            TVector c6 = S.Broadcast(7), c7 = S.Broadcast(8), c8 = S.Broadcast(9), c9 = S.Broadcast(10), c10 = S.Broadcast(11), c11 = S.Broadcast(12);
            for (int i = 0; i < ProbeIterations; i++)
            {
                c0 = S.MultiplyAdd(c0, m, a); c1 = S.MultiplyAdd(c1, m, a); c2 = S.MultiplyAdd(c2, m, a); c3 = S.MultiplyAdd(c3, m, a);
                c4 = S.MultiplyAdd(c4, m, a); c5 = S.MultiplyAdd(c5, m, a); c6 = S.MultiplyAdd(c6, m, a); c7 = S.MultiplyAdd(c7, m, a);
                c8 = S.MultiplyAdd(c8, m, a); c9 = S.MultiplyAdd(c9, m, a); c10 = S.MultiplyAdd(c10, m, a); c11 = S.MultiplyAdd(c11, m, a);
            }

            TVector sum = S.Add(S.Add(S.Add(c0, c1), S.Add(c2, c3)), S.Add(S.Add(S.Add(c4, c5), S.Add(c6, c7)), S.Add(S.Add(c8, c9), S.Add(c10, c11))));
            float* lanes = stackalloc float[S.Count];
            S.Store(lanes, sum);
            return lanes[0];
        }
    }

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
