using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// The direct weight gradient of layers with few output channels (LeNet's first has 6: a vector of channels would
/// leave most lanes idle), vectorised over output pixels instead. Each image's dy is staged with its rows padded to
/// whole vectors (zeros past the row, so those lanes add nothing) and its input in the staging and tap blocks both
/// weight kernels share (DirectWeight). The micro-kernel keeps 2 output channels times a block of taps of pixel-vector
/// sums in registers over a group of images, loading one vector of dy per channel and one of input per tap; the lanes
/// are added once, at the end.
/// </summary>
public static unsafe partial class Conv2d
{
    /// <summary>Whether the weight gradient of <typeparamref name="S"/> runs vectorised over pixels at this machine's width.</summary>
    internal static bool UsesPixelVectorWeightGradient<S>()
        where S : struct, IConvShape =>
        Geometry<S>.UsesDirectBackwardWeight && (Vector512.IsHardwareAccelerated ? DirectWeight<S, Simd512, Vector512<float>>.ByPixels.Applies
            : Vector256.IsHardwareAccelerated && DirectWeight<S, Simd256, Vector256<float>>.ByPixels.Applies);

    private static partial class DirectWeight<S, TSimd, TVector>
        where S : struct, IConvShape
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        /// <summary>The kernel vectorised over output pixels, for few output channels.</summary>
        public static class ByPixels
        {
            /// <summary>Fewer output channels than half a vector: their lanes would mostly idle in the channel-vectorised kernel.</summary>
            public static readonly bool Applies = 2 * S.OutChannels <= TSimd.Count;

            private static readonly int StagedTaps = StagedChannels * TapsPerChannel;

            /// <summary>Output channels in whole pairs; the extra one's dy is staged as zeros.</summary>
            private static readonly int PaddedChannels = RoundUp(S.OutChannels, 2);

            private static readonly int RowVectors = CeilDiv(S.OutWidth, TSimd.Count);

            private static readonly int PaddedWidth = RowVectors * TSimd.Count;

            private static readonly int GradientChannelStride = S.OutHeight * PaddedWidth;

            private static readonly int GradientLength = PaddedChannels * GradientChannelStride;

            /// <summary>Per output channel and staged tap, one vector of partial sums.</summary>
            private static readonly int SumsLength = PaddedChannels * StagedTaps * TSimd.Count;

            /// <summary>Images staged together: at least 16 vectors of pixels between loading and storing the accumulators.</summary>
            private static readonly int GroupSize = Math.Clamp(CeilDiv(16, S.OutHeight * RowVectors), 1, 16);

            public static void Run(in DirectWeightJob<S> job, int begin, int end, int thread)
            {
                int weightSize = Geometry<S>.WeightSize;
                float* partial = job.Scratch.Get(thread, weightSize + SumsLength + ((nint)GroupSize * (StagedLength + GradientLength)));
                float* sums = partial + weightSize;
                float* staged = sums + SumsLength;
                float* gradients = staged + ((nint)GroupSize * StagedLength);

                // Padding, the extra channels and the rows' tails stay zero: staging writes only the rest.
                new Span<float>(sums, SumsLength).Clear();
                new Span<float>(staged, GroupSize * (StagedLength + GradientLength)).Clear();
                for (int first = begin; first < end; first += GroupSize)
                {
                    int images = Math.Min(GroupSize, end - first);
                    for (int g = 0; g < images; g++)
                    {
                        Stage(job.X + ((nint)(first + g) * Geometry<S>.InputSize), staged + ((nint)g * StagedLength));
                        float* dy = job.Dy + ((nint)(first + g) * Geometry<S>.OutputSize);
                        float* gradient = gradients + ((nint)g * GradientLength);
                        for (int row = 0; row < S.OutChannels * S.OutHeight; row++)
                        {
                            CopyRow<TSimd, TVector>(dy + ((nint)row * S.OutWidth), gradient + ((nint)row * PaddedWidth), S.OutWidth);
                        }
                    }

                    for (int co = 0; co < PaddedChannels; co += 2)
                    {
                        for (int kh = 0; kh < S.Kernel; kh++)
                        {
                            for (int c = 0; c < StagedChannels; c += BlockChannels)
                            {
                                float* input = staged + ((nint)c * ChannelStride) + ((nint)kh * S.Dilation * RowStride);
                                float* blockSums = sums + ((((nint)co * StagedTaps) + (c * TapsPerChannel) + (kh * S.Kernel)) * TSimd.Count);
                                Block(input, gradients + ((nint)co * GradientChannelStride), blockSums, images);
                            }
                        }
                    }
                }

                // The lanes added in order, into dw's layout at the start of the scratch, for the thread-ordered reduction.
                for (int co = 0; co < S.OutChannels; co++)
                {
                    for (int tap = 0; tap < Geometry<S>.ColumnRows; tap++)
                    {
                        float* lanes = sums + ((((nint)co * StagedTaps) + tap) * TSimd.Count);
                        float sum = 0f;
                        for (int lane = 0; lane < TSimd.Count; lane++)
                        {
                            sum += lanes[lane];
                        }

                        partial[((nint)co * Geometry<S>.ColumnRows) + tap] = sum;
                    }
                }
            }

