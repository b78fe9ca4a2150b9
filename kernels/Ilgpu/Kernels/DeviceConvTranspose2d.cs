using ILGPU;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Transposed 2-D convolution on the device (the calls of kernels/ConvTranspose2d.cs): x [n, Cin, H, W],
/// w [Cin, Cout / groups, K, K], y [n, Cout, OH, OW]. As on the CPU it is the adjoint of the convolution
/// <see cref="TransposedShape{S}"/> (y's shape to x's, with w's layout): its forward is that convolution's data
/// gradient with bias and activation in the epilogue, its data gradient that convolution's forward, and its weight
/// gradient that convolution's with the roles of x and dy swapped. The same three implicit-GEMM kernels run.
/// </summary>
public sealed class DeviceConvTranspose2d<S>
    where S : struct, IConvShape
{
    private readonly DeviceConv2d<TransposedShape<S>> _adjoint;

    public DeviceConvTranspose2d(IlgpuDevice device) => _adjoint = new DeviceConv2d<TransposedShape<S>>(device);

    private static long InputSize => (long)S.InChannels * S.InHeight * S.InWidth;

    private static long OutputSize => (long)S.OutChannels * S.OutHeight * S.OutWidth;

    private static long WeightSize => (long)S.InChannels * (S.OutChannels / S.Groups) * S.Kernel * S.Kernel;

    /// <summary>y = activation(conv_transpose(x, w) + bias). <paramref name="bias"/> may be default (none).</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int n, Activation activation)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(x, n * InputSize, nameof(x));
        DeviceGuard.Length(w, WeightSize, nameof(w));
        DeviceGuard.OptionalLength(bias, S.OutChannels, nameof(bias));
        DeviceGuard.Length(y, n * OutputSize, nameof(y));
        _adjoint.BackwardDataCore(x, w, bias, y, n, activation);
    }

    /// <summary>dx = gradient of the loss with respect to x given dy (overwritten).</summary>
    public void BackwardData(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(dy, n * OutputSize, nameof(dy));
        DeviceGuard.Length(w, WeightSize, nameof(w));
        DeviceGuard.Length(dx, n * InputSize, nameof(dx));
        _adjoint.ForwardCore(dy, w, default, dx, n, Activation.None, default);
    }

    /// <summary>dw (and dbias when not default) = gradients summed over the batch (overwritten), in a fixed order.</summary>
    public void BackwardWeight(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ArrayView<float> dbias, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(x, n * InputSize, nameof(x));
        DeviceGuard.Length(dy, n * OutputSize, nameof(dy));
        DeviceGuard.Length(dw, WeightSize, nameof(dw));
        DeviceGuard.OptionalLength(dbias, S.OutChannels, nameof(dbias));

        // In the adjoint convolution dy is the input and x the output gradient.
        _adjoint.BackwardWeightCore(dy, x, dw, n);
        if (dbias.Length != 0)
        {
            _adjoint.ChannelSums.Compute(dy, dbias, n, S.OutChannels, S.OutHeight * S.OutWidth);
        }
    }
}
