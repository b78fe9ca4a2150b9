using System;
using System.Runtime.CompilerServices;

namespace NetCompiler.Kernels;

/// <summary>
/// Moves data between an image ([channels, InHeight, InWidth]) and its column matrix
/// ([channels * Kernel * Kernel, pixels]: row (c, kh, kw), column = output pixel), the operand that turns a
/// convolution into a GEMM. Gather builds the columns (zeros where the window hits padding); scatter-add is its
/// adjoint, used by the data gradient. Both walk the same index space, so they share <see cref="Transfer"/>.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>column[r, p - pixelBegin] = image value under row r for output pixels [pixelBegin, pixelEnd).</summary>
    public static void Gather<S>(float* image, int channels, int pixelBegin, int pixelEnd, float* column)
        where S : IConvShape =>
        Transfer<S, GatherRow>(image, channels, pixelBegin, pixelEnd, column);

    /// <summary>image += columns folded back (overlapping windows accumulate); the adjoint of <see cref="Gather{S}"/>.</summary>
    public static void ScatterAdd<S>(float* column, int channels, int pixelBegin, int pixelEnd, float* image)
        where S : IConvShape =>
        Transfer<S, ScatterAddRow>(image, channels, pixelBegin, pixelEnd, column);

    private static void Transfer<S, TRow>(float* image, int channels, int pixelBegin, int pixelEnd, float* column)
        where S : IConvShape
        where TRow : IRowTransfer
    {
        int kernel = S.Kernel, stride = S.Stride, dilation = S.Dilation;
        int height = S.InHeight, width = S.InWidth, outWidth = S.OutWidth;
        int count = pixelEnd - pixelBegin;
        float* row = column;
        for (int c = 0; c < channels; c++)
        {
            float* plane = image + ((nint)c * height * width);
            for (int kh = 0; kh < kernel; kh++)
            {
                int rowOffset = (kh * dilation) - S.Pad;
                for (int kw = 0; kw < kernel; kw++, row += count)
                {
                    // Output columns whose input column ow * stride + columnOffset lies inside the image.
                    int columnOffset = (kw * dilation) - S.Pad;
                    int insideBegin = Math.Max(0, CeilDiv(-columnOffset, stride));
                    int insideEnd = Math.Min(outWidth, CeilDiv(width - columnOffset, stride));

                    int pixel = pixelBegin;
                    while (pixel < pixelEnd)
                    {
                        int oh = pixel / outWidth;
                        int owBegin = pixel - (oh * outWidth);
                        int owEnd = Math.Min(outWidth, owBegin + (pixelEnd - pixel));
                        float* destination = row + (pixel - pixelBegin) - owBegin;
                        int ih = (oh * stride) + rowOffset;
                        if ((uint)ih >= (uint)height)
                        {
                            TRow.Outside(destination + owBegin, owEnd - owBegin);
                        }
                        else
                        {
                            int begin = Math.Clamp(insideBegin, owBegin, owEnd);
                            int end = Math.Clamp(insideEnd, begin, owEnd);
                            TRow.Outside(destination + owBegin, begin - owBegin);
                            TRow.Inside(plane + ((nint)ih * width) + (begin * stride) + columnOffset, stride, destination + begin, end - begin);
                            TRow.Outside(destination + end, owEnd - end);
                        }

                        pixel += owEnd - owBegin;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CeilDiv(int value, int divisor) => value >= 0 ? (value + divisor - 1) / divisor : -(-value / divisor);

    private interface IRowTransfer
    {
        /// <summary>Column entries [0, count) read image[i * stride].</summary>
        static abstract void Inside(float* image, int stride, float* column, int count);

        /// <summary>Column entries [0, count) fall on padding.</summary>
        static abstract void Outside(float* column, int count);
    }

    private readonly struct GatherRow : IRowTransfer
    {
        public static void Inside(float* image, int stride, float* column, int count)
        {
            if (stride == 1)
            {
                new ReadOnlySpan<float>(image, count).CopyTo(new Span<float>(column, count));
                return;
            }

            for (int i = 0; i < count; i++)
            {
                column[i] = image[(nint)i * stride];
            }
        }

        public static void Outside(float* column, int count) => new Span<float>(column, count).Clear();
    }

    private readonly struct ScatterAddRow : IRowTransfer
    {
        public static void Inside(float* image, int stride, float* column, int count)
        {
            if (stride == 1)
            {
                VectorMath.Add(new Span<float>(image, count), new ReadOnlySpan<float>(column, count));
                return;
            }

            for (int i = 0; i < count; i++)
            {
                image[(nint)i * stride] += column[i];
            }
        }

        public static void Outside(float* column, int count)
        {
        }
    }
}
