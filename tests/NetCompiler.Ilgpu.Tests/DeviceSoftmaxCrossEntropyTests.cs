using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// The device's softmax cross-entropy against the CPU kernel on the same inputs. Tolerances: d(logits) within 1e-6 of
/// its scale (the device computes the probabilities in float, the CPU in double: a few float roundings apart); the loss
/// within 1e-6 relative (both sum in double, in different orders, from exponentials a few ulp apart).
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceSoftmaxCrossEntropyTests(SimulatorFixture simulator)
{
    private const float GradientTolerance = 1e-6f;
    private const double LossTolerance = 1e-6;

    // A sentinel the device must leave where n < batch size: its rows are not this call's.
    private const float Untouched = 12345f;

    private readonly DeviceSoftmaxCrossEntropy _kernels = new(simulator.Device);

    /// <summary>n = 3 of a batch of 5, large logits (scale 30) so the max shift matters; rows past n are left alone.</summary>
    [Fact]
    public void ClassCrossEntropyMatchesTheCpu()
    {
        const int batch = 5, n = 3, classes = 7;
        float[] logits = DeviceAssert.Random(batch * classes, 11, scale: 30f);
        int[] labels = Labels(batch, classes, 12);
        var expected = new float[n * classes];
        float expectedLoss = SoftmaxCrossEntropy.Forward(logits.AsSpan(0, n * classes), labels.AsSpan(0, n), expected, n, classes);

        using var deviceLogits = simulator.Upload(logits);
        using var deviceLabels = simulator.Upload(labels);
        using var deviceGradient = simulator.Upload(Filled(batch * classes, Untouched));
        using var deviceLoss = simulator.Device.Allocate<float>("loss", 1);
        _kernels.Forward(deviceLogits.View, deviceLabels.View, deviceGradient.View, n, classes, deviceLoss.View);

        float[] gradient = simulator.Download(deviceGradient.View.AsContiguous());
        DeviceAssert.Close(expected, gradient.AsSpan(0, n * classes), GradientTolerance, "dlogits");
        Assert.All(gradient[(n * classes)..], value => Assert.Equal(Untouched, value));
        AssertLoss(expectedLoss, simulator.Download(deviceLoss.View.AsContiguous())[0]);
    }

    /// <summary>
    /// n = 2 of a batch of 3, 12x12 planes: 288 pixels, so two groups and the partials pass; with class weights (and a
    /// weighted mean) and without.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PixelCrossEntropyMatchesTheCpu(bool weighted)
    {
        const int batch = 3, n = 2, classes = 3, plane = 12 * 12;
        float[] logits = DeviceAssert.Random(batch * classes * plane, 21, scale: 4f);
        int[] labels = Labels(batch * plane, classes, 22);
        float[] weights = weighted ? [0.5f, 2f, 1.25f] : [];
        var expected = new float[n * classes * plane];
        float expectedLoss = SoftmaxCrossEntropy.ForwardPixels(
            logits.AsSpan(0, n * classes * plane), labels.AsSpan(0, n * plane), weights, expected, n, classes, plane);

        using var deviceLogits = simulator.Upload(logits);
        using var deviceLabels = simulator.Upload(labels);
        using var deviceWeights = simulator.Upload(weighted ? weights : [0f]);
        using var deviceGradient = simulator.Upload(Filled(batch * classes * plane, Untouched));
        using var deviceLoss = simulator.Device.Allocate<float>("loss", 1);
        _kernels.ForwardPixels(
            deviceLogits.View, deviceLabels.View, weighted ? deviceWeights.View : default, deviceGradient.View, n, classes, plane, deviceLoss.View);

        float[] gradient = simulator.Download(deviceGradient.View.AsContiguous());
        DeviceAssert.Close(expected, gradient.AsSpan(0, n * classes * plane), GradientTolerance, "dlogits");
        Assert.All(gradient[(n * classes * plane)..], value => Assert.Equal(Untouched, value));
        float actualLoss = simulator.Download(deviceLoss.View.AsContiguous())[0];
        AssertLoss(expectedLoss, actualLoss);

        // Deterministic: a second launch on the same inputs gives the same bits (a fixed order, no atomics).
        _kernels.ForwardPixels(
            deviceLogits.View, deviceLabels.View, weighted ? deviceWeights.View : default, deviceGradient.View, n, classes, plane, deviceLoss.View);
        Assert.Equal(actualLoss, simulator.Download(deviceLoss.View.AsContiguous())[0]);
        Assert.Equal(gradient, simulator.Download(deviceGradient.View.AsContiguous()));
    }

    [Fact]
    public void BadViewsAreNamed()
    {
        using var logits = simulator.Device.Allocate<float>("logits", 6);
        using var labels = simulator.Device.Allocate<int>("labels", 2);
        using var loss = simulator.Device.Allocate<float>("loss", 1);
        var tooShort = Assert.Throws<ArgumentException>(() => _kernels.Forward(logits.View, labels.View, logits.View.SubView(0, 5), 2, 3, loss.View));
        Assert.Equal("dlogits", tooShort.ParamName);
        var weights = Assert.Throws<ArgumentException>(
            () => _kernels.ForwardPixels(logits.View, labels.View, logits.View.SubView(0, 2), logits.View, 2, 3, 1, loss.View));
        Assert.Equal("classWeights", weights.ParamName);
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        using var kernels = new DeviceSoftmaxCrossEntropy(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 3);
    }

    private static void AssertLoss(float expected, float actual) =>
        Assert.True(Math.Abs(actual - expected) <= LossTolerance * Math.Abs(expected), $"loss: device {actual}, CPU {expected}");

    private static int[] Labels(int count, int classes, int seed)
    {
        var random = new Random(seed);
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
        }

        return labels;
    }

    private static float[] Filled(int length, float value)
    {
        var values = new float[length];
        Array.Fill(values, value);
        return values;
    }
}
