using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Max, average and global average pooling on the device against the CPU kernels. Max and average pooling do the
/// same float operations in the same order on both sides (the backward gathers add in the order the CPU's scatter
/// does), so they must agree exactly: tolerance 0. Shapes: floor and ceil mode, padding, overlapping windows, odd
/// sizes; the input is quantised to quarters so that windows hold ties (the first maximum wins).
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DevicePoolingTests(SimulatorFixture simulator)
{
    private const int Batch = 3, N = 2;

    public static TheoryData<string> Shapes => new() { "k2s2", "k3s2p1ceil", "k3s1p1", "k2s2ceil" };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MaxPoolMatchesTheCpu(string shape)
    {
        switch (shape)
        {
            case "k2s2": MaxPool<PoolK2S2>(); break;
            case "k3s2p1ceil": MaxPool<PoolK3S2P1Ceil>(); break;
            case "k3s1p1": MaxPool<PoolK3S1P1>(); break;
            default: MaxPool<PoolK2S2Ceil>(); break;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AvgPoolMatchesTheCpu(string shape)
    {
        switch (shape)
        {
            case "k2s2": AvgPool<PoolK2S2>(); break;
            case "k3s2p1ceil": AvgPool<PoolK3S2P1Ceil>(); break;
            case "k3s1p1": AvgPool<PoolK3S1P1>(); break;
            default: AvgPool<PoolK2S2Ceil>(); break;
        }
    }

    /// <summary>A NaN in a window is its maximum and takes its switch, as on the CPU.</summary>
    [Fact]
    public void MaxPoolPropagatesNaNAsTheCpu()
    {
        float[] x = Quantised(PoolSizes<PoolK2S2>.Input, 7);
        x[3] = float.NaN;
        x[17] = float.NaN;
        var y = new float[PoolSizes<PoolK2S2>.Output];
        var switches = new byte[y.Length];
        using (var context = new KernelContext(1))
        {
            MaxPool2d.Forward<PoolK2S2>(context, x, y, switches, 1);
        }

        var kernels = new DeviceMaxPool2d<PoolK2S2>(simulator.Device);
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Device.Allocate<float>("y", y.Length);
        using var deviceSwitches = simulator.Device.Allocate<byte>("switches", y.Length);
        kernels.Forward(deviceX.View, deviceY.View, deviceSwitches.View, 1);
        Assert.Equal(y, simulator.Download(deviceY.View.AsContiguous()));
        Assert.Equal(switches, simulator.Download(deviceSwitches.View.AsContiguous()));
        Assert.Contains(y, float.IsNaN);
    }

    /// <summary>Planes of 5 x 7: the device sums each in double as the CPU does, in another order; rounded to float they agree to an ulp, so 1e-6 of the scale.</summary>
    [Fact]
    public void GlobalAvgPoolMatchesTheCpu()
    {
        const int channels = 3, planeSize = 5 * 7;
        int size = N * channels * planeSize;
        float[] x = DeviceAssert.Random(Batch * channels * planeSize, 1, scale: 3f), dy = DeviceAssert.Random(Batch * channels, 2);
        float[] y = new float[N * channels], dx = new float[size];
        using (var context = new KernelContext(1))
        {
            GlobalAvgPool.Forward(context, x.AsSpan(0, size), y, N, channels, planeSize);
            GlobalAvgPool.Backward(context, dy.AsSpan(0, N * channels), dx, N, channels, planeSize);
        }

        var kernels = new DeviceGlobalAvgPool(simulator.Device);
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Upload(Filled(dy.Length, 42f));
        using var deviceDy = simulator.Upload(dy);
        using var deviceDx = simulator.Upload(Filled(x.Length, 42f));
        kernels.Forward(deviceX.View.SubView(0, size), deviceY.View.SubView(0, y.Length), N, channels, planeSize);
        kernels.Backward(deviceDy.View.SubView(0, y.Length), deviceDx.View.SubView(0, size), N, channels, planeSize);
        float[] actualY = simulator.Download(deviceY.View.AsContiguous()), actualDx = simulator.Download(deviceDx.View.AsContiguous());
        DeviceAssert.Close(y, actualY.AsSpan(0, y.Length), 1e-6f, "y");
        Assert.Equal(dx, actualDx[..size]); // dy / planeSize: one float division on both sides
        Assert.All(actualY[y.Length..], value => Assert.Equal(42f, value));
        Assert.All(actualDx[size..], value => Assert.Equal(42f, value));
    }

    [Fact]
    public void BadOperandsAreExceptionsNamingThem()
    {
        var kernels = new DeviceMaxPool2d<PoolK2S2>(simulator.Device);
        using var floats = simulator.Device.Allocate<float>("operands", N * PoolSizes<PoolK2S2>.Input);
        using var bytes = simulator.Device.Allocate<byte>("switches", N * PoolSizes<PoolK2S2>.Output);
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            kernels.Forward(floats.View, floats.View.SubView(0, N * PoolSizes<PoolK2S2>.Output), bytes.View.SubView(1, N * PoolSizes<PoolK2S2>.Output - 1), N));
        Assert.Equal("switches", error.ParamName);
        Assert.Throws<ArgumentException>(() => new DeviceMaxPool2d<PoolK17>(simulator.Device));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceGlobalAvgPool(simulator.Device).Forward(floats.View, floats.View, N, 0, 1));
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceMaxPool2d<PoolK3S2P1Ceil>(device);
        _ = new DeviceAvgPool2d<PoolK3S2P1Ceil>(device);
        _ = new DeviceGlobalAvgPool(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 6);
    }

    /// <summary>Forward (values and switches) and backward with n = 2 of a batch of 3; nothing past image n is written.</summary>
    private void MaxPool<S>()
        where S : struct, IPoolShape
    {
        int inputs = N * PoolSizes<S>.Input, outputs = N * PoolSizes<S>.Output;
        float[] x = Quantised(Batch * PoolSizes<S>.Input, 3), dy = DeviceAssert.Random(Batch * PoolSizes<S>.Output, 4);
        float[] y = new float[outputs], dx = new float[inputs];
        var switches = new byte[outputs];
        using (var context = new KernelContext(1))
        {
            MaxPool2d.Forward<S>(context, x.AsSpan(0, inputs), y, switches, N);
            MaxPool2d.Backward<S>(context, dy.AsSpan(0, outputs), switches, dx, N);
        }

        var kernels = new DeviceMaxPool2d<S>(simulator.Device);
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Upload(Filled(dy.Length, 42f));
        using var deviceSwitches = simulator.Upload(new byte[dy.Length]);
        using var deviceDy = simulator.Upload(dy);
        using var deviceDx = simulator.Upload(Filled(x.Length, 42f));
        kernels.Forward(deviceX.View.SubView(0, inputs), deviceY.View.SubView(0, outputs), deviceSwitches.View.SubView(0, outputs), N);
        kernels.Backward(deviceDy.View.SubView(0, outputs), deviceSwitches.View.SubView(0, outputs), deviceDx.View.SubView(0, inputs), N);
        float[] actualY = simulator.Download(deviceY.View.AsContiguous()), actualDx = simulator.Download(deviceDx.View.AsContiguous());
        Assert.Equal(y, actualY[..outputs]);
        Assert.Equal(switches, simulator.Download(deviceSwitches.View.AsContiguous())[..outputs]);
        Assert.Equal(dx, actualDx[..inputs]);
        Assert.All(actualY[outputs..], value => Assert.Equal(42f, value));
        Assert.All(actualDx[inputs..], value => Assert.Equal(42f, value));
    }

    private void AvgPool<S>()
        where S : struct, IPoolShape
    {
        int inputs = N * PoolSizes<S>.Input, outputs = N * PoolSizes<S>.Output;
        float[] x = DeviceAssert.Random(Batch * PoolSizes<S>.Input, 5), dy = DeviceAssert.Random(Batch * PoolSizes<S>.Output, 6);
        float[] y = new float[outputs], dx = new float[inputs];
        using (var context = new KernelContext(1))
        {
            AvgPool2d.Forward<S>(context, x.AsSpan(0, inputs), y, N);
            AvgPool2d.Backward<S>(context, dy.AsSpan(0, outputs), dx, N);
        }

        var kernels = new DeviceAvgPool2d<S>(simulator.Device);
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Upload(Filled(dy.Length, 42f));
        using var deviceDy = simulator.Upload(dy);
        using var deviceDx = simulator.Upload(Filled(x.Length, 42f));
        kernels.Forward(deviceX.View.SubView(0, inputs), deviceY.View.SubView(0, outputs), N);
        kernels.Backward(deviceDy.View.SubView(0, outputs), deviceDx.View.SubView(0, inputs), N);
        float[] actualY = simulator.Download(deviceY.View.AsContiguous()), actualDx = simulator.Download(deviceDx.View.AsContiguous());
        Assert.Equal(y, actualY[..outputs]);
        Assert.Equal(dx, actualDx[..inputs]);
        Assert.All(actualY[outputs..], value => Assert.Equal(42f, value));
        Assert.All(actualDx[inputs..], value => Assert.Equal(42f, value));
    }

    /// <summary>Values in quarters from -2 to 2: windows of 4 or 9 hold ties often.</summary>
    private static float[] Quantised(int length, int seed)
    {
        float[] values = DeviceAssert.Random(length, seed, scale: 2f);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Round(values[i] * 4f) / 4f;
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

/// <summary>Per-image sizes of a pooling shape, and PyTorch's output size in floor or ceil mode.</summary>
internal static class PoolSizes<S>
    where S : IPoolShape
{
    public static int Input => S.Channels * S.InHeight * S.InWidth;
    public static int Output => S.Channels * S.OutHeight * S.OutWidth;
}

internal static class PoolOutput
{
    /// <summary>nn.MaxPool2d's output size; in ceil mode the last window must start inside the input or its left padding.</summary>
    public static int Size(int size, int kernel, int stride, int pad, bool ceil)
    {
        int span = size + (2 * pad) - kernel;
        int output = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        return ceil && (output - 1) * stride >= size + pad ? output - 1 : output;
    }
}

internal struct PoolK2S2 : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 6; public static int InWidth => 5;
    public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
    public static int OutHeight => PoolOutput.Size(InHeight, Kernel, Stride, Pad, ceil: false);
    public static int OutWidth => PoolOutput.Size(InWidth, Kernel, Stride, Pad, ceil: false);
}

internal struct PoolK3S2P1Ceil : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 8; public static int InWidth => 6;
    public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1;
    public static int OutHeight => PoolOutput.Size(InHeight, Kernel, Stride, Pad, ceil: true);
    public static int OutWidth => PoolOutput.Size(InWidth, Kernel, Stride, Pad, ceil: true);
}

internal struct PoolK3S1P1 : IPoolShape
{
    public static int Channels => 2; public static int InHeight => 5; public static int InWidth => 5;
    public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1;
    public static int OutHeight => PoolOutput.Size(InHeight, Kernel, Stride, Pad, ceil: false);
    public static int OutWidth => PoolOutput.Size(InWidth, Kernel, Stride, Pad, ceil: false);
}

internal struct PoolK2S2Ceil : IPoolShape
{
    public static int Channels => 3; public static int InHeight => 5; public static int InWidth => 5;
    public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
    public static int OutHeight => PoolOutput.Size(InHeight, Kernel, Stride, Pad, ceil: true);
    public static int OutWidth => PoolOutput.Size(InWidth, Kernel, Stride, Pad, ceil: true);
}

/// <summary>A window too large for byte switches.</summary>
internal struct PoolK17 : IPoolShape
{
    public static int Channels => 1; public static int InHeight => 17; public static int InWidth => 17;
    public static int Kernel => 17; public static int Stride => 1; public static int Pad => 0;
    public static int OutHeight => 1;
    public static int OutWidth => 1;
}
