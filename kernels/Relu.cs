using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler.Kernels;

/// <summary>Rectified linear unit. The backward pass masks with the forward output, so no mask is stored.</summary>
public static class Relu
{
    /// <summary>y = max(x, 0) (x and y may be the same memory).</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.Length(y.Length, x.Length, nameof(y));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> input = MemoryMarshal.Cast<float, Vector<float>>(x);
            Span<Vector<float>> output = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int v = 0; v < input.Length; v++)
            {
                output[v] = Vector.Max(input[v], Vector<float>.Zero);
            }

            i = input.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            y[i] = MathF.Max(x[i], 0f);
        }
    }

    /// <summary>dy *= (y &gt; 0), in place; <paramref name="y"/> is the forward output.</summary>
    public static void Backward(ReadOnlySpan<float> y, Span<float> dy)
    {
        Guard.Length(dy.Length, y.Length, nameof(dy));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> output = MemoryMarshal.Cast<float, Vector<float>>(y);
            Span<Vector<float>> gradient = MemoryMarshal.Cast<float, Vector<float>>(dy);
            for (int v = 0; v < output.Length; v++)
            {
                gradient[v] = Vector.ConditionalSelect(Vector.GreaterThan(output[v], Vector<float>.Zero), gradient[v], Vector<float>.Zero);
            }

            i = output.Length * Vector<float>.Count;
        }

        for (; i < y.Length; i++)
        {
            dy[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }
}