            /// <summary>Offset in the sums of tap <paramref name="tap"/> of a block from its first (the second channel's are StagedTaps vectors on).</summary>
            private static nint SumOffset(int tap) => (((nint)(tap / S.Kernel) * TapsPerChannel) + (tap % S.Kernel)) * TSimd.Count;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static TVector Load(float* sums, int tap, int channel) => TSimd.Load(sums + SumOffset(tap) + ((nint)channel * StagedTaps * TSimd.Count));

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static void Store(float* sums, int tap, TVector first, TVector second)
            {
                TSimd.Store(sums + SumOffset(tap), first);
                TSimd.Store(sums + SumOffset(tap) + ((nint)StagedTaps * TSimd.Count), second);
            }

            /// <summary>
            /// Adds one block's taps times two output channels, over the group's pixel vectors, to its sums. <paramref name="input"/>
            /// is the staged input under the block's first tap at output pixel (0, 0) of the group's first image, <paramref name="gradient"/>
            /// the first channel's staged dy.
            /// </summary>
            private static void Block(float* input, float* gradient, float* sums, int images)
            {
                TVector s00 = Load(sums, 0, 0), s01 = Load(sums, 0, 1);
                TVector s10 = BlockTaps > 1 ? Load(sums, 1, 0) : TSimd.Zero, s11 = BlockTaps > 1 ? Load(sums, 1, 1) : TSimd.Zero;
                TVector s20 = BlockTaps > 2 ? Load(sums, 2, 0) : TSimd.Zero, s21 = BlockTaps > 2 ? Load(sums, 2, 1) : TSimd.Zero;
                TVector s30 = BlockTaps > 3 ? Load(sums, 3, 0) : TSimd.Zero, s31 = BlockTaps > 3 ? Load(sums, 3, 1) : TSimd.Zero;
                TVector s40 = BlockTaps > 4 ? Load(sums, 4, 0) : TSimd.Zero, s41 = BlockTaps > 4 ? Load(sums, 4, 1) : TSimd.Zero;
                TVector s50 = BlockTaps > 5 ? Load(sums, 5, 0) : TSimd.Zero, s51 = BlockTaps > 5 ? Load(sums, 5, 1) : TSimd.Zero;
                TVector s60 = BlockTaps > 6 ? Load(sums, 6, 0) : TSimd.Zero, s61 = BlockTaps > 6 ? Load(sums, 6, 1) : TSimd.Zero;
                TVector s70 = BlockTaps > 7 ? Load(sums, 7, 0) : TSimd.Zero, s71 = BlockTaps > 7 ? Load(sums, 7, 1) : TSimd.Zero;
                TVector s80 = BlockTaps > 8 ? Load(sums, 8, 0) : TSimd.Zero, s81 = BlockTaps > 8 ? Load(sums, 8, 1) : TSimd.Zero;
                TVector s90 = BlockTaps > 9 ? Load(sums, 9, 0) : TSimd.Zero, s91 = BlockTaps > 9 ? Load(sums, 9, 1) : TSimd.Zero;
                TVector sa0 = BlockTaps > 10 ? Load(sums, 10, 0) : TSimd.Zero, sa1 = BlockTaps > 10 ? Load(sums, 10, 1) : TSimd.Zero;
                TVector sb0 = BlockTaps > 11 ? Load(sums, 11, 0) : TSimd.Zero, sb1 = BlockTaps > 11 ? Load(sums, 11, 1) : TSimd.Zero;
                for (int g = 0; g < images; g++)
                {
                    for (int oh = 0; oh < S.OutHeight; oh++)
                    {
                        float* row = input + ((nint)g * StagedLength) + ((nint)oh * S.Stride * RowStride);
                        float* gradientRow = gradient + ((nint)g * GradientLength) + ((nint)oh * PaddedWidth);
                        for (int v = 0; v < PaddedWidth; v += TSimd.Count)
                        {
                            float* pixel = row + v;
                            TVector d0 = TSimd.Load(gradientRow + v), d1 = TSimd.Load(gradientRow + v + GradientChannelStride);
                            TVector x = TSimd.Load(pixel + Offset0);
                            s00 = TSimd.MultiplyAdd(x, d0, s00);
                            s01 = TSimd.MultiplyAdd(x, d1, s01);
                            if (BlockTaps > 1)
                            {
                                x = TSimd.Load(pixel + Offset1);
                                s10 = TSimd.MultiplyAdd(x, d0, s10);
                                s11 = TSimd.MultiplyAdd(x, d1, s11);
                            }

                            if (BlockTaps > 2)
                            {
                                x = TSimd.Load(pixel + Offset2);
                                s20 = TSimd.MultiplyAdd(x, d0, s20);
                                s21 = TSimd.MultiplyAdd(x, d1, s21);
                            }

                            if (BlockTaps > 3)
                            {
                                x = TSimd.Load(pixel + Offset3);
                                s30 = TSimd.MultiplyAdd(x, d0, s30);
                                s31 = TSimd.MultiplyAdd(x, d1, s31);
                            }

                            if (BlockTaps > 4)
                            {
                                x = TSimd.Load(pixel + Offset4);
                                s40 = TSimd.MultiplyAdd(x, d0, s40);
                                s41 = TSimd.MultiplyAdd(x, d1, s41);
                            }

                            if (BlockTaps > 5)
                            {
                                x = TSimd.Load(pixel + Offset5);
                                s50 = TSimd.MultiplyAdd(x, d0, s50);
                                s51 = TSimd.MultiplyAdd(x, d1, s51);
                            }

                            if (BlockTaps > 6)
                            {
                                x = TSimd.Load(pixel + Offset6);
                                s60 = TSimd.MultiplyAdd(x, d0, s60);
                                s61 = TSimd.MultiplyAdd(x, d1, s61);
                            }

                            if (BlockTaps > 7)
                            {
                                x = TSimd.Load(pixel + Offset7);
                                s70 = TSimd.MultiplyAdd(x, d0, s70);
                                s71 = TSimd.MultiplyAdd(x, d1, s71);
                            }

                            if (BlockTaps > 8)
                            {
                                x = TSimd.Load(pixel + Offset8);
                                s80 = TSimd.MultiplyAdd(x, d0, s80);
                                s81 = TSimd.MultiplyAdd(x, d1, s81);
                            }

                            if (BlockTaps > 9)
                            {
                                x = TSimd.Load(pixel + Offset9);
                                s90 = TSimd.MultiplyAdd(x, d0, s90);
                                s91 = TSimd.MultiplyAdd(x, d1, s91);
                            }

                            if (BlockTaps > 10)
                            {
                                x = TSimd.Load(pixel + Offset10);
                                sa0 = TSimd.MultiplyAdd(x, d0, sa0);
                                sa1 = TSimd.MultiplyAdd(x, d1, sa1);
                            }

                            if (BlockTaps > 11)
                            {
                                x = TSimd.Load(pixel + Offset11);
                                sb0 = TSimd.MultiplyAdd(x, d0, sb0);
                                sb1 = TSimd.MultiplyAdd(x, d1, sb1);
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
