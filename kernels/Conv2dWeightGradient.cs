using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// The direct weight gradient of ungrouped convolutions: dw[co][c, kh, kw] sums, over images and output pixels, dy[co]
/// times the input under that tap. It is vectorised over output channels, so nothing needs a horizontal sum: each
/// image's dy is staged transposed (pixel-major, channels padded to the vector) and its input once, zero-padded and
/// split into stride phases. The micro-kernel keeps a block of taps (every column tap of a few channels at one kernel
/// row, so each tap's offset is a constant) times two vectors of channels in registers over all the pixels of a group
/// of images, broadcasting one input value per tap and pixel. With a single vector of channels (LeNet's second layer's
/// 16, the IMEX steps' 16) the second vector runs the next image of the group instead; channels filling less than half
/// a vector take the kernel over pixel vectors (Conv2dWeightGradientByPixels.cs).
/// </summary>
public static unsafe partial class Conv2d
{
    /// <summary>Whether <see cref="BackwardWeight{S}"/> (and the transposed convolution's) takes the direct path.</summary>
    internal static bool UsesDirectBackwardWeight<S>()
        where S : struct, IConvShape => Geometry<S>.UsesDirectBackwardWeight;

    /// <summary>
    /// destination[0 .. count) = source[0 .. count) in whole and one masked vector: the stagings copy rows of a few
    /// dozen floats, too short for a memmove call to pay.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow<TSimd, TVector>(float* source, float* destination, int count)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        int i = 0;
        for (; i + TSimd.Count <= count; i += TSimd.Count)
        {
            TSimd.Store(destination + i, TSimd.Load(source + i));
        }

