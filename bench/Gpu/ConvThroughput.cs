using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Ilgpu;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>One conv shape's GFLOP/s for each of DeviceConv2d's three calls.</summary>
internal sealed record ConvFigure(string Shape, int Batch, double Flops, double ForwardGflops, double BackwardDataGflops, double BackwardWeightGflops);

/// <summary>
/// DeviceConv2d on CifarVgg's six convolutions (3x3, pad 1: 3->32 and 32->32 at 32x32, 32->64 and 64->64 at 16x16,
/// 64->128 and 128->128 at 8x8), each call timed on its own: the forward with bias and ReLU in its epilogue (the
/// folded inference's conv), the data gradient and the weight gradient. The three do the same multiply-adds,
/// 2 n OutC OutH OutW (InC / groups) K K FLOPs.
/// </summary>
internal static class ConvThroughput
{
    /// <summary>The figures, in the network's order; the shape names are gpu_peer.py's keys.</summary>
    public static IReadOnlyList<ConvFigure> Measure(IlgpuDevice device, int batch, Schedule schedule) =>
    [
        Run<VggConv3To32>(device, batch, schedule),
        Run<VggConv32To32>(device, batch, schedule),
        Run<VggConv32To64>(device, batch, schedule),
        Run<VggConv64To64>(device, batch, schedule),
        Run<VggConv64To128>(device, batch, schedule),
        Run<VggConv128To128>(device, batch, schedule),
    ];

    /// <summary>gpu_peer.py's name for a shape: input CxHxW -> output channels.</summary>
    public static string ShapeName(int inChannels, int height, int width, int outChannels) => $"{inChannels}x{height}x{width}->{outChannels}";

    private static ConvFigure Run<S>(IlgpuDevice device, int n, Schedule schedule)
        where S : struct, IConvShape
    {
        var conv = new DeviceConv2d<S>(device);
        int input = S.InChannels * S.InHeight * S.InWidth, output = S.OutChannels * S.OutHeight * S.OutWidth;
        int weights = S.OutChannels * (S.InChannels / S.Groups) * S.Kernel * S.Kernel;
        using var x = Upload(device, "x", (long)n * input, 1);
        using var w = Upload(device, "w", weights, 2);
        using var bias = Upload(device, "bias", S.OutChannels, 3);
        using var y = Upload(device, "y", (long)n * output, 4); // also dy for the gradients: its values do not matter
        using var dx = device.Allocate<float>("dx", (long)n * input);
        using var dw = device.Allocate<float>("dw", weights);
        double flops = 2.0 * n * S.OutChannels * S.OutHeight * S.OutWidth * (S.InChannels / S.Groups) * S.Kernel * S.Kernel;
        double forward = schedule.KernelSeconds(device, () => conv.Forward(x.View, w.View, bias.View, y.View, n, Activation.Relu));
        double data = schedule.KernelSeconds(device, () => conv.BackwardData(y.View, w.View, dx.View, n));
        double weight = schedule.KernelSeconds(device, () => conv.BackwardWeight(x.View, y.View, dw.View, default, n));
        return new ConvFigure(ShapeName(S.InChannels, S.InHeight, S.InWidth, S.OutChannels), n, flops,
            flops / forward / 1e9, flops / data / 1e9, flops / weight / 1e9);
    }

    private static MemoryBuffer1D<float, Stride1D.Dense> Upload(IlgpuDevice device, string what, long length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        MemoryBuffer1D<float, Stride1D.Dense> buffer = device.Allocate<float>(what, length);
        buffer.CopyFromCPU(values);
        return buffer;
    }

    private struct VggConv3To32 : IConvShape
    {
        public static int InChannels => 3; public static int InHeight => 32; public static int InWidth => 32; public static int OutChannels => 32;
        public static int OutHeight => InHeight; public static int OutWidth => InWidth;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private struct VggConv32To32 : IConvShape
    {
        public static int InChannels => 32; public static int InHeight => 32; public static int InWidth => 32; public static int OutChannels => 32;
        public static int OutHeight => InHeight; public static int OutWidth => InWidth;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private struct VggConv32To64 : IConvShape
    {
        public static int InChannels => 32; public static int InHeight => 16; public static int InWidth => 16; public static int OutChannels => 64;
        public static int OutHeight => InHeight; public static int OutWidth => InWidth;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private struct VggConv64To64 : IConvShape
    {
        public static int InChannels => 64; public static int InHeight => 16; public static int InWidth => 16; public static int OutChannels => 64;
        public static int OutHeight => InHeight; public static int OutWidth => InWidth;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private struct VggConv64To128 : IConvShape
    {
        public static int InChannels => 64; public static int InHeight => 8; public static int InWidth => 8; public static int OutChannels => 128;
        public static int OutHeight => InHeight; public static int OutWidth => InWidth;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private struct VggConv128To128 : IConvShape
    {
        public static int InChannels => 128; public static int InHeight => 8; public static int InWidth => 8; public static int OutChannels => 128;
        public static int OutHeight => InHeight; public static int OutWidth => InWidth;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }
}
