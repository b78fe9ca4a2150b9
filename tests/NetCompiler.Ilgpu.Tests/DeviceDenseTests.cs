using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>DeviceDense's three calls against kernels/Dense.cs on the same operands (tolerance: <see cref="LinearCheck.Tolerance"/>).</summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceDenseTests(SimulatorFixture simulator)
{
    public static TheoryData<string> Shapes => LinearCases.DenseShapes;

    public static TheoryData<string> Epilogues => LinearCases.Epilogues;

    /// <summary>Per shape: the forward with bias and LeakyReLU, the data gradient, the weight gradient with and without dbias.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void CallsMatchTheCpu(string shape) => LinearCases.RunDense(shape, new Case(simulator, null));

    [Theory]
    [MemberData(nameof(Epilogues))]
    public void EpiloguesMatchTheCpu(string epilogue) => LinearCases.RunDense(nameof(Dense17x33), new Case(simulator, epilogue));

    [Fact]
    public void RejectsWrongLengths()
    {
        var dense = new DeviceDense<Dense17x33>(simulator.Device);
        using var x = simulator.Device.Allocate<float>("x", 2 * 17);
        using var w = simulator.Device.Allocate<float>("w", 17 * 33);
        using var y = simulator.Device.Allocate<float>("y", 65);
        ArgumentException exception = Assert.Throws<ArgumentException>(() => dense.Forward(x.View, w.View, default, y.View, 2, Activation.None));
        Assert.Equal("y", exception.ParamName);
        Assert.Contains("66", exception.Message);
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        _ = new DeviceDense<Dense70x130>(device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 4);
    }

    private sealed class Case(SimulatorFixture simulator, string? epilogue) : IDenseCase
    {
        public void Run<S>() where S : struct, IDenseShape
        {
            var check = new LinearCheck(simulator, S.InFeatures, S.OutFeatures, S.InFeatures * S.OutFeatures, S.OutFeatures);
            using var cpu = new KernelContext(1);
            var dense = new DeviceDense<S>(simulator.Device);
            const int n = LinearCheck.N;
            string what = typeof(S).Name + " " + (epilogue ?? "bias leaky relu");
            (bool bias, bool residual, Activation activation) = epilogue is null ? (true, false, Activation.LeakyRelu(0.1f)) : LinearCases.Epilogue(epilogue);
            check.Forward(bias, residual,
                (x, w, b, y, r) => Dense.Forward<S>(cpu, x, w, b, y, n, activation, r),
                (x, w, b, y, r) => dense.Forward(x, w, b, y, n, activation, r), what);
            if (epilogue is not null)
            {
                return;
            }

            check.BackwardData((dy, w, dx) => Dense.BackwardData<S>(cpu, dy, w, dx, n), (dy, w, dx) => dense.BackwardData(dy, w, dx, n), what);
            check.BackwardWeight(bias: true, (x, dy, dw, db) => Dense.BackwardWeight<S>(cpu, x, dy, dw, db, n), (x, dy, dw, db) => dense.BackwardWeight(x, dy, dw, db, n), what);
            check.BackwardWeight(bias: false, (x, dy, dw, db) => Dense.BackwardWeight<S>(cpu, x, dy, dw, db, n), (x, dy, dw, db) => dense.BackwardWeight(x, dy, dw, db, n), what + " no bias");
        }
    }
}
