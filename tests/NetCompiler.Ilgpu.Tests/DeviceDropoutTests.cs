using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Dropout on the device against the CPU's: the same state gives the same mask bit for bit, and leaves the same
/// state, so a network's masks do not depend on where it runs. Exact comparisons: the mask is 0 or the same float
/// 1 / (1 - p), and y and dx are one float product each.
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceDropoutTests(SimulatorFixture simulator)
{
    private readonly DeviceDropout _kernels = new(simulator.Device);

    [Theory]
    [InlineData(301, 0.3f)] // odd: the last draw decides one element
    [InlineData(64, 0.3f)]
    [InlineData(1, 0.5f)]
    [InlineData(37, 0f)]
    [InlineData(37, 1f)]
    public void MasksAndStateAreTheCpus(int length, float p)
    {
        float[] x = DeviceAssert.Random(length, 1), dy = DeviceAssert.Random(length, 2);
        float[] y = new float[length], mask = new float[length], dx = new float[length];
        ulong cpuState = 0x0123456789ABCDEFUL, deviceState = cpuState;
        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Device.Allocate<float>("y", length);
        using var deviceMask = simulator.Device.Allocate<float>("mask", length);
        using var deviceDy = simulator.Upload(dy);
        using var deviceDx = simulator.Device.Allocate<float>("dx", length);

        // Two calls in a row: the second starts from the state the first left.
        for (int call = 0; call < 2; call++)
        {
            Dropout.Forward(x, y, mask, p, ref cpuState);
            Dropout.Backward(dy, mask, dx);
            _kernels.Forward(deviceX.View, deviceY.View, deviceMask.View, p, ref deviceState);
            _kernels.Backward(deviceDy.View, deviceMask.View, deviceDx.View);
            Assert.Equal(cpuState, deviceState);
            Assert.Equal(mask, simulator.Download(deviceMask.View.AsContiguous()));
            Assert.Equal(y, simulator.Download(deviceY.View.AsContiguous()));
            Assert.Equal(dx, simulator.Download(deviceDx.View.AsContiguous()));
        }

        if (p == 0.3f && length > 100)
        {
            int dropped = Array.FindAll(mask, value => value == 0f).Length;
            Assert.InRange(dropped, length / 5, length * 2 / 5); // a real mask, not all kept or all dropped
        }
    }

    [Fact]
    public void AnEmptyTensorLeavesTheStateAsTheCpu()
    {
        ulong cpuState = 7, deviceState = 7;
        Dropout.Forward([], [], [], 0.3f, ref cpuState);
        _kernels.Forward(default, default, default, 0.3f, ref deviceState);
        Assert.Equal(cpuState, deviceState);
    }

    [Fact]
    public void BadOperandsAreExceptionsNamingThem()
    {
        using var buffer = simulator.Device.Allocate<float>("operands", 10);
        ulong state = 1;
        ArgumentOutOfRangeException range = Assert.Throws<ArgumentOutOfRangeException>(() => _kernels.Forward(buffer.View, buffer.View, buffer.View, 1.5f, ref state));
        Assert.Equal("p", range.ParamName);
        ArgumentException error = Assert.Throws<ArgumentException>(() => _kernels.Forward(buffer.View, buffer.View, buffer.View.SubView(0, 9), 0.3f, ref state));
        Assert.Equal("mask", error.ParamName);
        Assert.Equal(1UL, state); // a refused call draws nothing
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceDropout(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 2);
    }
}
