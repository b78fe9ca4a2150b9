using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// The direct forward for convolutions with few output channels (LeNet's 1->6 and 6->16, the 16-channel residual and
/// IMEX steps), where im2col + GEMM spends most of its time building and packing columns for a GEMM whose M fills
/// one or two micro-tiles. Each image is staged once, zero-padded and split into stride phases, so every tap of a
/// run of output columns is one contiguous vector load; the micro-kernel keeps a block of output channels times two
/// vectors of output pixels in registers and applies the epilogue (bias, residual, activation) there.
/// </summary>
public static unsafe partial class Conv2d
{
    /// <summary>Whether <see cref="Forward{S}"/> takes the direct path for this shape (the tests check that theirs do).</summary>
    internal static bool UsesDirectForward<S>()
        where S : struct, IConvShape => Geometry<S>.UsesDirectForward;

    private static void DirectForward<S>(KernelContext context, float* x, float* w, float* bias, float* y, int n, Activation activation, float* residual)
        where S : struct, IConvShape
    {
        // Split each image's output rows when there are fewer images than threads.
        int chunks = Math.Min(CeilDiv(context.ThreadCount, n), S.OutHeight);
        var job = new DirectForwardJob<S>
        {
            X = x,
            W = w,
            Bias = bias,
            Y = y,
            Residual = residual,
            Activation = activation,
            Chunks = chunks,
            Scratch = context.Scratch,
        };
        context.For(n * chunks, ref job);
    }

