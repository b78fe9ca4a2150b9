using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>
/// The Q-tips data set: the bar renderer on hand-placed bars, and the generated sets through what the images show,
/// measured with moments rather than with the parameters the generator drew.
/// </summary>
public sealed class QTipsTests
{
    private const int Side = QTips.Size;
    private const int Pixels = Side * Side;

    private static readonly DataSet RawTrain = QTips.Create(seed: 0, normalize: false).Train;

    [Fact]
    public void TheSetsHaveTheSpecifiedCountsAndShapes()
    {
        (DataSet train, DataSet validation) = QTips.Create();

        Assert.Equal(1024, train.Count);
        Assert.Equal(64, validation.Count);
        foreach (DataSet set in new[] { train, validation })
        {
            Assert.Equal(TensorShape.Image(1, 64, 64), set.ImageShape);
            Assert.Equal(4, set.ClassCount);
            Assert.Equal(64 * 64, set.LabelsPerSample);
            Assert.Equal(set.Count * 64 * 64, set.Images.Length);
            Assert.Equal(set.Count * 64 * 64, set.Labels.Length);
        }
    }

    [Fact]
    public void TheSamplesUNetHasAboutIMEXnetsParametersAndTrainsAStep()
    {
        // The sample's comparison is at about equal parameter counts: within 15% of the IMEXnet's, CPU-sized and full.
        Assert.InRange(QTipsUNet.Summary.ParameterCount, 0.85 * QTipsImex.Summary.ParameterCount, 1.15 * QTipsImex.Summary.ParameterCount);
        Assert.InRange(QTipsUNetFull.Summary.ParameterCount, 0.85 * QTipsImexFull.Summary.ParameterCount, 1.15 * QTipsImexFull.Summary.ParameterCount);
        Assert.Equal(TensorShape.Image(QTips.Classes, Side, Side), QTipsUNet.Summary.Output);

        (DataSet train, _) = QTips.Create(seed: 4, trainCount: 2, validationCount: 0);
        using var net = new QTipsUNet(batchSize: 2, seed: 3, threads: 1);
        float[] before = net.Parameters.SelectMany(p => p.Value).ToArray();
        float loss = net.TrainStep(train.Images, train.Labels, new Adam(1e-3f));

        // Four classes start near uniform: a per-pixel cross-entropy near ln 4, and the step moves the weights.
        Assert.InRange(loss, 0.5, 3.0);
        Assert.False(before.SequenceEqual(net.Parameters.SelectMany(p => p.Value)));
    }

    [Fact]
    public void TheSameSeedGivesTheSameDataAndAnotherSeedOtherData()
    {
        (DataSet train, DataSet validation) = QTips.Create(seed: 5, trainCount: 40, validationCount: 10);
        (DataSet sameTrain, DataSet sameValidation) = QTips.Create(seed: 5, trainCount: 40, validationCount: 10);
        (DataSet otherTrain, DataSet otherValidation) = QTips.Create(seed: 6, trainCount: 40, validationCount: 10);

        Assert.True(train.Images.SequenceEqual(sameTrain.Images) && train.Labels.SequenceEqual(sameTrain.Labels));
        Assert.True(validation.Images.SequenceEqual(sameValidation.Images) && validation.Labels.SequenceEqual(sameValidation.Labels));
        Assert.False(train.Images.SequenceEqual(otherTrain.Images));
        Assert.False(validation.Images.SequenceEqual(otherValidation.Images));
    }

    [Fact]
    public void ValidationIsItsOwnStreamAndAShorterTrainingSetIsAPrefix()
    {
        (DataSet shortTrain, DataSet shortValidation) = QTips.Create(seed: 3, trainCount: 20, validationCount: 10);
        (DataSet longTrain, DataSet longValidation) = QTips.Create(seed: 3, trainCount: 50, validationCount: 10);

        Assert.True(shortTrain.Images.SequenceEqual(longTrain.Images[..shortTrain.Images.Length]));
        Assert.True(shortTrain.Labels.SequenceEqual(longTrain.Labels[..shortTrain.Labels.Length]));
        Assert.True(shortValidation.Images.SequenceEqual(longValidation.Images));
        Assert.False(shortValidation.Images.SequenceEqual(shortTrain.Images[..shortValidation.Images.Length]));
    }

