using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Inverted dropout on the device, the CPU's <see cref="Dropout"/> (kernels/Dropout.cs) with bit-identical masks. The
/// CPU's SplitMix64 stream is counter-based: its state after k draws is the incoming state + k * golden gamma, so
/// element pair j (elements 2j and 2j + 1, one 64-bit draw) mixes state + (j + 1) * gamma on its own thread, and the
/// host advances the caller's state by one gamma per pair, as the CPU leaves it.
/// </summary>
public sealed class DeviceDropout
{
    /// <summary>SplitMix64's increment (the golden ratio in 64-bit fixed point), the CPU's.</summary>
    private const ulong GoldenGamma = 0x9E3779B97F4A7C15UL;

    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ulong, uint, float> _forward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _backward;

    public DeviceDropout(IlgpuDevice device)
    {
        _forward = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ulong, uint, float>(ForwardKernel);
        _backward = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardKernel);
    }

    /// <summary>mask = 0 with probability p, else 1 / (1 - p); y = x * mask. Advances <paramref name="rngState"/> exactly as the CPU does.</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> mask, float p, ref ulong rngState)
    {
        DeviceGuard.Length(y, x.Length, nameof(y));
        DeviceGuard.Length(mask, x.Length, nameof(mask));
        if (!(p >= 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The drop probability must lie in [0, 1].");
        }

        // An element is dropped when its 24-bit uniform is below p * 2^24 (the CPU's threshold and scale).
        float keptScale = p < 1f ? 1f / (1f - p) : 0f;
        uint threshold = (uint)Math.Ceiling(p * (double)(1 << 24));
        long pairs = (x.Length + 1) / 2;
        if (pairs > 0)
        {
            _forward((int)pairs, x, y, mask, rngState, threshold, keptScale);
        }

        rngState += (ulong)pairs * GoldenGamma;
    }

    /// <summary>dx = dy * mask.</summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> mask, ArrayView<float> dx)
    {
        DeviceGuard.Length(mask, dy.Length, nameof(mask));
        DeviceGuard.Length(dx, dy.Length, nameof(dx));
        if (dy.Length > 0)
        {
            _backward((int)dy.Length, dy, mask, dx);
        }
    }

    /// <summary>Pair <paramref name="pair"/>: the high 24 bits of its draw decide element 2j, the low 24 bits element 2j + 1.</summary>
    private static void ForwardKernel(Index1D pair, ArrayView<float> x, ArrayView<float> y, ArrayView<float> mask, ulong state, uint threshold, float keptScale)
    {
        ulong z = state + ((ulong)(pair + 1) * GoldenGamma);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        ulong bits = z ^ (z >> 31);
        int i = 2 * pair;
        float scale = (uint)(bits >> 40) < threshold ? 0f : keptScale;
        mask[i] = scale;
        y[i] = x[i] * scale;
        if (i + 1 < x.Length)
        {
            scale = (uint)(bits & 0xFFFFFF) < threshold ? 0f : keptScale;
            mask[i + 1] = scale;
            y[i + 1] = x[i + 1] * scale;
        }
    }

    private static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> mask, ArrayView<float> dx) => dx[i] = dy[i] * mask[i];
}
