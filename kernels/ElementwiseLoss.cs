using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler.Kernels;

/// <summary>
/// The losses of a score tensor against one float target per element, with PyTorch's mean reduction over every
/// element: regression (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss) and multi-label (nn.BCEWithLogitsLoss). Each returns
/// the mean loss, accumulated in double, and writes d(loss)/d(scores), already divided by the element count. The
/// element-wise differences are memory-bound, so Vector&lt;float&gt; width is plenty; the scalar tail computes the same
/// float difference and the same double terms, so a result does not depend on where the vectors end.
/// </summary>
public static class ElementwiseLoss
{
    /// <summary>mean((s - t)^2); d = 2 (s - t) / N.</summary>
    public static float MeanSquaredError(ReadOnlySpan<float> scores, ReadOnlySpan<float> targets, Span<float> dscores)
    {
        CheckLengths(scores, targets, dscores);
        float scale = (float)(2.0 / scores.Length);
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> s = MemoryMarshal.Cast<float, Vector<float>>(scores), t = MemoryMarshal.Cast<float, Vector<float>>(targets);
            Span<Vector<float>> d = MemoryMarshal.Cast<float, Vector<float>>(dscores);
            var factor = new Vector<float>(scale);
            Vector<double> accumulator = Vector<double>.Zero;
            for (int v = 0; v < d.Length; v++)
            {
                Vector<float> difference = s[v] - t[v];
                Vector.Widen(difference, out Vector<double> lower, out Vector<double> upper);
                accumulator += (lower * lower) + (upper * upper);
                d[v] = factor * difference;
            }

            sum = Vector.Sum(accumulator);
            i = d.Length * Vector<float>.Count;
        }

        for (; i < scores.Length; i++)
        {
            float difference = scores[i] - targets[i];
            sum += (double)difference * difference;
            dscores[i] = scale * difference;
        }

        return (float)(sum / scores.Length);
    }

    /// <summary>mean(|s - t|); d = sign(s - t) / N, 0 where s = t (torch.sign).</summary>
    public static float L1(ReadOnlySpan<float> scores, ReadOnlySpan<float> targets, Span<float> dscores)
    {
        CheckLengths(scores, targets, dscores);
        float scale = (float)(1.0 / scores.Length);
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> s = MemoryMarshal.Cast<float, Vector<float>>(scores), t = MemoryMarshal.Cast<float, Vector<float>>(targets);
            Span<Vector<float>> d = MemoryMarshal.Cast<float, Vector<float>>(dscores);
            var up = new Vector<float>(scale);
            var down = new Vector<float>(-scale);
            Vector<double> accumulator = Vector<double>.Zero;
            for (int v = 0; v < d.Length; v++)
            {
                Vector<float> difference = s[v] - t[v];
                Vector.Widen(Vector.Abs(difference), out Vector<double> lower, out Vector<double> upper);
                accumulator += lower + upper;
                // Zero where the difference is zero: neither mask is set.
                d[v] = Vector.ConditionalSelect(Vector.GreaterThan(difference, Vector<float>.Zero), up, Vector<float>.Zero)
                    + Vector.ConditionalSelect(Vector.LessThan(difference, Vector<float>.Zero), down, Vector<float>.Zero);
            }

            sum = Vector.Sum(accumulator);
            i = d.Length * Vector<float>.Count;
        }

        for (; i < scores.Length; i++)
        {
            float difference = scores[i] - targets[i];
            sum += MathF.Abs(difference);
            dscores[i] = difference > 0 ? scale : difference < 0 ? -scale : 0f;
        }

        return (float)(sum / scores.Length);
    }

    /// <summary>
    /// Huber with beta 1 (nn.SmoothL1Loss): mean of 0.5 e^2 where |e| &lt; 1, |e| - 0.5 elsewhere, e = s - t;
    /// d = clamp(e, -1, 1) / N.
    /// </summary>
    public static float SmoothL1(ReadOnlySpan<float> scores, ReadOnlySpan<float> targets, Span<float> dscores)
    {
        CheckLengths(scores, targets, dscores);
        float scale = (float)(1.0 / scores.Length);
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> s = MemoryMarshal.Cast<float, Vector<float>>(scores), t = MemoryMarshal.Cast<float, Vector<float>>(targets);
            Span<Vector<float>> d = MemoryMarshal.Cast<float, Vector<float>>(dscores);
            var factor = new Vector<float>(scale);
            var one = Vector<float>.One;
            var half = new Vector<float>(0.5f);
            Vector<double> accumulator = Vector<double>.Zero;
            for (int v = 0; v < d.Length; v++)
            {
                Vector<float> difference = s[v] - t[v];
                Vector<float> magnitude = Vector.Abs(difference);
                Vector<float> term = Vector.ConditionalSelect(Vector.LessThan(magnitude, one), half * difference * difference, magnitude - half);
                Vector.Widen(term, out Vector<double> lower, out Vector<double> upper);
                accumulator += lower + upper;
                d[v] = factor * Vector.Min(Vector.Max(difference, -one), one);
            }

            sum = Vector.Sum(accumulator);
            i = d.Length * Vector<float>.Count;
        }

        for (; i < scores.Length; i++)
        {
            float difference = scores[i] - targets[i];
            float magnitude = MathF.Abs(difference);
            sum += magnitude < 1f ? 0.5f * difference * difference : magnitude - 0.5f;
            dscores[i] = scale * Math.Clamp(difference, -1f, 1f);
        }

        return (float)(sum / scores.Length);
    }

    /// <summary>
    /// Binary cross-entropy on logits (nn.BCEWithLogitsLoss): mean of max(x, 0) - x t + log(1 + exp(-|x|)), which
    /// never overflows; d = (sigmoid(x) - t) / N. Scalar: one exp per element, a small part of a training step.
    /// </summary>
    public static float BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> dlogits)
    {
        CheckLengths(logits, targets, dlogits);
        double scale = 1.0 / logits.Length;
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i];
            double target = targets[i];
            double exponential = Math.Exp(-Math.Abs((double)x)); // in (0, 1]
            sum += Math.Max(x, 0.0) - (x * target) + Math.Log(1.0 + exponential);
            double sigmoid = x >= 0 ? 1.0 / (1.0 + exponential) : exponential / (1.0 + exponential);
            dlogits[i] = (float)((sigmoid - target) * scale);
        }

        return (float)(sum * scale);
    }

    private static void CheckLengths(ReadOnlySpan<float> scores, ReadOnlySpan<float> targets, Span<float> dscores)
    {
        Guard.Positive(scores.Length, nameof(scores));
        Guard.Length(targets.Length, scores.Length, nameof(targets));
        Guard.Length(dscores.Length, scores.Length, nameof(dscores));
    }
}
