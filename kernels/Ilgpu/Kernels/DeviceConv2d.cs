using System;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// 2-D convolution on the device (the calls of kernels/Conv2d.cs): x [n, Cin, H, W], w [Cout, Cin / groups, K, K],
/// y [n, Cout, OH, OW]. Each call is one implicit GEMM (<see cref="DeviceGemm"/>) over every image and group, the
/// column matrix gathered from x into shared memory tile by tile: the forward multiplies w_g [Cout/g, Cin/g K K] by
/// the columns [Cin/g K K, n OH OW]; the data gradient multiplies w_g^T by dy, gathering for each input pixel the
/// output pixels whose windows cover it (a col2im without scatter or atomics); the weight gradient multiplies
/// dy_g [Cout/g, n OH OW] by the columns transposed, each group of threads owning a tile of dw over the whole batch.
/// </summary>
public sealed class DeviceConv2d<S>
    where S : struct, IConvShape
{
    private readonly IlgpuDevice _device;
    private readonly Action<KernelConfig, GemmOperands> _forward;
    private readonly Action<KernelConfig, GemmOperands> _backwardData;
    private readonly Action<KernelConfig, GemmOperands> _backwardWeight;

    public DeviceConv2d(IlgpuDevice device)
    {
        _device = device;
        _forward = device.LoadGrouped<GemmOperands>(ForwardKernel);
        _backwardData = device.LoadGrouped<GemmOperands>(BackwardDataKernel);
        _backwardWeight = device.LoadGrouped<GemmOperands>(BackwardWeightKernel);
        ChannelSums = new DeviceChannelSums(device);
    }

    internal DeviceChannelSums ChannelSums { get; }

    /// <summary>
    /// y = activation(conv(x, w) + bias + residual), the residual added in the GEMM's epilogue (a ResNet block's skip).
    /// <paramref name="bias"/> and <paramref name="residual"/> may be default (none); the residual is y's shape, apart from y.
    /// </summary>
    public void Forward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int n, Activation activation,
        ArrayView<float> residual = default)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(x, (long)n * ConvGeometry<S>.InputSize, nameof(x));
        DeviceGuard.Length(w, ConvGeometry<S>.WeightSize, nameof(w));
        DeviceGuard.OptionalLength(bias, S.OutChannels, nameof(bias));
        DeviceGuard.Length(y, (long)n * ConvGeometry<S>.OutputSize, nameof(y));
        DeviceGuard.Residual(residual, y);
        ForwardCore(x, w, bias, y, n, activation, residual);
    }

    /// <summary>dx = gradient of the loss with respect to x given dy (overwritten).</summary>
    public void BackwardData(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(dy, (long)n * ConvGeometry<S>.OutputSize, nameof(dy));
        DeviceGuard.Length(w, ConvGeometry<S>.WeightSize, nameof(w));
        DeviceGuard.Length(dx, (long)n * ConvGeometry<S>.InputSize, nameof(dx));
        BackwardDataCore(dy, w, default, dx, n, Activation.None);
    }

    /// <summary>dw (and dbias when not default) = gradients summed over the batch (overwritten), in a fixed order.</summary>
    public void BackwardWeight(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ArrayView<float> dbias, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(x, (long)n * ConvGeometry<S>.InputSize, nameof(x));
        DeviceGuard.Length(dy, (long)n * ConvGeometry<S>.OutputSize, nameof(dy));
        DeviceGuard.Length(dw, ConvGeometry<S>.WeightSize, nameof(dw));
        DeviceGuard.OptionalLength(dbias, S.OutChannels, nameof(dbias));
        BackwardWeightCore(x, dy, dw, n);
        if (dbias.Length != 0)
        {
            ChannelSums.Compute(dy, dbias, n, S.OutChannels, ConvGeometry<S>.OutputPlane);
        }
    }

    /// <summary>The optional operands a call passed: a default view (length 0) is none.</summary>
    private static EpilogueOperands Passed(ArrayView<float> bias, ArrayView<float> residual) =>
        (bias.Length == 0 ? EpilogueOperands.None : EpilogueOperands.Bias) | (residual.Length == 0 ? EpilogueOperands.None : EpilogueOperands.Residual);

    internal void ForwardCore(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, int n, Activation activation,
        ArrayView<float> residual)
    {
        if (n == 0)
        {
            return;
        }

        var operands = new GemmOperands
        {
            A = w,
            B = x,
            C = y,
            Bias = bias.Length == 0 ? _device.Unused : bias,
            Residual = residual.Length == 0 ? _device.Unused : residual,
            Epilogue = Passed(bias, residual),
            Activation = activation,
            Pixels = n * ConvGeometry<S>.OutputPlane,
        };
        _forward(DeviceGemm.Config(new ConvForwardGemm<S>(operands), S.Groups), operands);
    }

    /// <summary>The data gradient, optionally followed by a per-input-channel bias and an activation (the conv-transpose forward).</summary>
    internal void BackwardDataCore(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> dx, int n, Activation activation)
    {
        if (n == 0)
        {
            return;
        }

        var operands = new GemmOperands
        {
            A = w,
            B = dy,
            C = dx,
            Bias = bias.Length == 0 ? _device.Unused : bias,
            Residual = _device.Unused,
            Epilogue = Passed(bias, default),
            Activation = activation,
            Pixels = n * ConvGeometry<S>.InputPlane,
        };
        _backwardData(DeviceGemm.Config(new ConvBackwardDataGemm<S>(operands), S.Groups), operands);
    }

    /// <summary>dw = dy x_columns^T summed over the batch (overwritten; zero when n is 0).</summary>
    internal void BackwardWeightCore(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, int n)
    {
        var operands = new GemmOperands
        {
            A = dy,
            B = x,
            C = dw,
            Bias = _device.Unused,
            Residual = _device.Unused,
            Pixels = n * ConvGeometry<S>.OutputPlane,
        };
        _backwardWeight(DeviceGemm.Config(new ConvBackwardWeightGemm<S>(operands), S.Groups), operands);
    }

    private static void ForwardKernel(GemmOperands operands) => DeviceGemm.Run(new ConvForwardGemm<S>(operands));

    private static void BackwardDataKernel(GemmOperands operands) => DeviceGemm.Run(new ConvBackwardDataGemm<S>(operands));

    private static void BackwardWeightKernel(GemmOperands operands) => DeviceGemm.Run(new ConvBackwardWeightGemm<S>(operands));
}

