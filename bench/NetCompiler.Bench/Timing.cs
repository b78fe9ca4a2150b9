using System;
using System.Diagnostics;
using System.Linq;

namespace NetCompiler.Bench;

/// <summary>
/// How every figure here is timed: repeats of at least a given time, each timing as many calls as fit (as peer.py times
/// the peer), their median or fastest alone, or paired repeat by repeat with another side's.
/// </summary>
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

    /// <summary>
    /// Ours against the peer, repeat beside repeat: <paramref name="repeats"/> pairs of one repeat of
    /// <paramref name="ours"/> and one of <paramref name="peerRepeat"/> (which times the peer's step for at least the
    /// seconds it is given and returns its seconds per call), who goes first alternating, after
    /// <paramref name="warmup"/> calls of ours (the peer warms itself up). A pair's two repeats see the same neighbours
    /// on a shared machine, so the median of the pairs' speed-ups holds still where two medians taken minutes apart
    /// do not.
    /// </summary>
    public static PairedSeconds Paired(Action ours, Func<double, double> peerRepeat, int warmup, double minSeconds, int repeats = 7)
    {
        if (repeats % 2 == 0)
        {
            throw new ArgumentException($"Pairs need an odd number of repeats for a median, not {repeats}.", nameof(repeats));
        }

        for (int i = 0; i < warmup; i++)
        {
            ours();
        }

        var oursSeconds = new double[repeats];
        var peerSeconds = new double[repeats];
        for (int pair = 0; pair < repeats; pair++)
        {
            if (pair % 2 == 0)
            {
                oursSeconds[pair] = RepeatSeconds(ours, minSeconds);
                peerSeconds[pair] = peerRepeat(minSeconds);
            }
            else
            {
                peerSeconds[pair] = peerRepeat(minSeconds);
                oursSeconds[pair] = RepeatSeconds(ours, minSeconds);
            }
        }

        double[] speedups = peerSeconds.Zip(oursSeconds, (peer, our) => peer / our).Order().ToArray();
        return new PairedSeconds(Median(oursSeconds), Median(peerSeconds), speedups[repeats / 2], speedups[0], speedups[^1]);
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
            seconds[repeat] = RepeatSeconds(call, minSeconds);
        }

        Array.Sort(seconds);
        return seconds;
    }

    /// <summary>Seconds per call of one repeat: <paramref name="call"/> run for at least <paramref name="minSeconds"/>.</summary>
    public static double RepeatSeconds(Action call, double minSeconds)
    {
        int calls = 0;
        var clock = Stopwatch.StartNew();
        do
        {
            call();
            calls++;
        }
        while (clock.Elapsed.TotalSeconds < minSeconds);
        return clock.Elapsed.TotalSeconds / calls;
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}

/// <summary>
/// Paired repeats (<see cref="Timing.Paired"/>): each side's median seconds per call, and the median, lowest and
/// highest of the pairs' speed-ups (the peer's seconds over ours).
/// </summary>
internal readonly record struct PairedSeconds(double Ours, double Peer, double Speedup, double LowestSpeedup, double HighestSpeedup);
