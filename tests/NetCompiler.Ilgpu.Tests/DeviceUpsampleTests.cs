using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Nearest and bilinear upsampling on the device against the CPU's. The device computes the same taps (the CPU's
/// BilinearTap) and the same float expressions, and its backward gathers add in the order the CPU's scatter does, so
/// every result must agree exactly: tolerance 0. Odd planes (3 x 5), scales 2 and 3, n = 2 of a batch of 3.
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceUpsampleTests(SimulatorFixture simulator)
{
    private const int Batch = 3, N = 2;

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void ForwardAndBackwardMatchTheCpu(int scale, bool bilinear)
    {
        if (scale == 2)
        {
            Run<Upsample3x5By2>(bilinear);
        }
        else
        {
            Run<Upsample3x5By3>(bilinear);
        }
    }

    [Fact]
    public void BadOperandsAreExceptionsNamingThem()
    {
        var kernels = new DeviceUpsample2d<Upsample3x5By2>(simulator.Device);
        using var buffer = simulator.Device.Allocate<float>("operands", Large<Upsample3x5By2>());
        ArgumentException error = Assert.Throws<ArgumentException>(() => kernels.BilinearBackward(buffer.View, buffer.View.SubView(0, 3), 1));
        Assert.Equal("dx", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => kernels.NearestForward(buffer.View, buffer.View, -1));
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceUpsample2d<Upsample3x5By3>(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 4);
    }

    private static int Small<S>() where S : IUpsampleShape => S.Channels * S.InHeight * S.InWidth;

    private static int Large<S>() where S : IUpsampleShape => Small<S>() * S.Scale * S.Scale;

    private void Run<S>(bool bilinear)
        where S : struct, IUpsampleShape
    {
        int small = N * Small<S>(), large = N * Large<S>();
        float[] x = DeviceAssert.Random(Batch * Small<S>(), 1), dy = DeviceAssert.Random(Batch * Large<S>(), 2);
        float[] y = new float[large], dx = new float[small];
        using (var context = new KernelContext(1))
        {
            if (bilinear)
            {
                Upsample2d.BilinearForward<S>(context, x.AsSpan(0, small), y, N);
                Upsample2d.BilinearBackward<S>(context, dy.AsSpan(0, large), dx, N);
            }
            else
            {
                Upsample2d.NearestForward<S>(context, x.AsSpan(0, small), y, N);
                Upsample2d.NearestBackward<S>(context, dy.AsSpan(0, large), dx, N);
            }
        }

        var kernels = new DeviceUpsample2d<S>(simulator.Device);
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Upload(Filled(dy.Length, 42f));
        using var deviceDy = simulator.Upload(dy);
        using var deviceDx = simulator.Upload(Filled(x.Length, 42f));
        if (bilinear)
        {
            kernels.BilinearForward(deviceX.View.SubView(0, small), deviceY.View.SubView(0, large), N);
            kernels.BilinearBackward(deviceDy.View.SubView(0, large), deviceDx.View.SubView(0, small), N);
        }
        else
        {
            kernels.NearestForward(deviceX.View.SubView(0, small), deviceY.View.SubView(0, large), N);
            kernels.NearestBackward(deviceDy.View.SubView(0, large), deviceDx.View.SubView(0, small), N);
        }

        float[] actualY = simulator.Download(deviceY.View.AsContiguous()), actualDx = simulator.Download(deviceDx.View.AsContiguous());
        Assert.Equal(y, actualY[..large]);
        Assert.Equal(dx, actualDx[..small]);
        Assert.All(actualY[large..], value => Assert.Equal(42f, value));
        Assert.All(actualDx[small..], value => Assert.Equal(42f, value));
    }

    private static float[] Filled(int length, float value)
    {
        var values = new float[length];
        Array.Fill(values, value);
        return values;
    }
}

internal struct Upsample3x5By2 : IUpsampleShape
{
    public static int Channels => 2; public static int InHeight => 3; public static int InWidth => 5; public static int Scale => 2;
}

internal struct Upsample3x5By3 : IUpsampleShape
{
    public static int Channels => 2; public static int InHeight => 3; public static int InWidth => 5; public static int Scale => 3;
}
