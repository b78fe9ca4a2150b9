using ILGPU;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Fully connected layer on the device (the calls of kernels/Dense.cs): x [n, In], w [Out, In], bias [Out],
/// y [n, Out]. It is the convolution <see cref="DenseAsConv{S}"/> (a 1x1 kernel on a 1x1 plane: the same layouts),
/// so it runs the same implicit-GEMM kernels with K = 1: y^T = w x^T, dx^T = w^T dy^T, dw = dy^T x.
/// </summary>
public sealed class DeviceDense<S>
    where S : struct, IDenseShape
{
    private readonly DeviceConv2d<DenseAsConv<S>> _conv;

    public DeviceDense(IlgpuDevice device) => _conv = new DeviceConv2d<DenseAsConv<S>>(device);

    /// <summary>
    /// y = activation(x w^T + bias + residual), the residual added in the GEMM's epilogue. <paramref name="bias"/> and
    /// <paramref name="residual"/> may be default (none); the residual is y's shape, apart from y.
    /// </summary>
    public void Forward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int n, Activation activation,
        ArrayView<float> residual = default) => _conv.Forward(x, w, bias, y, n, activation, residual);

    /// <summary>dx = dy w (overwritten).</summary>
    public void BackwardData(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, int n) => _conv.BackwardData(dy, w, dx, n);

    /// <summary>dw = dy^T x and dbias (when not default) = column sums of dy, both summed over the batch (overwritten).</summary>
    public void BackwardWeight(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ArrayView<float> dbias, int n) =>
        _conv.BackwardWeight(x, dy, dw, dbias, n);
}

/// <summary>The dense layer <typeparamref name="S"/> as a convolution: In channels to Out channels, 1x1 kernel, 1x1 plane.</summary>
internal readonly struct DenseAsConv<S> : IConvShape
    where S : IDenseShape
{
    public static int InChannels => S.InFeatures;
    public static int InHeight => 1;
    public static int InWidth => 1;
    public static int OutChannels => S.OutFeatures;
    public static int OutHeight => 1;
    public static int OutWidth => 1;
    public static int Kernel => 1;
    public static int Stride => 1;
    public static int Pad => 0;
    public static int Dilation => 1;
    public static int Groups => 1;
}
