using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler.Kernels;

/// <summary>Memory-bound element-wise helpers; Vector&lt;float&gt; width is plenty for the sums, the affine map runs at the GEMM's widths.</summary>
internal static class VectorMath
{
    /// <summary>destination += source.</summary>
    public static void Add(Span<float> destination, ReadOnlySpan<float> source)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Span<Vector<float>> target = MemoryMarshal.Cast<float, Vector<float>>(destination);
            ReadOnlySpan<Vector<float>> addend = MemoryMarshal.Cast<float, Vector<float>>(source[..destination.Length]);
            for (int v = 0; v < target.Length; v++)
            {
                target[v] += addend[v];
            }

            i = target.Length * Vector<float>.Count;
        }

        for (; i < destination.Length; i++)
        {
            destination[i] += source[i];
        }
    }

    /// <summary>values = activation(values + shift).</summary>
    public static void AddBias(Span<float> values, float shift, Activation activation) => Normalize(values, 0f, 1f, shift, activation, values);

    /// <summary>
    /// destination = activation((source - center) * scale + shift [+ residual]), the residual (empty, or as long as
    /// source) and the activation applied in registers by a loop specialised to the activation (one dispatch on its
    /// kind per call).
    /// </summary>
    public static void Normalize(ReadOnlySpan<float> source, float center, float scale, float shift, Activation activation, Span<float> destination,
        ReadOnlySpan<float> residual = default)
    {
        activation.Run(new NormalizeLoop(source, center, scale, shift, activation.Alpha, destination[..source.Length], residual));
    }

    /// <summary>
    /// The affine map as it always ran: fused in whole vectors, unfused in the tail; the activation's tail lanes use
    /// the vector code one lane at a time, so they round as the body does.
    /// </summary>
    internal static unsafe void Normalize<TSimd, TVector, TFunction>(ReadOnlySpan<float> source, float center, float scale, float shift, float alpha, Span<float> destination,
        ReadOnlySpan<float> residual)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int length = source.Length, width = TSimd.Count, i = 0;
        fixed (float* input = source, output = destination, addend = residual[..(residual.IsEmpty ? 0 : length)])
        {
            TVector centerVector = TSimd.Broadcast(center), scaleVector = TSimd.Broadcast(scale), shiftVector = TSimd.Broadcast(shift);
            for (; i + width <= length; i += width)
            {
                TVector value = TSimd.MultiplyAdd(TSimd.Subtract(TSimd.Load(input + i), centerVector), scaleVector, shiftVector);
                if (addend != null)
                {
                    value = TSimd.Add(value, TSimd.Load(addend + i));
                }

                TSimd.Store(output + i, TFunction.Forward<TSimd, TVector>(value, alpha));
            }

            for (; i < length; i++)
            {
                float value = ((input[i] - center) * scale) + shift;
                output[i] = TFunction.Forward<SimdScalar, float>(addend == null ? value : value + addend[i], alpha);
            }
        }
    }

    /// <summary>Sum in double of float values (partial sums kept in double lanes).</summary>
    public static double Sum(ReadOnlySpan<float> values)
    {
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> input = MemoryMarshal.Cast<float, Vector<float>>(values);
            Vector<double> low = Vector<double>.Zero, high = Vector<double>.Zero;
            for (int v = 0; v < input.Length; v++)
            {
                Vector.Widen(input[v], out Vector<double> lower, out Vector<double> upper);
                low += lower;
                high += upper;
            }

            sum = Vector.Sum(low + high);
            i = input.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            sum += values[i];
        }

        return sum;
    }

    /// <summary>Sum in double of (value - mean)^2.</summary>
    public static double SquaredDeviations(ReadOnlySpan<float> values, double mean)
    {
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> input = MemoryMarshal.Cast<float, Vector<float>>(values);
            var center = new Vector<double>(mean);
            Vector<double> accumulator = Vector<double>.Zero;
            for (int v = 0; v < input.Length; v++)
            {
                Vector.Widen(input[v], out Vector<double> lower, out Vector<double> upper);
                lower -= center;
                upper -= center;
                accumulator += (lower * lower) + (upper * upper);
            }

            sum = Vector.Sum(accumulator);
            i = input.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            double deviation = values[i] - mean;
            sum += deviation * deviation;
        }

        return sum;
    }

    /// <summary>destination = a * aScale + (b - bCenter) * bScale + shift.</summary>
    public static void MultiplyAddAffine(ReadOnlySpan<float> a, float aScale, ReadOnlySpan<float> b, float bCenter, float bScale, float shift, Span<float> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> left = MemoryMarshal.Cast<float, Vector<float>>(a);
            ReadOnlySpan<Vector<float>> right = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            Span<Vector<float>> output = MemoryMarshal.Cast<float, Vector<float>>(destination[..a.Length]);
            var leftScale = new Vector<float>(aScale);
            var rightCenter = new Vector<float>(bCenter);
            var rightScale = new Vector<float>(bScale);
            var offset = new Vector<float>(shift);
            for (int v = 0; v < left.Length; v++)
            {
                output[v] = Vector.FusedMultiplyAdd(left[v], leftScale, Vector.FusedMultiplyAdd(right[v] - rightCenter, rightScale, offset));
            }

            i = left.Length * Vector<float>.Count;
        }

        for (; i < a.Length; i++)
        {
            destination[i] = (a[i] * aScale) + ((b[i] - bCenter) * bScale) + shift;
        }
    }

    /// <summary>
    /// Sums in double of a[i] and of a[i] * b[i], in one pass: four independent chains, as the adds' latency, not
    /// their throughput, bounds one (the order is fixed by the length alone, so the result is deterministic).
    /// </summary>
    public static (double Sum, double Dot) SumAndDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0, dot = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> left = MemoryMarshal.Cast<float, Vector<float>>(a);
            ReadOnlySpan<Vector<float>> right = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            Vector<double> sumLow = Vector<double>.Zero, sumHigh = Vector<double>.Zero, dotLow = Vector<double>.Zero, dotHigh = Vector<double>.Zero;
            for (int v = 0; v < left.Length; v++)
            {
                Vector.Widen(left[v], out Vector<double> leftLower, out Vector<double> leftUpper);
                Vector.Widen(right[v], out Vector<double> rightLower, out Vector<double> rightUpper);
                sumLow += leftLower;
                sumHigh += leftUpper;
                dotLow = Vector.FusedMultiplyAdd(leftLower, rightLower, dotLow);
                dotHigh = Vector.FusedMultiplyAdd(leftUpper, rightUpper, dotHigh);
            }

            sum = Vector.Sum(sumLow + sumHigh);
            dot = Vector.Sum(dotLow + dotHigh);
            i = left.Length * Vector<float>.Count;
        }

        for (; i < a.Length; i++)
        {
            sum += a[i];
            dot += (double)a[i] * b[i];
        }

        return (sum, dot);
    }

    private readonly ref struct NormalizeLoop(ReadOnlySpan<float> source, float center, float scale, float shift, float alpha, Span<float> destination,
        ReadOnlySpan<float> residual)
        : IActivationLoop
    {
        private readonly ReadOnlySpan<float> _source = source;
        private readonly Span<float> _destination = destination;
        private readonly ReadOnlySpan<float> _residual = residual;

        public void Run<TSimd, TVector, TFunction>()
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction => Normalize<TSimd, TVector, TFunction>(_source, center, scale, shift, alpha, _destination, _residual);
    }
}
