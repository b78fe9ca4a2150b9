using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// The device's element-wise losses against the CPU kernels on the same inputs, 700 elements (three groups, so the
/// partials pass sums more than one). Tolerances: d(scores) within 1e-6 of its scale (the same float arithmetic; the
/// cross-entropy's double exp and log are the platform's on the device, .NET's on the CPU); the loss within 1e-6
/// relative (both sum in double, in different orders).
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceElementwiseLossTests(SimulatorFixture simulator)
{
    private const int Count = 700;
    private const float GradientTolerance = 1e-6f;
    private const double LossTolerance = 1e-6;

    private readonly DeviceElementwiseLoss _kernels = new(simulator.Device);

    public static TheoryData<string> Losses => new() { "MeanSquaredError", "L1", "SmoothL1", "BinaryCrossEntropy" };

    [Theory]
    [MemberData(nameof(Losses))]
    public void LossMatchesTheCpu(string name)
    {
        // Scores of scale 3: SmoothL1 sees both sides of |e| = 1 and the cross-entropy both signs of x.
        float[] scores = DeviceAssert.Random(Count, 31, scale: 3f);
        float[] targets = DeviceAssert.Random(Count, 32, scale: 2f);
        if (name == "BinaryCrossEntropy")
        {
            for (int i = 0; i < Count; i++)
            {
                targets[i] = (targets[i] + 2f) / 4f; // in [0, 1]: soft labels
            }
        }
        else
        {
            for (int i = 0; i < Count; i += 7)
            {
                targets[i] = scores[i]; // e = 0: L1's gradient is 0 there
            }
        }

        var expected = new float[Count];
        float expectedLoss = name switch
        {
            "MeanSquaredError" => ElementwiseLoss.MeanSquaredError(scores, targets, expected),
            "L1" => ElementwiseLoss.L1(scores, targets, expected),
            "SmoothL1" => ElementwiseLoss.SmoothL1(scores, targets, expected),
            _ => ElementwiseLoss.BinaryCrossEntropy(scores, targets, expected),
        };

        using var deviceScores = simulator.Upload(scores);
        using var deviceTargets = simulator.Upload(targets);
        using var deviceGradient = simulator.Device.Allocate<float>("dscores", Count);
        using var deviceLoss = simulator.Device.Allocate<float>("loss", 1);
        Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> loss = name switch
        {
            "MeanSquaredError" => _kernels.MeanSquaredError,
            "L1" => _kernels.L1,
            "SmoothL1" => _kernels.SmoothL1,
            _ => _kernels.BinaryCrossEntropy,
        };
        loss(deviceScores.View, deviceTargets.View, deviceGradient.View, deviceLoss.View);

        DeviceAssert.Close(expected, simulator.Download(deviceGradient.View.AsContiguous()), GradientTolerance, name + " d(scores)");
        float actualLoss = simulator.Download(deviceLoss.View.AsContiguous())[0];
        Assert.True(Math.Abs(actualLoss - expectedLoss) <= LossTolerance * Math.Abs(expectedLoss), $"{name}: device {actualLoss}, CPU {expectedLoss}");
    }

    [Fact]
    public void MismatchedViewsAreNamed()
    {
        using var scores = simulator.Device.Allocate<float>("scores", 4);
        using var loss = simulator.Device.Allocate<float>("loss", 1);
        var exception = Assert.Throws<ArgumentException>(() => _kernels.L1(scores.View, scores.View.SubView(0, 3), scores.View, loss.View));
        Assert.Equal("targets", exception.ParamName);
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        using var kernels = new DeviceElementwiseLoss(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 2);
    }
}
