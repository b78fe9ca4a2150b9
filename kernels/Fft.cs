using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NetCompiler.Kernels;

/// <summary>
/// Compile-time size of a 2-D FFT: Height and Width are powers of two, at least 2. The generator emits one struct per
/// size; RyuJIT specialises every kernel instantiation, so the sizes, and the plan built from them, fold to constants.
/// </summary>
public interface IFftShape
{
    static abstract int Height { get; }
    static abstract int Width { get; }
}

/// <summary>
/// 2-D real-to-complex and complex-to-real FFTs of Height x Width planes (row-major, powers of two).
/// <see cref="Forward{S}"/> is the unnormalised DFT X[k, l] = sum over h, w of x[h, w] e^(-2 pi i (k h / H + l w / W));
/// <see cref="Inverse{S}"/> divides by H * W, so Inverse(Forward(x)) = x.
/// <para>
/// A spectrum holds the Hermitian half k = 0 .. H/2 (every l) as a real plane followed by an imaginary plane, each
/// (H/2 + 1) * W floats, in the order the transform produces them (<see cref="Index{S}"/> maps (k, l) to the offset of
/// the real part; the imaginary part is half a spectrum further on). The order depends on the shape and on the vector
/// width of the machine; element-wise work (a solve per frequency) does not care.
/// </para>
/// <para>
/// Algorithm: columns first, L columns per SIMD vector (L = 16, 8, 4 or 1), pairs of real columns w and w + W/2 packed
/// as one complex column and separated after a radix-4 FFT over h; rows k = 0 and H/2 (real after that pass) are packed
/// the same way, so exactly H/2 complex rows remain. L x L in-register transposes turn them into vectors across k, and
/// a second radix-4 FFT over w runs on whole vectors again. Every butterfly works on full vectors with broadcast twiddles.
/// </para>
/// </summary>
public static unsafe class Fft2d
{
    /// <summary>Floats in one spectrum: 2 * (H/2 + 1) * W.</summary>
    public static int SpectrumLength<S>()
        where S : struct, IFftShape
    {
        FftPlan<S>.Check();
        return 2 * FftPlan<S>.Frequencies;
    }

