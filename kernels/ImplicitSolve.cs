using System;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>
/// The IMEX implicit step Y = A^-1 R with A = I + h C^T C, per image, where C is the periodic grouped convolution of
/// <see cref="IImplicitShape"/> (PyTorch conv2d of the circularly padded image: a cross-correlation centred on the pixel),
/// solved exactly in the Fourier domain.
/// <para>
/// Fourier form. With X^(f) = sum over pixels p of x(p) e^(-2 pi i f.p / N) and delta_ab = (a - r, b - r), r = Kernel / 2,
/// (C x)_o(p) = sum over i in o's group, a, b of w[o, i, a, b] x_i(p + delta_ab), so (C x)^_o = sum_i C^_oi x^_i with
/// C^_oi(f) = sum_ab w[o, i, a, b] e^(+2 pi i f.delta_ab / N): the DFT of the kernel placed at -delta_ab (wrapped).
/// C^T is conj(C^)^T, so per frequency A is the g x g Hermitian positive definite matrix I + h C^^H C^ (g = Channels / Groups),
/// solved by Cholesky; depthwise (g = 1) it is the scalar 1 + h |C^|^2.
/// </para>
/// <para>
/// Gradients. A is symmetric, so the adjoint solve is the same solve: dL/dR = A^-1 dY =: V. From dY = -A^-1 dA Y,
/// dL = -V^T dA Y with dA = h (dC^T C + C^T dC), so dL = -h (&lt;dC V, C Y&gt; + &lt;C V, dC Y&gt;). dC is C with weights dw,
/// and &lt;U, dC X&gt; = sum over o, i, a, b of dw[o, i, a, b] sum_p U_o(p) X_i(p + delta_ab), hence
/// dL/dw[o, i, a, b] = -h sum over images and p of [(C Y)_o(p) V_i(p + delta_ab) + (C V)_o(p) Y_i(p + delta_ab)].
/// A periodic correlation sum_p U(p) X(p + delta) is the inverse DFT (with its 1/N) of conj(U^) X^ at delta, so
/// dL/dw[o, i, ., .] = -h IDFT(Z_oi) at the K x K offsets, Z_oi = sum over images of conj((C Y)^_o) V^_i + conj((C V)^_o) Y^_i.
/// Depthwise this is Z_o = 2 conj(C^_o) sum Re(conj(Y^_o) V^_o), a real sum per frequency.
/// </para>
/// Work is split over (group, image) pairs; scratch lives in the context (nothing is allocated per call in steady state).
/// Weight spectra are recomputed on every call, since the weights change every step.
/// </summary>
public static unsafe class ImplicitSolve
{
    /// <summary>y = (I + h C^T C)^-1 rhs for <paramref name="n"/> images [n, Channels, Height, Width]; h &gt;= 0.</summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> rhs, ReadOnlySpan<float> weight, float h, Span<float> y, int n)
        where S : struct, IImplicitShape
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckArguments<S>(h, n);
        long size = (long)n * S.Channels * S.Height * S.Width;
        Guard.Length(rhs.Length, size, nameof(rhs));
        Guard.Length(weight.Length, ImplicitLayout<S>.WeightSize, nameof(weight));
        Guard.Length(y.Length, size, nameof(y));
        if (n == 0)
        {
            return;
        }

