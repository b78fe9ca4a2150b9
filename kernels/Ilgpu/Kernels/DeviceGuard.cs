using System;
using System.Diagnostics.CodeAnalysis;
using ILGPU;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The argument checks of the CPU kernels' Guard (internal to NetCompiler.Kernels), for device views: a launcher
/// checks before it launches, so a wrong length is an exception naming the operand, not a kernel reading past a view.
/// </summary>
internal static class DeviceGuard
{
    public static void Length<T>(ArrayView<T> view, long expected, string name)
        where T : unmanaged
    {
        if (view.Length != expected)
        {
            ThrowLength(view.Length, expected, name);
        }
    }

    /// <summary>An optional operand (bias, residual, a gradient not wanted) is either empty or exactly <paramref name="expected"/> long.</summary>
    public static void OptionalLength<T>(ArrayView<T> view, long expected, string name)
        where T : unmanaged
    {
        if (view.Length != 0 && view.Length != expected)
        {
            ThrowLength(view.Length, expected, name);
        }
    }

    /// <summary>
    /// An epilogue's residual is empty or as long as the output <paramref name="y"/>, and apart from it, as the CPU
    /// requires: one thread may read a residual element after another has written y there.
    /// </summary>
    public static void Residual(ArrayView<float> residual, ArrayView<float> y)
    {
        OptionalLength(residual, y.Length, nameof(residual));
        IContiguousArrayView added = residual, output = y; // where a view lies in its buffer: ILGPU implements these explicitly
        if (added.Length != 0 && added.Buffer == output.Buffer && added.Index < output.Index + output.Length && output.Index < added.Index + added.Length)
        {
            throw new ArgumentException("The residual must not overlap the output y.", nameof(residual));
        }
    }

    public static void Batch(int n)
    {
        if (n < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "The batch size must not be negative.");
        }
    }

    public static void Positive(long value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, "The value must be positive.");
        }
    }

    [DoesNotReturn]
    private static void ThrowLength(long actual, long expected, string name) =>
        throw new ArgumentException($"Expected a view of {expected} elements but got {actual}.", name);
}
