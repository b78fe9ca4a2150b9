using System;

namespace NetCompiler.Kernels;

/// <summary>The compile-time shape of an upsampling by an integer factor: Channels x InHeight x InWidth to (InHeight * Scale) x (InWidth * Scale).</summary>
public interface IUpsampleShape
{
    static abstract int Channels { get; }
    static abstract int InHeight { get; }
    static abstract int InWidth { get; }
    static abstract int Scale { get; }
}

/// <summary>
/// nn.Upsample(scale_factor=Scale) with an integer factor, one plane per work item. Nearest is PyTorch's 'nearest'
/// (output (h, w) reads input (h / Scale, w / Scale)); bilinear is 'bilinear' with align_corners=False: the source
/// coordinate is (o + 0.5) / Scale - 0.5, clamped below at 0, and the neighbour past the last row or column is the
/// last one. The backward passes are the exact transposes (dx overwritten).
/// </summary>
public static unsafe class Upsample2d
{
    public static void NearestForward<S>(KernelContext context, ReadOnlySpan<float> x, Span<float> y, int n)
        where S : struct, IUpsampleShape => Run<S, NearestForwardPlane<S>>(context, x, y, n, forward: true);

    /// <summary>dx = the sum of dy over each Scale x Scale block (overwritten).</summary>
    public static void NearestBackward<S>(KernelContext context, ReadOnlySpan<float> dy, Span<float> dx, int n)
        where S : struct, IUpsampleShape => Run<S, NearestBackwardPlane<S>>(context, dy, dx, n, forward: false);

    public static void BilinearForward<S>(KernelContext context, ReadOnlySpan<float> x, Span<float> y, int n)
        where S : struct, IUpsampleShape => Run<S, BilinearForwardPlane<S>>(context, x, y, n, forward: true);

    /// <summary>dx = each dy spread to its four source pixels with the forward's weights (overwritten).</summary>
    public static void BilinearBackward<S>(KernelContext context, ReadOnlySpan<float> dy, Span<float> dx, int n)
        where S : struct, IUpsampleShape => Run<S, BilinearBackwardPlane<S>>(context, dy, dx, n, forward: false);

    /// <summary>
    /// The source pixels and weights of output coordinate <paramref name="output"/> along an axis of <paramref name="extent"/>
    /// input pixels: PyTorch's area_pixel_compute_source_index for align_corners=False.
    /// </summary>
    public static (int Low, int High, float LowWeight, float HighWeight) BilinearTap(int output, int scale, int extent)
    {
        double source = Math.Max(((output + 0.5) / scale) - 0.5, 0);
        int low = Math.Min((int)source, extent - 1);
        int high = low < extent - 1 ? low + 1 : low;
        float highWeight = (float)(source - low);
        return (low, high, 1f - highWeight, highWeight);
    }

