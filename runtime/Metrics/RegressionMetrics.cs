using System;

namespace NetCompiler;

/// <summary>
/// The figures depth-estimation papers report (Eigen et al., NIPS 2014, and the NYU Depth v2 and KITTI benchmarks
/// since): RMSE, MAE, absolute relative error and the threshold accuracies δ &lt; 1.25, 1.25², 1.25³, accumulated in
/// double over batches: add every batch of an evaluation pass, then read the figures.
/// <para>
/// Only elements whose target is greater than 0 count, for every figure: as those benchmarks mask the pixels with no
/// measurement (stored as 0), elements with a target of 0 or below are skipped and counted in
/// <see cref="SkippedCount"/>. A prediction of 0 or below fails every threshold.
/// </para>
/// </summary>
/// <example>
/// <code>
/// var metrics = new RegressionMetrics();
/// for (int n; (n = batches.Next(images, depths)) &gt; 0;)
/// {
///     metrics.Add(net.Forward(images.AsSpan(0, n * imageSize)), depths.AsSpan(0, n * DepthNet.OutputLength));
/// }
/// Console.WriteLine($"RMSE {metrics.RootMeanSquaredError:F4}, AbsRel {metrics.AbsoluteRelativeError:F4}, δ1 {metrics.Delta1:P1}");
/// </code>
/// </example>
public sealed class RegressionMetrics
{
    private const double Threshold = 1.25;

    private double _squaredErrors;
    private double _absoluteErrors;
    private double _relativeErrors;
    private long _withinThreshold1;
    private long _withinThreshold2;
    private long _withinThreshold3;

    /// <summary>Elements counted (target greater than 0) since construction or the last <see cref="Reset"/>.</summary>
    public long Count { get; private set; }

    /// <summary>Elements skipped because their target is 0 or below (no measurement).</summary>
    public long SkippedCount { get; private set; }

    /// <summary>sqrt(mean((p - t)²)); NaN before any element counts.</summary>
    public double RootMeanSquaredError => Math.Sqrt(_squaredErrors / Count);

    /// <summary>mean(|p - t|); NaN before any element counts.</summary>
    public double MeanAbsoluteError => _absoluteErrors / Count;

    /// <summary>mean(|p - t| / t) ("AbsRel"); NaN before any element counts.</summary>
    public double AbsoluteRelativeError => _relativeErrors / Count;

    /// <summary>The share of elements with max(p / t, t / p) &lt; 1.25 ("δ1"); NaN before any element counts.</summary>
    public double Delta1 => (double)_withinThreshold1 / Count;

    /// <summary>The share of elements with max(p / t, t / p) &lt; 1.25² ("δ2"); NaN before any element counts.</summary>
    public double Delta2 => (double)_withinThreshold2 / Count;

    /// <summary>The share of elements with max(p / t, t / p) &lt; 1.25³ ("δ3"); NaN before any element counts.</summary>
    public double Delta3 => (double)_withinThreshold3 / Count;

    /// <summary>Adds a batch of predictions against their targets, element for element (any layout, as long as both match).</summary>
    /// <exception cref="ArgumentException">The lengths differ, or a value is not finite; nothing is added.</exception>
    public void Add(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets)
    {
        if (predictions.Length != targets.Length)
        {
            throw new ArgumentException($"{predictions.Length} predictions for {targets.Length} targets; they pair up one to one.", nameof(predictions));
        }

        CheckFinite(predictions, nameof(predictions));
        CheckFinite(targets, nameof(targets));
        for (int i = 0; i < targets.Length; i++)
        {
            double target = targets[i];
            if (target <= 0)
            {
                SkippedCount++;
                continue;
            }

            double prediction = predictions[i];
            double error = Math.Abs(prediction - target);
            _squaredErrors += error * error;
            _absoluteErrors += error;
            _relativeErrors += error / target;
            double ratio = prediction > 0 ? Math.Max(prediction / target, target / prediction) : double.PositiveInfinity;
            _withinThreshold1 += ratio < Threshold ? 1 : 0;
            _withinThreshold2 += ratio < Threshold * Threshold ? 1 : 0;
            _withinThreshold3 += ratio < Threshold * Threshold * Threshold ? 1 : 0;
            Count++;
        }
    }

    /// <summary>Starts a new evaluation pass.</summary>
    public void Reset()
    {
        _squaredErrors = _absoluteErrors = _relativeErrors = 0;
        _withinThreshold1 = _withinThreshold2 = _withinThreshold3 = 0;
        Count = SkippedCount = 0;
    }

    private static void CheckFinite(ReadOnlySpan<float> values, string argument)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new ArgumentException($"{argument}[{i}] is {values[i]}; predictions and targets must be finite.", argument);
            }
        }
    }
}
