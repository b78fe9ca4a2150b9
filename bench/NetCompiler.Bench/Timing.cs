using System;
using System.Diagnostics;

namespace NetCompiler.Bench;

/// <summary>The one timing method of every figure here, as peer.py times the peer.</summary>
internal static class Timing
{
    /// <summary>
    /// Median seconds per call over <paramref name="repeats"/> repeats of at least <paramref name="minSeconds"/> each,
    /// after <paramref name="warmup"/> calls (JIT tiering, buffers, thread start).
    /// </summary>
    public static double MedianSeconds(Action call, int warmup, double minSeconds, int repeats = 7) =>
        SortedSeconds(call, warmup, minSeconds, repeats)[repeats / 2];

    /// <summary>
    /// The fastest repeat's seconds per call, for a peak: what other processes take from the cores only slows a repeat
    /// down, so the fastest is the closest to what the machine does alone.
    /// </summary>
    public static double FastestSeconds(Action call, int warmup, double minSeconds, int repeats = 7) =>
        SortedSeconds(call, warmup, minSeconds, repeats)[0];

    /// <summary>The fastest and the median repeat's seconds per call, from one set of repeats.</summary>
    public static (double Fastest, double Median) FastestAndMedianSeconds(Action call, int warmup, double minSeconds, int repeats = 7)
    {
        double[] sorted = SortedSeconds(call, warmup, minSeconds, repeats);
        return (sorted[0], sorted[repeats / 2]);
    }

    /// <summary>Seconds per call of each repeat, in ascending order.</summary>
    private static double[] SortedSeconds(Action call, int warmup, double minSeconds, int repeats)
    {
        for (int i = 0; i < warmup; i++)
        {
            call();
        }

        var seconds = new double[repeats];
        for (int repeat = 0; repeat < repeats; repeat++)
        {
            int calls = 0;
            var clock = Stopwatch.StartNew();
            do
            {
                call();
                calls++;
            }
            while (clock.Elapsed.TotalSeconds < minSeconds);
            seconds[repeat] = clock.Elapsed.TotalSeconds / calls;
        }

        Array.Sort(seconds);
        return seconds;
    }
}
