using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>Channel concatenation on the device against the CPU's: copies, so exact; n = 2 of a batch of 3, blocks of odd sizes.</summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceChannelConcatTests(SimulatorFixture simulator)
{
    private const int Batch = 3, N = 2, AElements = 2 * 5, BElements = 3 * 5 + 2;

    private readonly DeviceChannelConcat _kernels = new(simulator.Device);

    [Fact]
    public void ForwardMatchesTheCpu()
    {
        float[] a = DeviceAssert.Random(Batch * AElements, 1), b = DeviceAssert.Random(Batch * BElements, 2);
        int joined = N * (AElements + BElements);
        var y = new float[joined];
        ChannelConcat.Forward(a.AsSpan(0, N * AElements), b.AsSpan(0, N * BElements), y, N, AElements, BElements);
        using var deviceA = simulator.Upload(a);
        using var deviceB = simulator.Upload(b);
        using var deviceY = simulator.Upload(Filled(Batch * (AElements + BElements), 42f));
        _kernels.Forward(deviceA.View.SubView(0, N * AElements), deviceB.View.SubView(0, N * BElements), deviceY.View.SubView(0, joined), N, AElements, BElements);
        float[] actual = simulator.Download(deviceY.View.AsContiguous());
        Assert.Equal(y, actual[..joined]);
        Assert.All(actual[joined..], value => Assert.Equal(42f, value));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void BackwardMatchesTheCpu(bool wantA, bool wantB)
    {
        int joined = N * (AElements + BElements);
        float[] dy = DeviceAssert.Random(joined, 3);
        float[] da = Filled(N * AElements, 42f), db = Filled(N * BElements, 42f);
        ChannelConcat.Backward(dy, wantA ? da : default, wantB ? db : default, N, AElements, BElements);
        using var deviceDy = simulator.Upload(dy);
        using var deviceDa = simulator.Upload(Filled(N * AElements, 42f));
        using var deviceDb = simulator.Upload(Filled(N * BElements, 42f));
        _kernels.Backward(deviceDy.View, wantA ? deviceDa.View : default, wantB ? deviceDb.View : default, N, AElements, BElements);
        Assert.Equal(da, simulator.Download(deviceDa.View.AsContiguous())); // a block not wanted stays as it was
        Assert.Equal(db, simulator.Download(deviceDb.View.AsContiguous()));
    }

    [Fact]
    public void BadOperandsAreExceptionsNamingThem()
    {
        using var buffer = simulator.Device.Allocate<float>("operands", N * (AElements + BElements));
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            _kernels.Forward(buffer.View.SubView(0, N * AElements), buffer.View.SubView(0, N * BElements - 1), buffer.View, N, AElements, BElements));
        Assert.Equal("b", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => _kernels.Backward(buffer.View, buffer.View.SubView(0, 3), default, N, AElements, BElements));
        Assert.Equal("da", error.ParamName);
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceChannelConcat(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 1);
    }

    private static float[] Filled(int length, float value)
    {
        var values = new float[length];
        Array.Fill(values, value);
        return values;
    }
}
