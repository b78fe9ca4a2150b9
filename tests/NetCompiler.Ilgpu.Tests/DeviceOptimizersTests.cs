using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Each device update against the runtime's own optimiser stepping a host <see cref="Parameter"/> (the twin): three
/// steps from the same weights and gradients, with the scalars the runtime passes (its learning rate, weight decay and
/// the parameter's step). Tolerance: 1e-6 of the weights' scale, as the same float arithmetic in the same order may
/// still round apart by a few ulp over three steps (the CPU's vectors against the device's scalars, fused multiply-adds).
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceOptimizersTests(SimulatorFixture simulator)
{
    private const int Length = 300;
    private const int Steps = 3;
    private const float WeightTolerance = 1e-6f;

    private readonly DeviceOptimizers _kernels = new(simulator.Device);

    /// <summary>The device update of one step: (kernels, weights, gradients, the optimiser's state buffers, step).</summary>
    private delegate void DeviceStep(DeviceOptimizers kernels, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float>[] states, long step);

    public static TheoryData<string> Rules => new()
    {
        "Adam", "AdamWithDecay", "AdamW", "Sgd", "SgdWithDecay", "SgdMomentum", "SgdNesterov",
        "RMSprop", "RMSpropMomentum", "RMSpropCentered", "RMSpropCenteredMomentum", "Adagrad",
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void UpdateMatchesTheRuntime(string rule)
    {
        (Optimizer optimizer, int buffers, DeviceStep deviceStep) = rule switch
        {
            "Adam" => Adam(new Adam(learningRate: 0.01f), l2Decay: 0f, weightScale: 1f),
            "AdamWithDecay" => Adam(new Adam(learningRate: 0.01f, beta1: 0.8f, beta2: 0.99f, weightDecay: 0.1f), l2Decay: 0.1f, weightScale: 1f),
            "AdamW" => Adam(new AdamW(learningRate: 0.01f, weightDecay: 0.1f), l2Decay: 0f, weightScale: 1f - (0.01f * 0.1f)),
            "Sgd" => (new Sgd(0.1f), 0, (k, w, g, s, t) => k.Sgd(w, g, 0.1f, 0f)),
            "SgdWithDecay" => (new Sgd(0.1f, weightDecay: 0.05f), 0, (k, w, g, s, t) => k.Sgd(w, g, 0.1f, 0.05f)),
            "SgdMomentum" => (new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.05f), 1, (k, w, g, s, t) => k.SgdWithMomentum(w, g, s[0], 0.1f, 0.05f, 0.9f, false, t)),
            "SgdNesterov" => (new Sgd(0.1f, momentum: 0.9f, nesterov: true), 1, (k, w, g, s, t) => k.SgdWithMomentum(w, g, s[0], 0.1f, 0f, 0.9f, true, t)),
            "RMSprop" => RMSprop(momentum: 0f, centered: false),
            "RMSpropMomentum" => RMSprop(momentum: 0.9f, centered: false),
            "RMSpropCentered" => RMSprop(momentum: 0f, centered: true),
            "RMSpropCenteredMomentum" => RMSprop(momentum: 0.9f, centered: true),
            _ => (new Adagrad(learningRate: 0.1f, learningRateDecay: 0.5f, weightDecay: 0.05f, initialAccumulatorValue: 0.1f), 1,
                (k, w, g, s, t) => k.Adagrad(w, g, s[0], 0.1f, 0.5f, 0.05f, 0.1f, 1e-10f, t)),
        };

        var parameter = new Parameter("w", [Length], trainable: true);
        DeviceAssert.Random(Length, 41).CopyTo(parameter.Value);
        using var weights = simulator.Upload(parameter.Value);
        using var gradients = simulator.Device.Allocate<float>("gradients", Length);
        var states = new List<MemoryBuffer1D<float, Stride1D.Dense>>();
        for (int b = 0; b < buffers; b++)
        {
            // Zeroed, as the runtime's ParameterStates allocates them, except where the first step must not read the
            // buffer: SGD's (b = g) and Adagrad's (s starts at the initial value) hold junk, which would show.
            bool firstStepIgnoresBuffer = rule is "Adagrad" or "SgdMomentum" or "SgdNesterov";
            states.Add(simulator.Upload(firstStepIgnoresBuffer ? DeviceAssert.Random(Length, 49) : new float[Length]));
        }

        ArrayView<float>[] stateViews = states.ConvertAll(buffer => (ArrayView<float>)buffer.View).ToArray();
        for (int step = 1; step <= Steps; step++)
        {
            DeviceAssert.Random(Length, 41 + step, scale: 0.5f).CopyTo(parameter.Gradient);
            gradients.CopyFromCPU(parameter.Gradient);
            optimizer.Step([parameter]);
            deviceStep(_kernels, weights.View, gradients.View, stateViews, step);
            DeviceAssert.Close(parameter.Value, simulator.Download(weights.View.AsContiguous()), WeightTolerance, $"{rule} step {step}");
        }

        states.ForEach(buffer => buffer.Dispose());
    }

    /// <summary>SumOfSquares against a naive double loop, within 1e-9 relative (both in double, in different orders).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(700)]
    public void SumOfSquaresMatchesADoubleLoop(int length)
    {
        float[] gradient = DeviceAssert.Random(length, 51, scale: 3f);
        double expected = 0;
        foreach (float value in gradient)
        {
            expected += (double)value * value;
        }

        using var deviceGradient = simulator.Upload(gradient);
        using var sums = simulator.Upload(new double[] { -1, -1, -1 });
        _kernels.SumOfSquares(deviceGradient.View, sums.View, slot: 1);
        double[] actual = simulator.Download(sums.View.AsContiguous());
        Assert.True(Math.Abs(actual[1] - expected) <= 1e-9 * expected, $"sum of squares: device {actual[1]}, loop {expected}");
        Assert.Equal(-1, actual[0]);
        Assert.Equal(-1, actual[2]);
    }

    [Fact]
    public void MismatchedViewsAreNamed()
    {
        using var weights = simulator.Device.Allocate<float>("weights", 4);
        var exception = Assert.Throws<ArgumentException>(() => _kernels.SgdWithMomentum(weights.View, weights.View, weights.View.SubView(0, 3), 0.1f, 0f, 0.9f, false, 1));
        Assert.Equal("buffer", exception.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => _kernels.Adam(weights.View, weights.View, weights.View, weights.View, 0.1f, 0, 0.9f, 0.999f, 1e-8f, 0f, 1f));
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        using var kernels = new DeviceOptimizers(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 7);
    }

    private static (Optimizer, int, DeviceStep) Adam(Optimizer optimizer, float l2Decay, float weightScale)
    {
        (float beta1, float beta2, float epsilon) = optimizer switch
        {
            NetCompiler.Adam adam => (adam.Beta1, adam.Beta2, adam.Epsilon),
            AdamW adamW => (adamW.Beta1, adamW.Beta2, adamW.Epsilon),
            _ => throw new ArgumentException("Not an Adam.", nameof(optimizer)),
        };
        float learningRate = optimizer.LearningRate;
        return (optimizer, 2, (k, w, g, s, t) => k.Adam(w, g, s[0], s[1], learningRate, t, beta1, beta2, epsilon, l2Decay, weightScale));
    }

    private static (Optimizer, int, DeviceStep) RMSprop(float momentum, bool centered)
    {
        var optimizer = new RMSprop(learningRate: 0.01f, alpha: 0.9f, weightDecay: 0.05f, momentum: momentum, centered: centered);
        int buffers = 1 + (centered ? 1 : 0) + (momentum == 0f ? 0 : 1);
        return (optimizer, buffers, (k, w, g, s, t) => k.RMSprop(
            w, g, s[0], centered ? s[1] : default, momentum == 0f ? default : s[buffers - 1], 0.01f, 0.05f, 0.9f, 1e-8f, momentum, centered));
    }
}
