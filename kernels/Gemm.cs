using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NetCompiler.Kernels;

/// <summary>Where the optional bias of a GEMM epilogue is indexed.</summary>
internal enum BiasMode
{
    None,
    PerRow,
    PerColumn,
}

/// <summary>
/// C (M x N, row stride Ldc) = op(A) op(B) [+ C] [+ bias] [+ residual], then the activation; the residual is laid out
/// as C (row stride Ldc) and must not overlap it. op(A) is M x K: A is stored
/// row-major as M x K, or as K x M when <see cref="TransposeA"/>; likewise op(B) is K x N, stored K x N or N x K.
/// </summary>
internal unsafe struct GemmProblem
{
    public float* A;
    public int Lda;
    public bool TransposeA;
    public float* B;
    public int Ldb;
    public bool TransposeB;
    public float* C;
    public int Ldc;
    public int M;
    public int N;
    public int K;
    public bool Accumulate;
    public float* Bias;
    public BiasMode BiasMode;
    public float* Residual;
    public Activation Activation;
}

/// <summary>
/// Single-precision matrix multiply in the BLIS style: op(B) is packed in KC x NC blocks (kept in L2/L3),
/// op(A) in MC x KC blocks, both as micro-panels the register-blocked FMA micro-kernel streams through.
/// Bias, the residual and the activation are applied while the tile is still in registers (the exp-based activations right after
/// the tile is stored, while it is in L1), by code specialised to the activation: one dispatch on its kind per call.
/// One GEMM serves conv, conv-transpose and dense.
/// </summary>
public static unsafe class Gemm
{
    // Micro-tile: MR rows of A (broadcast) by NR = 2 vectors of B.
    private const int MR = 6;

    /// <summary>The cache blocking of this machine (GemmBlocking.For has the model), fixed at start-up.</summary>
    internal static readonly GemmBlocking Blocking = GemmBlocking.For(CacheSizes.Detect(), MR, NR);

    // Static readonly, so the JIT's optimised code treats them as constants.
    private static readonly int KC = Blocking.KC;
    private static readonly int MC = Blocking.MC;
    private static readonly int NC = Blocking.NC;

