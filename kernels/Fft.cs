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
            case 16: FftCore<S, FftLanes512, Vector512<float>>.Forward(x, spectrum, work); break;
            case 8: FftCore<S, FftLanes256, Vector256<float>>.Forward(x, spectrum, work); break;
            case 4: FftCore<S, FftLanes128, Vector128<float>>.Forward(x, spectrum, work); break;
            default: FftCore<S, FftLanes1, float>.Forward(x, spectrum, work); break;
        }
    }

    /// <summary>One plane from its spectrum (overwritten); <paramref name="work"/> as for <see cref="ForwardPlane{S}"/>.</summary>
    internal static void InversePlane<S>(float* spectrum, float* x, float* work)
        where S : struct, IFftShape
    {
        switch (FftPlan<S>.Lanes)
        {
            case 16: FftCore<S, FftLanes512, Vector512<float>>.Inverse(spectrum, x, work); break;
            case 8: FftCore<S, FftLanes256, Vector256<float>>.Inverse(spectrum, x, work); break;
            case 4: FftCore<S, FftLanes128, Vector128<float>>.Inverse(spectrum, x, work); break;
            default: FftCore<S, FftLanes1, float>.Inverse(spectrum, x, work); break;
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
internal static unsafe class FftCore<S, TLanes, TVector>
    where S : struct, IFftShape
    where TLanes : struct, IFftLanes<TVector>
    where TVector : unmanaged
{
    /// <summary>
    /// Spectrum of the plane at <paramref name="x"/>: real and imaginary planes of (H/2 + 1) W floats; row blocks of L
    /// rows k as [l][k mod L] (l bit-reversed), then row H/2 (see <see cref="FftPlan{S}.Index"/>).
    /// </summary>
    public static void Forward(float* x, float* spectrum, float* work)
    {
        int height = S.Height, width = S.Width, lanes = TLanes.Count, half = height / 2;
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
                TLanes.Transpose(tile, block + left);
                TLanes.Transpose(tile + tileSize, block + planes + left);
                TLanes.Transpose(tile + (2 * tileSize), block + right);
                TLanes.Transpose(tile + (3 * tileSize), block + planes + right);
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
        int height = S.Height, width = S.Width, lanes = TLanes.Count, half = height / 2;
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
                TLanes.Transpose(block + left, tile);
                TLanes.Transpose(block + planes + left, tile + tileSize);
                TLanes.Transpose(block + right, tile + (2 * tileSize));
                TLanes.Transpose(block + planes + right, tile + (3 * tileSize));
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
        int height = S.Height, lanes = TLanes.Count;
        int* reversal = FftPlan<S>.ColumnReversal;
        nint tileSize = lanes * lanes, slot = 2 * lanes;
        TVector halfValue = TLanes.Broadcast(0.5f);
        for (int j = 0; j < lanes; j++)
        {
            int k = k0 + j;
            float* z = column + (reversal[k] * slot), y = column + (reversal[k == 0 ? height / 2 : height - k] * slot);
            TVector zr = TLanes.Load(z), zi = TLanes.Load(z + lanes), yr = TLanes.Load(y), yi = TLanes.Load(y + lanes);
            float* row = tile + (j * lanes);
            if (k == 0)
            {
                // y is Z[H/2]: Z[0] and Z[H/2] are A + iB with A, B real there.
                TLanes.Store(row, zr);
                TLanes.Store(row + tileSize, yr);
                TLanes.Store(row + (2 * tileSize), zi);
                TLanes.Store(row + (3 * tileSize), yi);
            }
            else
            {
                // A = (Z[k] + conj Z[H-k]) / 2, B = (Z[k] - conj Z[H-k]) / 2i.
                TLanes.Store(row, TLanes.Multiply(TLanes.Add(zr, yr), halfValue));
                TLanes.Store(row + tileSize, TLanes.Multiply(TLanes.Subtract(zi, yi), halfValue));
                TLanes.Store(row + (2 * tileSize), TLanes.Multiply(TLanes.Add(zi, yi), halfValue));
                TLanes.Store(row + (3 * tileSize), TLanes.Multiply(TLanes.Subtract(yr, zr), halfValue));
            }
        }
    }

    /// <summary>The inverse of <see cref="SplitColumns"/>, scaled by 1 / (H W): Z[k] = A[k] + i B[k] for every k, into bit-reversed slots.</summary>
    private static void MergeColumns(float* tile, float* column, int k0)
    {
        int height = S.Height, lanes = TLanes.Count;
        int* reversal = FftPlan<S>.ColumnReversal;
        nint tileSize = lanes * lanes, slot = 2 * lanes;
        TVector scale = TLanes.Broadcast(1f / (height * S.Width));
        for (int j = 0; j < lanes; j++)
        {
            int k = k0 + j;
            float* row = tile + (j * lanes);
            TVector ar = TLanes.Multiply(TLanes.Load(row), scale), ai = TLanes.Multiply(TLanes.Load(row + tileSize), scale);
            TVector br = TLanes.Multiply(TLanes.Load(row + (2 * tileSize)), scale), bi = TLanes.Multiply(TLanes.Load(row + (3 * tileSize)), scale);
            float* z = column + (reversal[k] * slot), y = column + (reversal[k == 0 ? height / 2 : height - k] * slot);
            if (k == 0)
            {
                // Row 0 carries A[0] + i A[H/2] and B[0] + i B[H/2]; y is slot H/2.
                TLanes.Store(z, ar);
                TLanes.Store(z + lanes, br);
                TLanes.Store(y, ai);
                TLanes.Store(y + lanes, bi);
            }
            else
            {
                // Z[k] = A + iB, Z[H-k] = conj A + i conj B.
                TLanes.Store(z, TLanes.Subtract(ar, bi));
                TLanes.Store(z + lanes, TLanes.Add(ai, br));
                TLanes.Store(y, TLanes.Add(ar, bi));
                TLanes.Store(y + lanes, TLanes.Subtract(br, ai));
            }
        }
    }

    /// <summary>
    /// Lane 0 of the first row block holds P[l] = X[0, l] + i X[H/2, l] after the row FFT; splits it into X[0, l]
    /// (kept there) and X[H/2, l] (the extra row after the blocks), both Hermitian in l.
    /// </summary>
    private static void SplitEdgeRows(float* re, float* im)
    {
        int width = S.Width, lanes = TLanes.Count;
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
        int width = S.Width, lanes = TLanes.Count;
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
            TVector c1 = TLanes.Broadcast(t[0]), s1 = TLanes.Broadcast(t[1]), c2 = TLanes.Broadcast(t[2]);
            TVector s2 = TLanes.Broadcast(t[3]), c3 = TLanes.Broadcast(t[4]), s3 = TLanes.Broadcast(t[5]);
            for (int start = j; start < n; start += 2 * m)
            {
                float* ar = inRe + (start * inStride), ai = inIm + (start * inStride);
                TVector x0r = TLanes.Load(ar), x0i = TLanes.Load(ai);
                TVector x1r = TLanes.Load(ar + inStep), x1i = TLanes.Load(ai + inStep);
                TVector x2r = TLanes.Load(ar + (2 * inStep)), x2i = TLanes.Load(ai + (2 * inStep));
                TVector x3r = TLanes.Load(ar + (3 * inStep)), x3i = TLanes.Load(ai + (3 * inStep));
                TVector s02r = TLanes.Add(x0r, x2r), s02i = TLanes.Add(x0i, x2i), d02r = TLanes.Subtract(x0r, x2r), d02i = TLanes.Subtract(x0i, x2i);
                TVector s13r = TLanes.Add(x1r, x3r), s13i = TLanes.Add(x1i, x3i), d13r = TLanes.Subtract(x1r, x3r), d13i = TLanes.Subtract(x1i, x3i);

                // z0 = s02 + s13, z1 = (s02 - s13) t^2, z2 = (d02 - i d13) t, z3 = (d02 + i d13) t^3.
                float* br = re + (start * stride), bi = im + (start * stride);
                TLanes.Store(br, TLanes.Add(s02r, s13r));
                TLanes.Store(bi, TLanes.Add(s02i, s13i));
                TVector ur = TLanes.Subtract(s02r, s13r), ui = TLanes.Subtract(s02i, s13i);
                TLanes.Store(br + step, MulRe(ur, ui, c2, s2));
                TLanes.Store(bi + step, MulIm(ur, ui, c2, s2));
                TVector vr = TLanes.Add(d02r, d13i), vi = TLanes.Subtract(d02i, d13r);
                TLanes.Store(br + (2 * step), MulRe(vr, vi, c1, s1));
                TLanes.Store(bi + (2 * step), MulIm(vr, vi, c1, s1));
                TVector wr = TLanes.Subtract(d02r, d13i), wi = TLanes.Add(d02i, d13r);
                TLanes.Store(br + (3 * step), MulRe(wr, wi, c3, s3));
                TLanes.Store(bi + (3 * step), MulIm(wr, wi, c3, s3));
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
            TVector c1 = TLanes.Broadcast(t[0]), s1 = TLanes.Broadcast(t[1]), c2 = TLanes.Broadcast(t[2]);
            TVector s2 = TLanes.Broadcast(t[3]), c3 = TLanes.Broadcast(t[4]), s3 = TLanes.Broadcast(t[5]);
            for (int start = j; start < n; start += 2 * m)
            {
                float* zr = re + (start * stride), zi = im + (start * stride);
                TVector z0r = TLanes.Load(zr), z0i = TLanes.Load(zi);
                TVector z1r = TLanes.Load(zr + step), z1i = TLanes.Load(zi + step);
                TVector z2r = TLanes.Load(zr + (2 * step)), z2i = TLanes.Load(zi + (2 * step));
                TVector z3r = TLanes.Load(zr + (3 * step)), z3i = TLanes.Load(zi + (3 * step));

                // a = z1 conj t^2, b = z2 conj t, c = z3 conj t^3; x0,2 = z0 + a +- (b + c), x1,3 = z0 - a +- i (b - c).
                TVector ar = MulConjRe(z1r, z1i, c2, s2), ai = MulConjIm(z1r, z1i, c2, s2);
                TVector br = MulConjRe(z2r, z2i, c1, s1), bi = MulConjIm(z2r, z2i, c1, s1);
                TVector cr = MulConjRe(z3r, z3i, c3, s3), ci = MulConjIm(z3r, z3i, c3, s3);
                TVector y0r = TLanes.Add(z0r, ar), y0i = TLanes.Add(z0i, ai), y1r = TLanes.Subtract(z0r, ar), y1i = TLanes.Subtract(z0i, ai);
                TVector pr = TLanes.Add(br, cr), pi = TLanes.Add(bi, ci), qr = TLanes.Subtract(br, cr), qi = TLanes.Subtract(bi, ci);
                float* xr = outRe + (start * outStride), xi = outIm + (start * outStride);
                TLanes.Store(xr, TLanes.Add(y0r, pr));
                TLanes.Store(xi, TLanes.Add(y0i, pi));
                TLanes.Store(xr + outStep, TLanes.Subtract(y1r, qi));
                TLanes.Store(xi + outStep, TLanes.Add(y1i, qr));
                TLanes.Store(xr + (2 * outStep), TLanes.Subtract(y0r, pr));
                TLanes.Store(xi + (2 * outStep), TLanes.Subtract(y0i, pi));
                TLanes.Store(xr + (3 * outStep), TLanes.Add(y1r, qi));
                TLanes.Store(xi + (3 * outStep), TLanes.Subtract(y1i, qr));
            }
        }
    }

    /// <summary>The span-2 radix-4 stage, whose twiddles are all 1 (forward) or, inverted, its DIT counterpart.</summary>
    private static void Radix4(float* inRe, float* inIm, nint inStride, float* re, float* im, nint stride, int n, bool inverse)
    {
        for (int start = 0; start < n; start += 4)
        {
            float* ar = inRe + (start * inStride), ai = inIm + (start * inStride);
            TVector x0r = TLanes.Load(ar), x0i = TLanes.Load(ai);
            TVector x1r = TLanes.Load(ar + inStride), x1i = TLanes.Load(ai + inStride);
            TVector x2r = TLanes.Load(ar + (2 * inStride)), x2i = TLanes.Load(ai + (2 * inStride));
            TVector x3r = TLanes.Load(ar + (3 * inStride)), x3i = TLanes.Load(ai + (3 * inStride));
            float* br = re + (start * stride), bi = im + (start * stride);
            if (inverse)
            {
                // x0..x3 are z0..z3 here: y0 = z0 + z1, y1 = z0 - z1, p = z2 + z3, q = z2 - z3.
                TVector y0r = TLanes.Add(x0r, x1r), y0i = TLanes.Add(x0i, x1i), y1r = TLanes.Subtract(x0r, x1r), y1i = TLanes.Subtract(x0i, x1i);
                TVector pr = TLanes.Add(x2r, x3r), pi = TLanes.Add(x2i, x3i), qr = TLanes.Subtract(x2r, x3r), qi = TLanes.Subtract(x2i, x3i);
                TLanes.Store(br, TLanes.Add(y0r, pr));
                TLanes.Store(bi, TLanes.Add(y0i, pi));
                TLanes.Store(br + stride, TLanes.Subtract(y1r, qi));
                TLanes.Store(bi + stride, TLanes.Add(y1i, qr));
                TLanes.Store(br + (2 * stride), TLanes.Subtract(y0r, pr));
                TLanes.Store(bi + (2 * stride), TLanes.Subtract(y0i, pi));
                TLanes.Store(br + (3 * stride), TLanes.Add(y1r, qi));
                TLanes.Store(bi + (3 * stride), TLanes.Subtract(y1i, qr));
            }
            else
            {
                TVector s02r = TLanes.Add(x0r, x2r), s02i = TLanes.Add(x0i, x2i), d02r = TLanes.Subtract(x0r, x2r), d02i = TLanes.Subtract(x0i, x2i);
                TVector s13r = TLanes.Add(x1r, x3r), s13i = TLanes.Add(x1i, x3i), d13r = TLanes.Subtract(x1r, x3r), d13i = TLanes.Subtract(x1i, x3i);
                TLanes.Store(br, TLanes.Add(s02r, s13r));
                TLanes.Store(bi, TLanes.Add(s02i, s13i));
                TLanes.Store(br + stride, TLanes.Subtract(s02r, s13r));
                TLanes.Store(bi + stride, TLanes.Subtract(s02i, s13i));
                TLanes.Store(br + (2 * stride), TLanes.Add(d02r, d13i));
                TLanes.Store(bi + (2 * stride), TLanes.Subtract(d02i, d13r));
                TLanes.Store(br + (3 * stride), TLanes.Subtract(d02r, d13i));
                TLanes.Store(bi + (3 * stride), TLanes.Add(d02i, d13r));
            }
        }
    }

    /// <summary>The span-1 radix-2 stage (twiddle 1), the same in both directions.</summary>
    private static void Radix2(float* inRe, float* inIm, nint inStride, float* re, float* im, nint stride, int n)
    {
        for (int start = 0; start < n; start += 2)
        {
            float* ar = inRe + (start * inStride), ai = inIm + (start * inStride);
            TVector x0r = TLanes.Load(ar), x0i = TLanes.Load(ai), x1r = TLanes.Load(ar + inStride), x1i = TLanes.Load(ai + inStride);
            float* br = re + (start * stride), bi = im + (start * stride);
            TLanes.Store(br, TLanes.Add(x0r, x1r));
            TLanes.Store(bi, TLanes.Add(x0i, x1i));
            TLanes.Store(br + stride, TLanes.Subtract(x0r, x1r));
            TLanes.Store(bi + stride, TLanes.Subtract(x0i, x1i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulRe(TVector xr, TVector xi, TVector c, TVector s) => TLanes.MultiplySubtract(xr, c, TLanes.Multiply(xi, s));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulIm(TVector xr, TVector xi, TVector c, TVector s) => TLanes.MultiplyAdd(xr, s, TLanes.Multiply(xi, c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulConjRe(TVector xr, TVector xi, TVector c, TVector s) => TLanes.MultiplyAdd(xr, c, TLanes.Multiply(xi, s));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector MulConjIm(TVector xr, TVector xi, TVector c, TVector s) => TLanes.MultiplySubtract(xi, c, TLanes.Multiply(xr, s));
}

/// <summary>
/// The vector operations the FFT and the per-frequency solves need, one implementation per width, so one kernel body
/// serves every instruction set (RyuJIT specialises it per struct and the calls inline to single instructions).
/// </summary>
internal unsafe interface IFftLanes<TVector>
    where TVector : unmanaged
{
    static abstract int Count { get; }
    static abstract TVector Load(float* source);
    static abstract void Store(float* destination, TVector value);
    static abstract TVector Broadcast(float value);
    static abstract TVector Add(TVector left, TVector right);
    static abstract TVector Subtract(TVector left, TVector right);
    static abstract TVector Multiply(TVector left, TVector right);
    static abstract TVector Divide(TVector left, TVector right);
    static abstract TVector Sqrt(TVector value);

    /// <summary>left * right + addend.</summary>
    static abstract TVector MultiplyAdd(TVector left, TVector right, TVector addend);

    /// <summary>left * right - subtrahend.</summary>
    static abstract TVector MultiplySubtract(TVector left, TVector right, TVector subtrahend);

    /// <summary>addend - left * right.</summary>
    static abstract TVector NegatedMultiplyAdd(TVector left, TVector right, TVector addend);

    /// <summary>Transposes the Count x Count tile of rows Count floats apart at <paramref name="source"/> into <paramref name="destination"/> (same layout).</summary>
    static abstract void Transpose(float* source, float* destination);
}

internal readonly unsafe struct FftLanes512 : IFftLanes<Vector512<float>>
{
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector512<float> value) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Divide(Vector512<float> left, Vector512<float> right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sqrt(Vector512<float> value) => Vector512.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Avx512F.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplySubtract(Vector512<float> left, Vector512<float> right, Vector512<float> subtrahend) =>
        Avx512F.FusedMultiplySubtract(left, right, subtrahend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NegatedMultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Avx512F.FusedMultiplyAddNegated(left, right, addend);

    /// <summary>
    /// 16 x 16 in four rounds of 16 shuffles: interleave pairs of rows (unpack ps), pairs of pairs (unpack pd), then
    /// exchange 128-bit lanes twice (shuffle f32x4).
    /// </summary>
    public static void Transpose(float* source, float* destination)
    {
        // Group g (rows 4g .. 4g + 3) gives gc (c = 0..3), whose 128-bit lane q holds column 4q + c of those rows.
        (Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3) = Group(source);
        (Vector512<float> b0, Vector512<float> b1, Vector512<float> b2, Vector512<float> b3) = Group(source + 64);
        (Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3) = Group(source + 128);
        (Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3) = Group(source + 192);
        Columns(a0, b0, c0, d0, destination);
        Columns(a1, b1, c1, d1, destination + 16);
        Columns(a2, b2, c2, d2, destination + 32);
        Columns(a3, b3, c3, d3, destination + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Group(float* rows)
    {
        Vector512<float> r0 = Vector512.Load(rows), r1 = Vector512.Load(rows + 16), r2 = Vector512.Load(rows + 32), r3 = Vector512.Load(rows + 48);
        Vector512<double> low01 = Avx512F.UnpackLow(r0, r1).AsDouble(), high01 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> low23 = Avx512F.UnpackLow(r2, r3).AsDouble(), high23 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        return (Avx512F.UnpackLow(low01, low23).AsSingle(), Avx512F.UnpackHigh(low01, low23).AsSingle(),
            Avx512F.UnpackLow(high01, high23).AsSingle(), Avx512F.UnpackHigh(high01, high23).AsSingle());
    }

    /// <summary>Lane q of group g's vectors for column c goes to lane g of output row 4q + c (rows 64 floats apart from <paramref name="destination"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3, float* destination)
    {
        Vector512<float> s0 = Avx512F.Shuffle4x128(g0, g1, 0x88), s1 = Avx512F.Shuffle4x128(g0, g1, 0xDD);
        Vector512<float> s2 = Avx512F.Shuffle4x128(g2, g3, 0x88), s3 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        Avx512F.Shuffle4x128(s0, s2, 0x88).Store(destination);
        Avx512F.Shuffle4x128(s1, s3, 0x88).Store(destination + 64);
        Avx512F.Shuffle4x128(s0, s2, 0xDD).Store(destination + 128);
        Avx512F.Shuffle4x128(s1, s3, 0xDD).Store(destination + 192);
    }
}

internal readonly unsafe struct FftLanes256 : IFftLanes<Vector256<float>>
{
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector256<float> value) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Divide(Vector256<float> left, Vector256<float> right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sqrt(Vector256<float> value) => Vector256.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Fma.MultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplySubtract(Vector256<float> left, Vector256<float> right, Vector256<float> subtrahend) =>
        Fma.MultiplySubtract(left, right, subtrahend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> NegatedMultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Fma.MultiplyAddNegated(left, right, addend);

    /// <summary>8 x 8: unpack ps, unpack pd, then exchange 128-bit halves.</summary>
    public static void Transpose(float* source, float* destination)
    {
        (Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3) = Group(source);
        (Vector256<float> b0, Vector256<float> b1, Vector256<float> b2, Vector256<float> b3) = Group(source + 32);
        Avx.Permute2x128(a0, b0, 0x20).Store(destination);
        Avx.Permute2x128(a1, b1, 0x20).Store(destination + 8);
        Avx.Permute2x128(a2, b2, 0x20).Store(destination + 16);
        Avx.Permute2x128(a3, b3, 0x20).Store(destination + 24);
        Avx.Permute2x128(a0, b0, 0x31).Store(destination + 32);
        Avx.Permute2x128(a1, b1, 0x31).Store(destination + 40);
        Avx.Permute2x128(a2, b2, 0x31).Store(destination + 48);
        Avx.Permute2x128(a3, b3, 0x31).Store(destination + 56);
    }

    /// <summary>Of the four rows at <paramref name="rows"/>: vector c holds, per 128-bit lane q, column 4q + c of each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Group(float* rows)
    {
        Vector256<float> r0 = Vector256.Load(rows), r1 = Vector256.Load(rows + 8), r2 = Vector256.Load(rows + 16), r3 = Vector256.Load(rows + 24);
        Vector256<double> low01 = Avx.UnpackLow(r0, r1).AsDouble(), high01 = Avx.UnpackHigh(r0, r1).AsDouble();
        Vector256<double> low23 = Avx.UnpackLow(r2, r3).AsDouble(), high23 = Avx.UnpackHigh(r2, r3).AsDouble();
        return (Avx.UnpackLow(low01, low23).AsSingle(), Avx.UnpackHigh(low01, low23).AsSingle(),
            Avx.UnpackLow(high01, high23).AsSingle(), Avx.UnpackHigh(high01, high23).AsSingle());
    }
}

internal readonly unsafe struct FftLanes128 : IFftLanes<Vector128<float>>
{
    public static int Count => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, Vector128<float> value) => value.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> left, Vector128<float> right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sqrt(Vector128<float> value) => Vector128.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
        Fma.MultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplySubtract(Vector128<float> left, Vector128<float> right, Vector128<float> subtrahend) =>
        Fma.MultiplySubtract(left, right, subtrahend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> NegatedMultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
        Fma.MultiplyAddNegated(left, right, addend);

    /// <summary>4 x 4: unpack ps, then unpack pd.</summary>
    public static void Transpose(float* source, float* destination)
    {
        Vector128<float> r0 = Vector128.Load(source), r1 = Vector128.Load(source + 4), r2 = Vector128.Load(source + 8), r3 = Vector128.Load(source + 12);
        Vector128<double> a = Sse.UnpackLow(r0, r1).AsDouble(), b = Sse.UnpackLow(r2, r3).AsDouble();
        Vector128<double> c = Sse.UnpackHigh(r0, r1).AsDouble(), d = Sse.UnpackHigh(r2, r3).AsDouble();
        Sse2.UnpackLow(a, b).AsSingle().Store(destination);
        Sse2.UnpackHigh(a, b).AsSingle().Store(destination + 4);
        Sse2.UnpackLow(c, d).AsSingle().Store(destination + 8);
        Sse2.UnpackHigh(c, d).AsSingle().Store(destination + 12);
    }
}

/// <summary>One lane, for small planes and hardware without FMA.</summary>
internal readonly unsafe struct FftLanes1 : IFftLanes<float>
{
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* source) => *source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* destination, float value) => *destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float left, float right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float left, float right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float left, float right) => left * right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Divide(float left, float right) => left / right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sqrt(float value) => MathF.Sqrt(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float left, float right, float addend) => (left * right) + addend;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplySubtract(float left, float right, float subtrahend) => (left * right) - subtrahend;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float NegatedMultiplyAdd(float left, float right, float addend) => addend - (left * right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, float* destination) => *destination = *source;
}
