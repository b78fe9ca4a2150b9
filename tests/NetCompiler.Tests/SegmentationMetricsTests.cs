using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>
/// SegmentationMetrics on cases worked by hand, and against a direct count over random batches that sets up no
/// confusion matrix.
/// </summary>
[Collection(Allocations.Alone)]
public sealed class SegmentationMetricsTests
{
    [Fact]
    public void AHandWorkedCase()
    {
        var metrics = new SegmentationMetrics(3);
        metrics.Add(predicted: [0, 1, 1, 1, 2, 0, 0, 2], labels: [0, 0, 1, 1, 2, 2, 0, 1]);

        // Rows are labels, columns predictions: 0 -> {0, 0, 1}, 1 -> {1, 1, 2}, 2 -> {2, 0}.
        Assert.Equal([2, 1, 0, 0, 2, 1, 1, 0, 1], metrics.ConfusionMatrix.ToArray());
        Assert.Equal(8, metrics.PixelCount);
        Assert.Equal(5.0 / 8, metrics.PixelAccuracy);
        Assert.Equal(2.0 / 4, metrics.IoU(0));   // 2 both, 3 labelled, 3 predicted
        Assert.Equal(2.0 / 4, metrics.IoU(1));   // 2 both, 3 labelled, 3 predicted
        Assert.Equal(1.0 / 3, metrics.IoU(2));   // 1 both, 2 labelled, 2 predicted
        Assert.Equal(4.0 / 9, metrics.MeanIoU, 1e-15);
    }

    [Fact]
    public void AClassAbsentFromLabelsAndPredictionsIsLeftOutOfTheMean()
    {
        var metrics = new SegmentationMetrics(4);
        metrics.Add(predicted: [0, 0, 2, 2], labels: [0, 1, 1, 1]);

        Assert.Equal(1.0 / 2, metrics.IoU(0));
        Assert.Equal(0.0, metrics.IoU(1));   // labelled, never predicted
        Assert.Equal(0.0, metrics.IoU(2));   // predicted, never labelled
        Assert.True(double.IsNaN(metrics.IoU(3)));
        Assert.Equal((0.5 + 0 + 0) / 3, metrics.MeanIoU);
    }

    [Fact]
    public void BeforeAnyPixelTheFiguresAreNaN()
    {
        var metrics = new SegmentationMetrics(2);

        Assert.True(double.IsNaN(metrics.PixelAccuracy));
        Assert.True(double.IsNaN(metrics.IoU(0)));
        Assert.True(double.IsNaN(metrics.MeanIoU));
    }

    [Fact]
    public void ScoresArePredictedByTheirLargestClassPerPixel()
    {
        var metrics = new SegmentationMetrics(3);

        // Two 1x2 images, NCHW: image 0 has class planes [5, 0], [1, 2], [0, 9]; image 1 has [0, 4], [3, 4], [-1, 1].
        float[] scores = [5, 0, 1, 2, 0, 9, 0, 4, 3, 4, -1, 1];
        metrics.Add(scores, labels: [0, 2, 1, 1], n: 2);

        // Predicted 0, 2, 1 and 0: the last pixel ties classes 0 and 1 and goes to 0, as torch.argmax does.
        Assert.Equal([1, 0, 0, 1, 1, 0, 0, 0, 1], metrics.ConfusionMatrix.ToArray());
        Assert.Equal(0.75, metrics.PixelAccuracy);
    }