    /// <summary>
    /// Offset of Re X[k, l] in a spectrum (k = 0 .. H/2, l = 0 .. W-1); Im X[k, l] is at this plus
    /// <see cref="SpectrumLength{S}"/> / 2.
    /// </summary>
    public static int Index<S>(int k, int l)
        where S : struct, IFftShape
    {
        FftPlan<S>.Check();
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, S.Height / 2);
        ArgumentOutOfRangeException.ThrowIfNegative(l);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(l, S.Width);
        return FftPlan<S>.Index(k, l);
    }

    /// <summary>Spectra of <paramref name="count"/> planes: x is [count, H, W], spectra [count, SpectrumLength].</summary>
    public static void Forward<S>(KernelContext context, ReadOnlySpan<float> x, Span<float> spectra, int count)
        where S : struct, IFftShape
    {
        ArgumentNullException.ThrowIfNull(context);
        FftPlan<S>.Check();
        Guard.Batch(count);
        Guard.Length(x.Length, (long)count * S.Height * S.Width, nameof(x));
        Guard.Length(spectra.Length, (long)count * 2 * FftPlan<S>.Frequencies, nameof(spectra));
        fixed (float* px = x, ps = spectra)
        {
            var job = new PlaneJob<S> { Planes = px, Spectra = ps, Scratch = context.Scratch, Inverse = false };
            context.For(count, ref job);
        }
    }

    /// <summary>
    /// Real planes from <paramref name="count"/> spectra, scaled by 1 / (H * W): the real part of the inverse DFT of
    /// each spectrum's Hermitian extension (rows k &gt; H/2 taken as conj X[H - k, -l]), so any half spectrum is accepted
    /// (rows 0 and H/2 contribute their Hermitian parts). The spectra are used as workspace and overwritten.
    /// </summary>
    public static void Inverse<S>(KernelContext context, Span<float> spectra, Span<float> x, int count)
        where S : struct, IFftShape
    {
        ArgumentNullException.ThrowIfNull(context);
        FftPlan<S>.Check();
        Guard.Batch(count);
        Guard.Length(spectra.Length, (long)count * 2 * FftPlan<S>.Frequencies, nameof(spectra));
        Guard.Length(x.Length, (long)count * S.Height * S.Width, nameof(x));
        fixed (float* px = x, ps = spectra)
        {
            var job = new PlaneJob<S> { Planes = px, Spectra = ps, Scratch = context.Scratch, Inverse = true };
            context.For(count, ref job);
        }
    }

    /// <summary>Spectrum of one plane; <paramref name="work"/> holds <see cref="FftPlan{S}.WorkLength"/> floats.</summary>
    internal static void ForwardPlane<S>(float* x, float* spectrum, float* work)
        where S : struct, IFftShape
    {
        switch (FftPlan<S>.Lanes)
        {
            case 16: FftCore<S, Simd512, Vector512<float>>.Forward(x, spectrum, work); break;
            case 8: FftCore<S, Simd256, Vector256<float>>.Forward(x, spectrum, work); break;
            case 4: FftCore<S, Simd128, Vector128<float>>.Forward(x, spectrum, work); break;
            default: FftCore<S, SimdScalar, float>.Forward(x, spectrum, work); break;
        }
    }

    /// <summary>One plane from its spectrum (overwritten); <paramref name="work"/> as for <see cref="ForwardPlane{S}"/>.</summary>
    internal static void InversePlane<S>(float* spectrum, float* x, float* work)
        where S : struct, IFftShape
    {
        switch (FftPlan<S>.Lanes)
        {
            case 16: FftCore<S, Simd512, Vector512<float>>.Inverse(spectrum, x, work); break;
            case 8: FftCore<S, Simd256, Vector256<float>>.Inverse(spectrum, x, work); break;
            case 4: FftCore<S, Simd128, Vector128<float>>.Inverse(spectrum, x, work); break;
            default: FftCore<S, SimdScalar, float>.Inverse(spectrum, x, work); break;
        }
    }

    private struct PlaneJob<S> : IParallelJob
        where S : struct, IFftShape
    {
        public float* Planes;
        public float* Spectra;
        public ScratchSpace Scratch;
        public bool Inverse;

        public readonly void Execute(int begin, int end, int thread)
        {
            float* work = Scratch.Get(thread, FftPlan<S>.WorkLength);
            nint plane = S.Height * S.Width, spectrum = 2 * FftPlan<S>.Frequencies;
            for (int i = begin; i < end; i++)
            {
                if (Inverse)
                {
                    InversePlane<S>(Spectra + (i * spectrum), Planes + (i * plane), work);
                }
                else
                {
                    ForwardPlane<S>(Planes + (i * plane), Spectra + (i * spectrum), work);
                }
            }
        }
    }
}

