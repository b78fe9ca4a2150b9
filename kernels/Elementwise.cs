using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler.Kernels;

/// <summary>
/// The element-wise updates of residual and IMEX steps (Y + h Z, skip-connection gradients, shared-weight gradient
/// sums). Memory-bound, so Vector&lt;float&gt; width is plenty.
/// </summary>
public static class Elementwise
{
    /// <summary>y = x + scale * z. <paramref name="y"/> may be <paramref name="x"/> or <paramref name="z"/>.</summary>
    public static void AddScaled(ReadOnlySpan<float> x, float scale, ReadOnlySpan<float> z, Span<float> y)
    {
        Guard.Length(x.Length, y.Length, nameof(x));
        Guard.Length(z.Length, y.Length, nameof(z));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> xs = MemoryMarshal.Cast<float, Vector<float>>(x), zs = MemoryMarshal.Cast<float, Vector<float>>(z);
            Span<Vector<float>> ys = MemoryMarshal.Cast<float, Vector<float>>(y);
            var factor = new Vector<float>(scale);
            for (int v = 0; v < ys.Length; v++)
            {
                ys[v] = xs[v] + (factor * zs[v]);
            }

            i = ys.Length * Vector<float>.Count;
        }

        for (; i < y.Length; i++)
        {
            y[i] = x[i] + (scale * z[i]);
        }
    }

    /// <summary>y = scale * x. <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void Scale(ReadOnlySpan<float> x, float scale, Span<float> y)
    {
        Guard.Length(x.Length, y.Length, nameof(x));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            Span<Vector<float>> ys = MemoryMarshal.Cast<float, Vector<float>>(y);
            var factor = new Vector<float>(scale);
            for (int v = 0; v < ys.Length; v++)
            {
                ys[v] = factor * xs[v];
            }

            i = ys.Length * Vector<float>.Count;
        }

        for (; i < y.Length; i++)
        {
            y[i] = scale * x[i];
        }
    }
}
