using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace NetCompiler.Kernels;

/// <summary>
/// Work run by <see cref="KernelContext.For{TJob}(int, ref TJob)"/>: each participating thread gets one
/// contiguous range of indices. Jobs hold raw pointers (hence <c>unmanaged</c>) so they can be shared
/// with the workers without boxing or pinning objects.
/// </summary>
public interface IParallelJob
{
    /// <summary>Processes indices [<paramref name="begin"/>, <paramref name="end"/>) on thread <paramref name="thread"/>.</summary>
    void Execute(int begin, int end, int thread);
}

/// <summary>
/// Persistent worker threads and per-thread scratch memory shared by every kernel of one network.
/// Work is split statically (thread t always gets the same range for the same count), so results are
/// deterministic for a given thread count. A dispatch allocates nothing on the managed heap.
/// </summary>
/// <remarks>
/// A region is announced by bumping a generation counter the workers spin on, and finished when a pending count
/// reaches zero, which the caller spins on: no lock on the fast path. A thread that has spun for
/// <see cref="SpinMicroseconds"/> without news sleeps on its semaphore, announcing it with a flag that the other side
/// claims (Interlocked.Exchange) before it releases the semaphore, so a sleeper is woken exactly once and a spinner
/// never pays for a release.
/// </remarks>
public sealed unsafe class KernelContext : IDisposable
{
    // How long a thread spins for the next region (a worker) or the end of this one (the caller) before sleeping.
    // A network's kernels follow each other within microseconds, and waking a sleeping thread costs tens of them
    // (more on a loaded machine), so the threads stay awake through a step; a few hundred microseconds of serial
    // work (an optimiser update, the loss) or a pause between steps puts the workers to sleep, leaving the core to
    // others. The old bound, 4000 rounds of Thread.SpinWait(20), spun for up to milliseconds. The spin yields after
    // its first rounds (SpinWait.SpinOnce, never Sleep(1)): on a machine whose cores are taken by other work, the
    // thread being waited for may be queued behind the spinner on the same core (an empty region then took 400 us).
    private const int SpinMicroseconds = 200;
    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly SemaphoreSlim _done = new(0);
    private readonly ScratchSpace _scratch;

    private delegate*<void*, int, int, int, void> _invoke;
    private void* _job;
    private int _count;
    private int _generation;
    private int _pending;
    private int _callerSleeping;
    private Exception? _failure;
    private volatile bool _disposed;
    private bool _running;

    /// <summary>Creates a context with one thread per processor.</summary>
    public KernelContext() : this(Environment.ProcessorCount)
    {
    }