    [Fact]
    public void RawPixelsTakeTheFourValuesAndNormalisingMapsThemLinearly()
    {
        (DataSet raw, _) = QTips.Create(seed: 2, trainCount: 100, validationCount: 0, normalize: false);
        (DataSet normalized, _) = QTips.Create(seed: 2, trainCount: 100, validationCount: 0);

        Assert.Equal([1f, 64f, 128f, 255f], raw.Images.ToArray().Distinct().Order());
        for (int i = 0; i < raw.Images.Length; i++)
        {
            Assert.Equal((raw.Images[i] - 128f) / 64f, normalized.Images[i]);
        }

        Assert.True(raw.Labels.SequenceEqual(normalized.Labels));
    }

    [Fact]
    public void EachImageHasOneClassCoveringExactlyTheBarPixels()
    {
        for (int i = 0; i < RawTrain.Count; i++)
        {
            ReadOnlySpan<float> image = RawTrain.Image(i);
            ReadOnlySpan<int> labels = RawTrain.LabelsOf(i);
            int label = ClassOf(labels);
            Assert.InRange(label, 1, 3);
            for (int p = 0; p < Pixels; p++)
            {
                Assert.Equal(image[p] == 64f ? 0 : label, labels[p]);
            }
        }
    }

    [Fact]
    public void BarsAreCentredSolidRectanglesOfTheSpecifiedSizes()
    {
        var lengths = new List<double>();
        int[] widths = new int[8];
        for (int i = 0; i < RawTrain.Count; i++)
        {
            Shape bar = Measure(RawTrain.LabelsOf(i));

            // Odd sizes sit half a pixel off the centre, and nearest-neighbour edges move the centroid a little more.
            Assert.InRange(bar.CentreX, 30.25, 32.75);
            Assert.InRange(bar.CentreY, 30.25, 32.75);
            Assert.InRange(bar.Length, 31, 61);
            Assert.InRange(bar.Pixels, 0.85 * bar.Length * bar.Width, 1.15 * bar.Length * bar.Width);
            lengths.Add(bar.Length);
            widths[(int)Math.Round(bar.Width)]++;
        }

        // Measured widths stay within half a pixel of the drawn ones, so each of 4..7 should hold about a quarter.
        Assert.All(widths[..4], count => Assert.Equal(0, count));
        Assert.All(widths[4..], count => Assert.InRange(count, 0.15 * RawTrain.Count, 0.35 * RawTrain.Count));
        Assert.True(lengths.Min() < 34 && lengths.Max() > 57, $"lengths {lengths.Min():F1}..{lengths.Max():F1}");
        Assert.InRange(lengths.Average(), 44.75, 46.25);   // 45.5 for lengths uniform in 32..59, give or take 0.25
    }

    [Fact]
    public void TheEndSquaresMarkTheClassAtBothEndsOfTheBar()
    {
        for (int i = 0; i < RawTrain.Count; i++)
        {
            ReadOnlySpan<float> image = RawTrain.Image(i);
            Shape bar = Measure(RawTrain.LabelsOf(i));
            int white = 0, black = 0, ends = 0;
            for (int p = 0; p < Pixels; p++)
            {
                if (image[p] is 255f or 1f)
                {
                    white += image[p] == 255f ? 1 : 0;
                    black += image[p] == 1f ? 1 : 0;

                    // End pixels lie in the outer w pixels at either end of the bar's axis; body pixels within them.
                    Assert.True(Math.Abs(bar.AlongAxis(p)) > (bar.Length / 2) - bar.Width - 1.5, $"image {i}: an end pixel inside the body");
                    ends++;
                }
                else if (image[p] == 128f)
                {
                    Assert.True(Math.Abs(bar.AlongAxis(p)) < (bar.Length / 2) - bar.Width + 1.5, $"image {i}: a body pixel in an end square");
                }
            }

            Assert.InRange(ends, 0.65 * 2 * bar.Width * bar.Width, 1.35 * 2 * bar.Width * bar.Width);
            switch (ClassOf(RawTrain.LabelsOf(i)))
            {
                case 1:
                    Assert.Equal(0, black);
                    break;
                case 2:
                    Assert.InRange((double)white / black, 0.6, 1.67);
                    break;
                default:
                    Assert.Equal(0, white);
                    break;
            }
        }
    }

    [Fact]
    public void TheClassesAreRoughlyUniform()
    {
        int[] images = new int[4];
        for (int i = 0; i < RawTrain.Count; i++)
        {
            images[ClassOf(RawTrain.LabelsOf(i))]++;
        }

        Assert.Equal(0, images[0]);
        Assert.All(images[1..], count => Assert.InRange(count, 0.25 * RawTrain.Count, 0.42 * RawTrain.Count));
    }

