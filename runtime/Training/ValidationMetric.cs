using System;

namespace NetCompiler;

/// <summary>
/// A figure accumulated over a validation pass, as torchmetrics' Metric: <see cref="Reset"/>, <c>Add</c> every batch of
/// evaluation-mode outputs, then read <see cref="Value"/>. Fit computes a validation loss and any number of these after
/// every epoch; subclass it for a figure of your own (the regression metrics, say) and pass it in
/// <see cref="FitOptions.Metrics"/> or as <see cref="FitOptions.ValidationLoss"/>.
/// </summary>
public abstract class ValidationMetric
{
    /// <param name="name">How history and progress name it, e.g. "accuracy"; <see cref="FitOptions.Monitor"/> selects by it.</param>
    /// <param name="higherIsBetter">True for accuracies, false for losses: which way is an improvement.</param>
    protected ValidationMetric(string name, bool higherIsBetter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        HigherIsBetter = higherIsBetter;
    }

    public string Name { get; }

    public bool HigherIsBetter { get; }

    /// <summary>The figure over what was added since the last <see cref="Reset"/>.</summary>
    public abstract double Value { get; }

    /// <summary>Starts a new validation pass.</summary>
    public abstract void Reset();

    /// <summary>Adds a batch of <paramref name="count"/> images' outputs (scores) and their class labels.</summary>
    public virtual void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count) =>
        throw new NotSupportedException($"The metric '{Name}' takes float targets, not class labels.");

    /// <summary>Adds a batch of <paramref name="count"/> images' outputs and their float targets.</summary>
    public virtual void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, int count) =>
        throw new NotSupportedException($"The metric '{Name}' takes class labels, not float targets.");

    /// <summary>The fraction of images whose highest score is their label (torch.argmax's lower class on a tie).</summary>
    public static ValidationMetric Accuracy() => new AccuracyMetric();

    /// <summary>Mean intersection over union of a segmentation (see <see cref="SegmentationMetrics.MeanIoU"/>).</summary>
    public static ValidationMetric MeanIoU(int classes) => new SegmentationMetric("mean IoU", classes, static m => m.MeanIoU);

    /// <summary>The fraction of pixels segmented correctly (see <see cref="SegmentationMetrics.PixelAccuracy"/>).</summary>
    public static ValidationMetric PixelAccuracy(int classes) => new SegmentationMetric("pixel accuracy", classes, static m => m.PixelAccuracy);

    /// <summary>
    /// Mean softmax cross-entropy over images (per pixel for segmentation), unweighted: Fit's validation loss for class
    /// labels. Class weights, which steer training, are left out so the figure compares across weightings.
    /// </summary>
    public static ValidationMetric CrossEntropy() => new CrossEntropyMetric();

    /// <summary>Mean squared error over every output element: Fit's default validation loss for float targets.</summary>
    public static ValidationMetric MeanSquaredError() => new MeanSquaredErrorMetric();

    private sealed class AccuracyMetric() : ValidationMetric("accuracy", higherIsBetter: true)
    {
        private long _correct, _seen;

        public override double Value => (double)_correct / _seen;

        public override void Reset() => (_correct, _seen) = (0, 0);

        public override void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count)
        {
            int classes = ClassesPerImage(outputs, labels, count, Name);
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> row = outputs.Slice(i * classes, classes);
                int best = 0;
                for (int c = 1; c < classes; c++)
                {
                    best = row[c] > row[best] ? c : best;
                }

                _correct += best == labels[i] ? 1 : 0;
            }

            _seen += count;
        }
    }

    /// <summary>Root mean squared error over the elements whose target is above 0 (see <see cref="RegressionMetrics"/>).</summary>
    public static ValidationMetric RootMeanSquaredError() => new RegressionMetric("RMSE", higherIsBetter: false, static m => m.RootMeanSquaredError);

    /// <summary>Mean |prediction - target| / target over the elements whose target is above 0.</summary>
    public static ValidationMetric AbsoluteRelativeError() => new RegressionMetric("AbsRel", higherIsBetter: false, static m => m.AbsoluteRelativeError);

    /// <summary>The share of elements with max(prediction / target, target / prediction) below 1.25, as depth papers report it.</summary>
    public static ValidationMetric Delta1() => new RegressionMetric("delta<1.25", higherIsBetter: true, static m => m.Delta1);

    private sealed class RegressionMetric(string name, bool higherIsBetter, Func<RegressionMetrics, double> figure)
        : ValidationMetric(name, higherIsBetter)
    {
        private readonly RegressionMetrics _metrics = new();

        public override double Value => figure(_metrics);

        public override void Reset() => _metrics.Reset();

        public override void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, int count) => _metrics.Add(outputs, targets);
    }

    private sealed class SegmentationMetric(string name, int classes, Func<SegmentationMetrics, double> figure)
        : ValidationMetric(name, higherIsBetter: true)
    {
        private readonly SegmentationMetrics _metrics = new(classes);

        public override double Value => figure(_metrics);

        public override void Reset() => _metrics.Reset();

        public override void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count) => _metrics.Add(outputs, labels, count);
    }

    private sealed class CrossEntropyMetric() : ValidationMetric("loss", higherIsBetter: false)
    {
        private double _sum;
        private long _terms;

        public override double Value => _sum / _terms;

        public override void Reset() => (_sum, _terms) = (0, 0);

        /// <summary>Outputs are NCHW: for each image, each class's plane of labels-per-image pixels (one for classification).</summary>
        public override void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count)
        {
            int pixels = labels.Length / count, classes = ClassesPerImage(outputs, labels, count, Name);
            for (int image = 0; image < count; image++)
            {
                ReadOnlySpan<float> scores = outputs.Slice(image * classes * pixels, classes * pixels);
                for (int p = 0; p < pixels; p++)
                {
                    double max = double.NegativeInfinity;
                    for (int c = 0; c < classes; c++)
                    {
                        max = Math.Max(max, scores[(c * pixels) + p]);
                    }

                    double total = 0;
                    for (int c = 0; c < classes; c++)
                    {
                        total += Math.Exp(scores[(c * pixels) + p] - max);
                    }

                    int label = labels[(image * pixels) + p];
                    if ((uint)label >= (uint)classes)
                    {
                        throw new ArgumentOutOfRangeException(nameof(labels), label, $"Label {label} is not one of the network's {classes} classes.");
                    }

                    _sum += Math.Log(total) + max - scores[(label * pixels) + p];
                }
            }

            _terms += labels.Length;
        }
    }

    private sealed class MeanSquaredErrorMetric() : ValidationMetric("loss", higherIsBetter: false)
    {
        private double _sum;
        private long _terms;

        public override double Value => _sum / _terms;

        public override void Reset() => (_sum, _terms) = (0, 0);

        public override void Add(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, int count)
        {
            if (outputs.Length != targets.Length)
            {
                throw new ArgumentException($"{outputs.Length} outputs but {targets.Length} targets; the network's outputs per image must equal the data set's targets per image.", nameof(targets));
            }

            for (int i = 0; i < outputs.Length; i++)
            {
                double error = outputs[i] - (double)targets[i];
                _sum += error * error;
            }

            _terms += outputs.Length;
        }
    }

    private static int ClassesPerImage(ReadOnlySpan<float> outputs, ReadOnlySpan<int> labels, int count, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (labels.Length % count != 0 || outputs.Length % labels.Length != 0)
        {
            throw new ArgumentException($"{outputs.Length} outputs and {labels.Length} labels do not fit {count} images for the metric '{name}'.", nameof(outputs));
        }

        return outputs.Length / labels.Length;
    }
}
