using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// Winograd F(2x2, 3x3) for the ungrouped 3x3 stride-1 convolutions with enough channels (and through
/// <see cref="DataGradientShape{S}"/> their data gradient): each 2x2 block of outputs (a tile) is
/// A^T [sum over input channels of (G g G^T) . (B^T d B)] A, for the 4x4 input patch d under it and each 3x3 kernel g,
/// so the 16 element-wise products of a tile replace the 36 multiplies of direct convolution (2.25x fewer). The 16
/// products over input channels are 16 small matrix products, U[xi] (output x input channels) times V[xi] (input
/// channels x tiles), which the micro-kernel of the direct convolution runs: up to 6 output channels
/// (<see cref="ChannelBlock"/>) times 4 vectors of tiles (2 on AVX2) in registers, one broadcast weight and one input
/// vector per FMA.
/// <para>
/// The weights are transformed once per call, in parallel, into U (blocks of up to 6 output channels, each product's
/// weights input-channel-major). A thread then takes a unit of tiles at a time (4 vectors of them: tile rows of one or
/// more images, or pieces of a wide row), transforms their inputs from the image staged zero-padded in two column
/// phases (tile x's patch columns are phase columns x and x + 1, so a vector of tiles loads contiguously), and for each
/// block of output channels runs the 16 products into a buffer that stays in L1 and transforms it back, interleaving
/// each tile's two columns into the output rows, with the epilogue (bias, residual, activation) on the way.
/// </para>
/// <para>
/// Accuracy: B, G and A have entries 0, +-1 and +-1/2 only, so each transform rounds like a sum of a few terms, but the
/// products mix taps the direct sum for that output never multiplies (in 1-D, (d0 - d2) g0 brings in d2 g0), so its
/// error scales with sum over channels of (sum |g|)(sum over the 4x4 patch |d|), up to several times the direct
/// convolution's sum |w||x|. The tests hold each output within 4e-6 of its sum |w||x| + |b| (about 70 ulp of it) of the
/// double reference, an empirical bound: the measured worst is below 5e-7 (WinogradTests).
/// </para>
/// </summary>
public static unsafe partial class Conv2d
{
    /// <summary>Whether the forward of this shape runs Winograd F(2x2, 3x3) (the tests check that theirs do).</summary>
    internal static bool UsesWinograd<S>()
        where S : struct, IConvShape => Geometry<S>.UsesWinograd;

    /// <summary>Winograd's counterpart of <see cref="DirectForward{S}"/>: the same operands and epilogue.</summary>
    private static void WinogradForward<S>(KernelContext context, float* x, float* w, float* bias, float* y, int n, Activation activation, float* residual, bool flippedWeights = false)
        where S : struct, IConvShape
    {
        (nint scratchLength, int groupImages, int unitsPerGroup) = WinogradLayout<S>();
        float* transformed = context.Scratch.Get(0, WinogradWeights<S>.Length + scratchLength);
        var weights = new WinogradWeightJob<S> { W = w, Flipped = flippedWeights, U = transformed };
        context.For(WinogradWeights<S>.Blocks, ref weights);

        int groups = CeilDiv(n, groupImages);
        int chunks = Math.Min(unitsPerGroup, CeilDiv(context.ThreadCount, groups));
        var job = new WinogradJob<S>
        {
            X = x,
            U = transformed,
            Bias = bias,
            Y = y,
            Residual = residual,
            Activation = activation,
            Images = n,
            Chunks = chunks,
            Scratch = context.Scratch,
        };
        context.For(groups * chunks, ref job);
    }

    /// <summary>
    /// At this machine's width: the floats of scratch a thread needs (thread 0's follow the transformed weights), the
    /// images per group and the units per group.
    /// </summary>
    private static (nint ScratchLength, int GroupImages, int UnitsPerGroup) WinogradLayout<S>()
        where S : struct, IConvShape =>
        Vector512.IsHardwareAccelerated ? Winograd<S, Simd512, Vector512<float>>.Layout
        : Vector256.IsHardwareAccelerated ? Winograd<S, Simd256, Vector256<float>>.Layout
        : Winograd<S, SimdScalar, float>.Layout;

