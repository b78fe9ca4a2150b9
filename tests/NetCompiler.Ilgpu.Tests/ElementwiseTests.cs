using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

[Collection(SimulatorCollection.Name)]
public sealed class ElementwiseTests(SimulatorFixture simulator)
{
    private readonly DeviceElementwise _kernels = new(simulator.Device);

    public static TheoryData<string> Activations => new() { "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Relu6", "Silu" };

    /// <summary>
    /// Each activation's forward and backward on the device against the CPU kernels. Tolerance 1e-5 of the scale: the
    /// CPU evaluates exp and tanh by its own polynomials, the device by the platform's functions (both within a few ulp).
    /// </summary>
    [Theory]
    [MemberData(nameof(Activations))]
    public void ActivationsMatchTheCpu(string name)
    {
        Activation activation = name switch
        {
            "LeakyRelu" => Activation.LeakyRelu(0.1f),
            "Elu" => Activation.Elu(0.7f),
            _ => (Activation)typeof(Activation).GetProperty(name)!.GetValue(null)!,
        };
        float[] x = DeviceAssert.Random(300, 1, scale: 8f);
        float[] dy = DeviceAssert.Random(300, 2);
        var y = new float[x.Length];
        activation.Forward(x, y);
        float[] saved = activation.BackwardReadsInput ? x : y;
        float[] dx = (float[])dy.Clone();
        activation.Backward(saved, dx);

        using var deviceX = simulator.Upload(x);
        using var deviceY = simulator.Device.Allocate<float>("y", x.Length);
        _kernels.ActivationForward(activation, deviceX.View, deviceY.View);
        DeviceAssert.Close(y, simulator.Download(deviceY.View.AsContiguous()), 1e-5f, name + " forward");

        using var deviceSaved = simulator.Upload(saved);
        using var deviceDy = simulator.Upload(dy);
        _kernels.ActivationBackward(activation, deviceSaved.View, deviceDy.View);
        DeviceAssert.Close(dx, simulator.Download(deviceDy.View.AsContiguous()), 1e-5f, name + " backward");
    }

    [Fact]
    public void AddScaledScaleAndCopyMatchTheCpu()
    {
        float[] a = DeviceAssert.Random(77, 3), b = DeviceAssert.Random(77, 4);
        var expected = new float[a.Length];
        Elementwise.AddScaled(a, -0.5f, b, expected);
        using var deviceA = simulator.Upload(a);
        using var deviceB = simulator.Upload(b);
        _kernels.AddScaled(deviceA.View, -0.5f, deviceB.View, deviceA.View); // in place, as the backward sums gradients
        DeviceAssert.Close(expected, simulator.Download(deviceA.View.AsContiguous()), 1e-6f, "add_scaled");

        Elementwise.Scale(b, 3f, expected);
        _kernels.Scale(deviceB.View, 3f, deviceA.View);
        DeviceAssert.Close(expected, simulator.Download(deviceA.View.AsContiguous()), 1e-6f, "scale");

        _kernels.Copy(deviceB.View, deviceA.View);
        Assert.Equal(b, simulator.Download(deviceA.View.AsContiguous()));
    }
}
