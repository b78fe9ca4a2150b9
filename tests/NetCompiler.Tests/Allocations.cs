using System;
using System.Threading;

namespace NetCompiler.Tests;

/// <summary>
/// Allocation checks over the whole process, since kernels run on worker threads. Other tests allocate meanwhile, so
/// every class that checks joins the <see cref="Alone"/> collection, which xunit runs after the parallel ones with
/// nothing beside it.
/// </summary>
[CollectionDefinition(Alone, DisableParallelization = true)]
public sealed class Allocations
{
    public const string Alone = "whole-process allocation checks";

    /// <summary>
    /// Asserts that <paramref name="action"/>, warmed up (first-use buffers, the first JIT compilations), allocates
    /// nothing on any thread. The runtime and the test host still allocate on their own threads now and then: 168
    /// bytes at a time while tiered compilation promotes hot methods (which goes on for about a second after their
    /// first calls), bursts of up to hundreds of KB from the host. So it takes the least of up to ten tries, 100 ms
    /// apart to outlast such activity: code that allocates in steady state does so on every try.
    /// </summary>
    public static void AssertNone(string what, Action action)
    {
        for (int warmup = 0; warmup < 3; warmup++)
        {
            action();
        }

        const int Tries = 10;
        long least = long.MaxValue;
        for (int attempt = 0; attempt < Tries && least > 0; attempt++)
        {
            if (attempt > 0)
            {
                Thread.Sleep(100);
            }

            long before = GC.GetTotalAllocatedBytes(precise: true);
            action();
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(least == 0, $"{what} allocated {least} bytes (the least of {Tries} tries, all threads).");
    }
}
