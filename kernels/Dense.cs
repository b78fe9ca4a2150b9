using System;

namespace NetCompiler.Kernels;

/// <summary>Fully connected layer (PyTorch nn.Linear): x [n, In], w [Out, In], bias [Out], y [n, Out].</summary>
public static unsafe class Dense
{
    /// <summary>
    /// y = activation(x w^T + bias + residual), the residual added in the GEMM's epilogue. <paramref name="bias"/> and
    /// <paramref name="residual"/> may be empty; the residual is y's shape, apart from y.
    /// </summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, int n, Activation activation,
        ReadOnlySpan<float> residual = default)
        where S : struct, IDenseShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * S.InFeatures, nameof(x));
        Guard.Length(w.Length, (long)S.OutFeatures * S.InFeatures, nameof(w));
        Guard.OptionalLength(bias.Length, S.OutFeatures, nameof(bias));
        Guard.Length(y.Length, (long)n * S.OutFeatures, nameof(y));
        Guard.Residual(residual, y);
        fixed (float* px = x, pw = w, pb = bias, py = y, pr = residual)
        {
            var problem = new GemmProblem
            {
                A = px,
                Lda = S.InFeatures,
                B = pw,
                Ldb = S.InFeatures,
                TransposeB = true,
                C = py,
                Ldc = S.OutFeatures,
                M = n,
                N = S.OutFeatures,
                K = S.InFeatures,
                Bias = bias.IsEmpty ? null : pb,
                BiasMode = bias.IsEmpty ? BiasMode.None : BiasMode.PerColumn,
                Residual = residual.IsEmpty ? null : pr,
                Activation = activation,
            };
            Gemm.Multiply(context, problem);
        }
    }

    /// <summary>dx = dy w (overwritten).</summary>
    public static void BackwardData<S>(KernelContext context, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int n)
        where S : struct, IDenseShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(dy.Length, (long)n * S.OutFeatures, nameof(dy));
        Guard.Length(w.Length, (long)S.OutFeatures * S.InFeatures, nameof(w));
        Guard.Length(dx.Length, (long)n * S.InFeatures, nameof(dx));
        fixed (float* pdy = dy, pw = w, pdx = dx)
        {
            var problem = new GemmProblem
            {
                A = pdy,
                Lda = S.OutFeatures,
                B = pw,
                Ldb = S.InFeatures,
                C = pdx,
                Ldc = S.InFeatures,
                M = n,
                N = S.InFeatures,
                K = S.OutFeatures,
            };
            Gemm.Multiply(context, problem);
        }
    }

    /// <summary>dw = dy^T x and dbias (when not empty) = column sums of dy, both summed over the batch (overwritten).</summary>
    public static void BackwardWeight<S>(KernelContext context, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias, int n)
        where S : struct, IDenseShape
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Length(x.Length, (long)n * S.InFeatures, nameof(x));
        Guard.Length(dy.Length, (long)n * S.OutFeatures, nameof(dy));
        Guard.Length(dw.Length, (long)S.OutFeatures * S.InFeatures, nameof(dw));
        Guard.OptionalLength(dbias.Length, S.OutFeatures, nameof(dbias));
        fixed (float* px = x, pdy = dy, pdw = dw, pdb = dbias)
        {
            var problem = new GemmProblem
            {
                A = pdy,
                Lda = S.OutFeatures,
                TransposeA = true,
                B = px,
                Ldb = S.InFeatures,
                C = pdw,
                Ldc = S.InFeatures,
                M = S.OutFeatures,
                N = S.InFeatures,
                K = n,
            };
            Gemm.Multiply(context, problem);
            if (!dbias.IsEmpty)
            {
                ChannelSums.Compute(context, pdy, pdb, n, S.OutFeatures, planeSize: 1);
            }
        }
    }
}