    /// <summary>Creates a context that splits work over <paramref name="threads"/> threads (the caller's included).</summary>
    public KernelContext(int threads)
    {
        Guard.Positive(threads, nameof(threads));
        ThreadCount = threads;
        _scratch = new ScratchSpace(threads);
        _workers = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int thread = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(thread))
            {
                IsBackground = true,
                Name = $"NetCompiler kernel worker {thread}",
            };
            _workers[i].Start();
        }
    }

    /// <summary>Number of threads work is split over, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>How many regions <see cref="For{TJob}"/> has handed to the workers so far (not those it ran inline).</summary>
    public long ParallelRegions { get; private set; }

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>): thread t processes
    /// [RangeStart(count, t, T), RangeStart(count, t + 1, T)). The calling thread takes range 0 and returns when all are done.
    /// Not reentrant: a job must not call <see cref="For{TJob}"/> on the same context.
    /// </summary>
    public void For<TJob>(int count, ref TJob job) where TJob : unmanaged, IParallelJob
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0)
        {
            return;
        }

        int threads = ThreadCount;
        if (threads == 1 || count == 1)
        {
            job.Execute(0, count, 0);
            return;
        }

        if (_running)
        {
            throw new InvalidOperationException("KernelContext.For is not reentrant.");
        }

        fixed (TJob* jobPointer = &job)
        {
            _running = true;
            ParallelRegions++;
            _job = jobPointer;
            _invoke = &Invoke<TJob>;
            _count = count;
            _failure = null;
            _pending = threads - 1;
            StartWorkers();
            try
            {
                job.Execute(0, RangeStart(count, 1, threads), 0);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            AwaitWorkers();
            _job = null;
            _running = false;
        }

        if (_failure is { } failure)
        {
            _failure = null;
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Per-thread scratch memory, in a form parallel jobs can carry.</summary>
    internal ScratchSpace Scratch
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _scratch;
        }
    }

    /// <summary>
    /// First index of thread <paramref name="thread"/>'s range when <paramref name="count"/> items are split over
    /// <paramref name="threads"/>: ceil(count * thread / threads), so when there are fewer items than threads the
    /// low threads (the caller first) get them.
    /// </summary>
    internal static int RangeStart(int count, int thread, int threads) => (int)((((long)count * thread) + threads - 1) / threads);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        StartWorkers();
        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        foreach (SemaphoreSlim wake in _wake)
        {
            wake.Dispose();
        }

        _done.Dispose();
        _scratch.Free();
    }

    private static void Invoke<TJob>(void* job, int begin, int end, int thread) where TJob : unmanaged, IParallelJob =>
        ((TJob*)job)->Execute(begin, end, thread);

    /// <summary>Publishes the region (the increment is a full fence after the job's fields) and wakes the sleepers.</summary>
    private void StartWorkers()
    {
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _sleeping.Length; i++)
        {
            if (Volatile.Read(ref _sleeping[i]) != 0 && Interlocked.Exchange(ref _sleeping[i], 0) != 0)
            {
                _wake[i].Release();
            }
        }
    }

    /// <summary>Spins until every worker has finished the region, then sleeps until the last one wakes the caller.</summary>
    private void AwaitWorkers()
    {
        while (Volatile.Read(ref _pending) != 0)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            var spinner = default(SpinWait);
            while (Volatile.Read(ref _pending) != 0 && Stopwatch.GetTimestamp() < deadline)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            // A worker still leaving the previous region may claim the flag and wake the caller early: the loop
            // re-checks the count.
            Interlocked.Exchange(ref _callerSleeping, 1);
            if (Volatile.Read(ref _pending) != 0 || Interlocked.Exchange(ref _callerSleeping, 0) == 0)
            {
                _done.Wait();
            }
        }
    }

    private void WorkerLoop(int thread)
    {
        int seen = 0;
        while (true)
        {
            seen = AwaitRegion(thread - 1, seen);
            if (_disposed)
            {
                return;
            }

            int count = _count;
            int begin = RangeStart(count, thread, ThreadCount), end = RangeStart(count, thread + 1, ThreadCount);
            try
            {
                if (begin < end)
                {
                    _invoke(_job, begin, end, thread);
                }
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, exception, null);
            }

            if (Interlocked.Decrement(ref _pending) == 0
                && Volatile.Read(ref _callerSleeping) != 0 && Interlocked.Exchange(ref _callerSleeping, 0) != 0)
            {
                _done.Release();
            }
        }
    }

    /// <summary>Worker <paramref name="worker"/> spins for a generation after <paramref name="seen"/>, then sleeps for it; returns it.</summary>
    private int AwaitRegion(int worker, int seen)
    {
        while (true)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            var spinner = default(SpinWait);
            int generation;
            while ((generation = Volatile.Read(ref _generation)) == seen && Stopwatch.GetTimestamp() < deadline)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }

            if (generation != seen)
            {
                return generation;
            }

            // Raise the flag, then look again: the caller bumps the generation before it reads the flags, so either
            // this sees the new generation or the caller sees the flag. If the caller claimed the flag first, its
            // release is on its way and must be consumed.
            Interlocked.Exchange(ref _sleeping[worker], 1);
            if (Volatile.Read(ref _generation) == seen || Interlocked.Exchange(ref _sleeping[worker], 0) == 0)
            {
                _wake[worker].Wait();
            }
        }
    }
}

/// <summary>
/// Scratch memory private to each thread, 64-byte aligned native memory. A block grows on demand and never
/// shrinks, so steady-state calls reuse it; contents are not preserved across a call that grows it.
/// Only thread t (or the caller between dispatches) touches block t.
/// </summary>
internal readonly unsafe struct ScratchSpace
{
    private readonly Block* _blocks;

    public ScratchSpace(int threads)
    {
        _blocks = (Block*)NativeMemory.AllocZeroed((nuint)threads, (nuint)sizeof(Block));
        ThreadCount = threads;
    }

    public int ThreadCount { get; }

    /// <summary>Thread <paramref name="thread"/>'s block, at least <paramref name="floats"/> long.</summary>
    public float* Get(int thread, nint floats)
    {
        Block* block = _blocks + thread;
        nint bytes = floats * sizeof(float);
        if (block->Bytes < bytes)
        {
            NativeMemory.AlignedFree(block->Memory);
            block->Memory = null;
            block->Bytes = 0;
            block->Memory = NativeMemory.AlignedAlloc((nuint)bytes, 64);
            block->Bytes = bytes;
        }

        return (float*)block->Memory;
    }

    /// <summary>Thread <paramref name="thread"/>'s block as last sized (to read results a job left there).</summary>
    public float* Peek(int thread) => (float*)_blocks[thread].Memory;

    public void Free()
    {
        for (int i = 0; i < ThreadCount; i++)
        {
            NativeMemory.AlignedFree(_blocks[i].Memory);
        }

        NativeMemory.Free(_blocks);
    }

    private struct Block
    {
        public void* Memory;
        public nint Bytes;
    }
}
