using System;
using System.Diagnostics.CodeAnalysis;

namespace NetCompiler.Kernels;

/// <summary>Cheap argument checks run at every public kernel entry.</summary>
internal static class Guard
{
    public static void Length(int actual, long expected, string name)
    {
        if (actual != expected)
        {
            ThrowLength(actual, expected, name);
        }
    }

    /// <summary>An optional operand (bias) is either empty or exactly <paramref name="expected"/> long.</summary>
    public static void OptionalLength(int actual, long expected, string name)
    {
        if (actual != 0 && actual != expected)
        {
            ThrowLength(actual, expected, name);
        }
    }

    /// <summary>
    /// An epilogue's residual is empty or exactly as long as the output <paramref name="y"/>, and apart from it: the
    /// kernel reads it while writing y, in depth slices, so a shared element would be read after it was overwritten.
    /// </summary>
    public static void Residual(ReadOnlySpan<float> residual, ReadOnlySpan<float> y)
    {
        OptionalLength(residual.Length, y.Length, nameof(residual));
        if (residual.Overlaps(y))
        {
            throw new ArgumentException("The residual must not overlap the output y.", nameof(residual));
        }
    }

    public static void Batch(int n)
    {
        if (n < 0)
        {
            ThrowBatch(n);
        }
    }

    public static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            ThrowPositive(value, name);
        }
    }

    [DoesNotReturn]
    private static void ThrowLength(int actual, long expected, string name) =>
        throw new ArgumentException($"Expected a span of {expected} elements but got {actual}.", name);

    [DoesNotReturn]
    private static void ThrowBatch(int n) =>
        throw new ArgumentOutOfRangeException(nameof(n), n, "The batch size must not be negative.");

    [DoesNotReturn]
    private static void ThrowPositive(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, "The value must be positive.");
}
