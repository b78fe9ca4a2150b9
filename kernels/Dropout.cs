using System;

namespace NetCompiler.Kernels;

/// <summary>
/// Inverted dropout: each element is kept with probability 1 - p and scaled by 1 / (1 - p), so inference needs no
/// rescaling. The mask holds 0 or 1 / (1 - p) and is the backward pass's multiplier. Randomness comes from a
/// SplitMix64 stream whose state the caller owns: the same seed gives the same mask.
/// </summary>
public static class Dropout
{
    /// <summary>mask = 0 with probability p, else 1 / (1 - p); y = x * mask. Advances <paramref name="rngState"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float p, ref ulong rngState)
    {
        Guard.Length(y.Length, x.Length, nameof(y));
        Guard.Length(mask.Length, x.Length, nameof(mask));
        if (!(p >= 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The drop probability must lie in [0, 1].");
        }

        // An element is dropped when its 24-bit uniform u (in units of 2^-24) is below p * 2^24.
        float keptScale = p < 1f ? 1f / (1f - p) : 0f;
        uint threshold = (uint)Math.Ceiling(p * (double)(1 << 24));
        ulong state = rngState;
        for (int i = 0; i < x.Length; i += 2)
        {
            // Two 24-bit uniforms per 64-bit draw.
            ulong bits = SplitMix64(ref state);
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

        rngState = state;
    }

    /// <summary>dx = dy * mask.</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx)
    {
        Guard.Length(mask.Length, dy.Length, nameof(mask));
        Guard.Length(dx.Length, dy.Length, nameof(dx));
        for (int i = 0; i < dy.Length; i++)
        {
            dx[i] = dy[i] * mask[i];
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
