using System;
using System.Linq;

namespace NetCompiler.Kernels.Tests;

public class NormalizationTests
{
    private const float Eps = 1e-5f;
    private const float Momentum = 0.1f;

    // Statistics are accumulated in double, so the error is float rounding of the normalised values (~1e-7).
    private const double ForwardTolerance = 1e-5;

    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(6, 3, 1)]
    [InlineData(2, 2, 37)]
    public void TrainingForwardMatchesReferenceAndUpdatesRunningStatistics(int n, int channels, int plane)
    {
        float[] x = Offset(TestData.Random(n * channels * plane, 1), 3f), gamma = TestData.Random(channels, 2), beta = TestData.Random(channels, 3);
        float[] runningMean = TestData.Random(channels, 4), runningVar = Array.ConvertAll(TestData.Random(channels, 5), v => 1.5f + v);
        double[] expected = Reference.BatchNorm(TestData.ToDouble(x), TestData.ToDouble(gamma), TestData.ToDouble(beta), n, channels, plane, Eps, out double[] mean, out double[] variance);
        var expectedRunningMean = new double[channels];
        var expectedRunningVar = new double[channels];
        var expectedInvStd = new double[channels];
        int count = n * plane;
        for (int c = 0; c < channels; c++)
        {
            expectedRunningMean[c] = (0.9 * runningMean[c]) + (0.1 * mean[c]);
            expectedRunningVar[c] = (0.9 * runningVar[c]) + (0.1 * variance[c] * count / (count - 1));
            expectedInvStd[c] = 1 / Math.Sqrt(variance[c] + Eps);
        }

        using var context = new KernelContext(2);
        var y = new float[x.Length];
        float[] savedMean = new float[channels], savedInvStd = new float[channels], savedVariance = new float[channels];
        BatchNorm.ForwardTraining(context, x, y, gamma, beta, savedMean, savedInvStd, savedVariance, n, channels, plane, Eps, Activation.Relu);
        BatchNorm.UpdateRunningStatistics(runningMean, runningVar, savedMean, savedVariance, Momentum);
        Check.Close(ConvCases.Relu(expected), y, ForwardTolerance, "y");
        Check.Close(mean, savedMean, ForwardTolerance, "saved mean");
        Check.Close(expectedInvStd, savedInvStd, ForwardTolerance, "saved inverse std");
        Check.Close(expectedRunningMean, runningMean, ForwardTolerance, "running mean");
        Check.Close(expectedRunningVar, runningVar, ForwardTolerance, "running var");

        // Inference with the running statistics: normalising by them must reproduce their definition.
        BatchNorm.ForwardInference(context, x, y, gamma, beta, runningMean, runningVar, n, channels, plane, Eps, Activation.None);
        var expectedInference = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / plane % channels;
            expectedInference[i] = ((x[i] - runningMean[c]) / Math.Sqrt(runningVar[c] + Eps) * gamma[c]) + beta[c];
        }

        Check.Close(expectedInference, y, ForwardTolerance, "inference");
    }

    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(6, 3, 1)]
    public void TrainingGradientsMatchFiniteDifferences(int n, int channels, int plane)
    {
        float[] r = TestData.Random(n * channels * plane, 9);
        float[] dy = (float[])r.Clone();
        CheckTrainingGradients(n, channels, plane, Activation.None, v => v, r, dy);
        Assert.Equal(r, dy);
    }

    /// <summary>
    /// The activation fused into the forward runs its backward inside the batch norm's: the gradients of
    /// r . act(BN(x)) against central differences (smooth activations, so the differences have no kink to cross), and dy
    /// left holding r * act'(.), as the separate call would leave it.
    /// </summary>
    [Theory]
    [InlineData(nameof(Activation.Tanh))]
    [InlineData(nameof(Activation.Sigmoid))]
    public void TrainingGradientsWithAFusedActivationMatchFiniteDifferences(string name)
    {
        const int N = 3, Channels = 4, Plane = 5;
        (Activation activation, Func<double, double> f, Func<float, float> derivativeFromOutput) = name == nameof(Activation.Tanh)
            ? (Activation.Tanh, (Func<double, double>)Math.Tanh, (Func<float, float>)(y => 1 - (y * y)))
            : (Activation.Sigmoid, v => 1 / (1 + Math.Exp(-v)), y => y * (1 - y));
        float[] r = TestData.Random(N * Channels * Plane, 9);
        float[] dy = (float[])r.Clone();
        float[] y = CheckTrainingGradients(N, Channels, Plane, activation, f, r, dy);
        Check.Close(Array.ConvertAll(r, v => (double)v).Select((v, i) => v * derivativeFromOutput(y[i])).ToArray(), dy, 1e-6, "dy");
    }

    /// <summary>
    /// Forward in training mode with <paramref name="activation"/> fused, then the backward from <paramref name="dy"/>
    /// (a copy of <paramref name="r"/>), against central differences of r . f(BN(x)); returns the forward's output.
    /// </summary>
    private static float[] CheckTrainingGradients(int n, int channels, int plane, Activation activation, Func<double, double> f, float[] r, float[] dy)
    {
        float[] x = Offset(TestData.Random(n * channels * plane, 6), 2f), gamma = TestData.Random(channels, 7), beta = TestData.Random(channels, 8);
        double[] xd = TestData.ToDouble(x), gd = TestData.ToDouble(gamma), bd = TestData.ToDouble(beta), rd = TestData.ToDouble(r);
        double Loss(double[] input, double[] scale, double[] shift) =>
            Reference.Dot(rd, Array.ConvertAll(Reference.BatchNorm(input, scale, shift, n, channels, plane, Eps, out _, out _), v => f(v)));
        double[] expectedDx = Reference.NumericGradient(xd, t => Loss(t, gd, bd));
        double[] expectedDgamma = Reference.NumericGradient(gd, t => Loss(xd, t, bd));
        double[] expectedDbeta = Reference.NumericGradient(bd, t => Loss(xd, gd, t));

        using var context = new KernelContext(2);
        var y = new float[x.Length];
        float[] savedMean = new float[channels], savedInvStd = new float[channels];
        BatchNorm.ForwardTraining(context, x, y, gamma, beta, savedMean, savedInvStd, new float[channels], n, channels, plane, Eps, activation);
        float[] dx = new float[x.Length], dgamma = new float[channels], dbeta = new float[channels];
        BatchNorm.Backward(context, dy, x, gamma, savedMean, savedInvStd, dx, dgamma, dbeta, n, channels, plane, activation, y);

        // dx is a difference of O(1) terms that nearly cancel (its mean per channel is exactly zero).
        Check.Close(expectedDx, dx, ConvCases.GradientTolerance, "dx");
        Check.Close(expectedDgamma, dgamma, ConvCases.GradientTolerance, "dgamma");
        Check.Close(expectedDbeta, dbeta, ConvCases.GradientTolerance, "dbeta");
        return y;
    }

    private static float[] Offset(float[] values, float offset) => Array.ConvertAll(values, v => v + offset);
}
