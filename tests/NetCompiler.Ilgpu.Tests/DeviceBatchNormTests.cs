using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Each DeviceBatchNorm call against the CPU's BatchNorm on the same inputs. The buffers hold a batch of 3 and every
/// call runs n = 2 of it, so the tests also see that the device touches nothing past image n. A plane of 7 x 19
/// gives 266 values per channel: more than a group's 256 threads, so each thread sums more than one.
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceBatchNormTests(SimulatorFixture simulator)
{
    private const int Batch = 3, N = 2, Channels = 3, PlaneSize = 7 * 19;
    private const float Eps = 1e-5f;

    /// <summary>
    /// Statistics: sums in double on both sides, in different orders, then rounded to float: they agree to about an ulp,
    /// so 1e-6 of the scale. Outputs and gradients: 1e-5 of the scale: the CPU's vector path fuses multiply-adds that
    /// the device rounds twice, and the activations' exp comes from different libraries (a few ulp each).
    /// </summary>
    private const float StatisticsTolerance = 1e-6f, ValueTolerance = 1e-5f;

    private readonly DeviceBatchNorm _kernels = new(simulator.Device);

    public static TheoryData<string, bool, int> TrainingCases => new()
    {
        { "None", false, PlaneSize },
        { "Relu", true, PlaneSize },
        { "Silu", true, PlaneSize },
        { "LeakyRelu", false, 1 }, // BatchNorm1d after a dense layer: one value per image and channel
    };

    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void ForwardTrainingMatchesTheCpu(string activationName, bool withResidual, int planeSize)
    {
        Activation activation = ActivationNamed(activationName);
        int size = N * Channels * planeSize;
        float[] x = Offset(DeviceAssert.Random(Batch * Channels * planeSize, 1, scale: 2f), 3f); // |mean| > std: the two-pass sums matter
        float[] gamma = DeviceAssert.Random(Channels, 2), beta = DeviceAssert.Random(Channels, 3);
        float[] residual = DeviceAssert.Random(x.Length, 4);
        var y = new float[size];
        float[] mean = new float[Channels], invStd = new float[Channels], variance = new float[Channels];
        using (var context = new KernelContext(1))
        {
            BatchNorm.ForwardTraining(context, x.AsSpan(0, size), y, gamma, beta, mean, invStd, variance, N, Channels, planeSize, Eps, activation,
                withResidual ? residual.AsSpan(0, size) : default);
        }

        float[] sentinel = Filled(x.Length, 42f);
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Upload(sentinel);
        using var deviceGamma = simulator.Upload(gamma);
        using var deviceBeta = simulator.Upload(beta);
        using var deviceResidual = simulator.Upload(residual);
        using var deviceMean = simulator.Device.Allocate<float>("mean", Channels);
        using var deviceInvStd = simulator.Device.Allocate<float>("invStd", Channels);
        using var deviceVariance = simulator.Device.Allocate<float>("variance", Channels);
        _kernels.ForwardTraining(deviceX.View.SubView(0, size), deviceY.View.SubView(0, size), deviceGamma.View, deviceBeta.View,
            deviceMean.View, deviceInvStd.View, deviceVariance.View, N, Channels, planeSize, Eps, activation,
            withResidual ? deviceResidual.View.SubView(0, size) : default);

        float[] actualY = simulator.Download(deviceY.View.AsContiguous());
        DeviceAssert.Close(y, actualY.AsSpan(0, size), ValueTolerance, "y");
        Assert.All(actualY[size..], value => Assert.Equal(42f, value));
        DeviceAssert.Close(mean, simulator.Download(deviceMean.View.AsContiguous()), StatisticsTolerance, "saved mean");
        DeviceAssert.Close(invStd, simulator.Download(deviceInvStd.View.AsContiguous()), StatisticsTolerance, "saved inverse std");
        DeviceAssert.Close(variance, simulator.Download(deviceVariance.View.AsContiguous()), StatisticsTolerance, "saved unbiased variance");
    }

    /// <summary>Both sides compute the update in double and round once: 1e-6 of the scale.</summary>
    [Fact]
    public void UpdateRunningStatisticsMatchesTheCpu()
    {
        float[] runningMean = DeviceAssert.Random(Channels, 5), runningVar = Offset(DeviceAssert.Random(Channels, 6), 2f);
        float[] savedMean = DeviceAssert.Random(Channels, 7), savedVariance = Offset(DeviceAssert.Random(Channels, 8), 2f);
        using var deviceMean = simulator.Upload(runningMean);
        using var deviceVar = simulator.Upload(runningVar);
        using var deviceSavedMean = simulator.Upload(savedMean);
        using var deviceSavedVariance = simulator.Upload(savedVariance);
        BatchNorm.UpdateRunningStatistics(runningMean, runningVar, savedMean, savedVariance, 0.1f);
        _kernels.UpdateRunningStatistics(deviceMean.View, deviceVar.View, deviceSavedMean.View, deviceSavedVariance.View, 0.1f);
        DeviceAssert.Close(runningMean, simulator.Download(deviceMean.View.AsContiguous()), StatisticsTolerance, "running mean");
        DeviceAssert.Close(runningVar, simulator.Download(deviceVar.View.AsContiguous()), StatisticsTolerance, "running variance");
    }

    [Theory]
    [InlineData("None", false)]
    [InlineData("Relu6", true)]
    [InlineData("Tanh", true)]
    public void ForwardInferenceMatchesTheCpu(string activationName, bool withResidual)
    {
        Activation activation = ActivationNamed(activationName);
        int size = N * Channels * PlaneSize;
        float[] x = DeviceAssert.Random(Batch * Channels * PlaneSize, 9, scale: 3f), residual = DeviceAssert.Random(x.Length, 10);
        float[] gamma = DeviceAssert.Random(Channels, 11), beta = DeviceAssert.Random(Channels, 12);
        float[] runningMean = DeviceAssert.Random(Channels, 13), runningVar = Offset(DeviceAssert.Random(Channels, 14), 1.5f);
        var y = new float[size];
        using (var context = new KernelContext(1))
        {
            BatchNorm.ForwardInference(context, x.AsSpan(0, size), y, gamma, beta, runningMean, runningVar, N, Channels, PlaneSize, Eps, activation,
                withResidual ? residual.AsSpan(0, size) : default);
        }

        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Upload(Filled(x.Length, 42f));
        using var deviceGamma = simulator.Upload(gamma);
        using var deviceBeta = simulator.Upload(beta);
        using var deviceMean = simulator.Upload(runningMean);
        using var deviceVar = simulator.Upload(runningVar);
        using var deviceResidual = simulator.Upload(residual);
        _kernels.ForwardInference(deviceX.View.SubView(0, size), deviceY.View.SubView(0, size), deviceGamma.View, deviceBeta.View, deviceMean.View, deviceVar.View,
            N, Channels, PlaneSize, Eps, activation, withResidual ? deviceResidual.View.SubView(0, size) : default);
        float[] actual = simulator.Download(deviceY.View.AsContiguous());
        DeviceAssert.Close(y, actual.AsSpan(0, size), ValueTolerance, "y");
        Assert.All(actual[size..], value => Assert.Equal(42f, value));
    }

    [Fact]
    public void BackwardMatchesTheCpu()
    {
        int size = N * Channels * PlaneSize;
        float[] x = Offset(DeviceAssert.Random(Batch * Channels * PlaneSize, 15, scale: 2f), -1.5f), dy = DeviceAssert.Random(x.Length, 16);
        float[] gamma = DeviceAssert.Random(Channels, 17);
        float[] mean = new float[Channels], invStd = new float[Channels], variance = new float[Channels];
        float[] dx = new float[size], dgamma = new float[Channels], dbeta = new float[Channels];
        using (var context = new KernelContext(1))
        {
            BatchNorm.ForwardTraining(context, x.AsSpan(0, size), new float[size], gamma, new float[Channels], mean, invStd, variance, N, Channels, PlaneSize, Eps, Activation.None);
            BatchNorm.Backward(context, dy.AsSpan(0, size), x.AsSpan(0, size), gamma, mean, invStd, dx, dgamma, dbeta, N, Channels, PlaneSize);
        }

        using var deviceDy = simulator.Upload(dy);
        using var deviceX = simulator.Upload(x);
        using var deviceGamma = simulator.Upload(gamma);
        using var deviceMean = simulator.Upload(mean);
        using var deviceInvStd = simulator.Upload(invStd);
        using var deviceDx = simulator.Upload(Filled(x.Length, 42f));
        using var deviceDgamma = simulator.Device.Allocate<float>("dgamma", Channels);
        using var deviceDbeta = simulator.Device.Allocate<float>("dbeta", Channels);
        _kernels.Backward(deviceDy.View.SubView(0, size), deviceX.View.SubView(0, size), deviceGamma.View, deviceMean.View, deviceInvStd.View,
            deviceDx.View.SubView(0, size), deviceDgamma.View, deviceDbeta.View, N, Channels, PlaneSize);
        float[] actualDx = simulator.Download(deviceDx.View.AsContiguous());
        DeviceAssert.Close(dx, actualDx.AsSpan(0, size), ValueTolerance, "dx");
        Assert.All(actualDx[size..], value => Assert.Equal(42f, value));
        DeviceAssert.Close(dgamma, simulator.Download(deviceDgamma.View.AsContiguous()), ValueTolerance, "dgamma");
        DeviceAssert.Close(dbeta, simulator.Download(deviceDbeta.View.AsContiguous()), ValueTolerance, "dbeta");
    }

    /// <summary>dx = dy * gamma / sqrt(var + eps), the same float operations on both sides: 1e-6 of the scale.</summary>
    [Fact]
    public void BackwardInferenceMatchesTheCpu()
    {
        int size = N * Channels * PlaneSize;
        float[] dy = DeviceAssert.Random(size, 18), gamma = DeviceAssert.Random(Channels, 19), runningVar = Offset(DeviceAssert.Random(Channels, 20), 1.5f);
        var dx = new float[size];
        BatchNorm.BackwardInference(dy, gamma, runningVar, dx, N, Channels, PlaneSize, Eps);
        using var deviceDy = simulator.Upload(dy);
        using var deviceGamma = simulator.Upload(gamma);
        using var deviceVar = simulator.Upload(runningVar);
        using var deviceDx = simulator.Device.Allocate<float>("dx", size);
        _kernels.BackwardInference(deviceDy.View, deviceGamma.View, deviceVar.View, deviceDx.View, N, Channels, PlaneSize, Eps);
        DeviceAssert.Close(dx, simulator.Download(deviceDx.View.AsContiguous()), 1e-6f, "dx");
    }

    /// <summary>Folding into a conv's [3, 2, 3, 3] weight, with and without a bias; the scale in double on both sides: 1e-6 of the scale.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FoldMatchesTheCpu(bool withBias)
    {
        float[] weight = DeviceAssert.Random(Channels * 2 * 3 * 3, 21), bias = DeviceAssert.Random(Channels, 22);
        float[] gamma = DeviceAssert.Random(Channels, 23), beta = DeviceAssert.Random(Channels, 24);
        float[] runningMean = DeviceAssert.Random(Channels, 25), runningVar = Offset(DeviceAssert.Random(Channels, 26), 1.5f);
        float[] foldedWeight = new float[weight.Length], foldedBias = new float[Channels];
        BatchNorm.Fold(weight, withBias ? bias : default, gamma, beta, runningMean, runningVar, Eps, foldedWeight, foldedBias);
        using var deviceWeight = simulator.Upload(weight);
        using var deviceBias = simulator.Upload(bias);
        using var deviceGamma = simulator.Upload(gamma);
        using var deviceBeta = simulator.Upload(beta);
        using var deviceMean = simulator.Upload(runningMean);
        using var deviceVar = simulator.Upload(runningVar);
        using var deviceFoldedWeight = simulator.Device.Allocate<float>("folded weight", weight.Length);
        using var deviceFoldedBias = simulator.Device.Allocate<float>("folded bias", Channels);
        _kernels.Fold(deviceWeight.View, withBias ? deviceBias.View : default, deviceGamma.View, deviceBeta.View, deviceMean.View, deviceVar.View, Eps,
            deviceFoldedWeight.View, deviceFoldedBias.View);
        DeviceAssert.Close(foldedWeight, simulator.Download(deviceFoldedWeight.View.AsContiguous()), 1e-6f, "folded weight");
        DeviceAssert.Close(foldedBias, simulator.Download(deviceFoldedBias.View.AsContiguous()), 1e-6f, "folded bias");
    }

    [Fact]
    public void BadOperandsAreExceptionsNamingThem()
    {
        using var buffer = simulator.Device.Allocate<float>("operands", N * Channels * PlaneSize);
        ArrayView<float> tensor = buffer.View, perChannel = buffer.View.SubView(0, Channels);
        var shortMean = buffer.View.SubView(0, Channels - 1);
        ArgumentException error = Assert.Throws<ArgumentException>(() => _kernels.ForwardTraining(
            tensor, tensor, perChannel, perChannel, shortMean, perChannel, perChannel, N, Channels, PlaneSize, Eps, Activation.None));
        Assert.Equal("savedMean", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => _kernels.ForwardTraining(
            buffer.View.SubView(0, Channels), buffer.View.SubView(0, Channels), perChannel, perChannel, perChannel, perChannel, perChannel, 1, Channels, 1, Eps, Activation.None));
        Assert.Equal("n", error.ParamName); // one value per channel has no batch variance
        error = Assert.Throws<ArgumentException>(() => _kernels.Fold(
            buffer.View.SubView(0, 7), default, perChannel, perChannel, perChannel, perChannel, Eps, buffer.View.SubView(0, 7), perChannel));
        Assert.Equal("weight", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => _kernels.ForwardInference(
            tensor.SubView(0, Channels), tensor.SubView(1, Channels), perChannel, perChannel, perChannel, perChannel, 1, Channels, 1, Eps, Activation.None,
            residual: tensor.SubView(0, Channels)));
        Assert.Equal("residual", error.ParamName); // overlapping y
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceBatchNorm(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 6);
    }

    internal static Activation ActivationNamed(string name) => name switch
    {
        "LeakyRelu" => Activation.LeakyRelu(0.1f),
        "Elu" => Activation.Elu(0.7f),
        _ => (Activation)typeof(Activation).GetProperty(name)!.GetValue(null)!,
    };

    private static float[] Offset(float[] values, float offset)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] += offset;
        }

        return values;
    }

    private static float[] Filled(int length, float value)
    {
        var values = new float[length];
        Array.Fill(values, value);
        return values;
    }
}
