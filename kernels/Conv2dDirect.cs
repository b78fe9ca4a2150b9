using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// The direct forward of ungrouped convolutions, and through it their stride-1 data gradient (the same convolution of
/// dy with the weights transposed and rotated, <see cref="DataGradientShape{S}"/>). im2col + GEMM spends much of its
/// time building and packing columns; here each image is staged once, zero-padded, so every tap of a run of output
/// pixels is one contiguous vector load, and the micro-kernel keeps a block of up to 6 output channels times 4 vectors
/// of output pixels (2 on AVX2) in registers and applies the epilogue (bias, residual, activation) there. Rows at
/// least a vector wide are tiled along the rows (the staged image split into stride phases); narrower outputs (LeNet's
/// 10x10, VGG's 8x8) would leave lanes idle, so their tiles run over the flattened plane instead, on a staging with one
/// copy per column tap and row phase in which a tap of consecutive pixels is contiguous across rows.
/// </summary>
public static unsafe partial class Conv2d
{
    /// <summary>Whether <see cref="Forward{S}"/> takes the direct path for this shape (the tests check that theirs do).</summary>
    internal static bool UsesDirectForward<S>()
        where S : struct, IConvShape => Geometry<S>.UsesDirectForward;

    /// <summary>Whether <see cref="BackwardData{S}"/> (and the transposed convolution's forward) takes the direct path.</summary>
    internal static bool UsesDirectBackwardData<S>()
        where S : struct, IConvShape => Geometry<S>.UsesDirectBackwardData;

    /// <summary>Whether the forward tiles run over the flattened plane at this machine's width (the tests cover both tilings).</summary>
    internal static bool UsesFlatTiles<S>()
        where S : struct, IConvShape =>
        Vector512.IsHardwareAccelerated ? Direct<S, Simd512, Vector512<float>>.Flat
        : Vector256.IsHardwareAccelerated ? Direct<S, Simd256, Vector256<float>>.Flat
        : Direct<S, SimdScalar, float>.Flat;

    /// <summary>
    /// Output channels per block of the direct and Winograd micro-tiles, whose rows are up to 6 channels: of 6 down to
    /// <paramref name="smallest"/>, the one whose blocks leave the fewest rows idle, the larger on a tie (32 channels are
    /// 8 blocks of 4, not 6 of 6 with 4 idle rows; 10 are 2 of 5; 17 are 3 of 6); up to 6 channels are one block. The
    /// smallest is 4 on AVX-512 (4 x 4 vectors: 16 accumulators), 5 where a row is 2 vectors (4 x 2 would leave 8 FMA
    /// chains, just the latency times the ports).
    /// </summary>
    internal static int ChannelBlock(int channels, int smallest)
    {
        if (channels <= 6)
        {
            return channels;
        }

        int best = 6;
        for (int block = 5; block >= smallest; block--)
        {
            if (CeilDiv(channels, block) * block < CeilDiv(channels, best) * best)
            {
                best = block;
            }
        }

        return best;
    }