/// <summary>Sizes derived from a convolution's shape; all fold to constants per instantiation.</summary>
internal static class ConvGeometry<S>
    where S : struct, IConvShape
{
    public static int InputPlane => S.InHeight * S.InWidth;
    public static int OutputPlane => S.OutHeight * S.OutWidth;
    public static int InputSize => S.InChannels * InputPlane;
    public static int OutputSize => S.OutChannels * OutputPlane;
    public static int GroupInChannels => S.InChannels / S.Groups;
    public static int GroupOutChannels => S.OutChannels / S.Groups;
    public static int KernelArea => S.Kernel * S.Kernel;
    public static int ColumnRows => GroupInChannels * KernelArea;
    public static int WeightSize => S.OutChannels * ColumnRows;

    /// <summary>
    /// The column matrix's entry at row (channel, kh, kw) of <paramref name="group"/> and column <paramref name="pixel"/>
    /// (image * OutputPlane + oh * OutWidth + ow): the input under that kernel tap, or zero on the padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Column(ArrayView<float> x, int group, int row, int pixel)
    {
        int channel = row / KernelArea, tap = row - (channel * KernelArea);
        int image = pixel / OutputPlane, position = pixel - (image * OutputPlane);
        int oh = position / S.OutWidth, ow = position - (oh * S.OutWidth);
        int ih = (oh * S.Stride) - S.Pad + (tap / S.Kernel * S.Dilation);
        int iw = (ow * S.Stride) - S.Pad + (tap % S.Kernel * S.Dilation);
        if ((uint)ih >= (uint)S.InHeight || (uint)iw >= (uint)S.InWidth)
        {
            return 0f;
        }

        return x[((((long)image * S.InChannels) + (group * GroupInChannels) + channel) * InputPlane) + (ih * S.InWidth) + iw];
    }
}

/// <summary>y_g = w_g [Cout/g, Cin/g K K] x columns [Cin/g K K, n OH OW], then bias, residual and activation.</summary>
internal readonly struct ConvForwardGemm<S>(GemmOperands operands) : IGemmProblem
    where S : struct, IConvShape
{
    public readonly int Rows => ConvGeometry<S>.GroupOutChannels;
    public readonly int Columns => operands.Pixels;
    public readonly int Depth => ConvGeometry<S>.ColumnRows;
    public readonly bool DepthMajorA => true;

    // The columns run along output pixels, adjacent in x, except on a 1x1 plane (a dense layer), where depth is.
    public readonly bool DepthMajorB => ConvGeometry<S>.InputPlane == 1;

    public readonly float LoadA(int group, int row, int depth) => operands.A[(((group * Rows) + row) * Depth) + depth];

    public readonly float LoadB(int group, int depth, int column) => ConvGeometry<S>.Column(operands.B, group, depth, column);

    public readonly void Store(int group, int row, int column, float sum)
    {
        int channel = (group * Rows) + row, plane = ConvGeometry<S>.OutputPlane;
        int image = column / plane;
        long index = ((((long)image * S.OutChannels) + channel) * plane) + column - (image * plane);
        float value = (operands.Epilogue & EpilogueOperands.Bias) != 0 ? sum + operands.Bias[channel] : sum;
        if ((operands.Epilogue & EpilogueOperands.Residual) != 0)
        {
            value += operands.Residual[index];
        }

        operands.C[index] = DeviceActivation.Forward(operands.Activation, value);
    }
}