    [Fact]
    public void BarsPointInEveryDirection()
    {
        // The principal axis shows the orientation modulo 180 degrees; for class 2, the step from the black end to the
        // white one shows the full direction (a half turn and the coin for the white end are interchangeable).
        int[] axes = new int[4], directions = new int[4];
        int classTwo = 0;
        for (int i = 0; i < RawTrain.Count; i++)
        {
            Shape bar = Measure(RawTrain.LabelsOf(i));
            axes[Quarter(2 * bar.AxisAngle)]++;
            if (ClassOf(RawTrain.LabelsOf(i)) == 2)
            {
                (double whiteX, double whiteY) = Centroid(RawTrain.Image(i), 255f);
                (double blackX, double blackY) = Centroid(RawTrain.Image(i), 1f);
                directions[Quarter(Math.Atan2(whiteY - blackY, whiteX - blackX))]++;
                classTwo++;
            }
        }

        Assert.All(axes, count => Assert.InRange(count, 0.15 * RawTrain.Count, 0.35 * RawTrain.Count));
        Assert.All(directions, count => Assert.InRange(count, 0.15 * classTwo, 0.35 * classTwo));
    }

    [Fact]
    public void BarParametersCoverTheirWholeInclusiveRanges()
    {
        var random = new SeededRandom(11);
        QTips.Bar[] bars = Enumerable.Range(0, 20_000).Select(_ => QTips.Bar.Next(ref random)).ToArray();

        Assert.Equal([1, 2, 3], bars.Select(bar => bar.Class).Distinct().Order());
        Assert.Equal(Enumerable.Range(4, 4), bars.Select(bar => bar.Width).Distinct().Order());
        Assert.Equal(Enumerable.Range(32, 28), bars.Select(bar => bar.Length).Distinct().Order());
        Assert.All(bars, bar => Assert.True(bar.Angle >= -180 && bar.Angle < 180, $"angle {bar.Angle}"));
        Assert.True(bars.Min(bar => bar.Angle) < -179 && bars.Max(bar => bar.Angle) > 179);
        Assert.DoesNotContain(bars, bar => bar.Class != 2 && bar.WhiteFirst);
        Assert.InRange(bars.Where(bar => bar.Class == 2).Average(bar => bar.WhiteFirst ? 1.0 : 0.0), 0.45, 0.55);
    }