        if (i < count)
        {
            TSimd.StorePartial(destination + i, TSimd.LoadPartial(source + i, count - i), count - i);
        }
    }

    /// <summary>
    /// Copies an image into the interior of a zero-padded staging, padded column c to phase c % phases, index
    /// c / phases: the stride's phases, or Winograd's two (a tile's patch columns are two phase columns).
    /// </summary>
    private static void StageRows<S, TSimd, TVector>(float* image, float* staged, int channelStride, int rowStride, int phaseWidth, int phases)
        where S : struct, IConvShape
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        for (int c = 0; c < S.InChannels; c++)
        {
            for (int ih = 0; ih < S.InHeight; ih++)
            {
                float* source = image + ((nint)c * Geometry<S>.InputPlane) + ((nint)ih * S.InWidth);
                float* row = staged + ((nint)c * channelStride) + ((nint)(ih + S.Pad) * rowStride);
                if (phases == 1)
                {
                    CopyRow<TSimd, TVector>(source, row + S.Pad, S.InWidth);
                }
                else if (phases == 2)
                {
                    StageTwoPhases<TSimd, TVector>(source, row, S.InWidth, S.Pad, phaseWidth);
                }
                else
                {
                    for (int iw = 0; iw < S.InWidth; iw++)
                    {
                        int column = iw + S.Pad;
                        row[((column % phases) * phaseWidth) + (column / phases)] = source[iw];
                    }
                }
            }
        }
    }

    /// <summary>
    /// One row of <paramref name="width"/> floats into its two phases, padded by <paramref name="pad"/>: two vectors at a
    /// time deinterleaved, the last pair partial (rows of 16 or 8 are shorter than two vectors).
    /// </summary>
    private static void StageTwoPhases<TSimd, TVector>(float* source, float* row, int width, int pad, int phaseWidth)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        // Even source columns land in phase pad % 2, odd ones in the other, from index pad / 2 and (pad + 1) / 2.
        float* even = row + ((pad % 2) * phaseWidth) + (pad / 2), odd = row + (((pad + 1) % 2) * phaseWidth) + ((pad + 1) / 2);
        for (int iw = 0; iw < width; iw += 2 * TSimd.Count)
        {
            int rest = Math.Min(width - iw, 2 * TSimd.Count);
            TVector first = rest >= TSimd.Count ? TSimd.Load(source + iw) : TSimd.LoadPartial(source + iw, rest);
            TVector second = rest == 2 * TSimd.Count ? TSimd.Load(source + iw + TSimd.Count) : TSimd.LoadPartial(source + iw + TSimd.Count, Math.Max(rest - TSimd.Count, 0));
            (TVector evens, TVector odds) = TSimd.Deinterleave(first, second);
            TSimd.StorePartial(even + (iw / 2), evens, (rest + 1) / 2);
            TSimd.StorePartial(odd + (iw / 2), odds, rest / 2);
        }
    }

    private struct DirectWeightJob<S> : IParallelJob
        where S : struct, IConvShape
    {
        public float* X;
        public float* Dy;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread)
        {
            if (Vector512.IsHardwareAccelerated && DirectWeight<S, Simd512, Vector512<float>>.ByPixels.Applies)
            {
                DirectWeight<S, Simd512, Vector512<float>>.ByPixels.Run(this, begin, end, thread);
            }
            else if (Vector512.IsHardwareAccelerated)
            {
                DirectWeight<S, Simd512, Vector512<float>>.ByChannels.Run(this, begin, end, thread);
            }
            else if (Vector256.IsHardwareAccelerated && DirectWeight<S, Simd256, Vector256<float>>.ByPixels.Applies)
            {
                DirectWeight<S, Simd256, Vector256<float>>.ByPixels.Run(this, begin, end, thread);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                DirectWeight<S, Simd256, Vector256<float>>.ByChannels.Run(this, begin, end, thread);
            }
            else
            {
                DirectWeight<S, SimdScalar, float>.ByChannels.Run(this, begin, end, thread);
            }
        }
    }

    /// <summary>
    /// What both direct weight-gradient kernels share, at one width: a block of taps is every column tap of
    /// <see cref="BlockChannels"/> input channels at one kernel row, at constant offsets in the input's staging
    /// (zero-padded, stride phases, rows wide enough for whole vectors of output columns). Every size folds to a
    /// constant per instantiation.
    /// </summary>
    private static partial class DirectWeight<S, TSimd, TVector>
        where S : struct, IConvShape
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        /// <summary>Taps per block: 12 x 2 accumulators of the 32 AVX-512 registers, 6 x 2 of the 16 AVX2 ones.</summary>
        private static readonly int MaxTaps = TSimd.Count >= 16 ? 12 : 6;

        /// <summary>Input channels per block, all their column taps at one kernel row (no more than the layer has: LeNet's first has one).</summary>
        private static readonly int BlockChannels = Math.Clamp(MaxTaps / S.Kernel, 1, S.InChannels);

        private static readonly int BlockTaps = BlockChannels * S.Kernel;

        /// <summary>The input's channels rounded up to whole blocks; the extra ones are staged as zeros.</summary>
        private static readonly int StagedChannels = RoundUp(S.InChannels, BlockChannels);

        private static readonly int TapsPerChannel = S.Kernel * S.Kernel;

        private static readonly int OutputPlane = Geometry<S>.OutputPlane;

        /// <summary>A staged row's phase: the padded input's columns, and a vector read from the last output column's run stays inside it.</summary>
        private static readonly int PhaseWidth = Math.Max(CeilDiv(S.InWidth + (2 * S.Pad), S.Stride), RoundUp(S.OutWidth, TSimd.Count) + ((S.Kernel - 1) * S.Dilation / S.Stride));

        private static readonly int RowStride = S.Stride * PhaseWidth;

        private static readonly int ChannelStride = (S.InHeight + (2 * S.Pad)) * RowStride;

        private static readonly int StagedLength = StagedChannels * ChannelStride;

        // Tap i of a block is column tap i % K of its channel i / K: a constant offset in the staging.
        private static readonly int Offset0 = TapOffset(0), Offset1 = TapOffset(1), Offset2 = TapOffset(2), Offset3 = TapOffset(3);
        private static readonly int Offset4 = TapOffset(4), Offset5 = TapOffset(5), Offset6 = TapOffset(6), Offset7 = TapOffset(7);
        private static readonly int Offset8 = TapOffset(8), Offset9 = TapOffset(9), Offset10 = TapOffset(10), Offset11 = TapOffset(11);

        private static int TapOffset(int tap)
        {
            int column = tap % S.Kernel * S.Dilation;
            return (tap / S.Kernel * ChannelStride) + (column % S.Stride * PhaseWidth) + (column / S.Stride);
        }

        private static void Stage(float* image, float* staged) => StageRows<S, TSimd, TVector>(image, staged, ChannelStride, RowStride, PhaseWidth, S.Stride);

        /// <summary>The kernel vectorised over output channels, dy staged transposed.</summary>
        public static class ByChannels
        {
            private static readonly int PaddedChannels = RoundUp(S.OutChannels, TSimd.Count);

            /// <summary>One vector of output channels: the block's second vector is the group's next image.</summary>
            private static readonly bool PairImages = PaddedChannels == TSimd.Count;

            private static readonly int ChannelBlock = PairImages ? TSimd.Count : 2 * TSimd.Count;

            /// <summary>Floats per pixel of the transposed dy (and per tap of the sums): the channels in whole blocks.</summary>
            private static readonly int GradientStride = RoundUp(PaddedChannels, ChannelBlock);

            private static readonly int GradientLength = OutputPlane * GradientStride;

            private static readonly int SumsLength = StagedChannels * TapsPerChannel * GradientStride;

            /// <summary>Images staged together: enough pixels (256) to amortise loading and storing the accumulators, in pairs when pairing.</summary>
            private static readonly int GroupSize = RoundUp(Math.Min(16, CeilDiv(256, OutputPlane)), PairImages ? 2 : 1);

            /// <summary>Where the second vector's input and dy are, from the first's: the next image, or the same pixel.</summary>
            private static readonly int SecondInput = PairImages ? StagedLength : 0;

            private static readonly int SecondGradient = PairImages ? GradientLength : TSimd.Count;

            public static void Run(in DirectWeightJob<S> job, int begin, int end, int thread)
            {
                int weightSize = Geometry<S>.WeightSize;
                float* partial = job.Scratch.Get(thread, weightSize + SumsLength + ((nint)GroupSize * (StagedLength + GradientLength)));
                float* sums = partial + weightSize;
                float* staged = sums + SumsLength;
                float* gradients = staged + ((nint)GroupSize * StagedLength);
                float* tile = stackalloc float[2 * TSimd.Count * TSimd.Count];

                // Padding, the extra channels and a pair's missing image stay zero: staging writes only the rest.
                new Span<float>(sums, SumsLength).Clear();
                new Span<float>(staged, GroupSize * (StagedLength + GradientLength)).Clear();
                for (int first = begin; first < end; first += GroupSize)
                {
                    int images = Math.Min(GroupSize, end - first);
                    for (int g = 0; g < images; g++)
                    {
                        Stage(job.X + ((nint)(first + g) * Geometry<S>.InputSize), staged + ((nint)g * StagedLength));
                        Transpose(job.Dy + ((nint)(first + g) * Geometry<S>.OutputSize), gradients + ((nint)g * GradientLength), tile);
                    }

                    if (PairImages && images % 2 == 1)
                    {
                        new Span<float>(gradients + ((nint)images * GradientLength), GradientLength).Clear();
                    }

                    int steps = PairImages ? CeilDiv(images, 2) : images;
                    for (int block = 0; block < GradientStride; block += ChannelBlock)
                    {
                        for (int kh = 0; kh < S.Kernel; kh++)
                        {
                            for (int c = 0; c < StagedChannels; c += BlockChannels)
                            {
                                float* input = staged + ((nint)c * ChannelStride) + ((nint)kh * S.Dilation * RowStride);
                                float* blockSums = sums + ((((nint)c * TapsPerChannel) + (kh * S.Kernel)) * GradientStride) + block;
                                Block(input, gradients + block, blockSums, steps);
                            }
                        }
                    }
                }

                // Into dw's layout at the start of the scratch, for the thread-ordered reduction.
                for (int co = 0; co < S.OutChannels; co++)
                {
                    for (int tap = 0; tap < Geometry<S>.ColumnRows; tap++)
                    {
                        partial[((nint)co * Geometry<S>.ColumnRows) + tap] = sums[((nint)tap * GradientStride) + co];
                    }
                }
            }

            /// <summary>
            /// gradient[p][j] = dy[j][p]: pixel-major, the padded channels left zero. Count x Count tiles go through
            /// <see cref="ISimd{TVector}.Transpose"/> (their rows gathered into <paramref name="tile"/>, 2 Count^2 floats,
            /// first; a last tile of fewer channels has zero rows, which fill the padded channels), pixels past the last
            /// whole tile element by element.
            /// </summary>
            private static void Transpose(float* dy, float* gradient, float* tile)
            {
                int lanes = TSimd.Count, tiledPixels = OutputPlane / lanes * lanes;
                float* transposed = tile + (lanes * lanes);
                for (int co = 0; co < S.OutChannels; co += lanes)
                {
                    int channels = Math.Min(lanes, S.OutChannels - co);
                    new Span<float>(tile + (channels * lanes), (lanes - channels) * lanes).Clear();
                    for (int p = 0; p < tiledPixels; p += lanes)
                    {
                        for (int j = 0; j < channels; j++)
                        {
                            TSimd.Store(tile + (j * lanes), TSimd.Load(dy + ((nint)(co + j) * OutputPlane) + p));
                        }

                        TSimd.Transpose(tile, transposed);
                        for (int i = 0; i < lanes; i++)
                        {
                            TSimd.Store(gradient + ((nint)(p + i) * GradientStride) + co, TSimd.Load(transposed + (i * lanes)));
                        }
                    }

                    for (int j = 0; j < channels; j++)
                    {
                        float* source = dy + ((nint)(co + j) * OutputPlane);
                        for (int p = tiledPixels; p < OutputPlane; p++)
                        {
                            gradient[((nint)p * GradientStride) + co + j] = source[p];
                        }
                    }
                }
            }

            /// <summary>Offset in the sums of tap <paramref name="tap"/> of a block from its first.</summary>
            private static nint SumOffset(int tap) => (((nint)(tap / S.Kernel) * TapsPerChannel) + (tap % S.Kernel)) * GradientStride;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static TVector Load(float* sums, int tap) => TSimd.Load(sums + SumOffset(tap));

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static TVector LoadSecond(float* sums, int tap) => PairImages ? TSimd.Zero : TSimd.Load(sums + SumOffset(tap) + TSimd.Count);

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void Store(float* sums, int tap, TVector first, TVector second)
            {
                float* destination = sums + SumOffset(tap);
                if (PairImages)
                {
                    TSimd.Store(destination, TSimd.Add(first, second));
                    return;
                }

                TSimd.Store(destination, first);
                TSimd.Store(destination + TSimd.Count, second);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static TVector Fma(float* pixel, int offset, TVector gradient, TVector sum) => TSimd.MultiplyAdd(TSimd.Broadcast(pixel[offset]), gradient, sum);

            /// <summary>
            /// Adds one block's taps times a block of channels, over the group's pixels, to its sums. <paramref name="input"/>
            /// is the staged input under the block's first tap at output pixel (0, 0) of the group's first image.
            /// </summary>
            private static void Block(float* input, float* gradient, float* sums, int steps)
            {
                TVector s00 = Load(sums, 0), s01 = LoadSecond(sums, 0);
                TVector s10 = BlockTaps > 1 ? Load(sums, 1) : TSimd.Zero, s11 = BlockTaps > 1 ? LoadSecond(sums, 1) : TSimd.Zero;
                TVector s20 = BlockTaps > 2 ? Load(sums, 2) : TSimd.Zero, s21 = BlockTaps > 2 ? LoadSecond(sums, 2) : TSimd.Zero;
                TVector s30 = BlockTaps > 3 ? Load(sums, 3) : TSimd.Zero, s31 = BlockTaps > 3 ? LoadSecond(sums, 3) : TSimd.Zero;
                TVector s40 = BlockTaps > 4 ? Load(sums, 4) : TSimd.Zero, s41 = BlockTaps > 4 ? LoadSecond(sums, 4) : TSimd.Zero;
                TVector s50 = BlockTaps > 5 ? Load(sums, 5) : TSimd.Zero, s51 = BlockTaps > 5 ? LoadSecond(sums, 5) : TSimd.Zero;
                TVector s60 = BlockTaps > 6 ? Load(sums, 6) : TSimd.Zero, s61 = BlockTaps > 6 ? LoadSecond(sums, 6) : TSimd.Zero;
                TVector s70 = BlockTaps > 7 ? Load(sums, 7) : TSimd.Zero, s71 = BlockTaps > 7 ? LoadSecond(sums, 7) : TSimd.Zero;
                TVector s80 = BlockTaps > 8 ? Load(sums, 8) : TSimd.Zero, s81 = BlockTaps > 8 ? LoadSecond(sums, 8) : TSimd.Zero;
                TVector s90 = BlockTaps > 9 ? Load(sums, 9) : TSimd.Zero, s91 = BlockTaps > 9 ? LoadSecond(sums, 9) : TSimd.Zero;
                TVector sa0 = BlockTaps > 10 ? Load(sums, 10) : TSimd.Zero, sa1 = BlockTaps > 10 ? LoadSecond(sums, 10) : TSimd.Zero;
                TVector sb0 = BlockTaps > 11 ? Load(sums, 11) : TSimd.Zero, sb1 = BlockTaps > 11 ? LoadSecond(sums, 11) : TSimd.Zero;
                int imageStep = PairImages ? 2 : 1;
                for (int step = 0; step < steps; step++)
                {
                    float* image = input + ((nint)step * imageStep * StagedLength);
                    float* gradientRow = gradient + ((nint)step * imageStep * GradientLength);
                    for (int oh = 0; oh < S.OutHeight; oh++)
                    {
                        float* pixel = image + ((nint)oh * S.Stride * RowStride);
                        for (int ow = 0; ow < S.OutWidth; ow++, pixel++, gradientRow += GradientStride)
                        {
                            TVector d0 = TSimd.Load(gradientRow), d1 = TSimd.Load(gradientRow + SecondGradient);
                            s00 = Fma(pixel, Offset0, d0, s00);
                            s01 = Fma(pixel, Offset0 + SecondInput, d1, s01);
                            if (BlockTaps > 1)
                            {
                                s10 = Fma(pixel, Offset1, d0, s10);
                                s11 = Fma(pixel, Offset1 + SecondInput, d1, s11);
                            }

                            if (BlockTaps > 2)
                            {
                                s20 = Fma(pixel, Offset2, d0, s20);
                                s21 = Fma(pixel, Offset2 + SecondInput, d1, s21);
                            }

                            if (BlockTaps > 3)
                            {
                                s30 = Fma(pixel, Offset3, d0, s30);
                                s31 = Fma(pixel, Offset3 + SecondInput, d1, s31);
                            }

                            if (BlockTaps > 4)
                            {
                                s40 = Fma(pixel, Offset4, d0, s40);
                                s41 = Fma(pixel, Offset4 + SecondInput, d1, s41);
                            }

                            if (BlockTaps > 5)
                            {
                                s50 = Fma(pixel, Offset5, d0, s50);
                                s51 = Fma(pixel, Offset5 + SecondInput, d1, s51);
                            }

                            if (BlockTaps > 6)
                            {
                                s60 = Fma(pixel, Offset6, d0, s60);
                                s61 = Fma(pixel, Offset6 + SecondInput, d1, s61);
                            }

                            if (BlockTaps > 7)
                            {
                                s70 = Fma(pixel, Offset7, d0, s70);
                                s71 = Fma(pixel, Offset7 + SecondInput, d1, s71);
                            }

                            if (BlockTaps > 8)
                            {
                                s80 = Fma(pixel, Offset8, d0, s80);
                                s81 = Fma(pixel, Offset8 + SecondInput, d1, s81);
                            }

                            if (BlockTaps > 9)
                            {
                                s90 = Fma(pixel, Offset9, d0, s90);
                                s91 = Fma(pixel, Offset9 + SecondInput, d1, s91);
                            }

                            if (BlockTaps > 10)
                            {
                                sa0 = Fma(pixel, Offset10, d0, sa0);
                                sa1 = Fma(pixel, Offset10 + SecondInput, d1, sa1);
                            }

                            if (BlockTaps > 11)
                            {
                                sb0 = Fma(pixel, Offset11, d0, sb0);
                                sb1 = Fma(pixel, Offset11 + SecondInput, d1, sb1);
                            }
                        }
                    }
                }

                Store(sums, 0, s00, s01);

                if (BlockTaps > 1)
                {
                    Store(sums, 1, s10, s11);
                }

                if (BlockTaps > 2)
                {
                    Store(sums, 2, s20, s21);
                }

                if (BlockTaps > 3)
                {
                    Store(sums, 3, s30, s31);
                }

                if (BlockTaps > 4)
                {
                    Store(sums, 4, s40, s41);
                }

                if (BlockTaps > 5)
                {
                    Store(sums, 5, s50, s51);
                }

                if (BlockTaps > 6)
                {
                    Store(sums, 6, s60, s61);
                }

                if (BlockTaps > 7)
                {
                    Store(sums, 7, s70, s71);
                }

                if (BlockTaps > 8)
                {
                    Store(sums, 8, s80, s81);
                }

                if (BlockTaps > 9)
                {
                    Store(sums, 9, s90, s91);
                }

                if (BlockTaps > 10)
                {
                    Store(sums, 10, sa0, sa1);
                }

                if (BlockTaps > 11)
                {
                    Store(sums, 11, sb0, sb1);
                }
            }
        }
    }
}
