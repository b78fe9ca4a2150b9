using System;
using System.Diagnostics;
using System.Linq;
using NetCompiler;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>
/// `--dispatch`: what a parallel region costs. An empty region's round trip on 1 and 2 threads (at 1 the job runs
/// inline), then LeNet-5's training step and inference at batch 64 on 2 threads, with its regions per call
/// (KernelContext.ParallelRegions) and their share of the call at the empty region's cost, and the same calls on one
/// thread, which dispatch nothing.
/// </summary>
internal static class DispatchBench
{
    private const int Batch = 64;

    public static void Report()
    {
        Console.WriteLine($"Empty parallel region: {EmptyRegionMicroseconds(1):F2} us on 1 thread, {EmptyRegionMicroseconds(2):F2} us on 2");
        Console.WriteLine($"Thread.SpinWait(1): {SpinWaitNanoseconds():F1} ns");
        double region = EmptyRegionMicroseconds(2);
        Console.WriteLine();
        Console.WriteLine($"LeNet-5 batch {Batch}        {"images/s",10} {"us/call",9} {"regions",8} {"dispatch",9}");
        var random = new Random(1);
        float[] images = Enumerable.Range(0, Batch * LeNet5.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(_ => random.Next(10)).ToArray();
        foreach (int threads in new[] { 2, 1 })
        {
            using var lenet = new LeNet5(Batch, seed: 1, threads: threads);
            var adam = new Adam(1e-3f);
            Row(lenet, $"train, {threads} thread{(threads > 1 ? "s" : "")}", () => lenet.TrainStep(images, labels, adam), region);
            Row(lenet, $"infer, {threads} thread{(threads > 1 ? "s" : "")}", () => lenet.Forward(images), region);
        }
    }

    private static void Row(LeNet5 network, string name, Action call, double regionMicroseconds)
    {
        double seconds = Timing.MedianSeconds(call, warmup: 5, minSeconds: 1.0);
        long before = network.KernelContext.ParallelRegions;
        call();
        long regions = network.KernelContext.ParallelRegions - before;
        double microseconds = seconds * 1e6;
        Console.WriteLine($"{name,-25} {Batch / seconds,10:N0} {microseconds,9:F0} {regions,8} {regions * regionMicroseconds / microseconds,9:P1}");
    }

    /// <summary>Median microseconds of an empty region over 7 repeats of at least 0.2 s.</summary>
    private static double EmptyRegionMicroseconds(int threads)
    {
        using var context = new KernelContext(threads);
        var job = new EmptyJob();
        return 1e6 * Timing.MedianSeconds(() => context.For(threads, ref job), warmup: 1000, minSeconds: 0.2);
    }

    private static double SpinWaitNanoseconds()
    {
        const int Calls = 100_000;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Calls; i++)
        {
            System.Threading.Thread.SpinWait(1);
        }

        return clock.Elapsed.TotalNanoseconds / Calls;
    }

    private struct EmptyJob : IParallelJob
    {
        public readonly void Execute(int begin, int end, int thread)
        {
        }
    }
}