    /// <summary>
    /// y = activation(conv(x, w) + bias + residual). With <paramref name="flippedWeights"/>, w is the weight of the
    /// convolution whose data gradient this is ([OutChannels][InChannels][K][K] of <typeparamref name="S"/>), read
    /// transposed and rotated by 180 degrees.
    /// </summary>
    private static void DirectForward<S>(KernelContext context, float* x, float* w, float* bias, float* y, int n, Activation activation, float* residual, bool flippedWeights = false)
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
            FlippedWeights = flippedWeights,
            Chunks = chunks,
            Scratch = context.Scratch,
        };
        context.For(n * chunks, ref job);
    }

    private struct DirectForwardJob<S> : IParallelJob, IWidthJob<DirectForwardJob<S>>
        where S : struct, IConvShape
    {
        public float* X;
        public float* W;
        public float* Bias;
        public float* Y;
        public float* Residual;
        public Activation Activation;
        public bool FlippedWeights;
        public int Chunks;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread) => ExecuteAtWidth(this, Activation, begin, end, thread);

        public static void Run<TSimd, TVector, TFunction>(in DirectForwardJob<S> job, int begin, int end, int thread)
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction =>
            Direct<S, TSimd, TVector>.Run<TFunction>(job, begin, end, thread);
    }

    /// <summary>A job whose items run at one vector width with the activation's function as a type (the direct and Winograd forwards).</summary>
    private interface IWidthJob<TJob>
        where TJob : struct, IWidthJob<TJob>
    {
        static abstract void Run<TSimd, TVector, TFunction>(in TJob job, int begin, int end, int thread)
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction;
    }

    /// <summary>Runs a job's items at the widest width this machine has: the one switch on the width and the activation per call.</summary>
    private static void ExecuteAtWidth<TJob>(in TJob job, Activation activation, int begin, int end, int thread)
        where TJob : struct, IWidthJob<TJob>
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var range = new WidthRange<TJob, Simd512, Vector512<float>> { Job = job, Begin = begin, End = end, Thread = thread };
            activation.Accept(ref range);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var range = new WidthRange<TJob, Simd256, Vector256<float>> { Job = job, Begin = begin, End = end, Thread = thread };
            activation.Accept(ref range);
        }
        else
        {
            var range = new WidthRange<TJob, SimdScalar, float> { Job = job, Begin = begin, End = end, Thread = thread };
            activation.Accept(ref range);
        }
    }

    /// <summary>One thread's items at one width, waiting for the activation's function.</summary>
    private struct WidthRange<TJob, TSimd, TVector> : IActivationVisitor
        where TJob : struct, IWidthJob<TJob>
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        public TJob Job;
        public int Begin;
        public int End;
        public int Thread;

        public readonly void Visit<TFunction>()
            where TFunction : struct, IActivationFunction =>
            TJob.Run<TSimd, TVector, TFunction>(Job, Begin, End, Thread);
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
        /// <summary>Vectors of output pixels per micro-tile: 4 x 6 accumulators of the 32 AVX-512 registers, 2 x 6 of the 16 AVX2 ones.</summary>
        private static readonly int Vectors = TSimd.Count >= 16 ? 4 : 2;

        private static readonly int TileWidth = Vectors * TSimd.Count;

        /// <summary>Output channels per micro-tile (<see cref="ChannelBlock"/>); the last block may hold fewer.</summary>
        private static readonly int Block = ChannelBlock(S.OutChannels, Vectors >= 4 ? 4 : 5);

        private static readonly int Blocks = CeilDiv(S.OutChannels, Block);

        private static readonly int Taps = Geometry<S>.ColumnRows;

        private static readonly int PackedLength = Blocks * Block * Taps;

        private static readonly int OutputPlane = Geometry<S>.OutputPlane;

        private static readonly int Reach = (S.Kernel - 1) * S.Dilation;

        // Tiles along the rows: a row no wider than a vector takes one vector of the tile (so the tile spans Vectors
        // rows), one up to two vectors wide two, a wider row a run of all the tile's vectors.
        private static readonly int RowVectors = S.OutWidth <= TSimd.Count ? 1 : S.OutWidth <= 2 * TSimd.Count ? 2 : Vectors;

        private static readonly int RowsPerStep = Vectors / RowVectors;

        private static readonly int RowSteps = CeilDiv(S.OutHeight, RowsPerStep);

        private static readonly int SegmentWidth = RowVectors == 1 ? S.OutWidth : RowVectors * TSimd.Count;

        private static readonly int RowTiles = RowSteps * CeilDiv(S.OutWidth, SegmentWidth);

        /// <summary>
        /// Flattened tiles, where they compute at least 1/9 fewer tiles than the rows' (their staging copies the image
        /// once per column tap and row phase, so a smaller gain would not pay for it).
        /// </summary>
        internal static readonly bool Flat = CeilDiv(OutputPlane, TileWidth) * 9 < RowTiles * 8;

        /// <summary>Units of work in an image: a tile's rows along the rows, single tiles when flat.</summary>
        private static readonly int Steps = Flat ? CeilDiv(OutputPlane, TileWidth) : RowSteps;

        /// <summary>The tile's vectors per row: all of them in a flat tile.</summary>
        private static readonly int TileRowVectors = Flat ? Vectors : RowVectors;

        // The row staging: per channel, rows of S.Stride phases (phase q holds padded columns q, q + stride, ...),
        // wide and tall enough that the tiles' full vectors past the output's edge still read inside it.
        private static readonly int ColumnsRead = RowVectors == 1 ? TSimd.Count : RoundUp(S.OutWidth, SegmentWidth);

        private static readonly int PhaseWidth = Math.Max(ColumnsRead + (Reach / S.Stride), CeilDiv(S.InWidth + (2 * S.Pad), S.Stride));

        private static readonly int RowStride = S.Stride * PhaseWidth;

        private static readonly int StagedRows = Math.Max(S.InHeight + (2 * S.Pad), (((RowSteps * RowsPerStep) - 1) * S.Stride) + Reach + 1);

        // The flat staging: [channel][row phase q][column tap kw][row i][output column ow] = padded input at row
        // i * stride + q and column ow * stride + kw * dilation, so tap (kh, kw) of output pixel p = oh * OW + ow is at
        // p + (kh * dilation / stride) * OW in block (channel, kh * dilation % stride, kw): contiguous in p, and a
        // channel's taps are near each other, so a tile reads the staging front to back.
        private static readonly int FlatRows = S.OutHeight + (Reach / S.Stride);

        private static readonly int FlatColumnStride = FlatRows * S.OutWidth;

        private static readonly int FlatPhaseStride = S.Kernel * FlatColumnStride;

        private static readonly int ChannelStride = Flat ? S.Stride * FlatPhaseStride : StagedRows * RowStride;

        /// <summary>The flat staging ends with a tile's width of zeros that the last tile's idle lanes read.</summary>
        private static readonly int StagedLength = (S.InChannels * ChannelStride) + (Flat ? TileWidth : 0);

        // Where the tile's vectors 1 to 3 start, in the staged image and in the output, relative to its first.
        private static readonly int InputOffset1 = InputOffset(1), InputOffset2 = InputOffset(2), InputOffset3 = InputOffset(3);

        private static readonly int OutputOffset1 = OutputOffset(1), OutputOffset2 = OutputOffset(2), OutputOffset3 = OutputOffset(3);

        public static void Run<TFunction>(in DirectForwardJob<S> job, int begin, int end, int thread)
            where TFunction : struct, IActivationFunction
        {
            float* packed = job.Scratch.Get(thread, PackedLength + StagedLength);
            float* staged = packed + PackedLength;
            Pack(job.W, job.FlippedWeights, packed);

            // The row staging's padding (and the flat one's trailing zeros) is written once here; staging an image
            // writes only the rest.
            new Span<float>(staged, StagedLength).Clear();
            int stagedImage = -1;
            float alpha = job.Activation.Alpha;
            for (int item = begin; item < end; item++)
            {
                int image = item / job.Chunks, chunk = item % job.Chunks;
                if (image != stagedImage)
                {
                    float* source = job.X + ((nint)image * Geometry<S>.InputSize);
                    if (Flat)
                    {
                        StageFlat(source, staged);
                    }
                    else
                    {
                        StageRows<S, TSimd, TVector>(source, staged, ChannelStride, RowStride, PhaseWidth, S.Stride);
                    }

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
                        if (Flat)
                        {
                            int pixel = step * TileWidth;
                            nint output = channelOutput + pixel;
                            float* residual = job.Residual == null ? null : job.Residual + output;
                            Tile<TFunction>(staged + pixel, weights, bias, job.Y + output, residual, channels, OutputPlane - pixel, 1, alpha);
                            continue;
                        }

                        int oh = step * RowsPerStep, rows = Math.Min(RowsPerStep, S.OutHeight - oh);
                        float* input = staged + ((nint)oh * S.Stride * RowStride);
                        for (int ow = 0; ow < S.OutWidth; ow += SegmentWidth)
                        {
                            nint output = channelOutput + ((nint)oh * S.OutWidth) + ow;
                            float* residual = job.Residual == null ? null : job.Residual + output;
                            Tile<TFunction>(input + ow, weights, bias, job.Y + output, residual, channels, S.OutWidth - ow, rows, alpha);
                        }
                    }
                }
            }
        }

        /// <summary>
        /// packed[block][tap][j] = the weight of output channel block * Block + j at tap, zero for the last block's missing
        /// channels. Flipped: w is [InChannels][OutChannels][K][K] (the weight of the convolution whose data gradient
        /// this is), read transposed and with the kernel rotated by 180 degrees.
        /// </summary>
        private static void Pack(float* w, bool flipped, float* packed)
        {
            int area = S.Kernel * S.Kernel;
            for (int block = 0; block < Blocks; block++)
            {
                for (int tap = 0; tap < Taps; tap++)
                {
                    for (int j = 0; j < Block; j++, packed++)
                    {
                        int channel = (block * Block) + j;
                        nint index = flipped ? (((nint)(tap / area) * S.OutChannels) + channel) * area + (area - 1 - (tap % area)) : ((nint)channel * Taps) + tap;
                        *packed = channel < S.OutChannels ? w[index] : 0f;
                    }
                }
            }
        }

        /// <summary>Writes every element of the flat staging but its trailing zeros: the image's values, zero in the padding.</summary>
        private static void StageFlat(float* image, float* staged)
        {
            for (int c = 0; c < S.InChannels; c++)
            {
                for (int q = 0; q < S.Stride; q++)
                {
                    for (int kw = 0; kw < S.Kernel; kw++)
                    {
                        int columnOffset = (kw * S.Dilation) - S.Pad;

                        // Output columns whose input column ow * stride + columnOffset lies inside the image.
                        int first = Math.Clamp(CeilDiv(-columnOffset, S.Stride), 0, S.OutWidth);
                        int last = Math.Clamp(CeilDiv(S.InWidth - columnOffset, S.Stride), first, S.OutWidth);
                        for (int i = 0; i < FlatRows; i++, staged += S.OutWidth)
                        {
                            int ih = (i * S.Stride) + q - S.Pad;
                            bool inside = (uint)ih < (uint)S.InHeight;
                            float* source = image + ((nint)c * Geometry<S>.InputPlane) + ((nint)ih * S.InWidth) + columnOffset;
                            int ow = 0;
                            for (; ow < (inside ? first : S.OutWidth); ow++)
                            {
                                staged[ow] = 0f;
                            }

                            if (!inside)
                            {
                                continue;
                            }

                            if (S.Stride == 1)
                            {
                                CopyRow<TSimd, TVector>(source + first, staged + first, last - first);
                            }
                            else
                            {
                                for (ow = first; ow < last; ow++)
                                {
                                    staged[ow] = source[ow * S.Stride];
                                }
                            }

                            for (ow = last; ow < S.OutWidth; ow++)
                            {
                                staged[ow] = 0f;
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Offset in the staging of tap (kh, 0) of channel c from the tile's first pixel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint RowOffset(int c, int kh)
        {
            int row = kh * S.Dilation;
            return Flat
                ? ((nint)(row % S.Stride) * FlatPhaseStride) + ((nint)c * ChannelStride) + ((nint)(row / S.Stride) * S.OutWidth)
                : ((nint)c * ChannelStride) + ((nint)row * RowStride);
        }

        /// <summary>Offset in the staging of tap (kh, kw) from tap (kh, 0).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static nint ColumnOffset(int kw)
        {
            int column = kw * S.Dilation;
            return Flat ? (nint)kw * FlatColumnStride : ((column % S.Stride) * PhaseWidth) + (column / S.Stride);
        }

        /// <summary>Where vector <paramref name="v"/> of a tile starts in the staging, from its first.</summary>
        private static int InputOffset(int v) => Flat ? v * TSimd.Count : (v / RowVectors * S.Stride * RowStride) + (v % RowVectors * TSimd.Count);

        /// <summary>Where vector <paramref name="v"/> of a tile starts in the output plane, from its first.</summary>
        private static int OutputOffset(int v) => Flat ? v * TSimd.Count : (v / RowVectors * S.OutWidth) + (v % RowVectors * TSimd.Count);

        /// <summary>
        /// The valid lanes of vector <paramref name="v"/> of a tile with <paramref name="columns"/> output columns left in
        /// its rows (pixels left in the plane when flat) and <paramref name="rows"/> of its rows inside the output.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int LanesOf(int v, int columns, int rows) =>
            v / TileRowVectors < rows ? Math.Clamp(columns - (v % TileRowVectors * TSimd.Count), 0, TSimd.Count) : 0;

        /// <summary>
        /// Block channels x the tile's vectors of output: sums every tap in registers, then adds bias and residual,
        /// activates and stores the valid channels and lanes. <paramref name="input"/> is the staged pixel under tap (0, 0)
        /// of the first lane; <paramref name="columns"/> and <paramref name="rows"/> bound the valid lanes (<see cref="LanesOf"/>).
        /// </summary>
        private static void Tile<TFunction>(float* input, float* weights, float* bias, float* output, float* residual, int channels, int columns, int rows, float alpha)
            where TFunction : struct, IActivationFunction
        {
            TVector c00 = TSimd.Zero, c01 = TSimd.Zero, c02 = TSimd.Zero, c03 = TSimd.Zero;
            TVector c10 = TSimd.Zero, c11 = TSimd.Zero, c12 = TSimd.Zero, c13 = TSimd.Zero;
            TVector c20 = TSimd.Zero, c21 = TSimd.Zero, c22 = TSimd.Zero, c23 = TSimd.Zero;
            TVector c30 = TSimd.Zero, c31 = TSimd.Zero, c32 = TSimd.Zero, c33 = TSimd.Zero;
            TVector c40 = TSimd.Zero, c41 = TSimd.Zero, c42 = TSimd.Zero, c43 = TSimd.Zero;
            TVector c50 = TSimd.Zero, c51 = TSimd.Zero, c52 = TSimd.Zero, c53 = TSimd.Zero;
            float* w = weights;
            for (int c = 0; c < S.InChannels; c++)
            {
                for (int kh = 0; kh < S.Kernel; kh++)
                {
                    float* row = input + RowOffset(c, kh);
                    for (int kw = 0; kw < S.Kernel; kw++, w += Block)
                    {
                        float* tap = row + ColumnOffset(kw);
                        TVector x0 = TSimd.Load(tap), x1 = TSimd.Load(tap + InputOffset1);
                        TVector x2 = Vectors > 2 ? TSimd.Load(tap + InputOffset2) : TSimd.Zero, x3 = Vectors > 2 ? TSimd.Load(tap + InputOffset3) : TSimd.Zero;
                        TVector weight = TSimd.Broadcast(w[0]);
                        c00 = TSimd.MultiplyAdd(weight, x0, c00);
                        c01 = TSimd.MultiplyAdd(weight, x1, c01);
                        if (Vectors > 2)
                        {
                            c02 = TSimd.MultiplyAdd(weight, x2, c02);
                            c03 = TSimd.MultiplyAdd(weight, x3, c03);
                        }

                        if (Block > 1)
                        {
                            weight = TSimd.Broadcast(w[1]);
                            c10 = TSimd.MultiplyAdd(weight, x0, c10);
                            c11 = TSimd.MultiplyAdd(weight, x1, c11);
                            if (Vectors > 2)
                            {
                                c12 = TSimd.MultiplyAdd(weight, x2, c12);
                                c13 = TSimd.MultiplyAdd(weight, x3, c13);
                            }
                        }

                        if (Block > 2)
                        {
                            weight = TSimd.Broadcast(w[2]);
                            c20 = TSimd.MultiplyAdd(weight, x0, c20);
                            c21 = TSimd.MultiplyAdd(weight, x1, c21);
                            if (Vectors > 2)
                            {
                                c22 = TSimd.MultiplyAdd(weight, x2, c22);
                                c23 = TSimd.MultiplyAdd(weight, x3, c23);
                            }
                        }

                        if (Block > 3)
                        {
                            weight = TSimd.Broadcast(w[3]);
                            c30 = TSimd.MultiplyAdd(weight, x0, c30);
                            c31 = TSimd.MultiplyAdd(weight, x1, c31);
                            if (Vectors > 2)
                            {
                                c32 = TSimd.MultiplyAdd(weight, x2, c32);
                                c33 = TSimd.MultiplyAdd(weight, x3, c33);
                            }
                        }

                        if (Block > 4)
                        {
                            weight = TSimd.Broadcast(w[4]);
                            c40 = TSimd.MultiplyAdd(weight, x0, c40);
                            c41 = TSimd.MultiplyAdd(weight, x1, c41);
                            if (Vectors > 2)
                            {
                                c42 = TSimd.MultiplyAdd(weight, x2, c42);
                                c43 = TSimd.MultiplyAdd(weight, x3, c43);
                            }
                        }

                        if (Block > 5)
                        {
                            weight = TSimd.Broadcast(w[5]);
                            c50 = TSimd.MultiplyAdd(weight, x0, c50);
                            c51 = TSimd.MultiplyAdd(weight, x1, c51);
                            if (Vectors > 2)
                            {
                                c52 = TSimd.MultiplyAdd(weight, x2, c52);
                                c53 = TSimd.MultiplyAdd(weight, x3, c53);
                            }
                        }
                    }
                }
            }

            var epilogue = new TileEpilogue
            {
                Bias = bias,
                Output = output,
                Residual = residual,
                Columns = columns,
                Rows = rows,
                Alpha = alpha,
                Lanes0 = LanesOf(0, columns, rows),
                Lanes1 = LanesOf(1, columns, rows),
                Lanes2 = LanesOf(2, columns, rows),
                Lanes3 = LanesOf(3, columns, rows),
            };
            epilogue.Store<TFunction>(0, c00, c01, c02, c03);

            if (Block > 1 && channels > 1)
            {
                epilogue.Store<TFunction>(1, c10, c11, c12, c13);
            }

            if (Block > 2 && channels > 2)
            {
                epilogue.Store<TFunction>(2, c20, c21, c22, c23);
            }

            if (Block > 3 && channels > 3)
            {
                epilogue.Store<TFunction>(3, c30, c31, c32, c33);
            }

            if (Block > 4 && channels > 4)
            {
                epilogue.Store<TFunction>(4, c40, c41, c42, c43);
            }

            if (Block > 5 && channels > 5)
            {
                epilogue.Store<TFunction>(5, c50, c51, c52, c53);
            }

            // An exp-based activation runs on the stored tile, once no accumulator is live (as the GEMM does).
            if (!TFunction.InRegisters)
            {
                epilogue.ActivateStored<TFunction>(channels);
            }
        }

        /// <summary>Where a tile's sums go: channel j's vector v at Output + j * OutputPlane + OutputOffset(v).</summary>
        private struct TileEpilogue
        {
            public float* Bias;
            public float* Output;
            public float* Residual;
            public int Columns;
            public int Rows;
            public float Alpha;

            // Each vector's valid lanes, the same for every channel of the tile: worked out once, not per store.
            public int Lanes0;
            public int Lanes1;
            public int Lanes2;
            public int Lanes3;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public readonly void Store<TFunction>(int channel, TVector v0, TVector v1, TVector v2, TVector v3)
                where TFunction : struct, IActivationFunction
            {
                nint offset = (nint)channel * OutputPlane;
                float bias = Bias == null ? 0f : Bias[channel];
                StoreVector<TFunction>(v0, bias, offset, Lanes0);
                StoreVector<TFunction>(v1, bias, offset + OutputOffset1, Lanes1);
                if (Vectors > 2)
                {
                    StoreVector<TFunction>(v2, bias, offset + OutputOffset2, Lanes2);
                    StoreVector<TFunction>(v3, bias, offset + OutputOffset3, Lanes3);
                }
            }

            /// <summary>The additions and the in-register function on every lane; a partial vector is stored (and its residual read) under a mask.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private readonly void StoreVector<TFunction>(TVector sum, float bias, nint offset, int lanes)
                where TFunction : struct, IActivationFunction
            {
                if (Bias != null)
                {
                    sum = TSimd.Add(sum, TSimd.Broadcast(bias));
                }

                if (Residual != null)
                {
                    sum = TSimd.Add(sum, lanes == TSimd.Count ? TSimd.Load(Residual + offset) : TSimd.LoadPartial(Residual + offset, lanes));
                }

                if (typeof(TFunction) != typeof(Identity) && TFunction.InRegisters)
                {
                    sum = TFunction.Forward<TSimd, TVector>(sum, Alpha);
                }

                if (lanes == TSimd.Count)
                {
                    TSimd.Store(Output + offset, sum);
                }
                else
                {
                    TSimd.StorePartial(Output + offset, sum, lanes);
                }
            }

            /// <summary>The activation over the stored tile, out of line so the tile makes no call with its accumulators live.</summary>
            [MethodImpl(MethodImplOptions.NoInlining)]
            public readonly void ActivateStored<TFunction>(int channels)
                where TFunction : struct, IActivationFunction
            {
                for (int j = 0; j < channels; j++)
                {
                    for (int v = 0; v < Vectors; v++)
                    {
                        var vector = new Span<float>(Output + ((nint)j * OutputPlane) + OutputOffset(v), LanesOf(v, Columns, Rows));
                        Activation.Forward<TSimd, TVector, TFunction>(vector, vector, Alpha);
                    }
                }
            }
        }
    }
}

/// <summary>
/// The convolution that computes the stride-1 data gradient of <typeparamref name="S"/>: dy in, dx out, the same
/// kernel and dilation, and the padding that re-centres it (dx[ih] sums dy[ih + Pad - kh * Dilation], which is
/// tap K - 1 - kh of a convolution padded by (K - 1) * Dilation - Pad).
/// </summary>
internal readonly struct DataGradientShape<S> : IConvShape
    where S : IConvShape
{
    public static int InChannels => S.OutChannels;
    public static int InHeight => S.OutHeight;
    public static int InWidth => S.OutWidth;
    public static int OutChannels => S.InChannels;
    public static int OutHeight => S.InHeight;
    public static int OutWidth => S.InWidth;
    public static int Kernel => S.Kernel;
    public static int Stride => 1;
    public static int Pad => ((S.Kernel - 1) * S.Dilation) - S.Pad;
    public static int Dilation => S.Dilation;
    public static int Groups => 1;
}