        fixed (float* pr = rhs, pw = weight, py = y)
        {
            switch (FftPlan<PlaneOf<S>>.Lanes)
            {
                case 16: ImplicitSolver<S, Simd512, Vector512<float>>.Forward(context, pr, pw, h, py, n); break;
                case 8: ImplicitSolver<S, Simd256, Vector256<float>>.Forward(context, pr, pw, h, py, n); break;
                case 4: ImplicitSolver<S, Simd128, Vector128<float>>.Forward(context, pr, pw, h, py, n); break;
                default: ImplicitSolver<S, SimdScalar, float>.Forward(context, pr, pw, h, py, n); break;
            }
        }
    }

    /// <summary>
    /// Gradients of <see cref="Forward{S}"/> given its output <paramref name="y"/> and dL/dy: drhs = A^-1 dy and
    /// dweight = dL/dweight summed over the images (both overwritten). An empty <paramref name="dweight"/> asks for
    /// drhs alone (no weight gradient: outside training), which skips the weight-gradient work.
    /// </summary>
    public static void Backward<S>(
        KernelContext context,
        ReadOnlySpan<float> dy,
        ReadOnlySpan<float> y,
        ReadOnlySpan<float> weight,
        float h,
        Span<float> drhs,
        Span<float> dweight,
        int n)
        where S : struct, IImplicitShape
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckArguments<S>(h, n);
        long size = (long)n * S.Channels * S.Height * S.Width;
        Guard.Length(dy.Length, size, nameof(dy));
        Guard.Length(y.Length, size, nameof(y));
        Guard.Length(weight.Length, ImplicitLayout<S>.WeightSize, nameof(weight));
        Guard.Length(drhs.Length, size, nameof(drhs));
        Guard.OptionalLength(dweight.Length, ImplicitLayout<S>.WeightSize, nameof(dweight));
        if (n == 0)
        {
            dweight.Clear();
            return;
        }

        fixed (float* pdy = dy, py = y, pw = weight, pdr = drhs, pdw = dweight)
        {
            switch (FftPlan<PlaneOf<S>>.Lanes)
            {
                case 16: ImplicitSolver<S, Simd512, Vector512<float>>.Backward(context, pdy, py, pw, h, pdr, pdw, n); break;
                case 8: ImplicitSolver<S, Simd256, Vector256<float>>.Backward(context, pdy, py, pw, h, pdr, pdw, n); break;
                case 4: ImplicitSolver<S, Simd128, Vector128<float>>.Backward(context, pdy, py, pw, h, pdr, pdw, n); break;
                default: ImplicitSolver<S, SimdScalar, float>.Backward(context, pdy, py, pw, h, pdr, pdw, n); break;
            }
        }
    }

    private static void CheckArguments<S>(float h, int n)
        where S : struct, IImplicitShape
    {
        FftPlan<PlaneOf<S>>.Check();
        if (S.Channels <= 0 || S.Groups <= 0 || S.Channels % S.Groups != 0 || S.Kernel <= 0 || S.Kernel % 2 == 0)
        {
            throw new ArgumentException(
                $"{typeof(S).Name}: Groups must divide Channels and Kernel must be odd (Channels {S.Channels}, Groups {S.Groups}, Kernel {S.Kernel}).",
                nameof(S));
        }

        if (!(h >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(h), h, "The step must be a non-negative number.");
        }

        Guard.Batch(n);
    }
}

/// <summary>An implicit shape's image plane as an FFT size.</summary>
internal readonly struct PlaneOf<S> : IFftShape
    where S : struct, IImplicitShape
{
    public static int Height => S.Height;
    public static int Width => S.Width;
}

