using NetCompiler.Ilgpu;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>Every kernel a launcher loads lowers to PTX for the H200 (sm_90) with no GPU present.</summary>
[Collection(SimulatorCollection.Name)]
public sealed class PtxTests(SimulatorFixture simulator)
{
    [Fact]
    public void ElementwiseKernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceElementwise(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 4);
    }

    [Fact]
    public void TheSimulatorSaysWhatItIs()
    {
        Assert.Equal(DeviceKind.Simulator, simulator.Device.Kind);
        Assert.Contains("groups of up to 256 threads", simulator.Device.Description);
    }
}