    private static void Run<S, TPlane>(KernelContext context, ReadOnlySpan<float> source, Span<float> destination, int n, bool forward)
        where S : struct, IUpsampleShape
        where TPlane : struct, IPlane
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        long small = (long)n * S.Channels * S.InHeight * S.InWidth, large = small * S.Scale * S.Scale;
        Guard.Length(source.Length, forward ? small : large, forward ? "x" : "dy");
        Guard.Length(destination.Length, forward ? large : small, forward ? "y" : "dx");
        fixed (float* from = source, to = destination)
        {
            int inPlane = S.InHeight * S.InWidth, outPlane = inPlane * S.Scale * S.Scale;
            var job = new PlaneJob<TPlane> { From = from, To = to, FromPlane = forward ? inPlane : outPlane, ToPlane = forward ? outPlane : inPlane };
            context.For(n * S.Channels, ref job);
        }
    }

    /// <summary>One plane's work: from the plane at <paramref name="from"/> into the one at <paramref name="to"/>.</summary>
    private interface IPlane
    {
        static abstract void Run(float* from, float* to);
    }

    private struct PlaneJob<TPlane> : IParallelJob
        where TPlane : struct, IPlane
    {
        public float* From;
        public float* To;
        public int FromPlane;
        public int ToPlane;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int plane = begin; plane < end; plane++)
            {
                TPlane.Run(From + ((nint)plane * FromPlane), To + ((nint)plane * ToPlane));
            }
        }
    }

    private struct NearestForwardPlane<S> : IPlane
        where S : struct, IUpsampleShape
    {
        public static void Run(float* x, float* y)
        {
            int outWidth = S.InWidth * S.Scale;
            for (int h = 0; h < S.InHeight; h++)
            {
                float* row = y + ((nint)h * S.Scale * outWidth);
                float* input = x + ((nint)h * S.InWidth);
                for (int w = 0; w < S.InWidth; w++)
                {
                    new Span<float>(row + (w * S.Scale), S.Scale).Fill(input[w]);
                }

                // The other Scale - 1 rows repeat the first: a vectorised copy.
                var first = new ReadOnlySpan<float>(row, outWidth);
                for (int r = 1; r < S.Scale; r++)
                {
                    first.CopyTo(new Span<float>(row + ((nint)r * outWidth), outWidth));
                }
            }
        }
    }

    private struct NearestBackwardPlane<S> : IPlane
        where S : struct, IUpsampleShape
    {
        public static void Run(float* dy, float* dx)
        {
            int outWidth = S.InWidth * S.Scale;
            for (int h = 0; h < S.InHeight; h++)
            {
                float* gradient = dx + ((nint)h * S.InWidth);
                new Span<float>(gradient, S.InWidth).Clear();
                for (int r = 0; r < S.Scale; r++)
                {
                    float* row = dy + ((nint)((h * S.Scale) + r) * outWidth);
                    for (int w = 0; w < S.InWidth; w++)
                    {
                        float sum = 0f;
                        for (int c = 0; c < S.Scale; c++)
                        {
                            sum += row[(w * S.Scale) + c];
                        }

                        gradient[w] += sum;
                    }
                }
            }
        }
    }

    private struct BilinearForwardPlane<S> : IPlane
        where S : struct, IUpsampleShape
    {
        public static void Run(float* x, float* y)
        {
            int outHeight = S.InHeight * S.Scale, outWidth = S.InWidth * S.Scale;
            for (int oh = 0; oh < outHeight; oh++)
            {
                (int top, int bottom, float topWeight, float bottomWeight) = BilinearTap(oh, S.Scale, S.InHeight);
                float* upper = x + ((nint)top * S.InWidth), lower = x + ((nint)bottom * S.InWidth);
                float* row = y + ((nint)oh * outWidth);
                for (int ow = 0; ow < outWidth; ow++)
                {
                    (int left, int right, float leftWeight, float rightWeight) = BilinearTap(ow, S.Scale, S.InWidth);
                    row[ow] = (topWeight * ((leftWeight * upper[left]) + (rightWeight * upper[right])))
                        + (bottomWeight * ((leftWeight * lower[left]) + (rightWeight * lower[right])));
                }
            }
        }
    }

    private struct BilinearBackwardPlane<S> : IPlane
        where S : struct, IUpsampleShape
    {
        public static void Run(float* dy, float* dx)
        {
            int outHeight = S.InHeight * S.Scale, outWidth = S.InWidth * S.Scale;
            new Span<float>(dx, S.InHeight * S.InWidth).Clear();
            for (int oh = 0; oh < outHeight; oh++)
            {
                (int top, int bottom, float topWeight, float bottomWeight) = BilinearTap(oh, S.Scale, S.InHeight);
                float* upper = dx + ((nint)top * S.InWidth), lower = dx + ((nint)bottom * S.InWidth);
                float* row = dy + ((nint)oh * outWidth);
                for (int ow = 0; ow < outWidth; ow++)
                {
                    (int left, int right, float leftWeight, float rightWeight) = BilinearTap(ow, S.Scale, S.InWidth);
                    float gradient = row[ow];
                    upper[left] += topWeight * leftWeight * gradient;
                    upper[right] += topWeight * rightWeight * gradient;
                    lower[left] += bottomWeight * leftWeight * gradient;
                    lower[right] += bottomWeight * rightWeight * gradient;
                }
            }
        }
    }
}