/// <summary>
/// Per-shape constants and tables, built once per shape on first use and never freed (a few KB per size). The sizes
/// are build-time constants of the shape struct and these fields are static readonly, so tier-1 code sees them as
/// constants: the lane-width switch and the loop bounds fold away.
/// </summary>
internal static unsafe class FftPlan<S>
    where S : struct, IFftShape
{
    /// <summary>Whether Height and Width are powers of two, at least 2.</summary>
    public static readonly bool Valid = IsSize(S.Height) && IsSize(S.Width);

    /// <summary>Columns per vector in the first pass and rows per vector in the second: at most H/2 and W/2.</summary>
    public static readonly int Lanes = Valid ? ChooseLanes(Math.Min(S.Height, S.Width) / 2) : 1;

    /// <summary>Complex values in a spectrum: (H/2 + 1) * W.</summary>
    public static readonly int Frequencies = ((S.Height / 2) + 1) * S.Width;

    /// <summary>Scratch floats per plane transform: the column buffer (H complex vectors) and four L x L tiles.</summary>
    public static readonly int WorkLength = (2 * S.Height * Lanes) + (4 * Lanes * Lanes);

    public static readonly float* ColumnTwiddles = Valid ? Twiddles(S.Height) : null;
    public static readonly float* RowTwiddles = Valid ? Twiddles(S.Width) : null;
    public static readonly int* ColumnReversal = Valid ? BitReversal(S.Height) : null;
    public static readonly int* RowReversal = Valid ? BitReversal(S.Width) : null;

    public static void Check()
    {
        if (!Valid)
        {
            throw new ArgumentException($"FFT sizes must be powers of two, at least 2; {typeof(S).Name} is {S.Height} x {S.Width}.", nameof(S));
        }
    }

    /// <summary>See <see cref="Fft2d.Index{S}"/>: rows below H/2 are blocked by L (lanes = k), l is bit-reversed.</summary>
    public static int Index(int k, int l)
    {
        int width = S.Width, lanes = Lanes;
        return k == S.Height / 2
            ? (k * width) + RowReversal[l]
            : ((k - (k % lanes)) * width) + (RowReversal[l] * lanes) + (k % lanes);
    }

    private static bool IsSize(int size) => size >= 2 && BitOperations.IsPow2(size);

    private static int ChooseLanes(int limit)
    {
        if (limit >= 16 && Avx512F.IsSupported)
        {
            return 16;
        }

        if (limit >= 8 && Avx2.IsSupported && Fma.IsSupported)
        {
            return 8;
        }

        return limit >= 4 && Fma.IsSupported ? 4 : 1;
    }

    /// <summary>
    /// Twiddles of the decimation-in-frequency stages, in stage order: each radix-4 stage of span m (m = n/2, n/8, ...,
    /// while m &gt;= 2) has, for j &lt; m/2, cos and sin of t, t^2, t^3 with t = e^(-2 pi i j / 2m). Computed in double.
    /// </summary>
    private static float* Twiddles(int n)
    {
        int floats = 0;
        for (int m = n / 2; m >= 2; m /= 4)
        {
            floats += 6 * (m / 2);
        }

        float* table = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(floats, 1) * sizeof(float), 64);
        float* entry = table;
        for (int m = n / 2; m >= 2; m /= 4)
        {
            for (int j = 0; j < m / 2; j++)
            {
                for (int power = 1; power <= 3; power++)
                {
                    double angle = -Math.PI * j * power / m;
                    *entry++ = (float)Math.Cos(angle);
                    *entry++ = (float)Math.Sin(angle);
                }
            }
        }

        return table;
    }

    private static int* BitReversal(int n)
    {
        int bits = BitOperations.Log2((uint)n);
        int* table = (int*)NativeMemory.Alloc((nuint)n, sizeof(int));
        for (int i = 0; i < n; i++)
        {
            int reversed = 0;
            for (int bit = 0; bit < bits; bit++)
            {
                reversed |= ((i >> bit) & 1) << (bits - 1 - bit);
            }

            table[i] = reversed;
        }

        return table;
    }
}