    [Theory]
    [InlineData(2, 1, 1, 7)]
    [InlineData(4, 3, 5, 6)]
    [InlineData(6, 2, 8, 8)]
    public void RandomBatchesMatchADirectCount(int classes, int n, int height, int width)
    {
        var random = new Random(classes * 100 + height);
        var fromScores = new SegmentationMetrics(classes);
        var fromPredictions = new SegmentationMetrics(classes);
        var allPredicted = new List<int>();
        var allLabels = new List<int>();
        for (int batch = 0; batch < 3; batch++)
        {
            // Scores rounded to a few levels so ties occur; labels skewed so some classes are rare or missing.
            float[] scores = Enumerable.Range(0, n * classes * height * width).Select(_ => (float)random.Next(4)).ToArray();
            int[] labels = Enumerable.Range(0, n * height * width).Select(_ => random.Next(classes) * random.Next(2)).ToArray();
            int[] predicted = new int[labels.Length];
            for (int i = 0; i < n; i++)
            {
                for (int y = 0; y < height; y++)
                {
                    for (int x = 0; x < width; x++)
                    {
                        float[] pixel = Enumerable.Range(0, classes).Select(c => scores[(((((i * classes) + c) * height) + y) * width) + x]).ToArray();
                        predicted[(((i * height) + y) * width) + x] = Array.IndexOf(pixel, pixel.Max());
                    }
                }
            }

            fromScores.Add(scores, labels, n);
            fromPredictions.Add(predicted, labels);
            allPredicted.AddRange(predicted);
            allLabels.AddRange(labels);
        }

        int pixels = allLabels.Count;
        Assert.Equal(pixels, fromScores.PixelCount);
        Assert.Equal(fromPredictions.ConfusionMatrix.ToArray(), fromScores.ConfusionMatrix.ToArray());
        Assert.Equal(Enumerable.Range(0, pixels).Count(i => allPredicted[i] == allLabels[i]) / (double)pixels, fromScores.PixelAccuracy, 1e-12);

        double sum = 0;
        int present = 0;
        for (int c = 0; c < classes; c++)
        {
            int intersection = Enumerable.Range(0, pixels).Count(i => allPredicted[i] == c && allLabels[i] == c);
            int union = Enumerable.Range(0, pixels).Count(i => allPredicted[i] == c || allLabels[i] == c);
            double expected = union == 0 ? double.NaN : intersection / (double)union;
            Assert.Equal(expected, fromScores.IoU(c), 1e-12);
            if (union > 0)
            {
                sum += expected;
                present++;
            }
        }

        Assert.Equal(sum / present, fromScores.MeanIoU, 1e-12);
    }

    [Fact]
    public void ResetEmptiesTheMatrix()
    {
        var metrics = new SegmentationMetrics(2);
        metrics.Add(predicted: [0, 1, 1], labels: [1, 1, 0]);
        metrics.Reset();
        metrics.Add(predicted: [1], labels: [1]);

        Assert.Equal([0, 0, 0, 1], metrics.ConfusionMatrix.ToArray());
        Assert.Equal(1, metrics.PixelCount);
        Assert.Equal(1.0, metrics.PixelAccuracy);
    }

    [Fact]
    public void AddingScoresAllocatesNothing()
    {
        var metrics = new SegmentationMetrics(4);
        var scores = new float[2 * 4 * 16 * 16];
        var labels = new int[2 * 16 * 16];
        Allocations.AssertNone("SegmentationMetrics.Add", () => metrics.Add(scores, labels, 2));
    }

    [Fact]
    public void WrongLengthsAreRejected()
    {
        var metrics = new SegmentationMetrics(3);

        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => metrics.Add(new float[3 * 8 - 1], new int[8], 2)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => metrics.Add(new float[3 * 7], new int[7], 2)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Add(new float[3 * 8], new int[8], 0));
        Assert.Equal("predicted", Assert.Throws<ArgumentException>(() => metrics.Add(new int[4], new int[5])).ParamName);
        Assert.Equal(0, metrics.PixelCount);
    }

    [Fact]
    public void OutOfRangeClassesAreReportedByIndexAndLeaveTheMatrixUnchanged()
    {
        var metrics = new SegmentationMetrics(3);

        var label = Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Add(new float[3 * 6], [0, 1, 2, 0, 1, 3], 2));
        Assert.Equal("labels", label.ParamName);
        Assert.StartsWith("labels[5] = 3 is not a class in 0..2.", label.Message);

        var prediction = Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Add(predicted: [0, -1], labels: [0, 0]));
        Assert.Equal("predicted", prediction.ParamName);
        Assert.StartsWith("predicted[1] = -1 is not a class in 0..2.", prediction.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Add(predicted: [0, 0], labels: [2, 7]));
        Assert.All(metrics.ConfusionMatrix.ToArray(), count => Assert.Equal(0, count));
        Assert.Equal(0, metrics.PixelCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.IoU(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.IoU(-1));
    }
}
