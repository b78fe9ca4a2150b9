using System;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// Max pooling (PyTorch nn.MaxPool2d, floor or ceil mode: the shape's output size says which): padding counts as
/// -infinity, so every window is clipped to the input, ceil mode's last ones too; ties keep the first maximum and a
/// NaN propagates. The forward pass saves, per output, where in its window the chosen element is (the switch, one byte
/// as in oneDNN's workspace: windows up to 16 x 16); the backward pass routes each gradient there, accumulating where
/// windows overlap.
/// </summary>
public static unsafe class MaxPool2d
{
    /// <summary>The largest window whose positions fit a byte switch.</summary>
    public const int MaxKernel = 16;

    /// <summary>
    /// y = max over each window of x; <paramref name="switches"/> (same length as y) = the argmax's place in its window,
    /// (ih - h0) * Kernel + (iw - w0) for the window starting at (h0, w0) = (oh * Stride - Pad, ow * Stride - Pad).
    /// </summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> x, Span<float> y, Span<byte> switches, int n)
        where S : struct, IPoolShape
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckKernel<S>();
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * PoolGeometry<S>.InputSize, nameof(x));
        Guard.Length(y.Length, (long)n * PoolGeometry<S>.OutputSize, nameof(y));
        Guard.Length(switches.Length, (long)n * PoolGeometry<S>.OutputSize, nameof(switches));
        fixed (float* px = x, py = y)
        fixed (byte* ps = switches)
        {
            var job = new ForwardJob<S> { X = px, Y = py, Switches = ps, InputEnd = px + x.Length };
            context.For(n * S.Channels, ref job);
        }
    }

    /// <summary>dx = dy routed through the switches (overwritten).</summary>
    public static void Backward<S>(KernelContext context, ReadOnlySpan<float> dy, ReadOnlySpan<byte> switches, Span<float> dx, int n)
        where S : struct, IPoolShape
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckKernel<S>();
        Guard.Batch(n);
        Guard.Length(dy.Length, (long)n * PoolGeometry<S>.OutputSize, nameof(dy));
        Guard.Length(switches.Length, (long)n * PoolGeometry<S>.OutputSize, nameof(switches));
        Guard.Length(dx.Length, (long)n * PoolGeometry<S>.InputSize, nameof(dx));
        fixed (float* pdy = dy, pdx = dx)
        fixed (byte* ps = switches)
        {
            var job = new BackwardJob<S> { Dy = pdy, Switches = ps, Dx = pdx };
            context.For(n * S.Channels, ref job);
        }
    }

    /// <summary>The index within its input plane of the element a switch of output <paramref name="output"/> (within its plane) names.</summary>
    public static int InputIndex<S>(int output, byte @switch)
        where S : struct, IPoolShape
    {
        int rowStart = ((output / S.OutWidth) * S.Stride) - S.Pad, columnStart = ((output % S.OutWidth) * S.Stride) - S.Pad;
        return ((rowStart + (@switch / S.Kernel)) * S.InWidth) + columnStart + (@switch % S.Kernel);
    }

    private static void CheckKernel<S>()
        where S : struct, IPoolShape
    {
        if (S.Kernel > MaxKernel)
        {
            throw new ArgumentException($"Max pooling keeps byte switches, for windows up to {MaxKernel} x {MaxKernel}; this one is {S.Kernel} x {S.Kernel}.");
        }
    }

    private struct ForwardJob<S> : IParallelJob
        where S : struct, IPoolShape
    {
        public float* X;
        public float* Y;
        public byte* Switches;

        /// <summary>Where x ends: the vector path never reads past it.</summary>
        public float* InputEnd;

        public readonly void Execute(int begin, int end, int thread)
        {
            if (PoolGeometry<S>.IsPairwise && Vector512.IsHardwareAccelerated)
            {
                Pairwise<Simd512, Vector512<float>>(begin, end);
            }
            else if (PoolGeometry<S>.IsPairwise && Vector256.IsHardwareAccelerated)
            {
                Pairwise<Simd256, Vector256<float>>(begin, end);
            }
            else
            {
                for (int plane = begin; plane < end; plane++)
                {
                    for (int oh = 0; oh < S.OutHeight; oh++)
                    {
                        Outputs(plane, oh, 0);
                    }
                }
            }
        }

        /// <summary>
        /// 2 x 2 windows of stride 2, all inside the input: a vector of outputs from two vectors of each of its two input
        /// rows, split into the windows' even and odd columns and compared in the windows' order. Outputs whose vectors
        /// would read past x's end are left to <see cref="Outputs"/>.
        /// </summary>
        private readonly void Pairwise<TSimd, TVector>(int begin, int end)
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
        {
            int lanes = TSimd.Count, outputPlane = PoolGeometry<S>.OutputPlane;
            float* places = stackalloc float[TSimd.Count];
            TVector one = TSimd.Broadcast(1), two = TSimd.Broadcast(2), three = TSimd.Broadcast(3);
            for (int plane = begin; plane < end; plane++)
            {
                for (int oh = 0; oh < S.OutHeight; oh++)
                {
                    float* top = X + ((nint)plane * PoolGeometry<S>.InputPlane) + ((nint)2 * oh * S.InWidth);
                    float* bottom = top + S.InWidth;
                    nint row = ((nint)plane * outputPlane) + ((nint)oh * S.OutWidth);
                    int ow = 0;
                    for (; ow < S.OutWidth && bottom + (2 * (ow + lanes)) <= InputEnd; ow += lanes)
                    {
                        (TVector a, TVector b) = TSimd.Deinterleave(TSimd.Load(top + (2 * ow)), TSimd.Load(top + (2 * ow) + lanes));
                        (TVector c, TVector d) = TSimd.Deinterleave(TSimd.Load(bottom + (2 * ow)), TSimd.Load(bottom + (2 * ow) + lanes));
                        TVector best = a, place = TSimd.Zero;
                        place = TSimd.GreaterOrNaNSelect(b, best, one, place);
                        best = TSimd.GreaterOrNaNSelect(b, best, b, best);
                        place = TSimd.GreaterOrNaNSelect(c, best, two, place);
                        best = TSimd.GreaterOrNaNSelect(c, best, c, best);
                        place = TSimd.GreaterOrNaNSelect(d, best, three, place);
                        best = TSimd.GreaterOrNaNSelect(d, best, d, best);
                        int count = Math.Min(lanes, S.OutWidth - ow);
                        if (count == lanes)
                        {
                            TSimd.Store(Y + row + ow, best);
                        }
                        else
                        {
                            TSimd.StorePartial(Y + row + ow, best, count);
                        }

                        TSimd.Store(places, place);
                        for (int i = 0; i < count; i++)
                        {
                            Switches[row + ow + i] = (byte)places[i];
                        }
                    }

                    Outputs(plane, oh, ow);
                }
            }
        }

        /// <summary>Outputs (oh, <paramref name="firstColumn"/> ..) of a plane, one window at a time.</summary>
        private readonly void Outputs(int plane, int oh, int firstColumn)
        {
            float* input = X + ((nint)plane * PoolGeometry<S>.InputPlane);
            nint row = ((nint)plane * PoolGeometry<S>.OutputPlane) + ((nint)oh * S.OutWidth);
            (int rowBegin, int rowEnd) = PoolGeometry<S>.Window(oh, S.InHeight);
            int rowStart = (oh * S.Stride) - S.Pad;
            for (int ow = firstColumn; ow < S.OutWidth; ow++)
            {
                (int columnBegin, int columnEnd) = PoolGeometry<S>.Window(ow, S.InWidth);
                int columnStart = (ow * S.Stride) - S.Pad;
                float best = float.NegativeInfinity;
                int place = ((rowBegin - rowStart) * S.Kernel) + (columnBegin - columnStart);
                for (int ih = rowBegin; ih < rowEnd; ih++)
                {
                    for (int iw = columnBegin; iw < columnEnd; iw++)
                    {
                        float value = input[(ih * S.InWidth) + iw];
                        if (value > best || float.IsNaN(value))
                        {
                            best = value;
                            place = ((ih - rowStart) * S.Kernel) + (iw - columnStart);
                        }
                    }
                }

                Y[row + ow] = best;
                Switches[row + ow] = (byte)place;
            }
        }
    }

    private struct BackwardJob<S> : IParallelJob
        where S : struct, IPoolShape
    {
        public float* Dy;
        public byte* Switches;
        public float* Dx;

        public readonly void Execute(int begin, int end, int thread)
        {
            int inputPlane = PoolGeometry<S>.InputPlane, outputPlane = PoolGeometry<S>.OutputPlane;
            for (int plane = begin; plane < end; plane++)
            {
                float* gradient = Dx + ((nint)plane * inputPlane);
                float* outputGradient = Dy + ((nint)plane * outputPlane);
                byte* switches = Switches + ((nint)plane * outputPlane);
                new Span<float>(gradient, inputPlane).Clear();
                for (int i = 0; i < outputPlane; i++)
                {
                    gradient[InputIndex<S>(i, switches[i])] += outputGradient[i];
                }
            }
        }
    }
}

