using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>DeviceConv2d's three calls against kernels/Conv2d.cs on the same operands (tolerance: <see cref="LinearCheck.Tolerance"/>).</summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceConv2dTests(SimulatorFixture simulator)
{
    public static TheoryData<string> Shapes => LinearCases.ConvShapes;

    public static TheoryData<string> Epilogues => LinearCases.Epilogues;

    /// <summary>Per shape: the forward with bias and LeakyReLU, the data gradient, the weight gradient with dbias.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void CallsMatchTheCpu(string shape) => LinearCases.RunConv(shape, new Case(simulator, null));

    [Theory]
    [MemberData(nameof(Epilogues))]
    public void EpiloguesMatchTheCpu(string epilogue) => LinearCases.RunConv(nameof(Conv3x3), new Case(simulator, epilogue));

    [Fact]
    public void AnEmptyBatchZeroesTheWeightGradient()
    {
        var conv = new DeviceConv2d<Conv3x3>(simulator.Device);
        using var dw = simulator.Upload(DeviceAssert.Random(5 * 3 * 9, 6));
        using var dbias = simulator.Upload(DeviceAssert.Random(5, 7));
        conv.BackwardWeight(default, default, dw.View, dbias.View, 0);
        Assert.All(simulator.Download(dw.View.AsContiguous()), value => Assert.Equal(0f, value));
        Assert.All(simulator.Download(dbias.View.AsContiguous()), value => Assert.Equal(0f, value));
    }

    [Fact]
    public void RejectsWrongLengthsAndAnOverlappingResidual()
    {
        var conv = new DeviceConv2d<Conv3x3>(simulator.Device);
        int input = 3 * 7 * 6, output = 5 * 7 * 6;
        using var x = simulator.Device.Allocate<float>("x", 2 * input);
        using var w = simulator.Device.Allocate<float>("w", 5 * 3 * 9);
        using var y = simulator.Device.Allocate<float>("y", (2 * output) + 1);
        ArgumentException exception = Assert.Throws<ArgumentException>(() => conv.Forward(x.View, w.View, default, y.View, 2, Activation.None));
        Assert.Equal("y", exception.ParamName);
        Assert.Contains($"{2 * output}", exception.Message);

        exception = Assert.Throws<ArgumentException>(() => conv.Forward(x.View, w.View.SubView(1, 5 * 3 * 9 - 1), default, y.View.SubView(0, 2 * output), 2, Activation.None));
        Assert.Equal("w", exception.ParamName);

        exception = Assert.Throws<ArgumentException>(() =>
            conv.Forward(x.View, w.View, default, y.View.SubView(0, 2 * output), 2, Activation.None, residual: y.View.SubView(1, 2 * output)));
        Assert.Equal("residual", exception.ParamName);

        exception = Assert.Throws<ArgumentException>(() => conv.BackwardWeight(x.View, y.View.SubView(0, 2 * output), w.View, y.View.SubView(0, 4), 2));
        Assert.Equal("dbias", exception.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => conv.BackwardData(default, w.View, default, -1));
    }

    /// <summary>A generated network nests each layer's shape as a private struct: the simulator runs the kernels at those too.</summary>
    [Fact]
    public void RunsAtAPrivatelyNestedShape() => new Case(simulator, null).Run<PrivateShape>();

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceConv2d<ConvGroups2>(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 4);
    }

    private sealed class Case(SimulatorFixture simulator, string? epilogue) : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            int input = S.InChannels * S.InHeight * S.InWidth, output = S.OutChannels * S.OutHeight * S.OutWidth;
            int weights = S.OutChannels * (S.InChannels / S.Groups) * S.Kernel * S.Kernel;
            var check = new LinearCheck(simulator, input, output, weights, S.OutChannels);
            using var cpu = new KernelContext(1);
            var conv = new DeviceConv2d<S>(simulator.Device);
            const int n = LinearCheck.N;
            string what = typeof(S).Name + " " + (epilogue ?? "bias leaky relu");
            (bool bias, bool residual, Activation activation) = epilogue is null ? (true, false, Activation.LeakyRelu(0.1f)) : LinearCases.Epilogue(epilogue);
            check.Forward(bias, residual,
                (x, w, b, y, r) => Conv2d.Forward<S>(cpu, x, w, b, y, n, activation, r),
                (x, w, b, y, r) => conv.Forward(x, w, b, y, n, activation, r), what);
            if (epilogue is not null)
            {
                return;
            }

            check.BackwardData((dy, w, dx) => Conv2d.BackwardData<S>(cpu, dy, w, dx, n), (dy, w, dx) => conv.BackwardData(dy, w, dx, n), what);
            check.BackwardWeight(bias: true, (x, dy, dw, db) => Conv2d.BackwardWeight<S>(cpu, x, dy, dw, db, n), (x, dy, dw, db) => conv.BackwardWeight(x, dy, dw, db, n), what);
            check.BackwardWeight(bias: false, (x, dy, dw, db) => Conv2d.BackwardWeight<S>(cpu, x, dy, dw, db, n), (x, dy, dw, db) => conv.BackwardWeight(x, dy, dw, db, n), what + " no bias");
        }
    }

    private readonly struct PrivateShape : IConvShape
    {
        public static int InChannels => 2; public static int InHeight => 4; public static int InWidth => 5;
        public static int OutChannels => 3; public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
        public static int OutHeight => 4; public static int OutWidth => 5;
    }
}
