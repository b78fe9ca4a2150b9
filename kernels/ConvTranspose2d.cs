using System;

namespace NetCompiler.Kernels;

/// <summary>
/// Transposed 2-D convolution (PyTorch nn.ConvTranspose2d): x [n, Cin, H, W], w [Cin, Cout / groups, K, K],
/// y [n, Cout, OH, OW] with OH = (H - 1) * Stride - 2 * Pad + Dilation * (K - 1) + OutputPadding + 1 (the shape
/// carries OH and OW, so the output padding is implied). It is the adjoint of the convolution mapping y's shape
/// to x's (<see cref="TransposedShape{S}"/>), whose weight layout is exactly w's: the forward pass is that
/// convolution's data gradient and vice versa, and the weight gradient swaps the roles of input and output.
/// </summary>
public static unsafe class ConvTranspose2d
{
    /// <summary>y = activation(conv_transpose(x, w) + bias). <paramref name="bias"/> may be empty.</summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int n, Activation activation)
        where S : struct, IConvShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * InputSize<S>(), nameof(x));
        Guard.Length(w.Length, WeightSize<S>(), nameof(w));
        Guard.OptionalLength(bias.Length, S.OutChannels, nameof(bias));
        Guard.Length(y.Length, (long)n * OutputSize<S>(), nameof(y));
        fixed (float* px = x, pw = w, pb = bias, py = y)
        {
            Conv2d.BackwardDataCore<TransposedShape<S>>(context, px, pw, bias.IsEmpty ? null : pb, py, n, activation);
        }
    }

    /// <summary>dx = gradient of the loss with respect to x given dy (overwritten).</summary>
    public static void BackwardData<S>(KernelContext context, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int n)
        where S : struct, IConvShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(dy.Length, (long)n * OutputSize<S>(), nameof(dy));
        Guard.Length(w.Length, WeightSize<S>(), nameof(w));
        Guard.Length(dx.Length, (long)n * InputSize<S>(), nameof(dx));
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            Conv2d.ForwardCore<TransposedShape<S>>(context, pdy, pw, null, pdx, n, Activation.None);
        }
    }

    /// <summary>dw (and dbias when not empty) = gradients summed over the batch (overwritten).</summary>
    public static void BackwardWeight<S>(KernelContext context, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias, int n)
        where S : struct, IConvShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * InputSize<S>(), nameof(x));
        Guard.Length(dy.Length, (long)n * OutputSize<S>(), nameof(dy));
        Guard.Length(dw.Length, WeightSize<S>(), nameof(dw));
        Guard.OptionalLength(dbias.Length, S.OutChannels, nameof(dbias));
        fixed (float* px = x, pdy = dy, pdw = dw, pdb = dbias)
        {
            // In the adjoint convolution dy is the input and x the output gradient.
            Conv2d.BackwardWeightCore<TransposedShape<S>>(context, pdy, px, pdw, n);
            if (!dbias.IsEmpty)
            {
                ChannelSums.Compute(context, pdy, pdb, n, S.OutChannels, S.OutHeight * S.OutWidth);
            }
        }
    }

    private static long InputSize<S>() where S : IConvShape => (long)S.InChannels * S.InHeight * S.InWidth;

    private static long OutputSize<S>() where S : IConvShape => (long)S.OutChannels * S.OutHeight * S.OutWidth;

    private static long WeightSize<S>() where S : IConvShape => (long)S.InChannels * (S.OutChannels / S.Groups) * S.Kernel * S.Kernel;
}

/// <summary>The convolution whose data gradient is the transposed convolution <typeparamref name="S"/>: input and output swapped.</summary>
internal readonly struct TransposedShape<S> : IConvShape
    where S : IConvShape
{
    public static int InChannels => S.OutChannels;
    public static int InHeight => S.OutHeight;
    public static int InWidth => S.OutWidth;
    public static int OutChannels => S.InChannels;
    public static int OutHeight => S.InHeight;
    public static int OutWidth => S.InWidth;
    public static int Kernel => S.Kernel;
    public static int Stride => S.Stride;
    public static int Pad => S.Pad;
    public static int Dilation => S.Dilation;
    public static int Groups => S.Groups;
}
