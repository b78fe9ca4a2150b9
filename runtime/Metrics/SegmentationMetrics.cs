using System;

namespace NetCompiler;

/// <summary>
/// Pixel accuracy and intersection over union accumulated over batches in a confusion matrix, as torchmetrics'
/// MulticlassJaccardIndex and mmseg's IoU metric do: add every batch of an evaluation pass, then read the figures.
/// </summary>
/// <example>
/// <code>
/// var metrics = new SegmentationMetrics(QTips.Classes);
/// for (int n; (n = batches.Next(images, labels)) &gt; 0;)
/// {
///     metrics.Add(net.Forward(images.AsSpan(0, n * validation.ImageSize)), labels.AsSpan(0, n * validation.LabelsPerSample), n);
/// }
/// Console.WriteLine($"pixel accuracy {metrics.PixelAccuracy:P2}, mIoU {metrics.MeanIoU:P2}");
/// </code>
/// </example>
public sealed class SegmentationMetrics
{
    private readonly long[] _confusion;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is not positive.</exception>
    public SegmentationMetrics(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        Classes = classes;
        _confusion = new long[checked(classes * classes)];
    }

    public int Classes { get; }

    /// <summary>
    /// The Classes x Classes confusion matrix, row-major: entry [label * Classes + predicted] counts the pixels of
    /// class label predicted as class predicted (rows are the truth, as in torchmetrics and scikit-learn).
    /// </summary>
    public ReadOnlySpan<long> ConfusionMatrix => _confusion;

    /// <summary>Pixels added since construction or the last <see cref="Reset"/>.</summary>
    public long PixelCount { get; private set; }

    /// <summary>The fraction of pixels predicted correctly; NaN before any pixel is added.</summary>
    public double PixelAccuracy
    {
        get
        {
            long correct = 0;
            for (int c = 0; c < Classes; c++)
            {
                correct += _confusion[(c * Classes) + c];
            }

            return (double)correct / PixelCount;
        }
    }

    /// <summary>
    /// The mean of <see cref="IoU"/> over the classes present in the labels or the predictions (torchmetrics' and
    /// mmseg's nanmean), so a class a data set lacks does not count as a failure; NaN before any pixel is added.
    /// </summary>
    public double MeanIoU
    {
        get
        {
            double sum = 0;
            int present = 0;
            for (int c = 0; c < Classes; c++)
            {
                double iou = IoU(c);
                if (!double.IsNaN(iou))
                {
                    sum += iou;
                    present++;
                }
            }

            return sum / present;
        }
    }

    /// <summary>
    /// Intersection over union of class <paramref name="classIndex"/>: the pixels both labelled and predicted as the
    /// class over those labelled or predicted as it; NaN when neither the labels nor the predictions have the class.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classIndex"/> is not a class.</exception>
    public double IoU(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, Classes);
        long labelled = 0, predicted = 0;
        for (int k = 0; k < Classes; k++)
        {
            labelled += _confusion[(classIndex * Classes) + k];
            predicted += _confusion[(k * Classes) + classIndex];
        }

        long intersection = _confusion[(classIndex * Classes) + classIndex];
        long union = labelled + predicted - intersection;
        return union == 0 ? double.NaN : (double)intersection / union;
    }

    /// <summary>
    /// Adds a batch of network outputs: <paramref name="scores"/> holds n x Classes x H x W scores (NCHW, logits or
    /// probabilities), each pixel predicted as its highest-scoring class (the lower class on a tie, as torch.argmax);
    /// <paramref name="labels"/> holds the n x H x W true classes.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not fit n images, or a label is not a class; the matrix is unchanged.</exception>
    public void Add(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (labels.Length % n != 0)
        {
            throw new ArgumentException($"{labels.Length} labels are not a whole number of {n} images.", nameof(labels));
        }

        int pixels = labels.Length / n;
        if (scores.Length != (long)labels.Length * Classes)
        {
            throw new ArgumentException(
                $"{scores.Length} scores are not {n} images of {Classes} classes x {pixels} pixels ({(long)labels.Length * Classes} scores).", nameof(scores));
        }

        CheckClasses(labels, nameof(labels));
        for (int image = 0; image < n; image++)
        {
            ReadOnlySpan<float> imageScores = scores.Slice(image * Classes * pixels, Classes * pixels);
            for (int p = 0; p < pixels; p++)
            {
                int best = 0;
                for (int c = 1; c < Classes; c++)
                {
                    if (imageScores[(c * pixels) + p] > imageScores[(best * pixels) + p])
                    {
                        best = c;
                    }
                }

                _confusion[(labels[(image * pixels) + p] * Classes) + best]++;
            }
        }

        PixelCount += labels.Length;
    }

    /// <summary>Adds predicted classes against true ones, pixel for pixel.</summary>
    /// <exception cref="ArgumentException">The lengths differ, or a value is not a class; the matrix is unchanged.</exception>
    public void Add(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
        {
            throw new ArgumentException($"{predicted.Length} predictions for {labels.Length} labels; they pair up one to one.", nameof(predicted));
        }

        CheckClasses(predicted, nameof(predicted));
        CheckClasses(labels, nameof(labels));
        for (int i = 0; i < labels.Length; i++)
        {
            _confusion[(labels[i] * Classes) + predicted[i]]++;
        }

        PixelCount += labels.Length;
    }

    /// <summary>Empties the matrix for a new evaluation pass.</summary>
    public void Reset()
    {
        Array.Clear(_confusion);
        PixelCount = 0;
    }

    private void CheckClasses(ReadOnlySpan<int> values, string argument)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if ((uint)values[i] >= (uint)Classes)
            {
                throw new ArgumentOutOfRangeException(argument, values[i], $"{argument}[{i}] = {values[i]} is not a class in 0..{Classes - 1}.");
            }
        }
    }
}
