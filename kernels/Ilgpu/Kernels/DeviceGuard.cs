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