/// <summary>
/// dx_g [Cin/g, n H W] = w_g^T [Cin/g, Cout/g K K] x dy gathered [Cout/g K K, n H W]: for each input pixel and tap,
/// the output pixel whose window puts that tap on it (none where the stride skips it), then bias and activation.
/// </summary>
internal readonly struct ConvBackwardDataGemm<S>(GemmOperands operands) : IGemmProblem
    where S : struct, IConvShape
{
    public readonly int Rows => ConvGeometry<S>.GroupInChannels;
    public readonly int Columns => operands.Pixels;
    public readonly int Depth => ConvGeometry<S>.GroupOutChannels * ConvGeometry<S>.KernelArea;

    // w's taps of one (output, input) channel pair are adjacent; for a 1x1 kernel its input channels are.
    public readonly bool DepthMajorA => S.Kernel > 1;
    public readonly bool DepthMajorB => ConvGeometry<S>.OutputPlane == 1;

    public readonly float LoadA(int group, int row, int depth)
    {
        int area = ConvGeometry<S>.KernelArea, output = depth / area;
        return operands.A[(((((group * ConvGeometry<S>.GroupOutChannels) + output) * Rows) + row) * area) + depth - (output * area)];
    }

    public readonly float LoadB(int group, int depth, int column)
    {
        int area = ConvGeometry<S>.KernelArea, output = depth / area, tap = depth - (output * area);
        int plane = ConvGeometry<S>.InputPlane, image = column / plane, position = column - (image * plane);
        int ih = position / S.InWidth, iw = position - (ih * S.InWidth);
        int th = ih + S.Pad - (tap / S.Kernel * S.Dilation), tw = iw + S.Pad - (tap % S.Kernel * S.Dilation);
        if (th < 0 || tw < 0 || th % S.Stride != 0 || tw % S.Stride != 0)
        {
            return 0f;
        }

        int oh = th / S.Stride, ow = tw / S.Stride;
        if (oh >= S.OutHeight || ow >= S.OutWidth)
        {
            return 0f;
        }

        int channel = (group * ConvGeometry<S>.GroupOutChannels) + output;
        return operands.B[((((long)image * S.OutChannels) + channel) * ConvGeometry<S>.OutputPlane) + (oh * S.OutWidth) + ow];
    }

    public readonly void Store(int group, int row, int column, float sum)
    {
        int channel = (group * Rows) + row, plane = ConvGeometry<S>.InputPlane;
        int image = column / plane;
        long index = ((((long)image * S.InChannels) + channel) * plane) + column - (image * plane);
        operands.C[index] = DeviceActivation.Forward(operands.Activation, (operands.Epilogue & EpilogueOperands.Bias) != 0 ? sum + operands.Bias[channel] : sum);
    }
}

/// <summary>dw_g [Cout/g, Cin/g K K] = dy_g [Cout/g, n OH OW] x columns^T [n OH OW, Cin/g K K]: the depth is the whole batch.</summary>
internal readonly struct ConvBackwardWeightGemm<S>(GemmOperands operands) : IGemmProblem
    where S : struct, IConvShape
{
    public readonly int Rows => ConvGeometry<S>.GroupOutChannels;
    public readonly int Columns => ConvGeometry<S>.ColumnRows;
    public readonly int Depth => operands.Pixels;

    // Both operands run along output pixels in memory, except on a 1x1 plane (a dense layer), where rows and columns do.
    public readonly bool DepthMajorA => ConvGeometry<S>.OutputPlane > 1;
    public readonly bool DepthMajorB => ConvGeometry<S>.OutputPlane > 1;

    public readonly float LoadA(int group, int row, int depth)
    {
        int plane = ConvGeometry<S>.OutputPlane, image = depth / plane;
        int channel = (group * Rows) + row;
        return operands.A[((((long)image * S.OutChannels) + channel) * plane) + depth - (image * plane)];
    }

    public readonly float LoadB(int group, int depth, int column) => ConvGeometry<S>.Column(operands.B, group, column, depth);

    public readonly void Store(int group, int row, int column, float sum) => operands.C[(((group * Rows) + row) * Columns) + column] = sum;
}