    [Theory]
    [InlineData(1, 6, 40, false, 29, 34, 12, 51, 255f, 255f)]
    [InlineData(2, 5, 33, true, 29, 33, 15, 47, 255f, 1f)]
    [InlineData(2, 7, 59, false, 28, 34, 2, 60, 1f, 255f)]
    [InlineData(3, 4, 32, false, 30, 33, 16, 47, 1f, 1f)]
    public void UnrotatedTheBarIsTheCentredRectangleWithItsEndSquares(
        int label, int width, int length, bool whiteFirst, int top, int bottom, int left, int right, float leftEnd, float rightEnd)
    {
        (float[] image, int[] labels) = Render(new QTips.Bar(label, width, length, 0, whiteFirst));

        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                bool onBar = y >= top && y <= bottom && x >= left && x <= right;
                float expected = !onBar ? 64f : x < left + width ? leftEnd : x > right - width ? rightEnd : 128f;
                Assert.Equal(expected, image[(y * Side) + x]);
                Assert.Equal(onBar ? label : 0, labels[(y * Side) + x]);
            }
        }
    }

    [Theory]
    [InlineData(6, 40)]
    [InlineData(5, 33)]
    [InlineData(7, 59)]
    public void QuarterTurnsTurnTheImageAboutItsCentre(int width, int length)
    {
        (float[] flat, int[] flatLabels) = Render(new QTips.Bar(2, width, length, 0, WhiteFirst: true));
        (float[] quarter, int[] quarterLabels) = Render(new QTips.Bar(2, width, length, 90, WhiteFirst: true));
        (float[] half, _) = Render(new QTips.Bar(2, width, length, -180, WhiteFirst: true));
        (float[] back, _) = Render(new QTips.Bar(2, width, length, -90, WhiteFirst: true));

        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                // Clockwise as displayed: the unrotated pixel (row r, column c) goes to (row c, column 63 - r).
                Assert.Equal(flat[((63 - x) * Side) + y], quarter[(y * Side) + x]);
                Assert.Equal(flatLabels[((63 - x) * Side) + y], quarterLabels[(y * Side) + x]);
                Assert.Equal(flat[((63 - y) * Side) + 63 - x], half[(y * Side) + x]);
                Assert.Equal(flat[(x * Side) + 63 - y], back[(y * Side) + x]);
            }
        }
    }

    [Theory]
    [InlineData(4, 32)]
    [InlineData(7, 59)]
    [InlineData(5, 45)]
    public void AtEveryAngleTheBarKeepsItsAreaAndItsEndSquares(int width, int length)
    {
        for (double angle = -180; angle < 180; angle += 7.3)
        {
            (float[] image, int[] labels) = Render(new QTips.Bar(2, width, length, angle, WhiteFirst: true));

            Assert.InRange(labels.Count(label => label == 2), 0.85 * length * width, 1.15 * length * width);
            Assert.InRange(image.Count(value => value == 255f), 0.65 * width * width, 1.35 * width * width);
            Assert.InRange(image.Count(value => value == 1f), 0.65 * width * width, 1.35 * width * width);
        }
    }

    private static (float[] Image, int[] Labels) Render(QTips.Bar bar)
    {
        var image = new float[Pixels];
        var labels = new int[Pixels];
        QTips.Render(bar, image, labels);
        return (image, labels);
    }

    /// <summary>The one non-zero label of an image; fails if it has none or two.</summary>
    private static int ClassOf(ReadOnlySpan<int> labels)
    {
        int label = 0;
        foreach (int value in labels)
        {
            Assert.InRange(value, 0, 3);
            if (value != 0)
            {
                Assert.True(label == 0 || label == value, $"labels {label} and {value} in one image");
                label = value;
            }
        }

        Assert.NotEqual(0, label);
        return label;
    }

    private static (double X, double Y) Centroid(ReadOnlySpan<float> image, float value)
    {
        double x = 0, y = 0;
        int count = 0;
        for (int p = 0; p < Pixels; p++)
        {
            if (image[p] == value)
            {
                x += p % Side;
                y += p / Side;
                count++;
            }
        }

        return (x / count, y / count);
    }

    /// <summary>Which quarter of the circle an angle in (-pi, pi] falls in.</summary>
    private static int Quarter(double radians) => Math.Clamp((int)Math.Floor((radians + Math.PI) / (Math.PI / 2)), 0, 3);

    /// <summary>
    /// The bar's pixels measured by their moments: a solid n-pixel run has variance (n^2 - 1) / 12 along it, so the
    /// principal variances give the length and width, and the principal axis the orientation modulo 180 degrees.
    /// </summary>
    private static Shape Measure(ReadOnlySpan<int> labels)
    {
        double sumX = 0, sumY = 0, sumXX = 0, sumYY = 0, sumXY = 0;
        int count = 0;
        for (int p = 0; p < Pixels; p++)
        {
            if (labels[p] != 0)
            {
                double x = p % Side, y = p / Side;
                sumX += x;
                sumY += y;
                sumXX += x * x;
                sumYY += y * y;
                sumXY += x * y;
                count++;
            }
        }

        double cx = sumX / count, cy = sumY / count;
        double xx = (sumXX / count) - (cx * cx), yy = (sumYY / count) - (cy * cy), xy = (sumXY / count) - (cx * cy);
        double spread = Math.Sqrt((((xx - yy) / 2) * ((xx - yy) / 2)) + (xy * xy));
        double major = ((xx + yy) / 2) + spread, minor = ((xx + yy) / 2) - spread;
        return new Shape(count, cx, cy, 0.5 * Math.Atan2(2 * xy, xx - yy), Math.Sqrt((12 * major) + 1), Math.Sqrt((12 * minor) + 1));
    }

    /// <param name="AxisAngle">The principal axis in radians, in (-pi/2, pi/2].</param>
    private sealed record Shape(int Pixels, double CentreX, double CentreY, double AxisAngle, double Length, double Width)
    {
        /// <summary>Where pixel <paramref name="p"/> lies along the axis, measured from the centroid.</summary>
        public double AlongAxis(int p) => (((p % Side) - CentreX) * Math.Cos(AxisAngle)) + (((p / Side) - CentreY) * Math.Sin(AxisAngle));
    }
}