/// <summary>
/// Average pooling with PyTorch's defaults (nn.AvgPool2d: count_include_pad = true, floor mode): every window is
/// divided by Kernel^2, padding included. In floor mode no window reaches past the padded border, so that divisor
/// is PyTorch's too.
/// </summary>
public static unsafe class AvgPool2d
{
    /// <summary>y = window sums of x / Kernel^2.</summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> x, Span<float> y, int n)
        where S : struct, IPoolShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * PoolGeometry<S>.InputSize, nameof(x));
        Guard.Length(y.Length, (long)n * PoolGeometry<S>.OutputSize, nameof(y));
        fixed (float* px = x, py = y)
        {
            var job = new ForwardJob<S> { X = px, Y = py };
            context.For(n * S.Channels, ref job);
        }
    }

    /// <summary>dx = dy / Kernel^2 spread over each window, accumulating where windows overlap (overwritten).</summary>
    public static void Backward<S>(KernelContext context, ReadOnlySpan<float> dy, Span<float> dx, int n)
        where S : struct, IPoolShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(dy.Length, (long)n * PoolGeometry<S>.OutputSize, nameof(dy));
        Guard.Length(dx.Length, (long)n * PoolGeometry<S>.InputSize, nameof(dx));
        fixed (float* pdy = dy, pdx = dx)
        {
            var job = new BackwardJob<S> { Dy = pdy, Dx = pdx };
            context.For(n * S.Channels, ref job);
        }
    }

    private struct ForwardJob<S> : IParallelJob
        where S : struct, IPoolShape
    {
        public float* X;
        public float* Y;

        public readonly void Execute(int begin, int end, int thread)
        {
            int width = S.InWidth;
            float scale = 1f / (S.Kernel * S.Kernel);
            for (int plane = begin; plane < end; plane++)
            {
                float* input = X + ((nint)plane * PoolGeometry<S>.InputPlane);
                float* output = Y + ((nint)plane * PoolGeometry<S>.OutputPlane);
                for (int oh = 0; oh < S.OutHeight; oh++)
                {
                    (int rowBegin, int rowEnd) = PoolGeometry<S>.Window(oh, S.InHeight);
                    for (int ow = 0; ow < S.OutWidth; ow++)
                    {
                        (int columnBegin, int columnEnd) = PoolGeometry<S>.Window(ow, width);
                        float sum = 0f;
                        for (int ih = rowBegin; ih < rowEnd; ih++)
                        {
                            for (int iw = columnBegin; iw < columnEnd; iw++)
                            {
                                sum += input[(ih * width) + iw];
                            }
                        }

                        output[(oh * S.OutWidth) + ow] = sum * scale;
                    }
                }
            }
        }
    }

    private struct BackwardJob<S> : IParallelJob
        where S : struct, IPoolShape
    {
        public float* Dy;
        public float* Dx;

        public readonly void Execute(int begin, int end, int thread)
        {
            int width = S.InWidth, inputPlane = PoolGeometry<S>.InputPlane;
            float scale = 1f / (S.Kernel * S.Kernel);
            for (int plane = begin; plane < end; plane++)
            {
                float* gradient = Dx + ((nint)plane * inputPlane);
                float* outputGradient = Dy + ((nint)plane * PoolGeometry<S>.OutputPlane);
                new Span<float>(gradient, inputPlane).Clear();
                for (int oh = 0; oh < S.OutHeight; oh++)
                {
                    (int rowBegin, int rowEnd) = PoolGeometry<S>.Window(oh, S.InHeight);
                    for (int ow = 0; ow < S.OutWidth; ow++)
                    {
                        (int columnBegin, int columnEnd) = PoolGeometry<S>.Window(ow, width);
                        float share = outputGradient[(oh * S.OutWidth) + ow] * scale;
                        for (int ih = rowBegin; ih < rowEnd; ih++)
                        {
                            for (int iw = columnBegin; iw < columnEnd; iw++)
                            {
                                gradient[(ih * width) + iw] += share;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// <summary>Global average pooling: [n, channels, planeSize] to [n, channels].</summary>
public static unsafe class GlobalAvgPool
{
    /// <summary>y[i, c] = mean of plane (i, c) of x (summed in double).</summary>
    public static void Forward(KernelContext context, ReadOnlySpan<float> x, Span<float> y, int n, int channels, int planeSize)
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckShape(n, channels, planeSize);
        Guard.Length(x.Length, (long)n * channels * planeSize, nameof(x));
        Guard.Length(y.Length, (long)n * channels, nameof(y));
        fixed (float* px = x, py = y)
        {
            var job = new ForwardJob { X = px, Y = py, PlaneSize = planeSize };
            context.For(n * channels, ref job);
        }
    }

    /// <summary>dx = dy / planeSize broadcast over each plane (overwritten).</summary>
    public static void Backward(KernelContext context, ReadOnlySpan<float> dy, Span<float> dx, int n, int channels, int planeSize)
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckShape(n, channels, planeSize);
        Guard.Length(dy.Length, (long)n * channels, nameof(dy));
        Guard.Length(dx.Length, (long)n * channels * planeSize, nameof(dx));
        fixed (float* pdy = dy, pdx = dx)
        {
            var job = new BackwardJob { Dy = pdy, Dx = pdx, PlaneSize = planeSize };
            context.For(n * channels, ref job);
        }
    }

    private static void CheckShape(int n, int channels, int planeSize)
    {
        Guard.Batch(n);
        Guard.Positive(channels, nameof(channels));
        Guard.Positive(planeSize, nameof(planeSize));
    }

    private struct ForwardJob : IParallelJob
    {
        public float* X;
        public float* Y;
        public int PlaneSize;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int plane = begin; plane < end; plane++)
            {
                Y[plane] = (float)(VectorMath.Sum(new ReadOnlySpan<float>(X + ((nint)plane * PlaneSize), PlaneSize)) / PlaneSize);
            }
        }
    }

    private struct BackwardJob : IParallelJob
    {
        public float* Dy;
        public float* Dx;
        public int PlaneSize;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int plane = begin; plane < end; plane++)
            {
                new Span<float>(Dx + ((nint)plane * PlaneSize), PlaneSize).Fill(Dy[plane] / PlaneSize);
            }
        }
    }
}

/// <summary>Sizes and window bounds of a pooling shape; fold to constants per instantiation.</summary>
internal static class PoolGeometry<S>
    where S : IPoolShape
{
    public static int InputPlane => S.InHeight * S.InWidth;
    public static int OutputPlane => S.OutHeight * S.OutWidth;
    public static int InputSize => S.Channels * InputPlane;
    public static int OutputSize => S.Channels * OutputPlane;

    /// <summary>2 x 2 windows of stride 2 that all lie inside the input (no padding, floor mode or even sizes).</summary>
    public static bool IsPairwise => S.Kernel == 2 && S.Stride == 2 && S.Pad == 0 && 2 * S.OutHeight <= S.InHeight && 2 * S.OutWidth <= S.InWidth;

    /// <summary>The input range [begin, end) covered by output position <paramref name="output"/> along an axis of <paramref name="extent"/>, clipped to the input.</summary>
    public static (int Begin, int End) Window(int output, int extent)
    {
        int start = (output * S.Stride) - S.Pad;
        return (Math.Max(start, 0), Math.Min(start + S.Kernel, extent));
    }
}