    private static int NR
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated ? 2 * Vector512<float>.Count
            : Vector256.IsHardwareAccelerated ? 2 * Vector256<float>.Count
            : 2;
    }

    /// <summary>Column blocking of the micro-kernel: callers that split N should cut at multiples of it.</summary>
    internal static int ColumnAlignment => NR;

    /// <summary>
    /// C = op(A) op(B) (+ C when <paramref name="accumulate"/>), all row-major and densely stored:
    /// A is m x k (k x m when <paramref name="transposeA"/>), B is k x n (n x k when <paramref name="transposeB"/>), C is m x n.
    /// </summary>
    public static void Multiply(
        KernelContext context,
        ReadOnlySpan<float> a,
        bool transposeA,
        ReadOnlySpan<float> b,
        bool transposeB,
        Span<float> c,
        int m,
        int n,
        int k,
        bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        Guard.Length(a.Length, (long)m * k, nameof(a));
        Guard.Length(b.Length, (long)k * n, nameof(b));
        Guard.Length(c.Length, (long)m * n, nameof(c));
        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = new GemmProblem
            {
                A = pa,
                Lda = transposeA ? m : k,
                TransposeA = transposeA,
                B = pb,
                Ldb = transposeB ? k : n,
                TransposeB = transposeB,
                C = pc,
                Ldc = n,
                M = m,
                N = n,
                K = k,
                Accumulate = accumulate,
            };
            Multiply(context, problem);
        }
    }

    /// <summary>Runs <paramref name="problem"/> split over the context's threads (C is cut into one block per thread).</summary>
    internal static void Multiply(KernelContext context, in GemmProblem problem)
    {
        if (problem.M == 0 || problem.N == 0)
        {
            return;
        }

        var job = new ParallelGemm { Problem = problem, Scratch = context.Scratch };
        int columnTiles = (problem.N + NR - 1) / NR;
        job.SplitColumns = columnTiles >= context.ThreadCount || columnTiles >= (problem.M + MR - 1) / MR;
        context.For(context.ThreadCount, ref job);
    }

    /// <summary>Floats of scratch <see cref="Compute"/> needs for a block of at most m x n x k.</summary>
    internal static nint WorkspaceLength(int m, int n, int k)
    {
        nint kc = Math.Min(KC, k);
        nint mc = Math.Min(MC, RoundUp(m, MR));
        nint nc = Math.Min(NC, RoundUp(n, NR));
        return (mc + nc) * kc;
    }

    /// <summary>Computes rows [rowBegin, rowEnd) and columns [columnBegin, columnEnd) of C on the calling thread.</summary>
    internal static void Compute(in GemmProblem problem, int rowBegin, int rowEnd, int columnBegin, int columnEnd, float* workspace)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Compute<Simd512, Vector512<float>>(problem, rowBegin, rowEnd, columnBegin, columnEnd, workspace);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Compute<Simd256, Vector256<float>>(problem, rowBegin, rowEnd, columnBegin, columnEnd, workspace);
        }
        else
        {
            Compute<SimdScalar, float>(problem, rowBegin, rowEnd, columnBegin, columnEnd, workspace);
        }
    }

    /// <summary>Computes a block of C at one width, dispatching once on the activation to a body specialised to it.</summary>
    internal static void Compute<TSimd, TVector>(in GemmProblem problem, int rowBegin, int rowEnd, int columnBegin, int columnEnd, float* workspace)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        var block = new Block<TSimd, TVector>
        {
            Problem = problem,
            RowBegin = rowBegin,
            RowEnd = rowEnd,
            ColumnBegin = columnBegin,
            ColumnEnd = columnEnd,
            Workspace = workspace,
        };
        problem.Activation.Accept(ref block);
    }

    private static void Compute<TSimd, TVector, TFunction>(in GemmProblem problem, int rowBegin, int rowEnd, int columnBegin, int columnEnd, float* workspace)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int nr = 2 * TSimd.Count;
        int k = problem.K;
        float* packedA = workspace;
        float* packedB = workspace + (Math.Min(MC, RoundUp(rowEnd - rowBegin, MR)) * Math.Min(KC, k));
        float* tile = stackalloc float[MR * 2 * TSimd.Count];

        for (int jc = columnBegin; jc < columnEnd; jc += NC)
        {
            int nc = Math.Min(NC, columnEnd - jc);

            // do-while: K == 0 still runs once so the epilogue writes C = bias (or leaves an accumulated C).
            int pc = 0;
            do
            {
                int kc = Math.Min(KC, k - pc);
                bool lastSlice = pc + kc >= k;
                var epilogue = new Epilogue
                {
                    Accumulate = pc > 0 || problem.Accumulate,
                    RowBias = lastSlice && problem.BiasMode == BiasMode.PerRow ? problem.Bias : null,
                    ColumnBias = lastSlice && problem.BiasMode == BiasMode.PerColumn ? problem.Bias : null,
                    Residual = lastSlice ? problem.Residual : null,
                    ResidualStride = problem.Ldc,
                    Activate = lastSlice,
                    Alpha = problem.Activation.Alpha,
                };
                PackB(problem, pc, kc, jc, nc, nr, packedB);

                for (int ic = rowBegin; ic < rowEnd; ic += MC)
                {
                    int mc = Math.Min(MC, rowEnd - ic);
                    PackA(problem, ic, mc, pc, kc, packedA);

                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int columns = Math.Min(nr, nc - jr);
                        float* panelB = packedB + ((nint)jr * kc);
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int rows = Math.Min(MR, mc - ir);
                            float* panelA = packedA + ((nint)ir * kc);
                            int row = ic + ir;
                            int column = jc + jr;
                            float* c = problem.C + ((nint)row * problem.Ldc) + column;
                            if (rows == MR && columns == nr)
                            {
                                MicroKernel<TSimd, TVector, TFunction>(kc, panelA, panelB, c, problem.Ldc, epilogue.At(row, column));
                            }
                            else
                            {
                                MicroKernel<TSimd, TVector, Identity>(kc, panelA, panelB, tile, nr, default);
                                epilogue.At(row, column).Apply<TFunction>(tile, nr, c, problem.Ldc, rows, columns);
                            }
                        }
                    }
                }

                pc += kc;
            }
            while (pc < k);
        }
    }

    /// <summary>MR x NR tile: accumulates kc rank-1 updates in registers, then applies the epilogue and stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel<TSimd, TVector, TFunction>(int kc, float* a, float* b, float* c, int ldc, Epilogue epilogue)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int width = TSimd.Count;
        PrefetchTile(c, ldc, 2 * width);
        TVector c00 = TSimd.Zero, c01 = TSimd.Zero, c10 = TSimd.Zero, c11 = TSimd.Zero, c20 = TSimd.Zero, c21 = TSimd.Zero;
        TVector c30 = TSimd.Zero, c31 = TSimd.Zero, c40 = TSimd.Zero, c41 = TSimd.Zero, c50 = TSimd.Zero, c51 = TSimd.Zero;
        for (int p = 0; p < kc; p++)
        {
            TVector b0 = TSimd.Load(b);
            TVector b1 = TSimd.Load(b + width);
            TVector a0 = TSimd.Broadcast(a[0]);
            c00 = TSimd.MultiplyAdd(a0, b0, c00);
            c01 = TSimd.MultiplyAdd(a0, b1, c01);
            a0 = TSimd.Broadcast(a[1]);
            c10 = TSimd.MultiplyAdd(a0, b0, c10);
            c11 = TSimd.MultiplyAdd(a0, b1, c11);
            a0 = TSimd.Broadcast(a[2]);
            c20 = TSimd.MultiplyAdd(a0, b0, c20);
            c21 = TSimd.MultiplyAdd(a0, b1, c21);
            a0 = TSimd.Broadcast(a[3]);
            c30 = TSimd.MultiplyAdd(a0, b0, c30);
            c31 = TSimd.MultiplyAdd(a0, b1, c31);
            a0 = TSimd.Broadcast(a[4]);
            c40 = TSimd.MultiplyAdd(a0, b0, c40);
            c41 = TSimd.MultiplyAdd(a0, b1, c41);
            a0 = TSimd.Broadcast(a[5]);
            c50 = TSimd.MultiplyAdd(a0, b0, c50);
            c51 = TSimd.MultiplyAdd(a0, b1, c51);
            a += MR;
            b += 2 * width;
        }

        StoreRow<TSimd, TVector, TFunction>(c, c00, c01, 0, epilogue);
        StoreRow<TSimd, TVector, TFunction>(c + ldc, c10, c11, 1, epilogue);
        StoreRow<TSimd, TVector, TFunction>(c + (2 * ldc), c20, c21, 2, epilogue);
        StoreRow<TSimd, TVector, TFunction>(c + (3 * ldc), c30, c31, 3, epilogue);
        StoreRow<TSimd, TVector, TFunction>(c + (4 * ldc), c40, c41, 4, epilogue);
        StoreRow<TSimd, TVector, TFunction>(c + (5 * ldc), c50, c51, 5, epilogue);

        // An exp-based activation runs on the stored tile while it is in L1, once no accumulator is live.
        if (!TFunction.InRegisters && epilogue.Activate)
        {
            ActivateTile<TSimd, TVector, TFunction>(c, ldc, epilogue.Alpha);
        }
    }

    /// <summary>
    /// Starts loading the MR x <paramref name="columns"/> tile of C into L1 while the depth loop runs: C is read (or
    /// written) once per depth slice, usually from L3 or memory, and an unprefetched tile stalls the store for as long as
    /// the loop takes at small depths.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* c, int ldc, int columns)
    {
        if (Sse.IsSupported)
        {
            for (int r = 0; r < MR; r++, c += ldc)
            {
                Sse.Prefetch0(c);
                Sse.Prefetch0(c + columns - 1);
            }
        }
    }

    /// <summary>The activation over a stored MR x NR tile, out of line so the micro-kernel makes no call with its accumulators live.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ActivateTile<TSimd, TVector, TFunction>(float* c, int ldc, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int width = TSimd.Count;
        for (int r = 0; r < MR; r++, c += ldc)
        {
            TSimd.Store(c, TFunction.Forward<TSimd, TVector>(TSimd.Load(c), alpha));
            TSimd.Store(c + width, TFunction.Forward<TSimd, TVector>(TSimd.Load(c + width), alpha));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TSimd, TVector, TFunction>(float* c, TVector left, TVector right, int row, in Epilogue epilogue)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int width = TSimd.Count;
        if (epilogue.Accumulate)
        {
            left = TSimd.Add(left, TSimd.Load(c));
            right = TSimd.Add(right, TSimd.Load(c + width));
        }

        if (epilogue.RowBias != null)
        {
            TVector bias = TSimd.Broadcast(epilogue.RowBias[row]);
            left = TSimd.Add(left, bias);
            right = TSimd.Add(right, bias);
        }

        if (epilogue.ColumnBias != null)
        {
            left = TSimd.Add(left, TSimd.Load(epilogue.ColumnBias));
            right = TSimd.Add(right, TSimd.Load(epilogue.ColumnBias + width));
        }

        if (epilogue.Residual != null)
        {
            float* residual = epilogue.Residual + ((nint)row * epilogue.ResidualStride);
            left = TSimd.Add(left, TSimd.Load(residual));
            right = TSimd.Add(right, TSimd.Load(residual + width));
        }

        // Folds away for the identity (a tile without an activation pays nothing for it) and the exp-based activations.
        if (typeof(TFunction) != typeof(Identity) && TFunction.InRegisters && epilogue.Activate)
        {
            left = TFunction.Forward<TSimd, TVector>(left, epilogue.Alpha);
            right = TFunction.Forward<TSimd, TVector>(right, epilogue.Alpha);
        }

        TSimd.Store(c, left);
        TSimd.Store(c + width, right);
    }

    /// <summary>Packs rows [ic, ic + mc) x depth [pc, pc + kc) of op(A) into MR-row micro-panels (k-major), zero-padding the last.</summary>
    private static void PackA(in GemmProblem problem, int ic, int mc, int pc, int kc, float* destination)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int rows = Math.Min(MR, mc - ir);
            if (problem.TransposeA)
            {
                float* source = problem.A + ((nint)pc * problem.Lda) + ic + ir;
                for (int p = 0; p < kc; p++, source += problem.Lda)
                {
                    float* panel = destination + (p * MR);
                    int r = 0;
                    for (; r < rows; r++)
                    {
                        panel[r] = source[r];
                    }

                    for (; r < MR; r++)
                    {
                        panel[r] = 0f;
                    }
                }
            }
            else
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < rows)
                    {
                        float* source = problem.A + ((nint)(ic + ir + r) * problem.Lda) + pc;
                        for (int p = 0; p < kc; p++)
                        {
                            destination[(p * MR) + r] = source[p];
                        }
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                        {
                            destination[(p * MR) + r] = 0f;
                        }
                    }
                }
            }

            destination += kc * MR;
        }
    }

    /// <summary>Packs depth [pc, pc + kc) x columns [jc, jc + nc) of op(B) into nr-column micro-panels (k-major), zero-padding the last.</summary>
    private static void PackB(in GemmProblem problem, int pc, int kc, int jc, int nc, int nr, float* destination)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int columns = Math.Min(nr, nc - jr);
            if (problem.TransposeB)
            {
                for (int j = 0; j < nr; j++)
                {
                    if (j < columns)
                    {
                        float* source = problem.B + ((nint)(jc + jr + j) * problem.Ldb) + pc;
                        for (int p = 0; p < kc; p++)
                        {
                            destination[(p * nr) + j] = source[p];
                        }
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                        {
                            destination[(p * nr) + j] = 0f;
                        }
                    }
                }
            }
            else
            {
                float* source = problem.B + ((nint)pc * problem.Ldb) + jc + jr;
                for (int p = 0; p < kc; p++, source += problem.Ldb)
                {
                    float* panel = destination + (p * nr);
                    int j = 0;
                    for (; j < columns; j++)
                    {
                        panel[j] = source[j];
                    }

                    for (; j < nr; j++)
                    {
                        panel[j] = 0f;
                    }
                }
            }

            destination += kc * nr;
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>What happens to a finished tile; <see cref="At"/> positions the bias and residual pointers at the tile's origin.</summary>
    private struct Epilogue
    {
        public bool Accumulate;
        public float* RowBias;
        public float* ColumnBias;
        public float* Residual;
        public int ResidualStride;

        /// <summary>Whether to apply the activation: on the last depth slice only, once the sum is complete.</summary>
        public bool Activate;
        public float Alpha;

        public readonly Epilogue At(int row, int column) => this with
        {
            RowBias = RowBias == null ? null : RowBias + row,
            ColumnBias = ColumnBias == null ? null : ColumnBias + column,
            Residual = Residual == null ? null : Residual + ((nint)row * ResidualStride) + column,
        };

        /// <summary>
        /// Scalar epilogue for partial edge tiles computed into a scratch tile: the same additions and activation as
        /// <see cref="StoreRow{TSimd, TVector, TFunction}"/>, one lane at a time, so an edge tile rounds exactly as a full one.
        /// </summary>
        public readonly void Apply<TFunction>(float* tile, int tileStride, float* c, int ldc, int rows, int columns)
            where TFunction : struct, IActivationFunction
        {
            for (int r = 0; r < rows; r++)
            {
                float* cRow = c + ((nint)r * ldc);
                float* tileRow = tile + (r * tileStride);
                for (int j = 0; j < columns; j++)
                {
                    float value = tileRow[j];
                    if (Accumulate)
                    {
                        value += cRow[j];
                    }

                    if (RowBias != null)
                    {
                        value += RowBias[r];
                    }

                    if (ColumnBias != null)
                    {
                        value += ColumnBias[j];
                    }

                    if (Residual != null)
                    {
                        value += Residual[((nint)r * ResidualStride) + j];
                    }

                    cRow[j] = typeof(TFunction) != typeof(Identity) && Activate ? TFunction.Forward<SimdScalar, float>(value, Alpha) : value;
                }
            }
        }
    }

    /// <summary>A block of C to compute at one width, waiting for its activation's function.</summary>
    private struct Block<TSimd, TVector> : IActivationVisitor
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        public GemmProblem Problem;
        public int RowBegin;
        public int RowEnd;
        public int ColumnBegin;
        public int ColumnEnd;
        public float* Workspace;

        public readonly void Visit<TFunction>()
            where TFunction : struct, IActivationFunction =>
            Compute<TSimd, TVector, TFunction>(Problem, RowBegin, RowEnd, ColumnBegin, ColumnEnd, Workspace);
    }

    /// <summary>One block of C per thread: columns cut at NR boundaries, or rows at MR boundaries when C is narrow.</summary>
    private struct ParallelGemm : IParallelJob
    {
        public GemmProblem Problem;
        public ScratchSpace Scratch;
        public bool SplitColumns;

        public void Execute(int begin, int end, int thread)
        {
            int threads = Scratch.ThreadCount;
            int rowBegin = 0, rowEnd = Problem.M, columnBegin = 0, columnEnd = Problem.N;
            for (int part = begin; part < end; part++)
            {
                if (SplitColumns)
                {
                    int tiles = (Problem.N + NR - 1) / NR;
                    columnBegin = KernelContext.RangeStart(tiles, part, threads) * NR;
                    columnEnd = Math.Min(Problem.N, KernelContext.RangeStart(tiles, part + 1, threads) * NR);
                }
                else
                {
                    int tiles = (Problem.M + MR - 1) / MR;
                    rowBegin = KernelContext.RangeStart(tiles, part, threads) * MR;
                    rowEnd = Math.Min(Problem.M, KernelContext.RangeStart(tiles, part + 1, threads) * MR);
                }

                if (rowBegin < rowEnd && columnBegin < columnEnd)
                {
                    float* workspace = Scratch.Get(thread, WorkspaceLength(rowEnd - rowBegin, columnEnd - columnBegin, Problem.K));
                    Compute(Problem, rowBegin, rowEnd, columnBegin, columnEnd, workspace);
                }
            }
        }
    }
}
