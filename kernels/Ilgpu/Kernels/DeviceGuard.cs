using System;
using ILGPU;

namespace NetCompiler.Ilgpu;

/// <summary>The CPU kernels' argument checks (kernels/Guard.cs) for device views, run by the launchers before a launch.</summary>
internal static class DeviceGuard
{
    public static void Batch(int n)
    {
        if (n < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "The batch size must not be negative.");
        }
    }

    public static void Length(ArrayView<float> view, long expected, string name)
    {
        if (view.Length != expected)
        {
            throw new ArgumentException($"Expected a view of {expected} elements but got {view.Length}.", name);
        }
    }

    /// <summary>An optional operand (bias, dbias) is either default (empty) or exactly <paramref name="expected"/> long.</summary>
    public static void OptionalLength(ArrayView<float> view, long expected, string name)
    {
        if (view.Length != 0)
        {
            Length(view, expected, name);
        }
    }

    /// <summary>
    /// An epilogue's residual is empty or exactly as long as <paramref name="y"/>, and apart from it: other threads write
    /// y while one reads the residual, so a shared element could be read after it was overwritten.
    /// </summary>
    public static void Residual(ArrayView<float> residual, ArrayView<float> y)
    {
        OptionalLength(residual, y.Length, nameof(residual));
        IContiguousArrayView r = residual, o = y;
        if (residual.Length != 0 && r.Buffer == o.Buffer && r.Index < o.Index + o.Length && o.Index < r.Index + r.Length)
        {
            throw new ArgumentException("The residual must not overlap the output y.", nameof(residual));
        }
    }
}
