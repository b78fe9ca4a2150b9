using System;

// Kernels share one process-wide view of the allocator and both cores: allocation tests measure
// GC.GetTotalAllocatedBytes and must not see another test's work.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace NetCompiler.Kernels.Tests;

internal static class TestData
{
    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = scale * ((2f * random.NextSingle()) - 1f);
        }

        return values;
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}

internal static class Check
{
    /// <summary>
    /// Element-wise |actual - expected| &lt;= tolerance * (|expected| + max |expected|). The second term covers
    /// elements that are small only through cancellation: their rounding error scales with the terms summed,
    /// not with the (small) result.
    /// </summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (double value in expected)
        {
            scale = Math.Max(scale, Math.Abs(value));
        }

        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance * (Math.Abs(expected[i]) + scale)))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (max |expected| {scale}).");
            }
        }
    }

    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tolerance, string what)
    {
        var single = new float[actual.Length];
        for (int i = 0; i < actual.Length; i++)
        {
            single[i] = (float)actual[i];
        }

        Close(expected, single, tolerance, what);
    }
}
