using System;

namespace NetCompiler.Kernels.Tests;

public class UpsampleTests
{
    // Each output is a weighted sum of at most 4 inputs and each input gradient of at most 4 * Scale^2 terms: the only
    // error is float32 rounding of those sums (a few ulps).
    private const double Tolerance = 1e-5;

    [Fact]
    public void NearestMatchesTheReferenceAndItsTranspose() => Compare<Odd3>(bilinear: false);

    [Fact]
    public void BilinearMatchesTheReferenceAndItsTranspose() => Compare<Odd3>(bilinear: true);

    [Fact]
    public void BilinearByTwoMatchesTheReferenceAndItsTranspose() => Compare<Wide2>(bilinear: true);

    [Fact]
    public void ScaleOneIsTheIdentity()
    {
        using var context = new KernelContext(2);
        float[] x = TestData.Random(2 * 2 * 3 * 4, seed: 3);
        var y = new float[x.Length];
        Upsample2d.BilinearForward<Identity1>(context, x, y, 2);
        Assert.Equal(x, y);
        Upsample2d.NearestForward<Identity1>(context, x, y, 2);
        Assert.Equal(x, y);
    }

    [Fact]
    public void WrongLengthsAreArgumentExceptionsNamingTheSpan()
    {
        using var context = new KernelContext(1);
        var error = Assert.Throws<ArgumentException>(() => Upsample2d.NearestForward<Wide2>(context, new float[5], new float[4 * 8 * 18], 1));
        Assert.Equal("x", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => Upsample2d.BilinearBackward<Wide2>(context, new float[4 * 8 * 18], new float[3], 1));
        Assert.Equal("dx", error.ParamName);
    }

    [Fact]
    public void ConcatenationPutsEachImagesBlocksInTurnAndSplitsTheGradientBack()
    {
        const int n = 3, aElements = 4, bElements = 6;
        float[] a = TestData.Random(n * aElements, seed: 1), b = TestData.Random(n * bElements, seed: 2);
        var y = new float[n * (aElements + bElements)];
        ChannelConcat.Forward(a, b, y, n, aElements, bElements);
        for (int image = 0; image < n; image++)
        {
            Assert.Equal(a.AsSpan(image * aElements, aElements), y.AsSpan(image * 10, aElements));
            Assert.Equal(b.AsSpan(image * bElements, bElements), y.AsSpan((image * 10) + aElements, bElements));
        }

        var da = new float[a.Length];
        var db = new float[b.Length];
        ChannelConcat.Backward(y, da, default, n, aElements, bElements);
        ChannelConcat.Backward(y, default, db, n, aElements, bElements);
        Assert.Equal(a, da);
        Assert.Equal(b, db);
        Assert.Throws<ArgumentException>(() => ChannelConcat.Forward(a, b, new float[y.Length - 1], n, aElements, bElements));
    }

    /// <summary>The kernels on 3 images over 2 threads against the double reference, the backward against its transpose.</summary>
    private static void Compare<S>(bool bilinear)
        where S : struct, IUpsampleShape
    {
        const int n = 3;
        int inPlane = S.InHeight * S.InWidth, outPlane = inPlane * S.Scale * S.Scale;
        float[] x = TestData.Random(n * S.Channels * inPlane, seed: 7);
        float[] dy = TestData.Random(n * S.Channels * outPlane, seed: 8);
        var y = new float[dy.Length];
        var dx = new float[x.Length];
        using var context = new KernelContext(2);
        if (bilinear)
        {
            Upsample2d.BilinearForward<S>(context, x, y, n);
            Upsample2d.BilinearBackward<S>(context, dy, dx, n);
        }
        else
        {
            Upsample2d.NearestForward<S>(context, x, y, n);
            Upsample2d.NearestBackward<S>(context, dy, dx, n);
        }

        var expected = new double[y.Length];
        var expectedDx = new double[x.Length];
        for (int plane = 0; plane < n * S.Channels; plane++)
        {
            for (int oh = 0; oh < S.InHeight * S.Scale; oh++)
            {
                for (int ow = 0; ow < S.InWidth * S.Scale; ow++)
                {
                    int o = (plane * outPlane) + (oh * S.InWidth * S.Scale) + ow;
                    foreach ((int ih, int iw, double weight) in Taps(oh, ow, S.InHeight, S.InWidth, S.Scale, bilinear))
                    {
                        int i = (plane * inPlane) + (ih * S.InWidth) + iw;
                        expected[o] += weight * x[i];
                        expectedDx[i] += weight * dy[o]; // the transpose: each output's weights, read the other way
                    }
                }
            }
        }

        Check.Close(expected, y, Tolerance, "y");
        Check.Close(expectedDx, dx, Tolerance, "dx");
    }

    /// <summary>
    /// The input pixels and weights of output (oh, ow), from PyTorch's definitions: nearest reads (oh / s, ow / s);
    /// bilinear (align_corners=False) samples at (o + 0.5) / s - 0.5 per axis, clamped to [0, size - 1], between the
    /// two pixels around it.
    /// </summary>
    private static (int H, int W, double Weight)[] Taps(int oh, int ow, int height, int width, int scale, bool bilinear)
    {
        if (!bilinear)
        {
            return [(oh / scale, ow / scale, 1.0)];
        }

        (int, double)[] rows = Axis(oh, height, scale), columns = Axis(ow, width, scale);
        var taps = new (int, int, double)[4];
        for (int r = 0; r < 2; r++)
        {
            for (int c = 0; c < 2; c++)
            {
                taps[(r * 2) + c] = (rows[r].Item1, columns[c].Item1, rows[r].Item2 * columns[c].Item2);
            }
        }

        return taps;
    }

    private static (int, double)[] Axis(int output, int size, int scale)
    {
        double source = Math.Clamp(((output + 0.5) / scale) - 0.5, 0, size - 1);
        int low = (int)Math.Floor(source);
        double fraction = source - low;
        return [(low, 1 - fraction), (Math.Min(low + 1, size - 1), fraction)];
    }

    private readonly struct Odd3 : IUpsampleShape
    {
        public static int Channels => 2;
        public static int InHeight => 5;
        public static int InWidth => 3;
        public static int Scale => 3;
    }

    private readonly struct Wide2 : IUpsampleShape
    {
        public static int Channels => 4;
        public static int InHeight => 4;
        public static int InWidth => 9;
        public static int Scale => 2;
    }

    private readonly struct Identity1 : IUpsampleShape
    {
        public static int Channels => 2;
        public static int InHeight => 3;
        public static int InWidth => 4;
        public static int Scale => 1;
    }
}
