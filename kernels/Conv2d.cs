using System;

namespace NetCompiler.Kernels;

/// <summary>
/// 2-D convolution (PyTorch nn.Conv2d): x [n, Cin, H, W], w [Cout, Cin / groups, K, K], y [n, Cout, OH, OW].
/// Each (image, group) is a GEMM of the group's weights [Cout/g, Cin/g * K * K] by the image's column matrix,
/// built per thread in scratch (a 1x1, stride-1, unpadded convolution multiplies the image itself). Ungrouped layers
/// run direct convolutions instead: the forward always and the data gradient at stride 1 (Conv2dDirect.cs), the weight
/// gradient for kernels up to 6 wide (Conv2dWeightGradient.cs).
/// </summary>
public static unsafe partial class Conv2d
{
    // Upper bound, in floats, on one thread's column matrix: larger images are processed in pixel chunks so
    // the columns stay in L2 while the GEMM streams them.
    private const int ColumnBudget = 1 << 18;

    /// <summary>
    /// y = activation(conv(x, w) + bias + residual), the residual added in the GEMM's epilogue (a ResNet block's skip).
    /// <paramref name="bias"/> and <paramref name="residual"/> may be empty; the residual is y's shape, apart from y.
    /// </summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int n, Activation activation,
        ReadOnlySpan<float> residual = default)
        where S : struct, IConvShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * Geometry<S>.InputSize, nameof(x));
        Guard.Length(w.Length, Geometry<S>.WeightSize, nameof(w));
        Guard.OptionalLength(bias.Length, S.OutChannels, nameof(bias));
        Guard.Length(y.Length, (long)n * Geometry<S>.OutputSize, nameof(y));
        Guard.Residual(residual, y);
        fixed (float* px = x, pw = w, pb = bias, py = y, pr = residual)
        {
            ForwardCore<S>(context, px, pw, bias.IsEmpty ? null : pb, py, n, activation, residual.IsEmpty ? null : pr);
        }
    }

    /// <summary>dx = gradient of the loss with respect to x given dy (overwritten).</summary>
    public static void BackwardData<S>(KernelContext context, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int n)
        where S : struct, IConvShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(dy.Length, (long)n * Geometry<S>.OutputSize, nameof(dy));
        Guard.Length(w.Length, Geometry<S>.WeightSize, nameof(w));
        Guard.Length(dx.Length, (long)n * Geometry<S>.InputSize, nameof(dx));
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            BackwardDataCore<S>(context, pdy, pw, null, pdx, n, Activation.None);
        }
    }

    /// <summary>
    /// dw (and dbias when not empty) = gradients summed over the batch (overwritten). Images are split over threads,
    /// each accumulating a private partial dw; partials are then added in thread order, so the result is deterministic
    /// for a given thread count.
    /// </summary>
    public static void BackwardWeight<S>(KernelContext context, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias, int n)
        where S : struct, IConvShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * Geometry<S>.InputSize, nameof(x));
        Guard.Length(dy.Length, (long)n * Geometry<S>.OutputSize, nameof(dy));
        Guard.Length(dw.Length, Geometry<S>.WeightSize, nameof(dw));
        Guard.OptionalLength(dbias.Length, S.OutChannels, nameof(dbias));
        fixed (float* px = x, pdy = dy, pdw = dw, pdb = dbias)
        {
            BackwardWeightCore<S>(context, px, pdy, pdw, n);
            if (!dbias.IsEmpty)
            {
                ChannelSums.Compute(context, pdy, pdb, n, S.OutChannels, Geometry<S>.OutputPlane);
            }
        }
    }

    internal static void ForwardCore<S>(KernelContext context, float* x, float* w, float* bias, float* y, int n, Activation activation, float* residual = null)
        where S : struct, IConvShape
    {
        int items = n * S.Groups;
        if (items == 0)
        {
            return;
        }

        if (Geometry<S>.UsesWinograd)
        {
            WinogradForward<S>(context, x, w, bias, y, n, activation, residual);
            return;
        }

        if (Geometry<S>.UsesDirectForward)
        {
            DirectForward<S>(context, x, w, bias, y, n, activation, residual);
            return;
        }

        // Split each image's pixels into chunks when there are too few images to occupy every thread,
        // or when its column matrix would outgrow the budget.
        int outputPlane = Geometry<S>.OutputPlane;
        int chunks = Math.Max(CeilDiv(context.ThreadCount, items), CeilDiv(Geometry<S>.ColumnRows * outputPlane, ColumnBudget));
        int chunkPixels = Math.Min(outputPlane, RoundUp(CeilDiv(outputPlane, chunks), Gemm.ColumnAlignment));
        chunks = CeilDiv(outputPlane, chunkPixels);

        var job = new ForwardJob<S>
        {
            X = x,
            W = w,
            Bias = bias,
            Y = y,
            Residual = residual,
            Activation = activation,
            Chunks = chunks,
            ChunkPixels = chunkPixels,
            Scratch = context.Scratch,
        };
        context.For(items * chunks, ref job);
    }

    /// <summary>Data gradient, optionally followed by a per-input-channel bias and an activation (the conv-transpose forward).</summary>
    internal static void BackwardDataCore<S>(KernelContext context, float* dy, float* w, float* bias, float* dx, int n, Activation activation)
        where S : struct, IConvShape
    {
        int items = n * S.Groups;
        if (items == 0)
        {
            return;
        }

        if (Geometry<S>.UsesDirectBackwardData && Geometry<DataGradientShape<S>>.UsesWinograd)
        {
            WinogradForward<DataGradientShape<S>>(context, dy, w, bias, dx, n, activation, residual: null, flippedWeights: true);
            return;
        }

        if (Geometry<S>.UsesDirectBackwardData)
        {
            DirectForward<DataGradientShape<S>>(context, dy, w, bias, dx, n, activation, residual: null, flippedWeights: true);
            return;
        }

        // Split by input channel: each chunk's column rows fold back into its own channels only, so chunks never race.
        int groupChannels = Geometry<S>.GroupInChannels;
        int chunks = Math.Max(CeilDiv(context.ThreadCount, items), CeilDiv(Geometry<S>.ColumnRows * Geometry<S>.OutputPlane, ColumnBudget));
        int chunkChannels = CeilDiv(groupChannels, Math.Min(chunks, groupChannels));
        chunks = CeilDiv(groupChannels, chunkChannels);

        var job = new BackwardDataJob<S>
        {
            Dy = dy,
            W = w,
            Bias = bias,
            Dx = dx,
            Activation = activation,
            Chunks = chunks,
            ChunkChannels = chunkChannels,
            Scratch = context.Scratch,
        };
        context.For(items * chunks, ref job);
    }

    internal static void BackwardWeightCore<S>(KernelContext context, float* x, float* dy, float* dw, int n)
        where S : struct, IConvShape
    {
        int weightSize = Geometry<S>.WeightSize;
        if (n == 0)
        {
            new Span<float>(dw, weightSize).Clear();
            return;
        }

        if (Geometry<S>.UsesDirectBackwardWeight)
        {
            var direct = new DirectWeightJob<S> { X = x, Dy = dy, Scratch = context.Scratch };
            context.For(n, ref direct);
        }
        else
        {
            int outputPlane = Geometry<S>.OutputPlane;
            int chunkPixels = Math.Min(outputPlane, Math.Max(Gemm.ColumnAlignment, ColumnBudget / Geometry<S>.ColumnRows));
            var job = new BackwardWeightJob<S>
            {
                X = x,
                Dy = dy,
                ChunkPixels = chunkPixels,
                Scratch = context.Scratch,
            };
            context.For(n, ref job);
        }

        // Partials sit at the start of each busy thread's scratch; add them in thread order.
        var reduce = new ReducePartialsJob { Scratch = context.Scratch, Images = n, Destination = dw, Length = weightSize };
        context.For(CeilDiv(weightSize, ReducePartialsJob.Block), ref reduce);
    }

    private struct ForwardJob<S> : IParallelJob
        where S : struct, IConvShape
    {
        public float* X;
        public float* W;
        public float* Bias;
        public float* Y;
        public float* Residual;
        public Activation Activation;
        public int Chunks;
        public int ChunkPixels;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread)
        {
            int rows = Geometry<S>.ColumnRows, groupOut = Geometry<S>.GroupOutChannels, outputPlane = Geometry<S>.OutputPlane;
            nint columnLength = Geometry<S>.IsPointwise ? 0 : (nint)rows * ChunkPixels;
            float* column = Scratch.Get(thread, columnLength + Gemm.WorkspaceLength(groupOut, ChunkPixels, rows));
            float* workspace = column + columnLength;
            for (int item = begin; item < end; item++)
            {
                int chunk = item % Chunks, group = item / Chunks % S.Groups, image = item / Chunks / S.Groups;
                int pixelBegin = chunk * ChunkPixels, pixelEnd = Math.Min(outputPlane, pixelBegin + ChunkPixels);
                nint output = ((nint)image * Geometry<S>.OutputSize) + ((nint)group * groupOut * outputPlane) + pixelBegin;
                float* input = X + ((nint)image * Geometry<S>.InputSize) + ((nint)group * Geometry<S>.GroupInChannels * Geometry<S>.InputPlane);
                var problem = new GemmProblem
                {
                    A = W + ((nint)group * groupOut * rows),
                    Lda = rows,
                    C = Y + output,
                    Ldc = outputPlane,
                    M = groupOut,
                    N = pixelEnd - pixelBegin,
                    K = rows,
                    Bias = Bias == null ? null : Bias + (group * groupOut),
                    BiasMode = Bias == null ? BiasMode.None : BiasMode.PerRow,
                    Residual = Residual == null ? null : Residual + output,
                    Activation = Activation,
                };
                if (Geometry<S>.IsPointwise)
                {
                    problem.B = input + pixelBegin;
                    problem.Ldb = Geometry<S>.InputPlane;
                }
                else
                {
                    Im2Col.Gather<S>(input, Geometry<S>.GroupInChannels, pixelBegin, pixelEnd, column);
                    problem.B = column;
                    problem.Ldb = problem.N;
                }

                Gemm.Compute(problem, 0, problem.M, 0, problem.N, workspace);
            }
        }
    }

    private struct BackwardDataJob<S> : IParallelJob
        where S : struct, IConvShape
    {
        public float* Dy;
        public float* W;
        public float* Bias;
        public float* Dx;
        public Activation Activation;
        public int Chunks;
        public int ChunkChannels;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread)
        {
            int rows = Geometry<S>.ColumnRows, groupOut = Geometry<S>.GroupOutChannels, outputPlane = Geometry<S>.OutputPlane;
            int inputPlane = Geometry<S>.InputPlane, kernelArea = S.Kernel * S.Kernel;
            nint columnLength = Geometry<S>.IsPointwise ? 0 : (nint)ChunkChannels * kernelArea * outputPlane;
            float* column = Scratch.Get(thread, columnLength + Gemm.WorkspaceLength(ChunkChannels * kernelArea, outputPlane, groupOut));
            float* workspace = column + columnLength;
            for (int item = begin; item < end; item++)
            {
                int chunk = item % Chunks, group = item / Chunks % S.Groups, image = item / Chunks / S.Groups;
                int firstChannel = chunk * ChunkChannels;
                int channels = Math.Min(Geometry<S>.GroupInChannels - firstChannel, ChunkChannels);
                int channel = (group * Geometry<S>.GroupInChannels) + firstChannel;
                float* gradient = Dx + ((nint)image * Geometry<S>.InputSize) + ((nint)channel * inputPlane);
                float* bias = Bias == null ? null : Bias + channel;

                // Column rows of these channels = (their slice of w_g)^T dy_g.
                var problem = new GemmProblem
                {
                    A = W + ((nint)group * groupOut * rows) + (firstChannel * kernelArea),
                    Lda = rows,
                    TransposeA = true,
                    B = Dy + ((nint)image * Geometry<S>.OutputSize) + ((nint)group * groupOut * outputPlane),
                    Ldb = outputPlane,
                    M = channels * kernelArea,
                    N = outputPlane,
                    K = groupOut,
                };
                if (Geometry<S>.IsPointwise)
                {
                    problem.C = gradient;
                    problem.Ldc = inputPlane;
                    problem.Bias = bias;
                    problem.BiasMode = bias == null ? BiasMode.None : BiasMode.PerRow;
                    problem.Activation = Activation;
                    Gemm.Compute(problem, 0, problem.M, 0, problem.N, workspace);
                    continue;
                }

                problem.C = column;
                problem.Ldc = outputPlane;
                Gemm.Compute(problem, 0, problem.M, 0, problem.N, workspace);
                new Span<float>(gradient, channels * inputPlane).Clear();
                Im2Col.ScatterAdd<S>(column, channels, 0, outputPlane, gradient);
                if (bias != null || Activation.Kind != ActivationKind.None)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        VectorMath.AddBias(new Span<float>(gradient + ((nint)c * inputPlane), inputPlane), bias == null ? 0f : bias[c], Activation);
                    }
                }
            }
        }
    }

    private struct BackwardWeightJob<S> : IParallelJob
        where S : struct, IConvShape
    {
        public float* X;
        public float* Dy;
        public int ChunkPixels;
        public ScratchSpace Scratch;

        public readonly void Execute(int begin, int end, int thread)
        {
            int rows = Geometry<S>.ColumnRows, groupOut = Geometry<S>.GroupOutChannels, outputPlane = Geometry<S>.OutputPlane;
            int weightSize = Geometry<S>.WeightSize;
            nint columnLength = Geometry<S>.IsPointwise ? 0 : (nint)rows * ChunkPixels;
            float* partial = Scratch.Get(thread, weightSize + columnLength + Gemm.WorkspaceLength(groupOut, rows, ChunkPixels));
            float* column = partial + weightSize;
            float* workspace = column + columnLength;
            new Span<float>(partial, weightSize).Clear();
            for (int image = begin; image < end; image++)
            {
                for (int group = 0; group < S.Groups; group++)
                {
                    float* input = X + ((nint)image * Geometry<S>.InputSize) + ((nint)group * Geometry<S>.GroupInChannels * Geometry<S>.InputPlane);
                    float* gradient = Dy + ((nint)image * Geometry<S>.OutputSize) + ((nint)group * groupOut * outputPlane);
                    for (int pixelBegin = 0; pixelBegin < outputPlane; pixelBegin += ChunkPixels)
                    {
                        int pixels = Math.Min(ChunkPixels, outputPlane - pixelBegin);

                        // dw_g += dy_g [groupOut, pixels] * columns^T [pixels, rows].
                        var problem = new GemmProblem
                        {
                            A = gradient + pixelBegin,
                            Lda = outputPlane,
                            TransposeB = true,
                            C = partial + ((nint)group * groupOut * rows),
                            Ldc = rows,
                            M = groupOut,
                            N = rows,
                            K = pixels,
                            Accumulate = true,
                        };
                        if (Geometry<S>.IsPointwise)
                        {
                            problem.B = input + pixelBegin;
                            problem.Ldb = Geometry<S>.InputPlane;
                        }
                        else
                        {
                            Im2Col.Gather<S>(input, Geometry<S>.GroupInChannels, pixelBegin, pixelBegin + pixels, column);
                            problem.B = column;
                            problem.Ldb = pixels;
                        }

                        Gemm.Compute(problem, 0, problem.M, 0, problem.N, workspace);
                    }
                }
            }
        }
    }

    /// <summary>Destination = sum of the per-thread partials, added in thread order (deterministic).</summary>
    private struct ReducePartialsJob : IParallelJob
    {
        public const int Block = 4096;

        public ScratchSpace Scratch;
        public int Images;
        public float* Destination;
        public int Length;

        public readonly void Execute(int begin, int end, int thread)
        {
            int threads = Scratch.ThreadCount;
            for (int block = begin; block < end; block++)
            {
                int offset = block * Block;
                var destination = new Span<float>(Destination + offset, Math.Min(Block, Length - offset));
                destination.Clear();
                for (int t = 0; t < threads; t++)
                {
                    if (KernelContext.RangeStart(Images, t, threads) < KernelContext.RangeStart(Images, t + 1, threads))
                    {
                        VectorMath.Add(destination, new ReadOnlySpan<float>(Scratch.Peek(t) + offset, destination.Length));
                    }
                }
            }
        }
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;

    private static int RoundUp(int value, int multiple) => CeilDiv(value, multiple) * multiple;

    /// <summary>Sizes derived from the shape; all fold to constants per instantiation.</summary>
    private static class Geometry<S>
        where S : IConvShape
    {
        public static int InputPlane => S.InHeight * S.InWidth;
        public static int OutputPlane => S.OutHeight * S.OutWidth;
        public static int InputSize => S.InChannels * InputPlane;
        public static int OutputSize => S.OutChannels * OutputPlane;
        public static int GroupInChannels => S.InChannels / S.Groups;
        public static int GroupOutChannels => S.OutChannels / S.Groups;
        public static int ColumnRows => GroupInChannels * S.Kernel * S.Kernel;
        public static int WeightSize => S.OutChannels * ColumnRows;

        /// <summary>1x1, stride 1, no padding: the image already is its column matrix.</summary>
        public static bool IsPointwise => S.Kernel == 1 && S.Stride == 1 && S.Pad == 0;

        /// <summary>
        /// Ungrouped 3x3 at stride 1 with 16 or more channels in and out: Winograd F(2x2, 3x3) (fewer channels would
        /// leave its 16 products too short to pay for the transforms).
        /// </summary>
        public static bool UsesWinograd => S.Kernel == 3 && S.Stride == 1 && S.Dilation == 1 && S.Groups == 1 && S.Pad <= 2
            && S.InChannels >= 16 && S.OutChannels >= 16;

        /// <summary>Every other ungrouped layer: the direct forward (grouped layers keep im2col + GEMM per group).</summary>
        public static bool UsesDirectForward => S.Groups == 1 && !UsesWinograd;

        /// <summary>Ungrouped with kernels up to 6 wide (a block of the direct kernel holds every column tap of a channel).</summary>
        public static bool UsesDirectBackwardWeight => S.Groups == 1 && S.Kernel <= 6;

        /// <summary>Ungrouped, stride 1, and padded no more than the kernel reaches: the data gradient is a direct forward.</summary>
        public static bool UsesDirectBackwardData => S.Groups == 1 && S.Stride == 1 && S.Pad <= (S.Kernel - 1) * S.Dilation;
    }
}
