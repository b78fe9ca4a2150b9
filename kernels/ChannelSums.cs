using System;

namespace NetCompiler.Kernels;

/// <summary>Per-channel sums over batch and plane of an [n, channels, planeSize] tensor (bias gradients).</summary>
internal static unsafe class ChannelSums
{
    /// <summary>sums[c] = sum over images and pixels of values[., c, .], accumulated in double; split over channels.</summary>
    public static void Compute(KernelContext context, float* values, float* sums, int n, int channels, int planeSize)
    {
        var job = new Job { Values = values, Sums = sums, N = n, Channels = channels, PlaneSize = planeSize };
        context.For(channels, ref job);
    }

    private struct Job : IParallelJob
    {
        public float* Values;
        public float* Sums;
        public int N;
        public int Channels;
        public int PlaneSize;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int c = begin; c < end; c++)
            {
                double sum = 0;
                for (int image = 0; image < N; image++)
                {
                    sum += VectorMath.Sum(new ReadOnlySpan<float>(Values + ((((nint)image * Channels) + c) * PlaneSize), PlaneSize));
                }

                Sums[c] = (float)sum;
            }
        }
    }
}