    private struct WinogradWeightJob<S> : IParallelJob
        where S : struct, IConvShape
    {
        public float* W;
        public bool Flipped;
        public float* U;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int block = begin; block < end; block++)
            {
                WinogradWeights<S>.Transform(W, Flipped, U, block);
            }
        }
    }

    private struct WinogradJob<S> : IParallelJob, IWidthJob<WinogradJob<S>>
        where S : struct, IConvShape
    {
        public float* X;
        public float* U;
        public float* Bias;
        public float* Y;
        public float* Residual;
        public Activation Activation;
        public int Images;
        public int Chunks;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread) => ExecuteAtWidth(this, Activation, begin, end, thread);

        public static void Run<TSimd, TVector, TFunction>(in WinogradJob<S> job, int begin, int end, int thread)
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction =>
            Winograd<S, TSimd, TVector>.Run<TFunction>(job, begin, end, thread);
    }

    /// <summary>
    /// The transformed weights, U[block][xi][input channel][j] = (G g G^T)[xi] for output channel block * Block + j
    /// (zero past the last channel), where xi = 4 * row + column of the 4x4 transform; width-independent.
    /// </summary>
    private static class WinogradWeights<S>
        where S : struct, IConvShape
    {
        /// <summary>Output channels per block: up to the micro-kernel's 6 rows (<see cref="ChannelBlock"/>, at the width the kernels run).</summary>
        public static readonly int Block = ChannelBlock(S.OutChannels, Vector512.IsHardwareAccelerated ? 4 : 5);

        public static readonly int Blocks = CeilDiv(S.OutChannels, Block);

        /// <summary>Floats of one block's weights: 16 products of InChannels x Block.</summary>
        public static readonly int BlockLength = 16 * S.InChannels * Block;

        public static readonly int Length = Blocks * BlockLength;

        /// <summary>
        /// Transforms one block. Flipped: w is [InChannels][OutChannels][3][3] (the weight of the convolution whose data
        /// gradient this is), read transposed and rotated by 180 degrees. In double, rounded once.
        /// </summary>
        public static void Transform(float* w, bool flipped, float* u, int block)
        {
            float* destination = u + ((nint)block * BlockLength);
            Span<double> g = stackalloc double[9];
            Span<double> rows = stackalloc double[12];
            for (int j = 0; j < Block; j++)
            {
                int channel = (block * Block) + j;
                for (int c = 0; c < S.InChannels; c++)
                {
                    if (channel >= S.OutChannels)
                    {
                        for (int xi = 0; xi < 16; xi++)
                        {
                            destination[(((nint)xi * S.InChannels) + c) * Block + j] = 0f;
                        }

                        continue;
                    }

                    for (int tap = 0; tap < 9; tap++)
                    {
                        g[tap] = flipped ? w[(((nint)c * S.OutChannels) + channel) * 9 + (8 - tap)] : w[(((nint)channel * S.InChannels) + c) * 9 + tap];
                    }

                    // G g: rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 (each a row of 3 taps).
                    for (int k = 0; k < 3; k++)
                    {
                        double g0 = g[k], g1 = g[3 + k], g2 = g[6 + k];
                        rows[k] = g0;
                        rows[3 + k] = 0.5 * (g0 + g1 + g2);
                        rows[6 + k] = 0.5 * (g0 - g1 + g2);
                        rows[9 + k] = g2;
                    }

                    // (G g) G^T: the same on each row's 3 taps.
                    for (int r = 0; r < 4; r++)
                    {
                        double a = rows[3 * r], b = rows[(3 * r) + 1], e = rows[(3 * r) + 2];
                        Store(4 * r, a);
                        Store((4 * r) + 1, 0.5 * (a + b + e));
                        Store((4 * r) + 2, 0.5 * (a - b + e));
                        Store((4 * r) + 3, e);
                    }

                    void Store(int xi, double value) => destination[(((nint)xi * S.InChannels) + c) * Block + j] = (float)value;
                }
            }
        }
    }

    /// <summary>The Winograd forward at one width; every size below folds to a constant per instantiation.</summary>
    private static class Winograd<S, TSimd, TVector>
        where S : struct, IConvShape
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        /// <summary>Vectors of tiles per micro-tile: 4 x (up to) 6 accumulators of the 32 AVX-512 registers, 2 x 6 of the 16 AVX2 ones.</summary>
        private static readonly int Vectors = TSimd.Count >= 16 ? 4 : 2;

        /// <summary>Tiles per unit: the micro-tile's width.</summary>
        private static readonly int Unit = Vectors * TSimd.Count;

        private static readonly int Block = WinogradWeights<S>.Block;

        private static readonly int TilesDown = CeilDiv(S.OutHeight, 2);

        private static readonly int TilesAcross = CeilDiv(S.OutWidth, 2);

        // A unit holds whole segments: a tile row, or an equal piece of a row wider than a unit.
        private static readonly int SegmentsPerRow = CeilDiv(TilesAcross, Unit);

        private static readonly int SegmentTiles = CeilDiv(TilesAcross, SegmentsPerRow);

        private static readonly int SegmentsPerUnit = Unit / SegmentTiles;

        private static readonly int SegmentsPerImage = TilesDown * SegmentsPerRow;

        /// <summary>Images whose segments share units (several small images fill one).</summary>
        private static readonly int GroupImages = Math.Max(1, SegmentsPerUnit / SegmentsPerImage);

        private static readonly int SegmentsPerGroup = GroupImages * SegmentsPerImage;

        private static readonly int UnitsPerGroup = CeilDiv(SegmentsPerGroup, SegmentsPerUnit);

        // The staging: per image and channel, padded rows of two phases (phase q holds padded columns q, q + 2, ...),
        // wide enough that a full vector of tiles from any segment's start reads inside it, and tall enough for the
        // last tile row's 4 rows.
        private static readonly int PhaseWidth = Math.Max((SegmentsPerRow * SegmentTiles) + 1 + TSimd.Count, CeilDiv(S.InWidth + (2 * S.Pad), 2));

        private static readonly int RowStride = 2 * PhaseWidth;

        private static readonly int StagedRows = Math.Max((2 * TilesDown) + 2, S.InHeight + (2 * S.Pad));

        private static readonly int ChannelStride = StagedRows * RowStride;

        private static readonly int StagedImage = S.InChannels * ChannelStride;

        // Each part of the scratch starts on a cache line.
        private static readonly int StagedLength = RoundUp(GroupImages * StagedImage, 16);

        /// <summary>
        /// Floats from one product's inputs to the next: a vector more than InChannels x Unit, so the 16 streams the
        /// input transform stores (for 64 channels exactly 16 KB apart) do not all fall in one set of L1.
        /// </summary>
        private static readonly int InputsStride = (S.InChannels * Unit) + TSimd.Count;

        /// <summary>The unit's transformed inputs, V[xi][input channel][tile].</summary>
        private static readonly int InputsLength = 16 * InputsStride;

        /// <summary>One block's products, M[xi][j][tile], and a vector past its end that the last tiles' loads may touch.</summary>
        private static readonly int ProductsLength = (16 * Block * Unit) + TSimd.Count;

        private static readonly nint ScratchLength = (nint)StagedLength + InputsLength + ProductsLength;

        internal static readonly (nint ScratchLength, int GroupImages, int UnitsPerGroup) Layout = (ScratchLength, GroupImages, UnitsPerGroup);

        private static readonly int OutputPlane = S.OutHeight * S.OutWidth;

        public static void Run<TFunction>(in WinogradJob<S> job, int begin, int end, int thread)
            where TFunction : struct, IActivationFunction
        {
            // Thread 0's scratch starts with the transformed weights (WinogradForward sized it for both).
            float* scratch = thread == 0 ? job.U + WinogradWeights<S>.Length : job.Scratch.Get(thread, ScratchLength);
            float* staged = scratch, inputs = staged + StagedLength, products = inputs + InputsLength;

            // The staging's padding is written once here; staging an image writes only the rest. The inputs are cleared
            // too: the products run over every slot of a unit, and a slot no segment fills must hold a number.
            new Span<float>(staged, StagedLength + InputsLength).Clear();
            int stagedGroup = -1;
            float alpha = job.Activation.Alpha;
            for (int item = begin; item < end; item++)
            {
                int group = item / job.Chunks, chunk = item % job.Chunks;
                int firstImage = group * GroupImages, images = Math.Min(GroupImages, job.Images - firstImage);
                if (group != stagedGroup)
                {
                    for (int image = 0; image < images; image++)
                    {
                        StageRows<S, TSimd, TVector>(job.X + ((nint)(firstImage + image) * S.InChannels * S.InHeight * S.InWidth), staged + ((nint)image * StagedImage), ChannelStride, RowStride, PhaseWidth, phases: 2);
                    }

                    stagedGroup = group;
                }

                int segments = images * SegmentsPerImage;
                int unitEnd = KernelContext.RangeStart(UnitsPerGroup, chunk + 1, job.Chunks);
                for (int unit = KernelContext.RangeStart(UnitsPerGroup, chunk, job.Chunks); unit < unitEnd; unit++)
                {
                    int firstSegment = unit * SegmentsPerUnit, unitSegments = Math.Min(SegmentsPerUnit, segments - firstSegment);
                    if (unitSegments <= 0)
                    {
                        break;
                    }

                    TransformInputs(staged, inputs, firstSegment, unitSegments);
                    var output = new OutputTransform
                    {
                        Products = products,
                        Y = job.Y + ((nint)firstImage * S.OutChannels * OutputPlane),
                        Residual = job.Residual == null ? null : job.Residual + ((nint)firstImage * S.OutChannels * OutputPlane),
                        Alpha = alpha,
                        Bias = job.Bias != null,
                    };
                    for (int block = 0; block < WinogradWeights<S>.Blocks; block++)
                    {
                        float* weights = job.U + ((nint)block * WinogradWeights<S>.BlockLength);
                        for (int xi = 0; xi < 16; xi++)
                        {
                            Product(weights + ((nint)xi * S.InChannels * Block), inputs + ((nint)xi * InputsStride), products + ((nint)xi * Block * Unit));
                        }

                        int firstChannel = block * Block, channels = Math.Min(Block, S.OutChannels - firstChannel);
                        float* bias = job.Bias == null ? null : job.Bias + firstChannel;
                        output.Run<TFunction>(firstSegment, unitSegments, firstChannel, channels, bias);
                    }
                }
            }
        }

        /// <summary>
        /// V[xi][c][slot] = (B^T d B)[xi] for the unit's tiles, d the 4x4 patch of channel c under the tile; a segment's
        /// tiles take consecutive slots. B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
        /// </summary>
        private static void TransformInputs(float* staged, float* inputs, int firstSegment, int segments)
        {
            for (int s = 0; s < segments; s++)
            {
                (int image, int tileRow, int firstTile, int tiles) = Segment(firstSegment + s);
                for (int c = 0; c < S.InChannels; c++)
                {
                    float* patch = staged + ((nint)image * StagedImage) + ((nint)c * ChannelStride) + ((nint)2 * tileRow * RowStride) + firstTile;
                    float* destination = inputs + ((nint)c * Unit) + (s * SegmentTiles);
                    for (int k = 0; k < tiles; k += TSimd.Count)
                    {
                        int lanes = Math.Min(TSimd.Count, tiles - k);
                        float* p = patch + k;

                        // Rows: r0 = d0 - d2, r1 = d1 + d2, r2 = d2 - d1, r3 = d1 - d3, for each of the 4 patch columns
                        // (phase 0 and 1 at the tile, then at the tile + 1).
                        Rows(p, 0, out TVector r00, out TVector r10, out TVector r20, out TVector r30);
                        Rows(p, PhaseWidth, out TVector r01, out TVector r11, out TVector r21, out TVector r31);
                        Rows(p, 1, out TVector r02, out TVector r12, out TVector r22, out TVector r32);
                        Rows(p, PhaseWidth + 1, out TVector r03, out TVector r13, out TVector r23, out TVector r33);

                        float* d = destination + k;
                        Columns(d, 0, lanes, r00, r01, r02, r03);
                        Columns(d, 4, lanes, r10, r11, r12, r13);
                        Columns(d, 8, lanes, r20, r21, r22, r23);
                        Columns(d, 12, lanes, r30, r31, r32, r33);
                    }
                }
            }
        }

        /// <summary>B^T applied down one patch column: the column's 4 rows at <paramref name="column"/> from the patch.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Rows(float* patch, int column, out TVector r0, out TVector r1, out TVector r2, out TVector r3)
        {
            TVector d0 = TSimd.Load(patch + column), d1 = TSimd.Load(patch + RowStride + column);
            TVector d2 = TSimd.Load(patch + (2 * RowStride) + column), d3 = TSimd.Load(patch + (3 * RowStride) + column);
            r0 = TSimd.Subtract(d0, d2);
            r1 = TSimd.Add(d1, d2);
            r2 = TSimd.Subtract(d2, d1);
            r3 = TSimd.Subtract(d1, d3);
        }

        /// <summary>B applied along one transformed row, stored as products xi .. xi + 3.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Columns(float* destination, int xi, int lanes, TVector r0, TVector r1, TVector r2, TVector r3)
        {
            nint product = InputsStride;
            StoreLanes(destination + (xi * product), TSimd.Subtract(r0, r2), lanes);
            StoreLanes(destination + ((xi + 1) * product), TSimd.Add(r1, r2), lanes);
            StoreLanes(destination + ((xi + 2) * product), TSimd.Subtract(r2, r1), lanes);
            StoreLanes(destination + ((xi + 3) * product), TSimd.Subtract(r1, r3), lanes);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreLanes(float* destination, TVector value, int lanes)
        {
            if (lanes == TSimd.Count)
            {
                TSimd.Store(destination, value);
            }
            else
            {
                TSimd.StorePartial(destination, value, lanes);
            }
        }

        /// <summary>Segment <paramref name="segment"/> of a group: its image in the group, tile row, first tile and tile count.</summary>
        private static (int Image, int TileRow, int FirstTile, int Tiles) Segment(int segment)
        {
            int image = segment / SegmentsPerImage, inImage = segment % SegmentsPerImage;
            int firstTile = (inImage % SegmentsPerRow) * SegmentTiles;
            return (image, inImage / SegmentsPerRow, firstTile, Math.Min(SegmentTiles, TilesAcross - firstTile));
        }

        /// <summary>
        /// M[j][tile] = sum over c of U[c][j] V[c][tile] for one product xi, over every tile slot of the unit: Block
        /// output channels times <see cref="Vectors"/> vectors of tiles in registers.
        /// </summary>
        private static void Product(float* weights, float* inputs, float* products)
        {
            TVector a00 = TSimd.Zero, a01 = TSimd.Zero, a02 = TSimd.Zero, a03 = TSimd.Zero;
            TVector a10 = TSimd.Zero, a11 = TSimd.Zero, a12 = TSimd.Zero, a13 = TSimd.Zero;
            TVector a20 = TSimd.Zero, a21 = TSimd.Zero, a22 = TSimd.Zero, a23 = TSimd.Zero;
            TVector a30 = TSimd.Zero, a31 = TSimd.Zero, a32 = TSimd.Zero, a33 = TSimd.Zero;
            TVector a40 = TSimd.Zero, a41 = TSimd.Zero, a42 = TSimd.Zero, a43 = TSimd.Zero;
            TVector a50 = TSimd.Zero, a51 = TSimd.Zero, a52 = TSimd.Zero, a53 = TSimd.Zero;
            float* v = inputs, u = weights;
            for (int c = 0; c < S.InChannels; c++, v += Unit, u += Block)
            {
                TVector x0 = TSimd.Load(v), x1 = TSimd.Load(v + TSimd.Count);
                TVector x2 = Vectors > 2 ? TSimd.Load(v + (2 * TSimd.Count)) : TSimd.Zero, x3 = Vectors > 2 ? TSimd.Load(v + (3 * TSimd.Count)) : TSimd.Zero;
                TVector b = TSimd.Broadcast(u[0]);
                a00 = TSimd.MultiplyAdd(b, x0, a00);
                a01 = TSimd.MultiplyAdd(b, x1, a01);
                if (Vectors > 2)
                {
                    a02 = TSimd.MultiplyAdd(b, x2, a02);
                    a03 = TSimd.MultiplyAdd(b, x3, a03);
                }

                if (Block > 1)
                {
                    b = TSimd.Broadcast(u[1]);
                    a10 = TSimd.MultiplyAdd(b, x0, a10);
                    a11 = TSimd.MultiplyAdd(b, x1, a11);
                    if (Vectors > 2)
                    {
                        a12 = TSimd.MultiplyAdd(b, x2, a12);
                        a13 = TSimd.MultiplyAdd(b, x3, a13);
                    }
                }

                if (Block > 2)
                {
                    b = TSimd.Broadcast(u[2]);
                    a20 = TSimd.MultiplyAdd(b, x0, a20);
                    a21 = TSimd.MultiplyAdd(b, x1, a21);
                    if (Vectors > 2)
                    {
                        a22 = TSimd.MultiplyAdd(b, x2, a22);
                        a23 = TSimd.MultiplyAdd(b, x3, a23);
                    }
                }

                if (Block > 3)
                {
                    b = TSimd.Broadcast(u[3]);
                    a30 = TSimd.MultiplyAdd(b, x0, a30);
                    a31 = TSimd.MultiplyAdd(b, x1, a31);
                    if (Vectors > 2)
                    {
                        a32 = TSimd.MultiplyAdd(b, x2, a32);
                        a33 = TSimd.MultiplyAdd(b, x3, a33);
                    }
                }

                if (Block > 4)
                {
                    b = TSimd.Broadcast(u[4]);
                    a40 = TSimd.MultiplyAdd(b, x0, a40);
                    a41 = TSimd.MultiplyAdd(b, x1, a41);
                    if (Vectors > 2)
                    {
                        a42 = TSimd.MultiplyAdd(b, x2, a42);
                        a43 = TSimd.MultiplyAdd(b, x3, a43);
                    }
                }

                if (Block > 5)
                {
                    b = TSimd.Broadcast(u[5]);
                    a50 = TSimd.MultiplyAdd(b, x0, a50);
                    a51 = TSimd.MultiplyAdd(b, x1, a51);
                    if (Vectors > 2)
                    {
                        a52 = TSimd.MultiplyAdd(b, x2, a52);
                        a53 = TSimd.MultiplyAdd(b, x3, a53);
                    }
                }
            }

            StoreRow(products, a00, a01, a02, a03);
            if (Block > 1)
            {
                StoreRow(products + Unit, a10, a11, a12, a13);
            }

            if (Block > 2)
            {
                StoreRow(products + (2 * Unit), a20, a21, a22, a23);
            }

            if (Block > 3)
            {
                StoreRow(products + (3 * Unit), a30, a31, a32, a33);
            }

            if (Block > 4)
            {
                StoreRow(products + (4 * Unit), a40, a41, a42, a43);
            }

            if (Block > 5)
            {
                StoreRow(products + (5 * Unit), a50, a51, a52, a53);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow(float* row, TVector v0, TVector v1, TVector v2, TVector v3)
        {
            TSimd.Store(row, v0);
            TSimd.Store(row + TSimd.Count, v1);
            if (Vectors > 2)
            {
                TSimd.Store(row + (2 * TSimd.Count), v2);
                TSimd.Store(row + (3 * TSimd.Count), v3);
            }
        }

        /// <summary>
        /// Y = A^T M A for one block's channels over the unit's segments, A^T = [1 1 1 0; 0 1 -1 -1]: each tile's 2x2
        /// outputs, its two columns interleaved into the output rows, with the epilogue.
        /// </summary>
        private struct OutputTransform
        {
            public float* Products;
            public float* Y;
            public float* Residual;
            public float Alpha;

            /// <summary>Whether the layer has a bias: without one nothing is added (-0 stays -0, as in the direct kernel).</summary>
            public bool Bias;

            public readonly void Run<TFunction>(int firstSegment, int segments, int firstChannel, int channels, float* bias)
                where TFunction : struct, IActivationFunction
            {
                for (int s = 0; s < segments; s++)
                {
                    (int image, int tileRow, int firstTile, int tiles) = Segment(firstSegment + s);
                    int row = 2 * tileRow;
                    for (int j = 0; j < channels; j++)
                    {
                        TVector b = bias == null ? TSimd.Zero : TSimd.Broadcast(bias[j]);
                        nint plane = ((((nint)image * S.OutChannels) + firstChannel + j) * OutputPlane) + ((nint)row * S.OutWidth);
                        float* m = Products + ((nint)j * Unit) + (s * SegmentTiles);
                        for (int k = 0; k < tiles; k += TSimd.Count)
                        {
                            // Down the 4 rows of M, then along: t0 = m0 + m1 + m2, t1 = m1 - m2 - m3.
                            (TVector t00, TVector t10) = Down(m + k, 0);
                            (TVector t01, TVector t11) = Down(m + k, 1);
                            (TVector t02, TVector t12) = Down(m + k, 2);
                            (TVector t03, TVector t13) = Down(m + k, 3);
                            int column = 2 * (firstTile + k), columns = Math.Min(2 * Math.Min(TSimd.Count, tiles - k), S.OutWidth - column);
                            nint offset = plane + column;
                            Store<TFunction>(offset, columns, b, Along(t00, t01, t02, t03));
                            if (row + 1 < S.OutHeight)
                            {
                                Store<TFunction>(offset + S.OutWidth, columns, b, Along(t10, t11, t12, t13));
                            }
                        }
                    }
                }
            }

            /// <summary>A^T down column <paramref name="column"/> of the 4x4 products (xi = 4 * row + column).</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static (TVector Top, TVector Bottom) Down(float* m, int column)
            {
                nint product = (nint)Block * Unit;
                TVector m0 = TSimd.Load(m + (column * product)), m1 = TSimd.Load(m + ((4 + column) * product));
                TVector m2 = TSimd.Load(m + ((8 + column) * product)), m3 = TSimd.Load(m + ((12 + column) * product));
                return (TSimd.Add(TSimd.Add(m0, m1), m2), TSimd.Subtract(TSimd.Subtract(m1, m2), m3));
            }

            /// <summary>A along one row: the tile's left and right outputs, interleaved into consecutive columns.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private static (TVector Low, TVector High) Along(TVector t0, TVector t1, TVector t2, TVector t3) =>
                TSimd.Interleave(TSimd.Add(TSimd.Add(t0, t1), t2), TSimd.Subtract(TSimd.Subtract(t1, t2), t3));

            /// <summary>Bias, residual and the function over <paramref name="columns"/> consecutive outputs at <paramref name="offset"/>.</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private readonly void Store<TFunction>(nint offset, int columns, TVector bias, (TVector Low, TVector High) values)
                where TFunction : struct, IActivationFunction
            {
                StoreVector<TFunction>(offset, Math.Min(columns, TSimd.Count), bias, values.Low);
                if (columns > TSimd.Count)
                {
                    StoreVector<TFunction>(offset + TSimd.Count, columns - TSimd.Count, bias, values.High);
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            private readonly void StoreVector<TFunction>(nint offset, int lanes, TVector bias, TVector sum)
                where TFunction : struct, IActivationFunction
            {
                if (Bias)
                {
                    sum = TSimd.Add(sum, bias);
                }

                if (Residual != null)
                {
                    sum = TSimd.Add(sum, lanes == TSimd.Count ? TSimd.Load(Residual + offset) : TSimd.LoadPartial(Residual + offset, lanes));
                }

                if (typeof(TFunction) != typeof(Identity))
                {
                    sum = TFunction.Forward<TSimd, TVector>(sum, Alpha);
                }

                StoreLanes(Y + offset, sum, lanes);
            }
        }
    }
}
