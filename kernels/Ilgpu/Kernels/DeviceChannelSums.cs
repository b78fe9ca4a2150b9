using System;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Per-channel sums over batch and plane of an [n, channels, planeSize] tensor on the device (the bias gradients of
/// kernels/ChannelSums.cs). One group of 256 threads per channel: each thread adds a fixed stride of the channel's
/// values, then the group halves its partials in shared memory; the order is fixed, so the sums are deterministic.
/// </summary>
internal sealed class DeviceChannelSums
{
    private const int GroupSize = 256;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> _compute;

    public DeviceChannelSums(IlgpuDevice device) =>
        _compute = device.LoadGrouped<ArrayView<float>, ArrayView<float>, int, int>(ComputeKernel);

    /// <summary>sums[c] = sum over the n images and the plane of values[., c, .] (overwritten; zero when n is 0).</summary>
    public void Compute(ArrayView<float> values, ArrayView<float> sums, int n, int channels, int planeSize) =>
        _compute(new KernelConfig(channels, GroupSize), values, sums, n, planeSize);

    private static void ComputeKernel(ArrayView<float> values, ArrayView<float> sums, int n, int planeSize)
    {
        ArrayView<float> partials = SharedMemory.Allocate<float>(GroupSize);
        int channel = Grid.IdxX, channels = Grid.DimX, thread = Group.IdxX;
        float sum = 0f;
        for (int i = thread; i < n * planeSize; i += GroupSize)
        {
            int image = i / planeSize;
            sum += values[(((long)image * channels) + channel) * planeSize + (i - (image * planeSize))];
        }

        partials[thread] = sum;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (thread < half)
            {
                partials[thread] += partials[thread + half];
            }

            Group.Barrier();
        }

        if (thread == 0)
        {
            sums[channel] = partials[0];
        }
    }
}
