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
