using System;
using System.Diagnostics.CodeAnalysis;

namespace NetCompiler.Kernels;

/// <summary>
/// Softmax followed by cross-entropy (PyTorch nn.CrossEntropyLoss, mean reduction), returning the loss and writing
/// its gradient with respect to the logits in the same pass. Log-sum-exp is shifted by the maximum logit, so large
/// logits cannot overflow. Labels are validated before any output is written.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// Mean over the n samples of -log softmax(logits[i])[labels[i]]; logits and dlogits are [n, classes]
    /// and dlogits = (softmax - onehot) / n.
    /// </summary>
    public static float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> dlogits, int n, int classes)
    {
        Guard.Batch(n);
        Guard.Positive(classes, nameof(classes));
        Guard.Length(logits.Length, (long)n * classes, nameof(logits));
        Guard.Length(labels.Length, n, nameof(labels));
        Guard.Length(dlogits.Length, (long)n * classes, nameof(dlogits));
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                ThrowBadLabel(labels[i], classes, i, pixel: -1);
            }
        }

        double loss = 0;
        double inverseCount = 1.0 / n;
        for (int i = 0; i < n; i++)
        {
            loss += Sample(logits.Slice(i * classes, classes), classes, 1, labels[i], inverseCount, dlogits.Slice(i * classes, classes));
        }

        return (float)(loss * inverseCount);
    }

    /// <summary>
    /// Per-pixel cross-entropy for segmentation: logits and dlogits are [n, classes, planeSize], labels [n, planeSize].
    /// Returns PyTorch's weighted mean sum(w[y] * loss) / sum(w[y]) (plain mean when <paramref name="classWeights"/> is empty).
    /// </summary>
    public static float ForwardPixels(
        ReadOnlySpan<float> logits,
        ReadOnlySpan<int> labels,
        ReadOnlySpan<float> classWeights,
        Span<float> dlogits,
        int n,
        int classes,
        int planeSize)
    {
        Guard.Batch(n);
        Guard.Positive(classes, nameof(classes));
        Guard.Positive(planeSize, nameof(planeSize));
        long size = (long)n * classes * planeSize;
        Guard.Length(logits.Length, size, nameof(logits));
        Guard.Length(labels.Length, (long)n * planeSize, nameof(labels));
        Guard.OptionalLength(classWeights.Length, classes, nameof(classWeights));
        Guard.Length(dlogits.Length, size, nameof(dlogits));

        double weightSum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if ((uint)label >= (uint)classes)
            {
                ThrowBadLabel(label, classes, i / planeSize, i % planeSize);
            }

            weightSum += classWeights.IsEmpty ? 1.0 : classWeights[label];
        }

        double loss = 0;
        double inverseWeightSum = 1.0 / weightSum;
        int planeLength = classes * planeSize;
        for (int image = 0; image < n; image++)
        {
            ReadOnlySpan<float> imageLogits = logits.Slice(image * planeLength, planeLength);
            Span<float> imageGradient = dlogits.Slice(image * planeLength, planeLength);
            for (int pixel = 0; pixel < planeSize; pixel++)
            {
                int label = labels[(image * planeSize) + pixel];
                double weight = classWeights.IsEmpty ? 1.0 : classWeights[label];
                loss += weight * Sample(imageLogits[pixel..], classes, planeSize, label, weight * inverseWeightSum, imageGradient[pixel..]);
            }
        }

        return (float)(loss * inverseWeightSum);
    }

    /// <summary>
    /// Cross-entropy of one sample whose logits sit at logits[c * stride]; writes
    /// gradient[c * stride] = scale * (softmax_c - [c == label]) and returns the unscaled loss.
    /// </summary>
    private static double Sample(ReadOnlySpan<float> logits, int classes, int stride, int label, double scale, Span<float> gradient)
    {
        float max = float.NegativeInfinity;
        for (int c = 0; c < classes; c++)
        {
            max = MathF.Max(max, logits[c * stride]);
        }

        double sum = 0;
        for (int c = 0; c < classes; c++)
        {
            float exponential = MathF.Exp(logits[c * stride] - max);
            gradient[c * stride] = exponential;
            sum += exponential;
        }

        double inverseSum = 1.0 / sum;
        for (int c = 0; c < classes; c++)
        {
            double probability = gradient[c * stride] * inverseSum;
            gradient[c * stride] = (float)(scale * (c == label ? probability - 1.0 : probability));
        }

        return Math.Log(sum) + max - logits[label * stride];
    }

    [DoesNotReturn]
    private static void ThrowBadLabel(int label, int classes, int sample, int pixel)
    {
        string where = pixel < 0 ? $"sample {sample}" : $"sample {sample}, pixel {pixel}";
        throw new ArgumentOutOfRangeException("labels", label, $"Label {label} at {where} is outside [0, {classes}).");
    }
}
