using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NetCompiler.Kernels;

/// <summary>
/// The vector operations the GEMM micro-kernel, the activations, the FFT and the per-frequency implicit solves need, one implementation
/// per width (<see cref="Simd512"/>, <see cref="Simd256"/>, <see cref="Simd128"/>, <see cref="SimdScalar"/>), so one
/// kernel body serves every instruction set: RyuJIT specialises it per implementing struct and the calls inline to
/// single instructions. MultiplySubtract, NegatedMultiplyAdd and Transpose use the width's own instructions (AVX-512F,
/// FMA, AVX, SSE2), so only run them where the FFT's lane choice (<see cref="FftPlan{S}.Lanes"/>) would pick that width.
/// </summary>
internal unsafe interface ISimd<TVector> where TVector : unmanaged
{
    static abstract int Count { get; }
    static abstract TVector Zero { get; }
    static abstract TVector Load(float* source);
    static abstract void Store(float* destination, TVector value);
    static abstract TVector Broadcast(float value);
    static abstract TVector Add(TVector left, TVector right);
    static abstract TVector Subtract(TVector left, TVector right);
    static abstract TVector Multiply(TVector left, TVector right);
    static abstract TVector Divide(TVector left, TVector right);
    static abstract TVector Sqrt(TVector value);
    static abstract TVector Max(TVector left, TVector right);
    static abstract TVector Min(TVector left, TVector right);

    /// <summary>e^value per lane: .NET's vector exp (a few ulp), which every width computes alike, lane for lane.</summary>
    static abstract TVector Exp(TVector value);

    /// <summary>Per lane, <paramref name="whenLess"/> where left &lt; right, else <paramref name="otherwise"/>.</summary>
    static abstract TVector LessThanSelect(TVector left, TVector right, TVector whenLess, TVector otherwise);

    /// <summary>left * right + addend (fused, except in <see cref="SimdScalar"/>).</summary>
    static abstract TVector MultiplyAdd(TVector left, TVector right, TVector addend);

    /// <summary>left * right - subtrahend.</summary>
    static abstract TVector MultiplySubtract(TVector left, TVector right, TVector subtrahend);

    /// <summary>addend - left * right.</summary>
    static abstract TVector NegatedMultiplyAdd(TVector left, TVector right, TVector addend);

    /// <summary>The first <paramref name="count"/> lanes (0 to Count) at <paramref name="source"/>, zero in the rest; reads nothing past them.</summary>
    static abstract TVector LoadPartial(float* source, int count);

    /// <summary>Stores the first <paramref name="count"/> lanes (0 to Count) of <paramref name="value"/>; writes nothing past them.</summary>
    static abstract void StorePartial(float* destination, TVector value, int count);

    /// <summary>
    /// <paramref name="taken"/> where <paramref name="candidate"/> is above <paramref name="best"/> or is NaN, else
    /// <paramref name="otherwise"/>: max pooling's rule (the first maximum wins a tie, a NaN propagates).
    /// </summary>
    static abstract TVector GreaterOrNaNSelect(TVector candidate, TVector best, TVector taken, TVector otherwise);

    /// <summary>The even and the odd lanes of <paramref name="first"/> followed by <paramref name="second"/>.</summary>
    static abstract (TVector Even, TVector Odd) Deinterleave(TVector first, TVector second);

    /// <summary>Deinterleave's inverse: <paramref name="even"/> and <paramref name="odd"/> alternating, their first halves in Low, the rest in High.</summary>
    static abstract (TVector Low, TVector High) Interleave(TVector even, TVector odd);

    /// <summary>Transposes the Count x Count tile of rows Count floats apart at <paramref name="source"/> into <paramref name="destination"/> (same layout).</summary>
    static abstract void Transpose(float* source, float* destination);
}

internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
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
    public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Min(Vector512<float> left, Vector512<float> right) => Vector512.Min(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> value) => Vector512.Exp(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LessThanSelect(Vector512<float> left, Vector512<float> right, Vector512<float> whenLess, Vector512<float> otherwise) =>
        Vector512.ConditionalSelect(Vector512.LessThan(left, right), whenLess, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Vector512.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplySubtract(Vector512<float> left, Vector512<float> right, Vector512<float> subtrahend) =>
        Avx512F.FusedMultiplySubtract(left, right, subtrahend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NegatedMultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Avx512F.FusedMultiplyAddNegated(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadPartial(float* source, int count) => Avx512F.MaskLoad(source, FirstLanes(count), Vector512<float>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(float* destination, Vector512<float> value, int count) => Avx512F.MaskStore(destination, FirstLanes(count), value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterOrNaNSelect(Vector512<float> candidate, Vector512<float> best, Vector512<float> taken, Vector512<float> otherwise) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(candidate, best) | ~Vector512.Equals(candidate, candidate), taken, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) Deinterleave(Vector512<float> first, Vector512<float> second) =>
        (Avx512F.PermuteVar16x32x2(first, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), second),
            Avx512F.PermuteVar16x32x2(first, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), second));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Low, Vector512<float> High) Interleave(Vector512<float> even, Vector512<float> odd) =>
        (Avx512F.PermuteVar16x32x2(even, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), odd),
            Avx512F.PermuteVar16x32x2(even, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), odd));

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

internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
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
    public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> left, Vector256<float> right) => Vector256.Min(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> value) => Vector256.Exp(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LessThanSelect(Vector256<float> left, Vector256<float> right, Vector256<float> whenLess, Vector256<float> otherwise) =>
        Vector256.ConditionalSelect(Vector256.LessThan(left, right), whenLess, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Vector256.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplySubtract(Vector256<float> left, Vector256<float> right, Vector256<float> subtrahend) =>
        Fma.MultiplySubtract(left, right, subtrahend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> NegatedMultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Fma.MultiplyAddNegated(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadPartial(float* source, int count) => Avx.MaskLoad(source, FirstLanes(count));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(float* destination, Vector256<float> value, int count) => Avx.MaskStore(destination, FirstLanes(count), value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FirstLanes(int count) => Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GreaterOrNaNSelect(Vector256<float> candidate, Vector256<float> best, Vector256<float> taken, Vector256<float> otherwise) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(candidate, best) | ~Vector256.Equals(candidate, candidate), taken, otherwise);

    /// <summary>Pairs within each 128-bit lane (shuffle ps), then the lanes' halves in order (permute pd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(Vector256<float> first, Vector256<float> second) =>
        (Avx2.Permute4x64(Avx.Shuffle(first, second, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle(),
            Avx2.Permute4x64(Avx.Shuffle(first, second, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle());

    /// <summary>Pairs within each 128-bit lane (unpack ps), then the lanes in order (permute 2f128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Low, Vector256<float> High) Interleave(Vector256<float> even, Vector256<float> odd)
    {
        Vector256<float> low = Avx.UnpackLow(even, odd), high = Avx.UnpackHigh(even, odd);
        return (Avx.Permute2x128(low, high, 0x20), Avx.Permute2x128(low, high, 0x31));
    }

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

/// <summary>Four lanes, for the FFT on planes too small for 8 or hardware with FMA but without AVX2.</summary>
internal readonly unsafe struct Simd128 : ISimd<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
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
    public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> left, Vector128<float> right) => Vector128.Min(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> value) => Vector128.Exp(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LessThanSelect(Vector128<float> left, Vector128<float> right, Vector128<float> whenLess, Vector128<float> otherwise) =>
        Vector128.ConditionalSelect(Vector128.LessThan(left, right), whenLess, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
        Vector128.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplySubtract(Vector128<float> left, Vector128<float> right, Vector128<float> subtrahend) =>
        Fma.MultiplySubtract(left, right, subtrahend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> NegatedMultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
        Fma.MultiplyAddNegated(left, right, addend);
    /// <summary>AVX's masked load where there is one (SSE has none): lane by lane otherwise.</summary>
    public static Vector128<float> LoadPartial(float* source, int count)
    {
        if (Avx.IsSupported)
        {
            return Avx.MaskLoad(source, FirstLanes(count));
        }

        Vector128<float> value = Vector128<float>.Zero;
        for (int i = 0; i < count; i++)
        {
            value = value.WithElement(i, source[i]);
        }

        return value;
    }

    public static void StorePartial(float* destination, Vector128<float> value, int count)
    {
        if (Avx.IsSupported)
        {
            Avx.MaskStore(destination, FirstLanes(count), value);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            destination[i] = value.GetElement(i);
        }
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> FirstLanes(int count) => Vector128.LessThan(Vector128.Create(0, 1, 2, 3), Vector128.Create(count)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterOrNaNSelect(Vector128<float> candidate, Vector128<float> best, Vector128<float> taken, Vector128<float> otherwise) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(candidate, best) | ~Vector128.Equals(candidate, candidate), taken, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<float> Even, Vector128<float> Odd) Deinterleave(Vector128<float> first, Vector128<float> second) =>
        (Sse.Shuffle(first, second, 0b10_00_10_00), Sse.Shuffle(first, second, 0b11_01_11_01));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<float> Low, Vector128<float> High) Interleave(Vector128<float> even, Vector128<float> odd) =>
        (Sse.UnpackLow(even, odd), Sse.UnpackHigh(even, odd));

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

/// <summary>One-lane "vector": the GEMM without 256-bit SIMD, the FFT on small planes or without FMA. Not fused.</summary>
internal readonly unsafe struct SimdScalar : ISimd<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
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
    public static float Max(float left, float right) => left > right ? left : right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(float left, float right) => left < right ? left : right;

    /// <summary>The vector exp on one lane, so a scalar tail rounds exactly as the vector body before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float value) => Vector128.Exp(Vector128.CreateScalar(value)).ToScalar();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LessThanSelect(float left, float right, float whenLess, float otherwise) => left < right ? whenLess : otherwise;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float left, float right, float addend) => (left * right) + addend;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplySubtract(float left, float right, float subtrahend) => (left * right) - subtrahend;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float NegatedMultiplyAdd(float left, float right, float addend) => addend - (left * right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadPartial(float* source, int count) => count > 0 ? *source : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(float* destination, float value, int count)
    {
        if (count > 0)
        {
            *destination = value;
        }
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GreaterOrNaNSelect(float candidate, float best, float taken, float otherwise) => candidate > best || float.IsNaN(candidate) ? taken : otherwise;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float Even, float Odd) Deinterleave(float first, float second) => (first, second);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float Low, float High) Interleave(float even, float odd) => (even, odd);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, float* destination) => *destination = *source;
}