/// <summary>
/// Sizes and scratch offsets in floats, each region a multiple of 16 so every buffer stays 64-byte aligned.
/// Per thread: FFT workspace, one real plane, the spectra of a group (two sets in the backward pass), then the
/// backward pass's weight-gradient accumulators. Shared, after thread 0's part: the kernel spectra C^_oi, then the
/// per-frequency factors.
/// </summary>
internal static class ImplicitLayout<S>
    where S : struct, IImplicitShape
{
    public static readonly int GroupSize = S.Channels / S.Groups;
    public static readonly int WeightSize = S.Channels * GroupSize * S.Kernel * S.Kernel;
    public static readonly int Frequencies = FftPlan<PlaneOf<S>>.Frequencies;
    public static readonly int Spectrum = 2 * Frequencies;

    public static readonly int PlaneOffset = Round(FftPlan<PlaneOf<S>>.WorkLength);
    public static readonly int SpectraOffset = PlaneOffset + Round(S.Height * S.Width);
    public static readonly int AccumulatorOffset = SpectraOffset + Round(2 * GroupSize * Spectrum);

    /// <summary>Accumulators: depthwise one real sum per channel and frequency; grouped one complex Z per weight plane.</summary>
    public static readonly int PrivateLength = AccumulatorOffset + Round(GroupSize == 1 ? S.Channels * Frequencies : S.Channels * GroupSize * Spectrum);

    /// <summary>
    /// Factors: depthwise 1 / (1 + h |C^|^2) per channel; grouped, per group, the inverse diagonal of the Cholesky
    /// factor (g real planes), then its strictly lower part (complex, row by row).
    /// </summary>
    public static readonly int FactorOffset = Round(S.Channels * GroupSize * Spectrum);
    public static readonly int FactorsPerGroup = (GroupSize * Frequencies) + (GroupSize * (GroupSize - 1) / 2 * Spectrum);
    public static readonly int SharedLength = FactorOffset + (S.Groups * FactorsPerGroup);

    private static int Round(int floats) => (floats + 15) & ~15;
}

