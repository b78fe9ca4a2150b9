using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>RegressionMetrics on a case worked by hand, and against one naive pass per figure over random batches.</summary>
public sealed class RegressionMetricsTests
{
    [Fact]
    public void AHandWorkedCase()
    {
        var metrics = new RegressionMetrics();
        // Targets 0 and -1 are "no measurement" and skipped; a prediction of 0 fails every threshold.
        metrics.Add(predictions: [2f, 1f, 3f, 5f, 0f, 9f], targets: [2f, 1.5f, 2f, 0f, 1f, -1f]);

        // Counted: (2, 2) error 0 ratio 1; (1, 1.5) error 0.5 ratio 1.5; (3, 2) error 1 ratio 1.5; (0, 1) error 1 ratio inf.
        Assert.Equal(4, metrics.Count);
        Assert.Equal(2, metrics.SkippedCount);
        Assert.Equal(Math.Sqrt((0 + 0.25 + 1 + 1) / 4), metrics.RootMeanSquaredError, 1e-15);
        Assert.Equal(2.5 / 4, metrics.MeanAbsoluteError, 1e-15);
        Assert.Equal((0 + (0.5 / 1.5) + 0.5 + 1) / 4, metrics.AbsoluteRelativeError, 1e-15);
        Assert.Equal(1.0 / 4, metrics.Delta1);   // only the exact one is below 1.25
        Assert.Equal(3.0 / 4, metrics.Delta2);   // 1.5 < 1.5625
        Assert.Equal(3.0 / 4, metrics.Delta3);
    }

    [Fact]
    public void BeforeAnyElementTheFiguresAreNaNAndResetStartsOver()
    {
        var metrics = new RegressionMetrics();
        Assert.True(double.IsNaN(metrics.RootMeanSquaredError));
        Assert.True(double.IsNaN(metrics.Delta1));

        metrics.Add([1f], [2f]);
        metrics.Reset();
        Assert.Equal(0, metrics.Count);
        Assert.True(double.IsNaN(metrics.MeanAbsoluteError));
        metrics.Add([1f], [0f]);
        Assert.True(double.IsNaN(metrics.AbsoluteRelativeError)); // every target masked
        Assert.Equal(1, metrics.SkippedCount);
    }

    [Fact]
    public void BatchesAccumulateToTheFiguresOfTheWholePass()
    {
        var random = new Random(5);
        var metrics = new RegressionMetrics();
        var predictions = new List<double>();
        var targets = new List<double>();
        foreach (int length in new[] { 144, 7, 288 })
        {
            float[] p = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 4) - 0.2)).ToArray();
            float[] t = Enumerable.Range(0, length).Select(_ => random.Next(5) == 0 ? 0f : (float)(0.1 + (random.NextDouble() * 3))).ToArray();
            metrics.Add(p, t);
            predictions.AddRange(p.Select(v => (double)v));
            targets.AddRange(t.Select(v => (double)v));
        }

        var valid = predictions.Zip(targets).Where(pair => pair.Second > 0).ToList();
        double Share(double limit) => valid.Count(v => v.First > 0 && v.First / v.Second < limit && v.Second / v.First < limit) / (double)valid.Count;

        // Sums of a few hundred double terms: 1e-12 is far above their rounding and far below any real difference.
        Assert.Equal(valid.Count, metrics.Count);
        Assert.Equal(targets.Count - valid.Count, metrics.SkippedCount);
        Assert.Equal(Math.Sqrt(valid.Average(v => (v.First - v.Second) * (v.First - v.Second))), metrics.RootMeanSquaredError, 1e-12);
        Assert.Equal(valid.Average(v => Math.Abs(v.First - v.Second)), metrics.MeanAbsoluteError, 1e-12);
        Assert.Equal(valid.Average(v => Math.Abs(v.First - v.Second) / v.Second), metrics.AbsoluteRelativeError, 1e-12);
        Assert.Equal(Share(1.25), metrics.Delta1);
        Assert.Equal(Share(1.25 * 1.25), metrics.Delta2);
        Assert.Equal(Share(1.25 * 1.25 * 1.25), metrics.Delta3);
        Assert.InRange(metrics.Delta1, 0.05, 0.95); // the case exercises both sides of every threshold
        Assert.InRange(metrics.Delta3, metrics.Delta1, 0.99);
    }

    [Fact]
    public void BadInputIsRefusedWithNothingAdded()
    {
        var metrics = new RegressionMetrics();
        var exception = Assert.Throws<ArgumentException>(() => metrics.Add([1f, 2f], [1f]));
        Assert.Equal("predictions", exception.ParamName);
        exception = Assert.Throws<ArgumentException>(() => metrics.Add([1f, 2f], [1f, float.NaN]));
        Assert.Equal("targets", exception.ParamName);
        Assert.Contains("targets[1]", exception.Message);
        Assert.Throws<ArgumentException>(() => metrics.Add([float.PositiveInfinity], [1f]));
        Assert.Equal(0, metrics.Count + metrics.SkippedCount);
    }
}