/// <summary>
/// The transforms of one plane for one vector width. Radix-4 stages fuse two radix-2 stages and store their outputs
/// where the radix-2 stages would, so forward output (and inverse input) is simply bit-reversed.
/// </summary>
internal static unsafe class FftCore<S, TSimd, TVector>
    where S : struct, IFftShape
    where TSimd : struct, ISimd<TVector>
    where TVector : unmanaged
{
    /// <summary>
    /// Spectrum of the plane at <paramref name="x"/>: real and imaginary planes of (H/2 + 1) W floats; row blocks of L
    /// rows k as [l][k mod L] (l bit-reversed), then row H/2 (see <see cref="FftPlan{S}.Index"/>).
    /// </summary>
    public static void Forward(float* x, float* spectrum, float* work)
    {
        int height = S.Height, width = S.Width, lanes = TSimd.Count, half = height / 2;
        nint planes = FftPlan<S>.Frequencies, tileSize = lanes * lanes;
        float* re = spectrum, im = spectrum + planes;
        float* column = work, tile = work + (2 * height * lanes);

        // Pass 1, per L column pairs (w0 + j, w0 + W/2 + j) as one complex column: FFT over h, separate the pair,
        // and transpose each L x L tile into the row blocks (vectors across k).
        for (int w0 = 0; w0 < width / 2; w0 += lanes)
        {
            Dif(x + w0, x + w0 + (width / 2), width, column, column + lanes, 2 * lanes, height, FftPlan<S>.ColumnTwiddles);
            for (int k0 = 0; k0 < half; k0 += lanes)
            {
                SplitColumns(column, tile, k0);
                float* block = re + ((nint)k0 * width);
                nint left = (nint)w0 * lanes, right = (nint)(w0 + (width / 2)) * lanes;
                TSimd.Transpose(tile, block + left);
                TSimd.Transpose(tile + tileSize, block + planes + left);
                TSimd.Transpose(tile + (2 * tileSize), block + right);
                TSimd.Transpose(tile + (3 * tileSize), block + planes + right);
            }
        }

        // Pass 2: FFT over w, L rows at a time.
        for (int k0 = 0; k0 < half; k0 += lanes)
        {
            float* blockRe = re + ((nint)k0 * width), blockIm = im + ((nint)k0 * width);
            Dif(blockRe, blockIm, lanes, blockRe, blockIm, lanes, width, FftPlan<S>.RowTwiddles);
        }

        SplitEdgeRows(re, im);
    }

    /// <summary>The steps of <see cref="Forward"/> undone in reverse order.</summary>
    public static void Inverse(float* spectrum, float* x, float* work)
    {
        int height = S.Height, width = S.Width, lanes = TSimd.Count, half = height / 2;
        nint planes = FftPlan<S>.Frequencies, tileSize = lanes * lanes;
        float* re = spectrum, im = spectrum + planes;
        float* column = work, tile = work + (2 * height * lanes);
        MergeEdgeRows(re, im);
        for (int k0 = 0; k0 < half; k0 += lanes)
        {
            float* blockRe = re + ((nint)k0 * width), blockIm = im + ((nint)k0 * width);
            Dit(blockRe, blockIm, lanes, blockRe, blockIm, lanes, width, FftPlan<S>.RowTwiddles);
        }

        for (int w0 = 0; w0 < width / 2; w0 += lanes)
        {
            for (int k0 = 0; k0 < half; k0 += lanes)
            {
                float* block = re + ((nint)k0 * width);
                nint left = (nint)w0 * lanes, right = (nint)(w0 + (width / 2)) * lanes;
                TSimd.Transpose(block + left, tile);
                TSimd.Transpose(block + planes + left, tile + tileSize);
                TSimd.Transpose(block + right, tile + (2 * tileSize));
                TSimd.Transpose(block + planes + right, tile + (3 * tileSize));
                MergeColumns(tile, column, k0);
            }

            Dit(column, column + lanes, 2 * lanes, x + w0, x + w0 + (width / 2), width, height, FftPlan<S>.ColumnTwiddles);
        }
    }

    /// <summary>
    /// After the column FFT, slot rev(k) of <paramref name="column"/> holds Z[k] = A[k] + i B[k], A and B the DFTs of the
    /// real columns w and w + W/2. Writes A and B for rows k0 .. k0 + L - 1 as four L x L tiles (A re, A im, B re, B im),
    /// with row 0 carrying A[0] + i A[H/2] (both real), likewise B.
    /// </summary>
    private static void SplitColumns(float* column, float* tile, int k0)
    {
        int height = S.Height, lanes = TSimd.Count;
        int* reversal = FftPlan<S>.ColumnReversal;
        nint tileSize = lanes * lanes, slot = 2 * lanes;
        TVector halfValue = TSimd.Broadcast(0.5f);
        for (int j = 0; j < lanes; j++)
        {
            int k = k0 + j;
            float* z = column + (reversal[k] * slot), y = column + (reversal[k == 0 ? height / 2 : height - k] * slot);
            TVector zr = TSimd.Load(z), zi = TSimd.Load(z + lanes), yr = TSimd.Load(y), yi = TSimd.Load(y + lanes);
            float* row = tile + (j * lanes);
            if (k == 0)
            {
                // y is Z[H/2]: Z[0] and Z[H/2] are A + iB with A, B real there.
                TSimd.Store(row, zr);
                TSimd.Store(row + tileSize, yr);
                TSimd.Store(row + (2 * tileSize), zi);
                TSimd.Store(row + (3 * tileSize), yi);
            }
            else
            {
                // A = (Z[k] + conj Z[H-k]) / 2, B = (Z[k] - conj Z[H-k]) / 2i.
                TSimd.Store(row, TSimd.Multiply(TSimd.Add(zr, yr), halfValue));
                TSimd.Store(row + tileSize, TSimd.Multiply(TSimd.Subtract(zi, yi), halfValue));
                TSimd.Store(row + (2 * tileSize), TSimd.Multiply(TSimd.Add(zi, yi), halfValue));
                TSimd.Store(row + (3 * tileSize), TSimd.Multiply(TSimd.Subtract(yr, zr), halfValue));
            }
        }
    }

    /// <summary>The inverse of <see cref="SplitColumns"/>, scaled by 1 / (H W): Z[k] = A[k] + i B[k] for every k, into bit-reversed slots.</summary>
    private static void MergeColumns(float* tile, float* column, int k0)
    {
        int height = S.Height, lanes = TSimd.Count;
        int* reversal = FftPlan<S>.ColumnReversal;
        nint tileSize = lanes * lanes, slot = 2 * lanes;
        TVector scale = TSimd.Broadcast(1f / (height * S.Width));
        for (int j = 0; j < lanes; j++)
        {
            int k = k0 + j;
            float* row = tile + (j * lanes);
            TVector ar = TSimd.Multiply(TSimd.Load(row), scale), ai = TSimd.Multiply(TSimd.Load(row + tileSize), scale);
            TVector br = TSimd.Multiply(TSimd.Load(row + (2 * tileSize)), scale), bi = TSimd.Multiply(TSimd.Load(row + (3 * tileSize)), scale);
            float* z = column + (reversal[k] * slot), y = column + (reversal[k == 0 ? height / 2 : height - k] * slot);
            if (k == 0)
            {
                // Row 0 carries A[0] + i A[H/2] and B[0] + i B[H/2]; y is slot H/2.
                TSimd.Store(z, ar);
                TSimd.Store(z + lanes, br);
                TSimd.Store(y, ai);
                TSimd.Store(y + lanes, bi);
            }
            else
            {
                // Z[k] = A + iB, Z[H-k] = conj A + i conj B.
                TSimd.Store(z, TSimd.Subtract(ar, bi));
                TSimd.Store(z + lanes, TSimd.Add(ai, br));
                TSimd.Store(y, TSimd.Add(ar, bi));
                TSimd.Store(y + lanes, TSimd.Subtract(br, ai));
            }
        }
    }

    /// <summary>
    /// Lane 0 of the first row block holds P[l] = X[0, l] + i X[H/2, l] after the row FFT; splits it into X[0, l]
    /// (kept there) and X[H/2, l] (the extra row after the blocks), both Hermitian in l.
    /// </summary>
    private static void SplitEdgeRows(float* re, float* im)
    {
        int width = S.Width, lanes = TSimd.Count;
        int* reversal = FftPlan<S>.RowReversal;
        float* edgeRe = re + ((S.Height / 2) * width), edgeIm = im + ((S.Height / 2) * width);
        for (int l = 0; l <= width / 2; l++)
        {
            int p = reversal[l], q = reversal[(width - l) & (width - 1)];
            float pr = re[p * lanes], pi = im[p * lanes], qr = re[q * lanes], qi = im[q * lanes];
            float zeroRe = 0.5f * (pr + qr), zeroIm = 0.5f * (pi - qi), edgeR = 0.5f * (pi + qi), edgeI = 0.5f * (qr - pr);
            re[p * lanes] = zeroRe;
            im[p * lanes] = zeroIm;
            re[q * lanes] = zeroRe;
            im[q * lanes] = -zeroIm;
            edgeRe[p] = edgeR;
            edgeIm[p] = edgeI;
            edgeRe[q] = edgeR;
            edgeIm[q] = -edgeI;
        }
    }

    /// <summary>
    /// The inverse of <see cref="SplitEdgeRows"/> on the Hermitian parts of rows 0 and H/2, so their inverse transforms are
    /// real and pack into one complex row.
    /// </summary>
    private static void MergeEdgeRows(float* re, float* im)
    {
        int width = S.Width, lanes = TSimd.Count;
        int* reversal = FftPlan<S>.RowReversal;
        float* edgeRe = re + ((S.Height / 2) * width), edgeIm = im + ((S.Height / 2) * width);
        for (int l = 0; l <= width / 2; l++)
        {
            int p = reversal[l], q = reversal[(width - l) & (width - 1)];
            float zeroRe = 0.5f * (re[p * lanes] + re[q * lanes]), zeroIm = 0.5f * (im[p * lanes] - im[q * lanes]);
            float edgeR = 0.5f * (edgeRe[p] + edgeRe[q]), edgeI = 0.5f * (edgeIm[p] - edgeIm[q]);
            re[p * lanes] = zeroRe - edgeI;
            im[p * lanes] = zeroIm + edgeR;
            re[q * lanes] = zeroRe + edgeI;
            im[q * lanes] = edgeR - zeroIm;
        }
    }

    /// <summary>
    /// Decimation-in-frequency FFT of length <paramref name="n"/> over complex vectors (element j at re + j * stride),
    /// natural order in, bit-reversed out. The first stage reads from the source, the rest work in place.
    /// </summary>
    private static void Dif(float* sourceRe, float* sourceIm, nint sourceStride, float* re, float* im, nint stride, int n, float* twiddles)
    {
        float* table = twiddles;
        int m = n / 2;
        for (; m >= 2; m /= 4)
        {
            if (m == 2)
            {
                Radix4(sourceRe, sourceIm, sourceStride, re, im, stride, n, inverse: false);
            }
            else
            {
                Radix4Dif(sourceRe, sourceIm, sourceStride, re, im, stride, n, m, table);
            }

            table += 6 * (m / 2);
            sourceRe = re;
            sourceIm = im;
            sourceStride = stride;
        }

        if (m == 1)
        {
            Radix2(sourceRe, sourceIm, sourceStride, re, im, stride, n);
        }
    }

    /// <summary>
    /// The inverse of <see cref="Dif"/> without the 1/n: bit-reversed in, natural out, the stages in reverse order with
    /// conjugate twiddles. Works in place; the last stage writes to the destination.
    /// </summary>
    private static void Dit(float* re, float* im, nint stride, float* destinationRe, float* destinationIm, nint destinationStride, int n, float* twiddles)
    {
        int stages = 0, tableLength = 0, m = n / 2;
        for (; m >= 2; m /= 4)
        {
            stages++;
            tableLength += 6 * (m / 2);
        }

        if (m == 1)
        {
            bool only = stages == 0;
            Radix2(re, im, stride, only ? destinationRe : re, only ? destinationIm : im, only ? destinationStride : stride, n);
        }

        float* table = twiddles + tableLength;
        for (int stage = stages - 1; stage >= 0; stage--)
        {
            int span = (n / 2) >> (2 * stage);
            table -= 6 * (span / 2);
            float* outRe = stage == 0 ? destinationRe : re, outIm = stage == 0 ? destinationIm : im;
            nint outStride = stage == 0 ? destinationStride : stride;
            if (span == 2)
            {
                Radix4(re, im, stride, outRe, outIm, outStride, n, inverse: true);
            }
            else
            {
                Radix4Dit(re, im, stride, outRe, outIm, outStride, n, span, table);
            }
        }
    }

    /// <summary>Two fused radix-2 DIF stages of spans m and m/2: x0..x3 at j, j + m/2, j + m, j + 3m/2 of each 2m block.</summary>
    private static void Radix4Dif(float* inRe, float* inIm, nint inStride, float* re, float* im, nint stride, int n, int m, float* table)
    {
        nint inStep = (m / 2) * inStride, step = (m / 2) * stride;
        for (int j = 0; j < m / 2; j++)
        {
            float* t = table + (6 * j);
            TVector c1 = TSimd.Broadcast(t[0]), s1 = TSimd.Broadcast(t[1]), c2 = TSimd.Broadcast(t[2]);
            TVector s2 = TSimd.Broadcast(t[3]), c3 = TSimd.Broadcast(t[4]), s3 = TSimd.Broadcast(t[5]);
            for (int start = j; start < n; start += 2 * m)
            {
                float* ar = inRe + (start * inStride), ai = inIm + (start * inStride);
                TVector x0r = TSimd.Load(ar), x0i = TSimd.Load(ai);
                TVector x1r = TSimd.Load(ar + inStep), x1i = TSimd.Load(ai + inStep);
                TVector x2r = TSimd.Load(ar + (2 * inStep)), x2i = TSimd.Load(ai + (2 * inStep));
                TVector x3r = TSimd.Load(ar + (3 * inStep)), x3i = TSimd.Load(ai + (3 * inStep));
                TVector s02r = TSimd.Add(x0r, x2r), s02i = TSimd.Add(x0i, x2i), d02r = TSimd.Subtract(x0r, x2r), d02i = TSimd.Subtract(x0i, x2i);
                TVector s13r = TSimd.Add(x1r, x3r), s13i = TSimd.Add(x1i, x3i), d13r = TSimd.Subtract(x1r, x3r), d13i = TSimd.Subtract(x1i, x3i);

                // z0 = s02 + s13, z1 = (s02 - s13) t^2, z2 = (d02 - i d13) t, z3 = (d02 + i d13) t^3.
                float* br = re + (start * stride), bi = im + (start * stride);
                TSimd.Store(br, TSimd.Add(s02r, s13r));
                TSimd.Store(bi, TSimd.Add(s02i, s13i));
                TVector ur = TSimd.Subtract(s02r, s13r), ui = TSimd.Subtract(s02i, s13i);
                TSimd.Store(br + step, MulRe(ur, ui, c2, s2));
                TSimd.Store(bi + step, MulIm(ur, ui, c2, s2));
                TVector vr = TSimd.Add(d02r, d13i), vi = TSimd.Subtract(d02i, d13r);
                TSimd.Store(br + (2 * step), MulRe(vr, vi, c1, s1));
                TSimd.Store(bi + (2 * step), MulIm(vr, vi, c1, s1));
                TVector wr = TSimd.Subtract(d02r, d13i), wi = TSimd.Add(d02i, d13r);
                TSimd.Store(br + (3 * step), MulRe(wr, wi, c3, s3));
                TSimd.Store(bi + (3 * step), MulIm(wr, wi, c3, s3));
            }
        }
    }

    /// <summary>The inverse of <see cref="Radix4Dif"/> (times 4).</summary>
    private static void Radix4Dit(float* re, float* im, nint stride, float* outRe, float* outIm, nint outStride, int n, int m, float* table)
    {
        nint step = (m / 2) * stride, outStep = (m / 2) * outStride;
        for (int j = 0; j < m / 2; j++)
        {
            float* t = table + (6 * j);
            TVector c1 = TSimd.Broadcast(t[0]), s1 = TSimd.Broadcast(t[1]), c2 = TSimd.Broadcast(t[2]);
            TVector s2 = TSimd.Broadcast(t[3]), c3 = TSimd.Broadcast(t[4]), s3 = TSimd.Broadcast(t[5]);
            for (int start = j; start < n; start += 2 * m)
            {
                float* zr = re + (start * stride), zi = im + (start * stride);
                TVector z0r = TSimd.Load(zr), z0i = TSimd.Load(zi);
                TVector z1r = TSimd.Load(zr + step), z1i = TSimd.Load(zi + step);
                TVector z2r = TSimd.Load(zr + (2 * step)), z2i = TSimd.Load(zi + (2 * step));
                TVector z3r = TSimd.Load(zr + (3 * step)), z3i = TSimd.Load(zi + (3 * step));

                // a = z1 conj t^2, b = z2 conj t, c = z3 conj t^3; x0,2 = z0 + a +- (b + c), x1,3 = z0 - a +- i (b - c).
                TVector ar = MulConjRe(z1r, z1i, c2, s2), ai = MulConjIm(z1r, z1i, c2, s2);
                TVector br = MulConjRe(z2r, z2i, c1, s1), bi = MulConjIm(z2r, z2i, c1, s1);
                TVector cr = MulConjRe(z3r, z3i, c3, s3), ci = MulConjIm(z3r, z3i, c3, s3);
                TVector y0r = TSimd.Add(z0r, ar), y0i = TSimd.Add(z0i, ai), y1r = TSimd.Subtract(z0r, ar), y1i = TSimd.Subtract(z0i, ai);
                TVector pr = TSimd.Add(br, cr), pi = TSimd.Add(bi, ci), qr = TSimd.Subtract(br, cr), qi = TSimd.Subtract(bi, ci);
                float* xr = outRe + (start * outStride), xi = outIm + (start * outStride);
                TSimd.Store(xr, TSimd.Add(y0r, pr));
                TSimd.Store(xi, TSimd.Add(y0i, pi));
                TSimd.Store(xr + outStep, TSimd.Subtract(y1r, qi));
                TSimd.Store(xi + outStep, TSimd.Add(y1i, qr));
                TSimd.Store(xr + (2 * outStep), TSimd.Subtract(y0r, pr));
                TSimd.Store(xi + (2 * outStep), TSimd.Subtract(y0i, pi));
                TSimd.Store(xr + (3 * outStep), TSimd.Add(y1r, qi));
                TSimd.Store(xi + (3 * outStep), TSimd.Subtract(y1i, qr));
            }
        }
    }

    /// <summary>The span-2 radix-4 stage, whose twiddles are all 1 (forward) or, inverted, its DIT counterpart.</summary>
    private static void Radix4(float* inRe, float* inIm, nint inStride, float* re, float* im, nint stride, int n, bool inverse)
    {
        for (int start = 0; start < n; start += 4)
        {
            float* ar = inRe + (start * inStride), ai = inIm + (start * inStride);
            TVector x0r = TSimd.Load(ar), x0i = TSimd.Load(ai);
            TVector x1r = TSimd.Load(ar + inStride), x1i = TSimd.Load(ai + inStride);
            TVector x2r = TSimd.Load(ar + (2 * inStride)), x2i = TSimd.Load(ai + (2 * inStride));
            TVector x3r = TSimd.Load(ar + (3 * inStride)), x3i = TSimd.Load(ai + (3 * inStride));
            float* br = re + (start * stride), bi = im + (start * stride);
            if (inverse)
            {
                // x0..x3 are z0..z3 here: y0 = z0 + z1, y1 = z0 - z1, p = z2 + z3, q = z2 - z3.
                TVector y0r = TSimd.Add(x0r, x1r), y0i = TSimd.Add(x0i, x1i), y1r = TSimd.Subtract(x0r, x1r), y1i = TSimd.Subtract(x0i, x1i);
                TVector pr = TSimd.Add(x2r, x3r), pi = TSimd.Add(x2i, x3i), qr = TSimd.Subtract(x2r, x3r), qi = TSimd.Subtract(x2i, x3i);
                TSimd.Store(br, TSimd.Add(y0r, pr));
                TSimd.Store(bi, TSimd.Add(y0i, pi));
                TSimd.Store(br + stride, TSimd.Subtract(y1r, qi));
                TSimd.Store(bi + stride, TSimd.Add(y1i, qr));
                TSimd.Store(br + (2 * stride), TSimd.Subtract(y0r, pr));
                TSimd.Store(bi + (2 * stride), TSimd.Subtract(y0i, pi));
                TSimd.Store(br + (3 * stride), TSimd.Add(y1r, qi));
                TSimd.Store(bi + (3 * stride), TSimd.Subtract(y1i, qr));
            }
            else
            {
                TVector s02r = TSimd.Add(x0r, x2r), s02i = TSimd.Add(x0i, x2i), d02r = TSimd.Subtract(x0r, x2r), d02i = TSimd.Subtract(x0i, x2i);
                TVector s13r = TSimd.Add(x1r, x3r), s13i = TSimd.Add(x1i, x3i), d13r = TSimd.Subtract(x1r, x3r), d13i = TSimd.Subtract(x1i, x3i);
                TSimd.Store(br, TSimd.Add(s02r, s13r));
                TSimd.Store(bi, TSimd.Add(s02i, s13i));
                TSimd.Store(br + stride, TSimd.Subtract(s02r, s13r));
                TSimd.Store(bi + stride, TSimd.Subtract(s02i, s13i));
                TSimd.Store(br + (2 * stride), TSimd.Add(d02r, d13i));
                TSimd.Store(bi + (2 * stride), TSimd.Subtract(d02i, d13r));
                TSimd.Store(br + (3 * stride), TSimd.Subtract(d02r, d13i));
                TSimd.Store(bi + (3 * stride), TSimd.Add(d02i, d13r));
            }
        }
    }

    /// <summary>The span-1 radix-2 stage (twiddle 1), the same in both directions.</summary>
    private static void Radix2(float* inRe, float* inIm, nint inStride, float* re, float* im, nint stride, int n)
    {
        for (int start = 0; start < n; start += 2)
        {
            float* ar = inRe + (start * inStride), ai = inIm + (start * inStride);
            TVector x0r = TSimd.Load(ar), x0i = TSimd.Load(ai), x1r = TSimd.Load(ar + inStride), x1i = TSimd.Load(ai + inStride);
            float* br = re + (start * stride), bi = im + (start * stride);
            TSimd.Store(br, TSimd.Add(x0r, x1r));
            TSimd.Store(bi, TSimd.Add(x0i, x1i));
            TSimd.Store(br + stride, TSimd.Subtract(x0r, x1r));
            TSimd.Store(bi + stride, TSimd.Subtract(x0i, x1i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulRe(TVector xr, TVector xi, TVector c, TVector s) => TSimd.MultiplySubtract(xr, c, TSimd.Multiply(xi, s));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulIm(TVector xr, TVector xi, TVector c, TVector s) => TSimd.MultiplyAdd(xr, s, TSimd.Multiply(xi, c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulConjRe(TVector xr, TVector xi, TVector c, TVector s) => TSimd.MultiplyAdd(xr, c, TSimd.Multiply(xi, s));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulConjIm(TVector xr, TVector xi, TVector c, TVector s) => TSimd.MultiplySubtract(xi, c, TSimd.Multiply(xr, s));
}
