using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// torch.cat along channels on the device, the CPU's <see cref="ChannelConcat"/>: each call is one strided copy per
/// channel block, one thread per element of the block in every image, so reads and writes are coalesced.
/// </summary>
public sealed class DeviceChannelConcat
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, BlockLayout> _copyBlocks;

    public DeviceChannelConcat(IlgpuDevice device)
    {
        _copyBlocks = device.Load<ArrayView<float>, ArrayView<float>, BlockLayout>(CopyBlocksKernel);
    }

    /// <summary>y[i] = [a[i]; b[i]] for each image i: <paramref name="aElements"/> then <paramref name="bElements"/> floats.</summary>
    public void Forward(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int n, int aElements, int bElements)
    {
        CheckBlocks(n, aElements, bElements);
        DeviceGuard.Length(a, (long)n * aElements, nameof(a));
        DeviceGuard.Length(b, (long)n * bElements, nameof(b));
        DeviceGuard.Length(y, (long)n * (aElements + bElements), nameof(y));
        if (n > 0)
        {
            int joined = aElements + bElements;
            _copyBlocks(n * aElements, a, y, new BlockLayout(aElements, aElements, 0, joined, 0));
            _copyBlocks(n * bElements, b, y, new BlockLayout(bElements, bElements, 0, joined, aElements));
        }
    }

    /// <summary>da[i], db[i] = the two channel blocks of dy[i]; a default view skips its block (no gradient wanted).</summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> da, ArrayView<float> db, int n, int aElements, int bElements)
    {
        CheckBlocks(n, aElements, bElements);
        int joined = aElements + bElements;
        DeviceGuard.Length(dy, (long)n * joined, nameof(dy));
        DeviceGuard.OptionalLength(da, (long)n * aElements, nameof(da));
        DeviceGuard.OptionalLength(db, (long)n * bElements, nameof(db));
        if (n > 0 && da.Length > 0)
        {
            _copyBlocks(n * aElements, dy, da, new BlockLayout(aElements, joined, 0, aElements, 0));
        }

        if (n > 0 && db.Length > 0)
        {
            _copyBlocks(n * bElements, dy, db, new BlockLayout(bElements, joined, aElements, bElements, 0));
        }
    }

    private static void CheckBlocks(int n, int aElements, int bElements)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Positive(aElements, nameof(aElements));
        DeviceGuard.Positive(bElements, nameof(bElements));
    }

    /// <summary>Element <paramref name="i"/> of the block copies: image i / Block, place i % Block within it.</summary>
    private static void CopyBlocksKernel(Index1D i, ArrayView<float> from, ArrayView<float> to, BlockLayout layout)
    {
        int image = i / layout.Block, place = i - (image * layout.Block);
        to[(image * layout.ToImage) + layout.ToOffset + place] = from[(image * layout.FromImage) + layout.FromOffset + place];
    }

    /// <summary>A block of <see cref="Block"/> floats per image, at an offset within images of the given sizes on each side.</summary>
    internal readonly record struct BlockLayout(int Block, int FromImage, int FromOffset, int ToImage, int ToOffset);
}
