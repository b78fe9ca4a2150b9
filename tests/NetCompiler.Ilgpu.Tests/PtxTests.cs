using System;
using NetCompiler;
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

    /// <summary>
    /// Every kernel of every sample network (the samples print their networks for devices too) lowers for sm_90: each
    /// network is built at batch 1 on a fresh simulator, which records the kernels its launchers load.
    /// </summary>
    [Theory]
    [InlineData("FashionNet")]
    [InlineData("QTipsImex")]
    [InlineData("QTipsResNet")]
    [InlineData("QTipsUNet")]
    [InlineData("QTipsImexFull")]
    [InlineData("QTipsResNetFull")]
    [InlineData("QTipsUNetFull")]
    [InlineData("DepthImex")]
    [InlineData("DepthResNet")]
    public void EverySampleNetworksKernelsLowerToSm90(string network)
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        using CompiledNetwork net = network switch
        {
            "FashionNet" => new FashionNet(1, 1, device),
            "QTipsImex" => new QTipsImex(1, 1, device),
            "QTipsResNet" => new QTipsResNet(1, 1, device),
            "QTipsUNet" => new QTipsUNet(1, 1, device),
            "QTipsImexFull" => new QTipsImexFull(1, 1, device),
            "QTipsResNetFull" => new QTipsResNetFull(1, 1, device),
            "QTipsUNetFull" => new QTipsUNetFull(1, 1, device),
            "DepthImex" => new DepthImex(1, 1, device),
            _ => new DepthResNet(1, 1, device),
        };
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 8);
    }

    /// <summary>These machines have no GPU and PoCL lacks what ILGPU's OpenCL backend needs: Best says so and simulates.</summary>
    [Fact]
    public void WithoutAGpuBestFallsBackToTheSimulatorAndSaysWhatItTried()
    {
        if (OperatingSystem.IsLinux() && System.IO.File.Exists("/dev/nvidia0"))
        {
            return; // a GPU machine: Best finds CUDA, which the device bench reports
        }

        using IlgpuDevice best = IlgpuDevice.Best();
        Assert.Equal(DeviceKind.Simulator, best.Kind);
        Assert.Contains("CUDA: no device 0", best.Description);
        Assert.Contains("OpenCL: no device 0", best.Description);
        var missing = Assert.Throws<InvalidOperationException>(() => IlgpuDevice.Cuda());
        Assert.Contains("no NVIDIA GPU or driver", missing.Message);
        Assert.Throws<ArgumentException>(() => IlgpuDevice.Create("tpu"));
    }

    [Fact]
    public void TheSimulatorSaysWhatItIs()
    {
        Assert.Equal(DeviceKind.Simulator, simulator.Device.Kind);
        Assert.Contains("groups of up to 256 threads", simulator.Device.Description);
    }
}