internal static unsafe class ImplicitSolver<S, TSimd, TVector>
    where S : struct, IImplicitShape
    where TSimd : struct, ISimd<TVector>
    where TVector : unmanaged
{
    public static void Forward(KernelContext context, float* rhs, float* weight, float h, float* y, int n)
    {
        float* shared = Prepare(context, weight, h);
        var solve = new SolveJob { Rhs = rhs, Y = y, Shared = shared, Scratch = context.Scratch, N = n };
        context.For(S.Groups * n, ref solve);
    }

    /// <summary>Gradients; <paramref name="dweight"/> null when the weight gradient is not wanted.</summary>
    public static void Backward(KernelContext context, float* dy, float* y, float* weight, float h, float* drhs, float* dweight, int n)
    {
        float* shared = Prepare(context, weight, h);
        var gradient = new GradientJob { Dy = dy, Y = y, Drhs = drhs, Shared = shared, Scratch = context.Scratch, N = n, WeightGradient = dweight != null };
        context.For(S.Groups * n, ref gradient);
        if (dweight == null)
        {
            return;
        }

        var weights = new WeightGradientJob
        {
            Dweight = dweight,
            Shared = shared,
            Scratch = context.Scratch,
            Step = h,
            Units = S.Groups * n,
            Threads = context.ThreadCount,
        };
        context.For(S.Channels * ImplicitLayout<S>.GroupSize, ref weights);
    }

    /// <summary>Sizes every thread's scratch, then computes the kernel spectra and the per-frequency factors into the shared part.</summary>
    private static float* Prepare(KernelContext context, float* weight, float h)
    {
        ScratchSpace scratch = context.Scratch;
        for (int thread = 0; thread < context.ThreadCount; thread++)
        {
            scratch.Get(thread, ImplicitLayout<S>.PrivateLength + (thread == 0 ? ImplicitLayout<S>.SharedLength : 0));
        }

        float* shared = scratch.Peek(0) + ImplicitLayout<S>.PrivateLength;
        var kernels = new KernelJob { Weight = weight, Shared = shared, Scratch = scratch, Step = h };
        context.For(S.Channels * ImplicitLayout<S>.GroupSize, ref kernels);
        if (ImplicitLayout<S>.GroupSize > 1)
        {
            var factor = new FactorJob { Shared = shared, Step = h };
            context.For(ImplicitLayout<S>.Frequencies / TSimd.Count, ref factor);
        }

        return shared;
    }

    /// <summary>Spectrum of weight plane (o, i), placed at -delta_ab; depthwise also 1 / (1 + h |C^|^2).</summary>
    private struct KernelJob : IParallelJob
    {
        public float* Weight;
        public float* Shared;
        public ScratchSpace Scratch;
        public float Step;

        public readonly void Execute(int begin, int end, int thread)
        {
            int height = S.Height, width = S.Width, kernel = S.Kernel, radius = S.Kernel / 2, frequencies = ImplicitLayout<S>.Frequencies;
            float* block = Scratch.Peek(thread), work = block, plane = block + ImplicitLayout<S>.PlaneOffset;
            for (int unit = begin; unit < end; unit++)
            {
                new Span<float>(plane, height * width).Clear();
                float* taps = Weight + ((nint)unit * kernel * kernel);
                for (int a = 0; a < kernel; a++)
                {
                    for (int b = 0; b < kernel; b++)
                    {
                        // Taps wrap and add up when the kernel is wider than the image.
                        plane[(Wrap(radius - a, height) * width) + Wrap(radius - b, width)] += taps[(a * kernel) + b];
                    }
                }

                float* spectrum = Shared + ((nint)unit * ImplicitLayout<S>.Spectrum);
                Fft2d.ForwardPlane<PlaneOf<S>>(plane, spectrum, work);
                if (ImplicitLayout<S>.GroupSize == 1)
                {
                    float* inverse = Shared + ImplicitLayout<S>.FactorOffset + ((nint)unit * frequencies);
                    TVector one = TSimd.Broadcast(1f), step = TSimd.Broadcast(Step);
                    for (int f = 0; f < frequencies; f += TSimd.Count)
                    {
                        TVector re = TSimd.Load(spectrum + f), im = TSimd.Load(spectrum + frequencies + f);
                        TVector power = TSimd.MultiplyAdd(re, re, TSimd.Multiply(im, im));
                        TSimd.Store(inverse + f, TSimd.Divide(one, TSimd.MultiplyAdd(step, power, one)));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Grouped only: per frequency and group, the Cholesky factor L L^H = I + h C^^H C^ (inverse diagonal and strictly
    /// lower part). Units are runs of L frequencies.
    /// </summary>
    private struct FactorJob : IParallelJob
    {
        public float* Shared;
        public float Step;

        public readonly void Execute(int begin, int end, int thread)
        {
            int g = ImplicitLayout<S>.GroupSize;
            nint frequencies = ImplicitLayout<S>.Frequencies, spectrum = ImplicitLayout<S>.Spectrum;
            TVector one = TSimd.Broadcast(1f), step = TSimd.Broadcast(Step);
            for (int unit = begin; unit < end; unit++)
            {
                nint f = (nint)unit * TSimd.Count;
                for (int group = 0; group < S.Groups; group++)
                {
                    float* kernels = Shared + ((nint)group * g * g * spectrum) + f;
                    float* factors = Shared + ImplicitLayout<S>.FactorOffset + ((nint)group * ImplicitLayout<S>.FactorsPerGroup) + f;
                    for (int j = 0; j < g; j++)
                    {
                        for (int i = j; i < g; i++)
                        {
                            // M_ij - delta_ij = h sum_o conj(C_oi) C_oj, lower triangle (i >= j).
                            TVector mr = TSimd.Broadcast(0f), mi = TSimd.Broadcast(0f);
                            for (int o = 0; o < g; o++)
                            {
                                float* cj = kernels + (((o * g) + j) * spectrum), ci = kernels + (((o * g) + i) * spectrum);
                                TVector ajr = TSimd.Load(cj), aji = TSimd.Load(cj + frequencies), air = TSimd.Load(ci), aii = TSimd.Load(ci + frequencies);
                                mr = TSimd.MultiplyAdd(air, ajr, TSimd.MultiplyAdd(aii, aji, mr));
                                mi = TSimd.MultiplyAdd(air, aji, TSimd.NegatedMultiplyAdd(aii, ajr, mi));
                            }

                            mr = TSimd.Multiply(mr, step);
                            mi = TSimd.Multiply(mi, step);

                            // Subtract sum over k < j of L_ik conj(L_jk).
                            for (int k = 0; k < j; k++)
                            {
                                float* lik = Lower(factors, i, k), ljk = Lower(factors, j, k);
                                TVector ar = TSimd.Load(lik), ai = TSimd.Load(lik + frequencies), br = TSimd.Load(ljk), bi = TSimd.Load(ljk + frequencies);
                                mr = TSimd.Subtract(mr, TSimd.MultiplyAdd(ar, br, TSimd.Multiply(ai, bi)));
                                mi = TSimd.Subtract(mi, TSimd.MultiplySubtract(ai, br, TSimd.Multiply(ar, bi)));
                            }

                            float* diagonal = factors + (j * frequencies);
                            if (i == j)
                            {
                                TSimd.Store(diagonal, TSimd.Divide(one, TSimd.Sqrt(TSimd.Add(one, mr))));
                            }
                            else
                            {
                                TVector inverse = TSimd.Load(diagonal);
                                float* lij = Lower(factors, i, j);
                                TSimd.Store(lij, TSimd.Multiply(mr, inverse));
                                TSimd.Store(lij + frequencies, TSimd.Multiply(mi, inverse));
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Forward: FFT the group's planes, solve per frequency, inverse FFT. Units are (group, image), group-major.</summary>
    private struct SolveJob : IParallelJob
    {
        public float* Rhs;
        public float* Y;
        public float* Shared;
        public ScratchSpace Scratch;
        public int N;

        public readonly void Execute(int begin, int end, int thread)
        {
            int g = ImplicitLayout<S>.GroupSize;
            nint plane = S.Height * S.Width, spectrum = ImplicitLayout<S>.Spectrum;
            float* block = Scratch.Peek(thread), work = block, spectra = block + ImplicitLayout<S>.SpectraOffset;
            for (int unit = begin; unit < end; unit++)
            {
                int group = unit / N, image = unit % N;
                nint first = (((nint)image * S.Channels) + (group * g)) * plane;
                for (int i = 0; i < g; i++)
                {
                    Fft2d.ForwardPlane<PlaneOf<S>>(Rhs + first + (i * plane), spectra + (i * spectrum), work);
                }

                Solve(Shared, group, spectra);
                for (int i = 0; i < g; i++)
                {
                    Fft2d.InversePlane<PlaneOf<S>>(spectra + (i * spectrum), Y + first + (i * plane), work);
                }
            }
        }
    }

    /// <summary>
    /// Backward, per (group, image): V^ = A^-1 dY^ and drhs = IFFT(V^); for the weight gradient also Y^, with Z
    /// accumulated per thread (every thread that gets units clears all its accumulators first).
    /// </summary>
    private struct GradientJob : IParallelJob
    {
        public float* Dy;
        public float* Y;
        public float* Drhs;
        public float* Shared;
        public ScratchSpace Scratch;
        public int N;
        public bool WeightGradient;

        public readonly void Execute(int begin, int end, int thread)
        {
            int g = ImplicitLayout<S>.GroupSize;
            nint plane = S.Height * S.Width, spectrum = ImplicitLayout<S>.Spectrum;
            float* block = Scratch.Peek(thread), work = block;
            float* outputs = block + ImplicitLayout<S>.SpectraOffset, solved = outputs + (g * spectrum);
            float* accumulators = block + ImplicitLayout<S>.AccumulatorOffset;
            if (WeightGradient)
            {
                new Span<float>(accumulators, ImplicitLayout<S>.PrivateLength - ImplicitLayout<S>.AccumulatorOffset).Clear();
            }

            for (int unit = begin; unit < end; unit++)
            {
                int group = unit / N, image = unit % N;
                nint first = (((nint)image * S.Channels) + (group * g)) * plane;
                for (int i = 0; i < g; i++)
                {
                    Fft2d.ForwardPlane<PlaneOf<S>>(Dy + first + (i * plane), solved + (i * spectrum), work);
                }

                Solve(Shared, group, solved);
                if (WeightGradient)
                {
                    for (int i = 0; i < g; i++)
                    {
                        Fft2d.ForwardPlane<PlaneOf<S>>(Y + first + (i * plane), outputs + (i * spectrum), work);
                    }

                    if (g == 1)
                    {
                        AccumulateDepthwise(accumulators + ((nint)group * ImplicitLayout<S>.Frequencies), outputs, solved);
                    }
                    else
                    {
                        float* kernels = Shared + ((nint)group * g * g * spectrum);
                        AccumulateGrouped(accumulators + ((nint)group * g * g * spectrum), kernels, outputs, solved);
                    }
                }

                for (int i = 0; i < g; i++)
                {
                    Fft2d.InversePlane<PlaneOf<S>>(solved + (i * spectrum), Drhs + first + (i * plane), work);
                }
            }
        }
    }

    /// <summary>
    /// dweight for weight plane (o, i): the accumulators of every thread that had units summed, the inverse FFT taken,
    /// and -h times the correlation read at the K x K offsets delta_ab.
    /// </summary>
    private struct WeightGradientJob : IParallelJob
    {
        public float* Dweight;
        public float* Shared;
        public ScratchSpace Scratch;
        public float Step;
        public int Units;
        public int Threads;

        public readonly void Execute(int begin, int end, int thread)
        {
            int height = S.Height, width = S.Width, kernel = S.Kernel, radius = S.Kernel / 2, g = ImplicitLayout<S>.GroupSize;
            nint frequencies = ImplicitLayout<S>.Frequencies, spectrum = ImplicitLayout<S>.Spectrum;
            float* block = Scratch.Peek(thread), work = block, plane = block + ImplicitLayout<S>.PlaneOffset, z = block + ImplicitLayout<S>.SpectraOffset;
            for (int unit = begin; unit < end; unit++)
            {
                new Span<float>(z, (int)spectrum).Clear();
                for (int source = 0; source < Threads; source++)
                {
                    if (KernelContext.RangeStart(Units, source, Threads) == KernelContext.RangeStart(Units, source + 1, Threads))
                    {
                        continue;
                    }

                    float* accumulators = Scratch.Peek(source) + ImplicitLayout<S>.AccumulatorOffset;
                    if (g == 1)
                    {
                        Add(z, accumulators + (unit * frequencies), frequencies);
                    }
                    else
                    {
                        Add(z, accumulators + (unit * spectrum), spectrum);
                    }
                }

                if (g == 1)
                {
                    // Z = 2 conj(C^) q, q in the real plane just summed.
                    float* kernelSpectrum = Shared + (unit * spectrum);
                    TVector two = TSimd.Broadcast(2f), minusTwo = TSimd.Broadcast(-2f);
                    for (nint f = 0; f < frequencies; f += TSimd.Count)
                    {
                        TVector q = TSimd.Load(z + f);
                        TSimd.Store(z + f, TSimd.Multiply(TSimd.Multiply(TSimd.Load(kernelSpectrum + f), q), two));
                        TSimd.Store(z + frequencies + f, TSimd.Multiply(TSimd.Multiply(TSimd.Load(kernelSpectrum + frequencies + f), q), minusTwo));
                    }
                }

                Fft2d.InversePlane<PlaneOf<S>>(z, plane, work);
                float* gradient = Dweight + ((nint)unit * kernel * kernel);
                for (int a = 0; a < kernel; a++)
                {
                    for (int b = 0; b < kernel; b++)
                    {
                        gradient[(a * kernel) + b] = -Step * plane[(Wrap(a - radius, height) * width) + Wrap(b - radius, width)];
                    }
                }
            }
        }

        private static void Add(float* sum, float* values, nint length)
        {
            for (nint i = 0; i < length; i += TSimd.Count)
            {
                TSimd.Store(sum + i, TSimd.Add(TSimd.Load(sum + i), TSimd.Load(values + i)));
            }
        }
    }

    /// <summary>
    /// Solves (I + h C^^H C^) X = B in place for one group's g spectra: depthwise a scaling, grouped a forward and a back
    /// substitution with the Cholesky factor.
    /// </summary>
    private static void Solve(float* shared, int group, float* spectra)
    {
        int g = ImplicitLayout<S>.GroupSize;
        nint frequencies = ImplicitLayout<S>.Frequencies, spectrum = ImplicitLayout<S>.Spectrum;
        float* factors = shared + ImplicitLayout<S>.FactorOffset;
        if (g == 1)
        {
            float* inverse = factors + ((nint)group * frequencies);
            for (nint f = 0; f < frequencies; f += TSimd.Count)
            {
                TVector scale = TSimd.Load(inverse + f);
                TSimd.Store(spectra + f, TSimd.Multiply(TSimd.Load(spectra + f), scale));
                TSimd.Store(spectra + frequencies + f, TSimd.Multiply(TSimd.Load(spectra + frequencies + f), scale));
            }

            return;
        }

        factors += (nint)group * ImplicitLayout<S>.FactorsPerGroup;
        for (nint f = 0; f < frequencies; f += TSimd.Count)
        {
            float* lower = factors + f, x = spectra + f;

            // L u = b: u_i = (b_i - sum over j < i of L_ij u_j) / L_ii.
            for (int i = 0; i < g; i++)
            {
                float* xi = x + (i * spectrum);
                TVector re = TSimd.Load(xi), im = TSimd.Load(xi + frequencies);
                for (int j = 0; j < i; j++)
                {
                    float* lij = Lower(lower, i, j), xj = x + (j * spectrum);
                    TVector lr = TSimd.Load(lij), li = TSimd.Load(lij + frequencies), ur = TSimd.Load(xj), ui = TSimd.Load(xj + frequencies);
                    re = TSimd.Subtract(re, TSimd.MultiplySubtract(lr, ur, TSimd.Multiply(li, ui)));
                    im = TSimd.Subtract(im, TSimd.MultiplyAdd(lr, ui, TSimd.Multiply(li, ur)));
                }

                TVector inverse = TSimd.Load(lower + (i * frequencies));
                TSimd.Store(xi, TSimd.Multiply(re, inverse));
                TSimd.Store(xi + frequencies, TSimd.Multiply(im, inverse));
            }

            // L^H x = u: x_i = (u_i - sum over j > i of conj(L_ji) x_j) / L_ii.
            for (int i = g - 1; i >= 0; i--)
            {
                float* xi = x + (i * spectrum);
                TVector re = TSimd.Load(xi), im = TSimd.Load(xi + frequencies);
                for (int j = i + 1; j < g; j++)
                {
                    float* lji = Lower(lower, j, i), xj = x + (j * spectrum);
                    TVector lr = TSimd.Load(lji), li = TSimd.Load(lji + frequencies), ur = TSimd.Load(xj), ui = TSimd.Load(xj + frequencies);
                    re = TSimd.Subtract(re, TSimd.MultiplyAdd(lr, ur, TSimd.Multiply(li, ui)));
                    im = TSimd.Subtract(im, TSimd.MultiplySubtract(lr, ui, TSimd.Multiply(li, ur)));
                }

                TVector inverse = TSimd.Load(lower + (i * frequencies));
                TSimd.Store(xi, TSimd.Multiply(re, inverse));
                TSimd.Store(xi + frequencies, TSimd.Multiply(im, inverse));
            }
        }
    }

    /// <summary>Depthwise: q += Re(conj(Y^) V^) = Yr Vr + Yi Vi.</summary>
    private static void AccumulateDepthwise(float* q, float* outputs, float* solved)
    {
        nint frequencies = ImplicitLayout<S>.Frequencies;
        for (nint f = 0; f < frequencies; f += TSimd.Count)
        {
            TVector yr = TSimd.Load(outputs + f), yi = TSimd.Load(outputs + frequencies + f);
            TVector vr = TSimd.Load(solved + f), vi = TSimd.Load(solved + frequencies + f);
            TSimd.Store(q + f, TSimd.MultiplyAdd(yr, vr, TSimd.MultiplyAdd(yi, vi, TSimd.Load(q + f))));
        }
    }

    /// <summary>Grouped: Z_oi += conj((C Y)^_o) V^_i + conj((C V)^_o) Y^_i for the group's g x g weight planes.</summary>
    private static void AccumulateGrouped(float* z, float* kernels, float* outputs, float* solved)
    {
        int g = ImplicitLayout<S>.GroupSize;
        nint frequencies = ImplicitLayout<S>.Frequencies, spectrum = ImplicitLayout<S>.Spectrum;
        for (nint f = 0; f < frequencies; f += TSimd.Count)
        {
            for (int o = 0; o < g; o++)
            {
                TVector cyr = TSimd.Broadcast(0f), cyi = cyr, cvr = cyr, cvi = cyr;
                for (int i = 0; i < g; i++)
                {
                    float* c = kernels + (((o * g) + i) * spectrum) + f, yi = outputs + (i * spectrum) + f, vi = solved + (i * spectrum) + f;
                    TVector cr = TSimd.Load(c), ci = TSimd.Load(c + frequencies);
                    TVector ar = TSimd.Load(yi), ai = TSimd.Load(yi + frequencies), br = TSimd.Load(vi), bi = TSimd.Load(vi + frequencies);
                    cyr = TSimd.MultiplyAdd(cr, ar, TSimd.NegatedMultiplyAdd(ci, ai, cyr));
                    cyi = TSimd.MultiplyAdd(cr, ai, TSimd.MultiplyAdd(ci, ar, cyi));
                    cvr = TSimd.MultiplyAdd(cr, br, TSimd.NegatedMultiplyAdd(ci, bi, cvr));
                    cvi = TSimd.MultiplyAdd(cr, bi, TSimd.MultiplyAdd(ci, br, cvi));
                }

                for (int i = 0; i < g; i++)
                {
                    float* zi = z + (((o * g) + i) * spectrum) + f, yi = outputs + (i * spectrum) + f, vi = solved + (i * spectrum) + f;
                    TVector ar = TSimd.Load(yi), ai = TSimd.Load(yi + frequencies), br = TSimd.Load(vi), bi = TSimd.Load(vi + frequencies);

                    // conj(cy) v + conj(cv) y.
                    TVector re = TSimd.MultiplyAdd(cyr, br, TSimd.MultiplyAdd(cyi, bi, TSimd.MultiplyAdd(cvr, ar, TSimd.MultiplyAdd(cvi, ai, TSimd.Load(zi)))));
                    TVector im = TSimd.MultiplyAdd(cyr, bi, TSimd.MultiplyAdd(cvr, ai, TSimd.Load(zi + frequencies)));
                    im = TSimd.Subtract(im, TSimd.MultiplyAdd(cyi, br, TSimd.Multiply(cvi, ar)));
                    TSimd.Store(zi, re);
                    TSimd.Store(zi + frequencies, im);
                }
            }
        }
    }

    /// <summary>Real part of the strictly lower factor entry (i, j), j &lt; i, for the run of frequencies at <paramref name="factors"/>.</summary>
    private static float* Lower(float* factors, int i, int j) =>
        factors + (ImplicitLayout<S>.GroupSize * (nint)ImplicitLayout<S>.Frequencies) + ((((i * (i - 1)) / 2) + j) * (nint)ImplicitLayout<S>.Spectrum);

    private static int Wrap(int index, int size) => ((index % size) + size) % size;
}
