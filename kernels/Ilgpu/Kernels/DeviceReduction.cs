using System;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The fixed-order sums behind the losses and the gradient norm, deterministic without float atomics. Pass one: at most
/// <see cref="MaxGroups"/> groups of <see cref="GroupSize"/> threads walk the elements grid-stride (coalesced: thread
/// t of the grid reads elements t, t + grid, ...), each thread summing its share in double, and each group tree-reduces
/// its threads in shared memory into one partial. Pass two: one group sums the partials in the same tree. The order
/// depends only on the element count, so a shape gives the same bits on every run.
/// </summary>
internal static class DeviceReduction
{
    /// <summary>Threads per group: a power of two for the tree, and the simulator's largest group.</summary>
    public const int GroupSize = IlgpuDevice.SimulatorThreadsPerGroup;

    /// <summary>
    /// At most this many partials: 1024 groups of 256 threads keep an H200's 132 SMs busy streaming memory, and one
    /// group of 256 threads sums 1024 partials in four reads each.
    /// </summary>
    public const int MaxGroups = 1024;

    /// <summary>The groups pass one runs over <paramref name="count"/> elements: one element per thread, up to <see cref="MaxGroups"/>.</summary>
    public static int Groups(long count) => (int)Math.Clamp((count + GroupSize - 1) / GroupSize, 1, MaxGroups);

    public static KernelConfig Config(int groups) => new(groups, GroupSize);

    /// <summary>This thread's first element in a grid-stride walk.</summary>
    public static int FirstElement => Grid.GlobalIndex.X;

    /// <summary>The distance between a thread's elements in a grid-stride walk: every thread of the grid.</summary>
    public static int GridStride => Grid.DimX * Group.DimX;

    /// <summary>
    /// The sum over the group's threads of <paramref name="value"/>, by a tree in <paramref name="shared"/> (GroupSize
    /// doubles); every thread gets it. Every thread of the group must call it.
    /// </summary>
    public static double GroupSum(double value, ArrayView<double> shared)
    {
        int thread = Group.IdxX;
        shared[thread] = value;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (thread < half)
            {
                shared[thread] += shared[thread + half];
            }

            Group.Barrier();
        }

        double sum = shared[0];
        Group.Barrier(); // before a second GroupSum overwrites shared[0]
        return sum;
    }

    /// <summary>partials[offset .. offset + count) summed by one group: each thread its strided share in order, then the tree.</summary>
    public static double SumPartials(ArrayView<double> partials, int offset, int count, ArrayView<double> shared)
    {
        double sum = 0;
        for (int g = Group.IdxX; g < count; g += GroupSize)
        {
            sum += partials[offset + g];
        }

        return GroupSum(sum, shared);
    }

    /// <summary>
    /// Pass two of a mean loss (one group): loss[0] = the sum of the <paramref name="groups"/> loss partials over the
    /// denominator, which is <paramref name="count"/> or, when <paramref name="weighted"/>, the sum of the weight
    /// partials that follow at <see cref="MaxGroups"/>.
    /// </summary>
    public static void MeanKernel(ArrayView<double> partials, int groups, int weighted, double count, ArrayView<float> loss)
    {
        ArrayView<double> shared = SharedMemory.Allocate<double>(GroupSize);
        double sum = SumPartials(partials, 0, groups, shared);
        double denominator = weighted != 0 ? SumPartials(partials, MaxGroups, groups, shared) : count;
        if (Group.IdxX == 0)
        {
            loss[0] = (float)(sum * (1.0 / denominator));
        }
    }

    /// <summary>The host's check of a view an argument names: at least <paramref name="needed"/> elements.</summary>
    public static void CheckLength(long length, long needed, string name)
    {
        if (length < needed)
        {
            throw new ArgumentException($"Expected a view of at least {needed} elements but got {length}.", name);
        }
    }
}
