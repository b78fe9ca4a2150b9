using System;
using NetCompiler.Ilgpu;

namespace NetCompiler.Bench;

/// <summary>
/// How long each figure is timed: <see cref="Timing.MedianSeconds"/>'s warm-up calls (the first runs ILGPU's JIT of
/// every kernel), repeats and minimum seconds per repeat, and how many kernel launches share one synchronisation.
/// </summary>
internal sealed record Schedule(int Warmup, int Repeats, double MinSeconds, int LaunchesPerSync)
{
    /// <summary>The full run: about 5 s per figure on a GPU.</summary>
    public static Schedule Full { get; } = new(Warmup: 3, Repeats: 5, MinSeconds: 0.5, LaunchesPerSync: 10);

    /// <summary>--quick: one timed call per figure and no warm-up, enough to check the benchmark runs (on the simulator, say).</summary>
    public static Schedule Quick { get; } = new(Warmup: 0, Repeats: 1, MinSeconds: 0, LaunchesPerSync: 1);

    /// <summary>Median seconds per call of a call that synchronises itself (a network's Forward or TrainStep).</summary>
    public double Seconds(Action call) => Timing.MedianSeconds(call, Warmup, MinSeconds, Repeats);

    /// <summary>
    /// Median seconds per launch of a call that only launches kernels: <see cref="LaunchesPerSync"/> launches, then
    /// <see cref="IlgpuDevice.Synchronize"/>, so that a synchronisation's latency is not counted against one kernel.
    /// </summary>
    public double KernelSeconds(IlgpuDevice device, Action launch) => Seconds(() =>
    {
        for (int i = 0; i < LaunchesPerSync; i++)
        {
            launch();
        }

        device.Synchronize();
    }) / LaunchesPerSync;
}
