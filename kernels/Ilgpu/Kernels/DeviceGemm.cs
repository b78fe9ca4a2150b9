using System;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// One GEMM of the device's linear layers, C[Rows, Columns] = A[Rows, Depth] B[Depth, Columns] per convolution group,
/// with its operands read in place (implicit GEMM: a convolution's column matrix is gathered from the image into shared
/// memory tile by tile, never stored in global memory) and its epilogue applied by <see cref="Store"/> while the sum
/// is still in a register. The members fold to constants per shape, so each problem's kernel is specialised.
/// </summary>
internal interface IGemmProblem
{
    int Rows { get; }

    int Columns { get; }

    int Depth { get; }

    /// <summary>Whether A's consecutive depths are adjacent in memory (else its consecutive rows): which way a tile loads coalesced.</summary>
    bool DepthMajorA { get; }

    /// <summary>Whether B's consecutive depths are adjacent in memory (else its consecutive columns).</summary>
    bool DepthMajorB { get; }

    /// <summary>A[row, depth] of convolution group <paramref name="group"/>; called only inside the bounds.</summary>
    float LoadA(int group, int row, int depth);

    /// <summary>B[depth, column] of convolution group <paramref name="group"/> (zero where a window hits padding).</summary>
    float LoadB(int group, int depth, int column);

    /// <summary>Writes C[row, column] = <paramref name="sum"/> through the epilogue; called only inside the bounds.</summary>
    void Store(int group, int row, int column, float sum);
}

/// <summary>Which optional operands an epilogue reads (a kernel parameter must be blittable, so not a bool).</summary>
[Flags]
internal enum EpilogueOperands
{
    None = 0,
    Bias = 1,
    Residual = 2,
}

/// <summary>
/// The kernel parameter of every linear-layer GEMM: the views an <see cref="IGemmProblem"/> reads and writes, named by
/// their GEMM role (the weights are A in the forward, dy in the weight gradient ...). It names no shape: ILGPU's
/// simulator declares a field of each parameter's type in an emitted assembly, which could not see a network's
/// private shape structs; the kernel entry, a member of the generic launcher, wraps it in the shape's problem.
/// </summary>
internal struct GemmOperands
{
    public ArrayView<float> A;
    public ArrayView<float> B;
    public ArrayView<float> C;
    public ArrayView<float> Bias;
    public ArrayView<float> Residual;
    public Activation Activation;
    public EpilogueOperands Epilogue;

    /// <summary>The images' pixels the GEMM runs over: n times the plane its columns (or depth) index.</summary>
    public int Pixels;
}

/// <summary>
/// The tiled GEMM kernel every conv, conv-transpose and dense launcher runs. Tiling: a group of 16 x 16 threads owns a
/// 64 x 64 tile of C, each thread a 4 x 4 register micro-tile (rows ty + 16 i, columns tx + 16 j, so a warp's loads
/// from shared memory are broadcasts or consecutive words, and its stores of C are coalesced runs of 16); the depth
/// advances in steps of 16, with the 64 x 16 slices of A and B staged in shared memory (4 loads per thread each, along
/// whichever axis is contiguous in memory). 64 x 64 x 16 keeps 16 FMAs per 8 shared loads in the inner loop and 8 KB of
/// shared memory per group, so several groups fit per H200 SM; grid = (column tiles, row tiles, convolution groups).
/// The sum over the depth runs in one fixed order per output, so the result is deterministic (no atomics).
/// </summary>
internal static class DeviceGemm
{
    public const int TileRows = 64;
    public const int TileColumns = 64;
    public const int TileDepth = 16;
    public const int ThreadsPerSide = 16;
    public const int GroupSize = ThreadsPerSide * ThreadsPerSide;

    // Each depth row of a staged tile is padded by one word, so depth-major stores into it hit distinct banks.
    private const int TileStride = TileRows + 1;
    private const int LoadsPerThread = TileRows * TileDepth / GroupSize;

    /// <summary>The launch of <paramref name="problem"/> over <paramref name="groups"/> convolution groups.</summary>
    public static KernelConfig Config<TProblem>(in TProblem problem, int groups)
        where TProblem : struct, IGemmProblem =>
        new(new Index3D(CeilDiv(problem.Columns, TileColumns), CeilDiv(problem.Rows, TileRows), groups), new Index3D(GroupSize, 1, 1));

    /// <summary>The body of each GEMM kernel, run by every thread of the grid <see cref="Config{TProblem}"/> gives.</summary>
    public static void Run<TProblem>(TProblem problem)
        where TProblem : struct, IGemmProblem
    {
        ArrayView<float> a = SharedMemory.Allocate<float>(TileDepth * TileStride);
        ArrayView<float> b = SharedMemory.Allocate<float>(TileDepth * TileStride);
        int thread = Group.IdxX, tx = thread % ThreadsPerSide, ty = thread / ThreadsPerSide;
        int rowBase = Grid.IdxY * TileRows, columnBase = Grid.IdxX * TileColumns, group = Grid.IdxZ;
        int rows = problem.Rows, columns = problem.Columns, depth = problem.Depth;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int depthBase = 0; depthBase < depth; depthBase += TileDepth)
        {
            for (int load = 0; load < LoadsPerThread; load++)
            {
                int element = thread + (load * GroupSize);
                int d = problem.DepthMajorA ? element % TileDepth : element / TileRows;
                int r = problem.DepthMajorA ? element / TileDepth : element % TileRows;
                int row = rowBase + r, k = depthBase + d;
                a[(d * TileStride) + r] = row < rows && k < depth ? problem.LoadA(group, row, k) : 0f;

                d = problem.DepthMajorB ? element % TileDepth : element / TileColumns;
                int c = problem.DepthMajorB ? element / TileDepth : element % TileColumns;
                int column = columnBase + c;
                k = depthBase + d;
                b[(d * TileStride) + c] = column < columns && k < depth ? problem.LoadB(group, k, column) : 0f;
            }

            Group.Barrier();
            for (int d = 0; d < TileDepth; d++)
            {
                int offset = d * TileStride;
                float a0 = a[offset + ty], a1 = a[offset + ty + 16], a2 = a[offset + ty + 32], a3 = a[offset + ty + 48];
                float b0 = b[offset + tx], b1 = b[offset + tx + 16], b2 = b[offset + tx + 32], b3 = b[offset + tx + 48];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }

            Group.Barrier();
        }

        int column0 = columnBase + tx;
        StoreRow(problem, group, rowBase + ty, column0, c00, c01, c02, c03);
        StoreRow(problem, group, rowBase + ty + 16, column0, c10, c11, c12, c13);
        StoreRow(problem, group, rowBase + ty + 32, column0, c20, c21, c22, c23);
        StoreRow(problem, group, rowBase + ty + 48, column0, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TProblem>(TProblem problem, int group, int row, int column, float s0, float s1, float s2, float s3)
        where TProblem : struct, IGemmProblem
    {
        if (row >= problem.Rows)
        {
            return;
        }

        int columns = problem.Columns;
        if (column < columns)
        {
            problem.Store(group, row, column, s0);
        }

        if (column + 16 < columns)
        {
            problem.Store(group, row, column + 16, s1);
        }

        if (column + 32 < columns)
        {
            problem.Store(group, row, column + 32, s2);
        }

        if (column + 48 < columns)
        {
            problem.Store(group, row, column + 48, s3);
        }
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}
