using System;

namespace NetCompiler.Kernels.Tests;

internal interface IFftCase
{
    void Run<S>() where S : struct, IFftShape;
}

public class FftTests
{
    // Float32 FFT rounding grows like log2(H W) * 6e-8 relative to the plane's scale (each output passes through
    // log2(H W) butterfly stages). Check.Close bounds errors by tolerance * (|expected| + max |expected|); measured at
    // 64 x 64 (12 stages): 1.5e-7 of max |X| forward, 4e-7 after a round trip. 2e-6 leaves a margin of 5 or more,
    // while a wrong twiddle, sign or index misses by O(1).
    private const double Tolerance = 2e-6;

    public static TheoryData<string> Shapes => new()
    {
        nameof(Fft2x2), nameof(Fft4x8), nameof(Fft2x32), nameof(Fft8x8), nameof(Fft16x16), nameof(Fft16x64), nameof(Fft64x32),
        nameof(Fft32x64), nameof(Fft64x64),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesNaiveDft(string shape) => Run(shape, new ForwardCase());

    [Theory]
    [MemberData(nameof(Shapes))]
    public void InverseMatchesNaiveDft(string shape) => Run(shape, new InverseCase());

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTripRestoresThePlanes(string shape) => Run(shape, new RoundTripCase());

    [Fact]
    public void WrongLengthsAndSizesThrow()
    {
        using var context = new KernelContext(1);
        int spectrum = Fft2d.SpectrumLength<Fft4x8>();
        Assert.Equal(2 * 3 * 8, spectrum);
        var exception = Assert.Throws<ArgumentException>(() => Fft2d.Forward<Fft4x8>(context, new float[63], new float[2 * spectrum], 2));
        Assert.Equal("x", exception.ParamName);
        exception = Assert.Throws<ArgumentException>(() => Fft2d.Forward<Fft4x8>(context, new float[64], new float[(2 * spectrum) + 1], 2));
        Assert.Equal("spectra", exception.ParamName);
        exception = Assert.Throws<ArgumentException>(() => Fft2d.Inverse<Fft4x8>(context, new float[spectrum], new float[31], 1));
        Assert.Equal("x", exception.ParamName);
        Assert.Throws<ArgumentException>(() => Fft2d.Forward<Fft6x8>(context, new float[48], new float[64], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fft2d.Index<Fft4x8>(3, 0));
    }

    private static void Run(string shape, IFftCase test)
    {
        switch (shape)
        {
            case nameof(Fft2x2): test.Run<Fft2x2>(); break;
            case nameof(Fft4x8): test.Run<Fft4x8>(); break;
            case nameof(Fft2x32): test.Run<Fft2x32>(); break;
            case nameof(Fft8x8): test.Run<Fft8x8>(); break;
            case nameof(Fft16x16): test.Run<Fft16x16>(); break;
            case nameof(Fft16x64): test.Run<Fft16x64>(); break;
            case nameof(Fft64x32): test.Run<Fft64x32>(); break;
            case nameof(Fft32x64): test.Run<Fft32x64>(); break;
            case nameof(Fft64x64): test.Run<Fft64x64>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    /// <summary>Spectrum entries as a [H/2 + 1, W] complex array (real parts, then imaginary parts) through Fft2d.Index.</summary>
    private static double[] Unpack<S>(ReadOnlySpan<float> spectrum)
        where S : struct, IFftShape
    {
        int rows = (S.Height / 2) + 1, half = spectrum.Length / 2;
        var values = new double[2 * rows * S.Width];
        for (int k = 0; k < rows; k++)
        {
            for (int l = 0; l < S.Width; l++)
            {
                int index = Fft2d.Index<S>(k, l);
                values[(k * S.Width) + l] = spectrum[index];
                values[((rows + k) * S.Width) + l] = spectrum[half + index];
            }
        }

        return values;
    }

    private sealed class ForwardCase : IFftCase
    {
        public void Run<S>() where S : struct, IFftShape
        {
            const int Count = 2;
            int plane = S.Height * S.Width, spectrum = Fft2d.SpectrumLength<S>();

            // Index is a bijection onto the real half of a spectrum.
            var seen = new bool[spectrum / 2];
            for (int k = 0; k <= S.Height / 2; k++)
            {
                for (int l = 0; l < S.Width; l++)
                {
                    int index = Fft2d.Index<S>(k, l);
                    Assert.False(seen[index], $"Index({k}, {l}) = {index} is taken twice.");
                    seen[index] = true;
                }
            }

            float[] x = TestData.Random(Count * plane, 11);
            var expected = new double[Count][];
            for (int i = 0; i < Count; i++)
            {
                expected[i] = Reference.Dft(x.AsSpan(i * plane, plane), S.Height, S.Width);
            }

            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                var spectra = new float[Count * spectrum];
                Fft2d.Forward<S>(context, x, spectra, Count);
                for (int i = 0; i < Count; i++)
                {
                    Check.Close(expected[i], Unpack<S>(spectra.AsSpan(i * spectrum, spectrum)), Tolerance, $"{typeof(S).Name} plane {i} threads {threads}");
                }
            }
        }
    }

    private sealed class InverseCase : IFftCase
    {
        public void Run<S>() where S : struct, IFftShape
        {
            // Arbitrary spectra, rows 0 and H/2 not Hermitian: the inverse must take their Hermitian part, as irfft2 does.
            const int Count = 2;
            int plane = S.Height * S.Width, spectrum = Fft2d.SpectrumLength<S>();
            float[] spectra = TestData.Random(Count * spectrum, 12);
            var expected = new double[Count][];
            for (int i = 0; i < Count; i++)
            {
                expected[i] = Reference.InverseDft(Unpack<S>(spectra.AsSpan(i * spectrum, spectrum)), S.Height, S.Width);
            }

            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                float[] work = (float[])spectra.Clone();
                var x = new float[Count * plane];
                Fft2d.Inverse<S>(context, work, x, Count);
                for (int i = 0; i < Count; i++)
                {
                    Check.Close(expected[i], x.AsSpan(i * plane, plane), Tolerance, $"{typeof(S).Name} plane {i} threads {threads}");
                }
            }
        }
    }

    private sealed class RoundTripCase : IFftCase
    {
        public void Run<S>() where S : struct, IFftShape
        {
            const int Count = 2;
            int plane = S.Height * S.Width;
            float[] x = TestData.Random(Count * plane, 13);
            using var context = new KernelContext(2);
            var spectra = new float[Count * Fft2d.SpectrumLength<S>()];
            var back = new float[x.Length];
            Fft2d.Forward<S>(context, x, spectra, Count);
            Fft2d.Inverse<S>(context, spectra, back, Count);
            Check.Close(TestData.ToDouble(x), back, Tolerance, typeof(S).Name);
        }
    }

    private struct Fft6x8 : IFftShape
    {
        public static int Height => 6; public static int Width => 8;
    }
}

internal static partial class Reference
{
    /// <summary>
    /// X[k, l] = sum x[h, w] e^(-2 pi i (k h / H + l w / W)) for k = 0 .. H/2, every l, in double: [H/2 + 1, W] real parts,
    /// then imaginary parts. The definition summed one dimension at a time (over w, then over h).
    /// </summary>
    public static double[] Dft(ReadOnlySpan<float> x, int height, int width)
    {
        int rows = (height / 2) + 1;
        var rowRe = new double[height * width];
        var rowIm = new double[height * width];
        for (int h = 0; h < height; h++)
        {
            for (int l = 0; l < width; l++)
            {
                for (int w = 0; w < width; w++)
                {
                    double angle = -2 * Math.PI * ((l * w) % width) / width;
                    rowRe[(h * width) + l] += x[(h * width) + w] * Math.Cos(angle);
                    rowIm[(h * width) + l] += x[(h * width) + w] * Math.Sin(angle);
                }
            }
        }

        var result = new double[2 * rows * width];
        for (int k = 0; k < rows; k++)
        {
            for (int h = 0; h < height; h++)
            {
                double angle = -2 * Math.PI * ((k * h) % height) / height, cos = Math.Cos(angle), sin = Math.Sin(angle);
                for (int l = 0; l < width; l++)
                {
                    double re = rowRe[(h * width) + l], im = rowIm[(h * width) + l];
                    result[(k * width) + l] += (re * cos) - (im * sin);
                    result[((rows + k) * width) + l] += (re * sin) + (im * cos);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Real part of the inverse DFT (with 1 / (H W)) of the Hermitian extension of a [H/2 + 1, W] half spectrum laid out
    /// as <see cref="Dft"/> returns it (rows k &gt; H/2 are conj X[H - k, -l]), summed over k, then over l.
    /// </summary>
    public static double[] InverseDft(double[] spectrum, int height, int width)
    {
        int rows = (height / 2) + 1;
        var columnRe = new double[height * width];
        var columnIm = new double[height * width];
        for (int k = 0; k < height; k++)
        {
            bool mirrored = k >= rows;
            int row = mirrored ? height - k : k;
            for (int h = 0; h < height; h++)
            {
                double angle = 2 * Math.PI * ((k * h) % height) / height, cos = Math.Cos(angle), sin = Math.Sin(angle);
                for (int l = 0; l < width; l++)
                {
                    int column = mirrored ? (width - l) % width : l;
                    double re = spectrum[(row * width) + column], im = spectrum[((rows + row) * width) + column];
                    im = mirrored ? -im : im;
                    columnRe[(h * width) + l] += (re * cos) - (im * sin);
                    columnIm[(h * width) + l] += (re * sin) + (im * cos);
                }
            }
        }

        var x = new double[height * width];
        for (int h = 0; h < height; h++)
        {
            for (int w = 0; w < width; w++)
            {
                double sum = 0;
                for (int l = 0; l < width; l++)
                {
                    double angle = 2 * Math.PI * ((l * w) % width) / width;
                    sum += (columnRe[(h * width) + l] * Math.Cos(angle)) - (columnIm[(h * width) + l] * Math.Sin(angle));
                }

                x[(h * width) + w] = sum / (height * width);
            }
        }

        return x;
    }
}
