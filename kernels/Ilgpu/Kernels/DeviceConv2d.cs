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
    private readonly Action<KernelConfig, ConvForwardGemm<S>> _forward;
    private readonly Action<KernelConfig, ConvBackwardDataGemm<S>> _backwardData;
    private readonly Action<KernelConfig, ConvBackwardWeightGemm<S>> _backwardWeight;

    public DeviceConv2d(IlgpuDevice device)
    {
        _device = device;
        _forward = device.LoadGrouped<ConvForwardGemm<S>>(DeviceGemm.Kernel);
        _backwardData = device.LoadGrouped<ConvBackwardDataGemm<S>>(DeviceGemm.Kernel);
        _backwardWeight = device.LoadGrouped<ConvBackwardWeightGemm<S>>(DeviceGemm.Kernel);
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

        var problem = new ConvForwardGemm<S>
        {
            X = x,
            W = w,
            Bias = bias.Length == 0 ? _device.Unused : bias,
            Residual = residual.Length == 0 ? _device.Unused : residual,
            Operands = Passed(bias, residual),
            Y = y,
            Activation = activation,
            Pixels = n * ConvGeometry<S>.OutputPlane,
        };
        _forward(DeviceGemm.Config(problem, S.Groups), problem);
    }

    /// <summary>The data gradient, optionally followed by a per-input-channel bias and an activation (the conv-transpose forward).</summary>
    internal void BackwardDataCore(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> dx, int n, Activation activation)
    {
        if (n == 0)
        {
            return;
        }

        var problem = new ConvBackwardDataGemm<S>
        {
            Dy = dy,
            W = w,
            Bias = bias.Length == 0 ? _device.Unused : bias,
            Operands = Passed(bias, default),
            Dx = dx,
            Activation = activation,
            Pixels = n * ConvGeometry<S>.InputPlane,
        };
        _backwardData(DeviceGemm.Config(problem, S.Groups), problem);
    }

    /// <summary>dw = dy x_columns^T summed over the batch (overwritten; zero when n is 0).</summary>
    internal void BackwardWeightCore(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, int n)
    {
        var problem = new ConvBackwardWeightGemm<S> { X = x, Dy = dy, Dw = dw, Pixels = n * ConvGeometry<S>.OutputPlane };
        _backwardWeight(DeviceGemm.Config(problem, S.Groups), problem);
    }
}

/// <summary>Which optional operands an epilogue reads (a kernel parameter must be blittable, so not a bool).</summary>
[Flags]
internal enum EpilogueOperands
{
    None = 0,
    Bias = 1,
    Residual = 2,
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
internal struct ConvForwardGemm<S> : IGemmProblem
    where S : struct, IConvShape
{
    public ArrayView<float> X;
    public ArrayView<float> W;
    public ArrayView<float> Bias;
    public ArrayView<float> Residual;
    public ArrayView<float> Y;
    public Activation Activation;
    public EpilogueOperands Operands;
    public int Pixels;

    public readonly int Rows => ConvGeometry<S>.GroupOutChannels;
    public readonly int Columns => Pixels;
    public readonly int Depth => ConvGeometry<S>.ColumnRows;
    public readonly bool DepthMajorA => true;

    // The columns run along output pixels, adjacent in x, except on a 1x1 plane (a dense layer), where depth is.
    public readonly bool DepthMajorB => ConvGeometry<S>.InputPlane == 1;

    public readonly float A(int group, int row, int depth) => W[(((group * Rows) + row) * Depth) + depth];

    public readonly float B(int group, int depth, int column) => ConvGeometry<S>.Column(X, group, depth, column);

    public readonly void Store(int group, int row, int column, float sum)
    {
        int channel = (group * Rows) + row, plane = ConvGeometry<S>.OutputPlane;
        int image = column / plane;
        long index = ((((long)image * S.OutChannels) + channel) * plane) + column - (image * plane);
        float value = (Operands & EpilogueOperands.Bias) != 0 ? sum + Bias[channel] : sum;
        if ((Operands & EpilogueOperands.Residual) != 0)
        {
            value += Residual[index];
        }

        Y[index] = DeviceActivation.Forward(Activation, value);
    }
}

/// <summary>
/// dx_g [Cin/g, n H W] = w_g^T [Cin/g, Cout/g K K] x dy gathered [Cout/g K K, n H W]: for each input pixel and tap,
/// the output pixel whose window puts that tap on it (none where the stride skips it), then bias and activation.
/// </summary>
internal struct ConvBackwardDataGemm<S> : IGemmProblem
    where S : struct, IConvShape
{
    public ArrayView<float> Dy;
    public ArrayView<float> W;
    public ArrayView<float> Bias;
    public ArrayView<float> Dx;
    public Activation Activation;
    public EpilogueOperands Operands;
    public int Pixels;

    public readonly int Rows => ConvGeometry<S>.GroupInChannels;
    public readonly int Columns => Pixels;
    public readonly int Depth => ConvGeometry<S>.GroupOutChannels * ConvGeometry<S>.KernelArea;

    // w's taps of one (output, input) channel pair are adjacent; for a 1x1 kernel its input channels are.
    public readonly bool DepthMajorA => S.Kernel > 1;
    public readonly bool DepthMajorB => ConvGeometry<S>.OutputPlane == 1;

    public readonly float A(int group, int row, int depth)
    {
        int area = ConvGeometry<S>.KernelArea, output = depth / area;
        return W[(((((group * ConvGeometry<S>.GroupOutChannels) + output) * Rows) + row) * area) + depth - (output * area)];
    }

    public readonly float B(int group, int depth, int column)
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
        return Dy[((((long)image * S.OutChannels) + channel) * ConvGeometry<S>.OutputPlane) + (oh * S.OutWidth) + ow];
    }

    public readonly void Store(int group, int row, int column, float sum)
    {
        int channel = (group * Rows) + row, plane = ConvGeometry<S>.InputPlane;
        int image = column / plane;
        long index = ((((long)image * S.InChannels) + channel) * plane) + column - (image * plane);
        Dx[index] = DeviceActivation.Forward(Activation, (Operands & EpilogueOperands.Bias) != 0 ? sum + Bias[channel] : sum);
    }
}

/// <summary>dw_g [Cout/g, Cin/g K K] = dy_g [Cout/g, n OH OW] x columns^T [n OH OW, Cin/g K K]: the depth is the whole batch.</summary>
internal struct ConvBackwardWeightGemm<S> : IGemmProblem
    where S : struct, IConvShape
{
    public ArrayView<float> X;
    public ArrayView<float> Dy;
    public ArrayView<float> Dw;
    public int Pixels;

    public readonly int Rows => ConvGeometry<S>.GroupOutChannels;
    public readonly int Columns => ConvGeometry<S>.ColumnRows;
    public readonly int Depth => Pixels;

    // Both operands run along output pixels in memory, except on a 1x1 plane (a dense layer), where rows and columns do.
    public readonly bool DepthMajorA => ConvGeometry<S>.OutputPlane > 1;
    public readonly bool DepthMajorB => ConvGeometry<S>.OutputPlane > 1;

    public readonly float A(int group, int row, int depth)
    {
        int plane = ConvGeometry<S>.OutputPlane, image = depth / plane;
        int channel = (group * Rows) + row;
        return Dy[((((long)image * S.OutChannels) + channel) * plane) + depth - (image * plane)];
    }

    public readonly float B(int group, int depth, int column) => ConvGeometry<S>.Column(X, group, column, depth);

    public readonly void Store(int group, int row, int column, float sum) => Dw[(((group * Rows) + row) * Columns) + column] = sum;
}
