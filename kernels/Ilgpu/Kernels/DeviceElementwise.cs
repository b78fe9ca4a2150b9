using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The element-wise calls of the kernel program on the device: copy, add_scaled, scale, and the activations that run as
/// calls of their own. Each launcher class loads its kernels once per network, at construction; the delegates are kept
/// (ILGPU's kernel cache holds weak references). Launches go to the device's default stream, unsynchronised.
/// </summary>
public sealed class DeviceElementwise
{
    private readonly IlgpuDevice _device;
    private readonly Action<Index1D, ArrayView<float>, float, ArrayView<float>, ArrayView<float>> _addScaled;
    private readonly Action<Index1D, ArrayView<float>, float, ArrayView<float>> _scale;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, Activation> _activationForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, Activation> _activationBackward;

    public DeviceElementwise(IlgpuDevice device)
    {
        _device = device;
        _addScaled = device.Load<ArrayView<float>, float, ArrayView<float>, ArrayView<float>>(AddScaledKernel);
        _scale = device.Load<ArrayView<float>, float, ArrayView<float>>(ScaleKernel);
        _activationForward = device.Load<ArrayView<float>, ArrayView<float>, Activation>(ActivationForwardKernel);
        _activationBackward = device.Load<ArrayView<float>, ArrayView<float>, Activation>(ActivationBackwardKernel);
    }

    /// <summary>y = x (the views have the same length).</summary>
    public void Copy(ArrayView<float> x, ArrayView<float> y) => x.CopyTo(_device.Accelerator.DefaultStream, y);

    /// <summary>y = a + scale * b; y may be a.</summary>
    public void AddScaled(ArrayView<float> a, float scale, ArrayView<float> b, ArrayView<float> y) => _addScaled((int)y.Length, a, scale, b, y);

    /// <summary>y = factor * x; y may be x.</summary>
    public void Scale(ArrayView<float> x, float factor, ArrayView<float> y) => _scale((int)y.Length, x, factor, y);

    /// <summary>y = f(x).</summary>
    public void ActivationForward(Activation activation, ArrayView<float> x, ArrayView<float> y) => _activationForward((int)y.Length, x, y, activation);

    /// <summary>dy *= f'(.) in place, from the forward's output (its input for SiLU).</summary>
    public void ActivationBackward(Activation activation, ArrayView<float> saved, ArrayView<float> dy) => _activationBackward((int)dy.Length, saved, dy, activation);

    private static void AddScaledKernel(Index1D i, ArrayView<float> a, float scale, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] + (scale * b[i]);

    private static void ScaleKernel(Index1D i, ArrayView<float> x, float factor, ArrayView<float> y) => y[i] = factor * x[i];

    private static void ActivationForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, Activation activation) =>
        y[i] = DeviceActivation.Forward(activation, x[i]);

    /// <summary>dy[i] *= f'(.) from saved[i]; the batch norm's backward also launches it for its fused activation.</summary>
    internal static void ActivationBackwardKernel(Index1D i, ArrayView<float> saved, ArrayView<float> dy, Activation activation) =>
        dy[i] = DeviceActivation.Backward(activation, saved[i], dy[i]);
}
