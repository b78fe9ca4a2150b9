using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>DeviceConvTranspose2d's three calls against kernels/ConvTranspose2d.cs on the same operands (tolerance: <see cref="LinearCheck.Tolerance"/>).</summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceConvTranspose2dTests(SimulatorFixture simulator)
{
    public static TheoryData<string> Shapes => LinearCases.ConvTransposeShapes;

    /// <summary>The conv-transpose forward has no residual; every other epilogue.</summary>
    public static TheoryData<string> Epilogues => new() { "plain", "bias", "leaky relu", "bias sigmoid" };

    /// <summary>Per shape: the forward with bias and LeakyReLU, the data gradient, the weight gradient with and without dbias.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void CallsMatchTheCpu(string shape) => LinearCases.RunConv(shape, new Case(simulator, null));

    [Theory]
    [MemberData(nameof(Epilogues))]
    public void EpiloguesMatchTheCpu(string epilogue) => LinearCases.RunConv(nameof(ConvTStride2), new Case(simulator, epilogue));

    [Fact]
    public void RejectsWrongLengths()
    {
        var deconv = new DeviceConvTranspose2d<ConvTStride2>(simulator.Device);
        int input = 4 * 4 * 3, output = 3 * 8 * 6;
        using var x = simulator.Device.Allocate<float>("x", 2 * input);
        using var w = simulator.Device.Allocate<float>("w", 4 * 3 * 9);
        using var y = simulator.Device.Allocate<float>("y", 2 * output);
        ArgumentException exception = Assert.Throws<ArgumentException>(() => deconv.Forward(x.View, w.View, w.View.SubView(0, 4), y.View, 2, Activation.None));
        Assert.Equal("bias", exception.ParamName);
        exception = Assert.Throws<ArgumentException>(() => deconv.BackwardData(y.View, w.View, x.View, 1));
        Assert.Equal("dy", exception.ParamName);
        Assert.Contains($"{output}", exception.Message);
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceConvTranspose2d<ConvTGroups2>(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 4);
    }

    private sealed class Case(SimulatorFixture simulator, string? epilogue) : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            int input = S.InChannels * S.InHeight * S.InWidth, output = S.OutChannels * S.OutHeight * S.OutWidth;
            int weights = S.InChannels * (S.OutChannels / S.Groups) * S.Kernel * S.Kernel;
            var check = new LinearCheck(simulator, input, output, weights, S.OutChannels);
            using var cpu = new KernelContext(1);
            var deconv = new DeviceConvTranspose2d<S>(simulator.Device);
            const int n = LinearCheck.N;
            string what = typeof(S).Name + " " + (epilogue ?? "bias leaky relu");
            (bool bias, _, Activation activation) = epilogue is null ? (true, false, Activation.LeakyRelu(0.1f)) : LinearCases.Epilogue(epilogue);
            check.Forward(bias, residual: false,
                (x, w, b, y, _) => ConvTranspose2d.Forward<S>(cpu, x, w, b, y, n, activation),
                (x, w, b, y, _) => deconv.Forward(x, w, b, y, n, activation), what);
            if (epilogue is not null)
            {
                return;
            }

            check.BackwardData((dy, w, dx) => ConvTranspose2d.BackwardData<S>(cpu, dy, w, dx, n), (dy, w, dx) => deconv.BackwardData(dy, w, dx, n), what);
            check.BackwardWeight(bias: true, (x, dy, dw, db) => ConvTranspose2d.BackwardWeight<S>(cpu, x, dy, dw, db, n), (x, dy, dw, db) => deconv.BackwardWeight(x, dy, dw, db, n), what);
            check.BackwardWeight(bias: false, (x, dy, dw, db) => ConvTranspose2d.BackwardWeight<S>(cpu, x, dy, dw, db, n), (x, dy, dw, db) => deconv.BackwardWeight(x, dy, dw, db, n), what + " no bias");
        }
    }
}