    private struct DirectForwardJob<S> : IParallelJob
        where S : struct, IConvShape
    {
        public float* X;
        public float* W;
        public float* Bias;
        public float* Y;
        public float* Residual;
        public Activation Activation;
        public int Chunks;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var range = new DirectRange<S, Simd512, Vector512<float>> { Job = this, Begin = begin, End = end, Thread = thread };
                Activation.Accept(ref range);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var range = new DirectRange<S, Simd256, Vector256<float>> { Job = this, Begin = begin, End = end, Thread = thread };
                Activation.Accept(ref range);
            }
            else
            {
                var range = new DirectRange<S, SimdScalar, float> { Job = this, Begin = begin, End = end, Thread = thread };
                Activation.Accept(ref range);
            }
        }
    }

    /// <summary>One thread's items at one width, waiting for the activation's function.</summary>
    private struct DirectRange<S, TSimd, TVector> : IActivationVisitor
        where S : struct, IConvShape
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        public DirectForwardJob<S> Job;
        public int Begin;
        public int End;
        public int Thread;

        public readonly void Visit<TFunction>()
            where TFunction : struct, IActivationFunction =>
            Direct<S, TSimd, TVector>.Run<TFunction>(Job, Begin, End, Thread);
    }

    /// <summary>The direct forward at one width; every size below folds to a constant per instantiation.</summary>
    private static class Direct<S, TSimd, TVector>
        where S : struct, IConvShape
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        // Static readonly, not computed properties: the tile would inline a chain of them at every use and run out of
        // the JIT's inlining budget (then they become calls and the accumulators spill); fields of an initialised class
        // are constants to the optimising JIT.
        private static readonly int Lanes = TSimd.Count;

        /// <summary>Output channels per micro-tile: 2 x 8 accumulators of the 32 AVX-512 registers, 2 x 6 of the 16 AVX2 ones.</summary>
        private static readonly int MaxBlock = TSimd.Count >= 16 ? 8 : 6;

        private static readonly int Blocks = CeilDiv(S.OutChannels, MaxBlock);

        /// <summary>Channels per block, balanced (16 = 8 + 8, not 8 + 8 + 0); the last block may hold fewer.</summary>
        private static readonly int Block = CeilDiv(S.OutChannels, Blocks);

        private static readonly int Taps = Geometry<S>.ColumnRows;

        private static readonly int PackedLength = Blocks * Block * Taps;

        private static readonly int OutputPlane = Geometry<S>.OutputPlane;

        /// <summary>Rows no wider than a vector: the tile's two vectors are two output rows, else two runs of one row.</summary>
        private static readonly bool TwoRows = S.OutWidth <= TSimd.Count;

        private static readonly int RowsPerStep = TwoRows ? 2 : 1;

        private static readonly int Steps = CeilDiv(S.OutHeight, RowsPerStep);

        private static readonly int SegmentWidth = TwoRows ? S.OutWidth : 2 * TSimd.Count;

        // The staged image: per channel, rows of S.Stride phases (phase q holds padded columns q, q + stride, ...),
        // wide and tall enough that the tiles' full vectors past the output's edge still read inside it.
        private static readonly int Reach = (S.Kernel - 1) * S.Dilation;

        private static readonly int ColumnsRead = TwoRows ? TSimd.Count : RoundUp(S.OutWidth, 2 * TSimd.Count);

        private static readonly int PhaseWidth = Math.Max(ColumnsRead + (Reach / S.Stride), CeilDiv(S.InWidth + (2 * S.Pad), S.Stride));

        private static readonly int RowStride = S.Stride * PhaseWidth;

        private static readonly int StagedRows = Math.Max(S.InHeight + (2 * S.Pad), (((Steps * RowsPerStep) - 1) * S.Stride) + Reach + 1);

        private static readonly int ChannelStride = StagedRows * RowStride;

        private static readonly int StagedLength = S.InChannels * ChannelStride;

        /// <summary>Where the tile's second vector starts, in the staged image and in the output, relative to its first.</summary>
        private static readonly int InputDelta = TwoRows ? S.Stride * RowStride : TSimd.Count;

        private static readonly int OutputDelta = TwoRows ? S.OutWidth : TSimd.Count;

        public static void Run<TFunction>(in DirectForwardJob<S> job, int begin, int end, int thread)
            where TFunction : struct, IActivationFunction
        {
            float* packed = job.Scratch.Get(thread, PackedLength + StagedLength + Lanes);
            float* staged = packed + PackedLength;
            float* spill = staged + StagedLength;
            Pack(job.W, packed);

            // The padding is written once here; staging an image fills only the interior.
            new Span<float>(staged, StagedLength).Clear();
            int stagedImage = -1;
            float alpha = job.Activation.Alpha;
                        for (int item = begin; item < end; item++)
            {
                int image = item / job.Chunks, chunk = item % job.Chunks;
                if (image != stagedImage)
                {
                    Stage(job.X + ((nint)image * Geometry<S>.InputSize), staged);
                    stagedImage = image;
                }

                int stepEnd = KernelContext.RangeStart(Steps, chunk + 1, job.Chunks);
                for (int block = 0; block < Blocks; block++)
                {
                    int firstChannel = block * Block;
                    int channels = Math.Min(Block, S.OutChannels - firstChannel);
                    float* weights = packed + ((nint)block * Block * Taps);
                    float* bias = job.Bias == null ? null : job.Bias + firstChannel;
                    nint channelOutput = ((nint)image * Geometry<S>.OutputSize) + ((nint)firstChannel * OutputPlane);
                    for (int step = KernelContext.RangeStart(Steps, chunk, job.Chunks); step < stepEnd; step++)
                    {
                        int oh = step * RowsPerStep;
                        float* input = staged + ((nint)oh * S.Stride * RowStride);
                        for (int ow = 0; ow < S.OutWidth; ow += SegmentWidth)
                        {
                            int lanes = Math.Min(Lanes, S.OutWidth - ow);
                            int secondLanes = TwoRows ? (oh + 1 < S.OutHeight ? S.OutWidth : 0) : Math.Clamp(S.OutWidth - ow - Lanes, 0, Lanes);
                            nint output = channelOutput + ((nint)oh * S.OutWidth) + ow;
                            float* residual = job.Residual == null ? null : job.Residual + output;
                            Tile<TFunction>(input + ow, weights, bias, job.Y + output, residual, channels, lanes, secondLanes, alpha, spill);
                        }
                    }
                }
            }
        }

        /// <summary>packed[block][tap][j] = w[block * Block + j][tap], zero for the last block's missing channels.</summary>
        private static void Pack(float* w, float* packed)
        {
            for (int block = 0; block < Blocks; block++)
            {
                for (int tap = 0; tap < Taps; tap++)
                {
                    for (int j = 0; j < Block; j++, packed++)
                    {
                        int channel = (block * Block) + j;
                        *packed = channel < S.OutChannels ? w[((nint)channel * Taps) + tap] : 0f;
                    }
                }
            }
        }

        /// <summary>Copies an image into the interior of the staged buffer, padded column c to phase c % stride, index c / stride.</summary>
        private static void Stage(float* image, float* staged)
        {
            for (int c = 0; c < S.InChannels; c++)
            {
                for (int ih = 0; ih < S.InHeight; ih++)
                {
                    float* source = image + ((nint)c * Geometry<S>.InputPlane) + ((nint)ih * S.InWidth);
                    float* row = staged + ((nint)c * ChannelStride) + ((nint)(ih + S.Pad) * RowStride);
                    if (S.Stride == 1)
                    {
                        new ReadOnlySpan<float>(source, S.InWidth).CopyTo(new Span<float>(row + S.Pad, S.InWidth));
                        continue;
                    }

                    for (int iw = 0; iw < S.InWidth; iw++)
                    {
                        int column = iw + S.Pad;
                        row[((column % S.Stride) * PhaseWidth) + (column / S.Stride)] = source[iw];
                    }
                }
            }
        }

        /// <summary>
        /// Block channels x two vectors of output: sums every tap in registers, then adds bias and residual, activates and
        /// stores the valid channels and lanes. <paramref name="input"/> is the staged pixel under tap (0, 0) of the first lane.
        /// </summary>
        private static void Tile<TFunction>(float* input, float* weights, float* bias, float* output, float* residual, int channels, int lanes, int secondLanes, float alpha, float* spill)
            where TFunction : struct, IActivationFunction
        {
            TVector c00 = TSimd.Zero, c01 = TSimd.Zero, c10 = TSimd.Zero, c11 = TSimd.Zero, c20 = TSimd.Zero, c21 = TSimd.Zero, c30 = TSimd.Zero, c31 = TSimd.Zero;
            TVector c40 = TSimd.Zero, c41 = TSimd.Zero, c50 = TSimd.Zero, c51 = TSimd.Zero, c60 = TSimd.Zero, c61 = TSimd.Zero, c70 = TSimd.Zero, c71 = TSimd.Zero;
            float* w = weights;
            for (int c = 0; c < S.InChannels; c++)
            {
                for (int kh = 0; kh < S.Kernel; kh++)
                {
                    float* row = input + ((nint)c * ChannelStride) + ((nint)kh * S.Dilation * RowStride);
                    for (int kw = 0; kw < S.Kernel; kw++, w += Block)
                    {
                        int column = kw * S.Dilation;
                        float* tap = row + ((column % S.Stride) * PhaseWidth) + (column / S.Stride);
                        TVector x0 = TSimd.Load(tap), x1 = TSimd.Load(tap + InputDelta);
                        TVector weight = TSimd.Broadcast(w[0]);
                        c00 = TSimd.MultiplyAdd(weight, x0, c00);
                        c01 = TSimd.MultiplyAdd(weight, x1, c01);
                        if (Block > 1)
                        {
                            weight = TSimd.Broadcast(w[1]);
                            c10 = TSimd.MultiplyAdd(weight, x0, c10);
                            c11 = TSimd.MultiplyAdd(weight, x1, c11);
                        }

                        if (Block > 2)
                        {
                            weight = TSimd.Broadcast(w[2]);
                            c20 = TSimd.MultiplyAdd(weight, x0, c20);
                            c21 = TSimd.MultiplyAdd(weight, x1, c21);
                        }

                        if (Block > 3)
                        {
                            weight = TSimd.Broadcast(w[3]);
                            c30 = TSimd.MultiplyAdd(weight, x0, c30);
                            c31 = TSimd.MultiplyAdd(weight, x1, c31);
                        }

                        if (Block > 4)
                        {
                            weight = TSimd.Broadcast(w[4]);
                            c40 = TSimd.MultiplyAdd(weight, x0, c40);
                            c41 = TSimd.MultiplyAdd(weight, x1, c41);
                        }

                        if (Block > 5)
                        {
                            weight = TSimd.Broadcast(w[5]);
                            c50 = TSimd.MultiplyAdd(weight, x0, c50);
                            c51 = TSimd.MultiplyAdd(weight, x1, c51);
                        }

                        if (Block > 6)
                        {
                            weight = TSimd.Broadcast(w[6]);
                            c60 = TSimd.MultiplyAdd(weight, x0, c60);
                            c61 = TSimd.MultiplyAdd(weight, x1, c61);
                        }

                        if (Block > 7)
                        {
                            weight = TSimd.Broadcast(w[7]);
                            c70 = TSimd.MultiplyAdd(weight, x0, c70);
                            c71 = TSimd.MultiplyAdd(weight, x1, c71);
                        }
                    }
                }
            }

            var epilogue = new TileEpilogue { Bias = bias, Output = output, Residual = residual, Lanes = lanes, SecondLanes = secondLanes, Alpha = alpha, Spill = spill };
            epilogue.Store<TFunction>(0, c00, c01);
            if (Block > 1 && channels > 1)
            {
                epilogue.Store<TFunction>(1, c10, c11);
            }

            if (Block > 2 && channels > 2)
            {
                epilogue.Store<TFunction>(2, c20, c21);
            }

            if (Block > 3 && channels > 3)
            {
                epilogue.Store<TFunction>(3, c30, c31);
            }

            if (Block > 4 && channels > 4)
            {
                epilogue.Store<TFunction>(4, c40, c41);
            }

            if (Block > 5 && channels > 5)
            {
                epilogue.Store<TFunction>(5, c50, c51);
            }

            if (Block > 6 && channels > 6)
            {
                epilogue.Store<TFunction>(6, c60, c61);
            }

            if (Block > 7 && channels > 7)
            {
                epilogue.Store<TFunction>(7, c70, c71);
            }

            // An exp-based activation runs on the stored tile, once no accumulator is live (as the GEMM does).
            if (!TFunction.InRegisters)
            {
                epilogue.ActivateStored<TFunction>(channels);
            }
        }

        /// <summary>Where a tile's sums go: channel j's first vector at Output + j * OutputPlane, its second OutputDelta further.</summary>
        private struct TileEpilogue
        {
            public float* Bias;
            public float* Output;
            public float* Residual;
            public int Lanes;
            public int SecondLanes;
            public float Alpha;

            /// <summary>One vector of scratch for partial vectors.</summary>
            public float* Spill;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public readonly void Store<TFunction>(int channel, TVector first, TVector second)
                where TFunction : struct, IActivationFunction
            {
                nint offset = (nint)channel * OutputPlane;
                float bias = Bias == null ? 0f : Bias[channel];
                StoreVector<TFunction>(first, bias, offset, Lanes);
                StoreVector<TFunction>(second, bias, offset + OutputDelta, SecondLanes);
            }

            /// <summary>Full vectors in registers; a partial one through the spill, lane by lane, with the same additions and function.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private readonly void StoreVector<TFunction>(TVector sum, float bias, nint offset, int lanes)
                where TFunction : struct, IActivationFunction
            {
                float* output = Output + offset;
                if (lanes == TSimd.Count)
                {
                    if (Bias != null)
                    {
                        sum = TSimd.Add(sum, TSimd.Broadcast(bias));
                    }

                    if (Residual != null)
                    {
                        sum = TSimd.Add(sum, TSimd.Load(Residual + offset));
                    }

                    if (typeof(TFunction) != typeof(Identity) && TFunction.InRegisters)
                    {
                        sum = TFunction.Forward<TSimd, TVector>(sum, Alpha);
                    }

                    TSimd.Store(output, sum);
                    return;
                }

                TSimd.Store(Spill, sum);
                for (int i = 0; i < lanes; i++)
                {
                    float value = Spill[i];
                    if (Bias != null)
                    {
                        value += bias;
                    }

                    if (Residual != null)
                    {
                        value += Residual[offset + i];
                    }

                    output[i] = typeof(TFunction) != typeof(Identity) && TFunction.InRegisters ? TFunction.Forward<SimdScalar, float>(value, Alpha) : value;
                }
            }

            /// <summary>The activation over the stored tile, out of line so the tile makes no call with its accumulators live.</summary>
            [MethodImpl(MethodImplOptions.NoInlining)]
            public readonly void ActivateStored<TFunction>(int channels)
                where TFunction : struct, IActivationFunction
            {
                for (int j = 0; j < channels; j++)
                {
                    var first = new Span<float>(Output + ((nint)j * OutputPlane), Lanes);
                    var second = new Span<float>(Output + ((nint)j * OutputPlane) + OutputDelta, SecondLanes);
                    Activation.Forward<TSimd, TVector, TFunction>(first, first, Alpha);
                    Activation.Forward<TSimd, TVector, TFunction>(second, second, Alpha);
                }
            }
        }
    }
}
