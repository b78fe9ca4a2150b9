using System;
using NetCompiler.Kernels;

namespace NetCompiler.Kernels.Tests;

public sealed class BatchNormInferenceTests
{
    [Fact]
    public void BackwardInferenceMatchesFiniteDifferencesOfTheInferenceForward()
    {
        const int n = 2, channels = 3, plane = 5;
        const float eps = 1e-5f;
        var random = new Random(3);
        float[] x = Random(random, n * channels * plane), r = Random(random, x.Length);
        float[] gamma = Random(random, channels), beta = Random(random, channels), mean = Random(random, channels);
        float[] variance = Array.ConvertAll(Random(random, channels), v => 0.5f + Math.Abs(v));

        var dx = new float[x.Length];
        BatchNorm.BackwardInference(r, gamma, variance, dx, n, channels, plane, eps);

        // L(x) = sum r * (gamma (x - mean) / sqrt(var + eps) + beta), in double; central differences, h = 1e-6.
        double Loss(double[] input)
        {
            double sum = 0;
            for (int i = 0; i < input.Length; i++)
            {
                int c = i / plane % channels;
                sum += r[i] * ((gamma[c] * (input[i] - mean[c]) / Math.Sqrt(variance[c] + (double)eps)) + beta[c]);
            }

            return sum;
        }

        double[] point = Array.ConvertAll(x, v => (double)v);
        for (int i = 0; i < x.Length; i++)
        {
            double saved = point[i];
            point[i] = saved + 1e-6;
            double up = Loss(point);
            point[i] = saved - 1e-6;
            double down = Loss(point);
            point[i] = saved;
            double expected = (up - down) / 2e-6;
            // float32 products against a double derivative: 1e-4 relative covers rounding, an index bug is O(1).
            Assert.True(Math.Abs(dx[i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"dx[{i}] = {dx[i]}, expected {expected}");
        }
    }

    [Fact]
    public void BackwardInferenceRejectsWrongLengths()
    {
        var error = Assert.Throws<ArgumentException>(() => BatchNorm.BackwardInference(new float[6], new float[3], new float[3], new float[5], 1, 3, 2, 1e-5f));
        Assert.Contains("dx", error.Message);
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
