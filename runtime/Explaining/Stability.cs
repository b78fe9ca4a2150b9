using System;

namespace NetCompiler;

/// <summary>
/// How much a compiled network amplifies small changes of its input (the stability IMEXnet claims, Haber et al. 2019):
/// the gain ||f(x + d) - f(x)|| / ||d|| of the evaluation-mode scores f along a direction d, averaged over random
/// directions, and the fast gradient sign method over a whole labelled data set for the worst case of a given size.
/// </summary>
public static class Stability
{
    /// <summary>
    /// The mean gain of <paramref name="draws"/> random perturbations per image: each a Gaussian direction scaled to
    /// <paramref name="relativeSize"/> times the image's norm. The mean of the per-draw ratios, not their maximum: a
    /// random direction's gain concentrates about the root-mean-square singular value of the network's Jacobian, so the
    /// mean of a few draws per image is a steady figure to compare networks by, where a maximum of few draws is noise
    /// (the worst direction is what <see cref="Fgsm"/> probes). For a linear network the gain is its Jacobian's along d.
    /// </summary>
    /// <param name="images">One or more input images (n*C*H*W floats), any number: they run in batches of the network's batch size.</param>
    /// <param name="relativeSize">||d|| / ||x||, small (the default 1e-2) so the gain is the Jacobian's, large enough
    /// that float32 rounding of f(x + d) - f(x) stays far below it.</param>
    /// <param name="seed">Seeds the directions: the same seed gives the same figure.</param>
    /// <exception cref="ArgumentException">The images are not a whole number of input images, or one is all zeros
    /// (a size relative to it is zero) or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The relative size is not positive and finite, or draws is not positive.</exception>
    public static double Amplification(CompiledNetwork network, ReadOnlySpan<float> images, float relativeSize = 1e-2f, int draws = 4, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(draws);
        var random = new SeededRandom(seed);
        var directions = new float[images.Length];
        double sum = 0;
        int count = 0;
        for (int draw = 0; draw < draws; draw++)
        {
            for (int i = 0; i < directions.Length; i++)
            {
                directions[i] = (float)random.NextGaussian();
            }

            foreach (double gain in Gains(network, images, directions, relativeSize))
            {
                sum += gain;
                count++;
            }
        }

        return sum / count;
    }

    /// <summary>
    /// Per image, the gain ||f(x + d) - f(x)|| / ||d|| along its direction (any non-zero length; it is scaled to
    /// <paramref name="relativeSize"/> times the image's norm). ||d|| is the perturbation as rounded into the float
    /// input, so rounding does not count as gain; norms are Euclidean over all of an image's inputs and scores.
    /// </summary>
    /// <param name="directions">One direction per image, shaped as <paramref name="images"/>.</param>
    /// <returns>One gain per image, in order.</returns>
    /// <exception cref="ArgumentException">The images are not a whole number of input images, the directions are not
    /// shaped as the images, or an image or a direction is all zeros or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The relative size is not positive and finite.</exception>
    public static double[] Gains(CompiledNetwork network, ReadOnlySpan<float> images, ReadOnlySpan<float> directions, float relativeSize = 1e-2f)
    {
        ArgumentNullException.ThrowIfNull(network);
        int imageLength = (int)network.InputShape.Elements;
        if (images.Length == 0 || images.Length % imageLength != 0)
        {
            throw new ArgumentException(
                $"The images are {images.Length} floats, not a whole number of {network.InputShape} images ({imageLength} floats each).", nameof(images));
        }

        if (directions.Length != images.Length)
        {
            throw new ArgumentException($"The directions are {directions.Length} floats; one per image is {images.Length}, shaped as the images.", nameof(directions));
        }

        if (!(float.IsFinite(relativeSize) && relativeSize > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(relativeSize), relativeSize, "The perturbation's size relative to the image is positive and finite.");
        }

        int imageCount = images.Length / imageLength;
        var gains = new double[imageCount];
        var perturbed = new float[Math.Min(imageCount, network.BatchSize) * imageLength];
        for (int first = 0; first < imageCount; first += network.BatchSize)
        {
            int n = Math.Min(network.BatchSize, imageCount - first);
            ReadOnlySpan<float> batch = images.Slice(first * imageLength, n * imageLength);
            for (int b = 0; b < n; b++)
            {
                int image = first + b;
                ReadOnlySpan<float> x = batch.Slice(b * imageLength, imageLength);
                ReadOnlySpan<float> d = directions.Slice(image * imageLength, imageLength);
                double imageNorm = Norm(x), directionNorm = Norm(d);
                if (!(imageNorm > 0 && double.IsFinite(imageNorm)))
                {
                    throw new ArgumentException($"Image {image} has norm {imageNorm}; a perturbation relative to it needs a finite, non-zero image.", nameof(images));
                }

                if (!(directionNorm > 0 && double.IsFinite(directionNorm)))
                {
                    throw new ArgumentException($"Direction {image} has norm {directionNorm}; it must be finite and not all zeros.", nameof(directions));
                }

                double scale = relativeSize * imageNorm / directionNorm;
                Span<float> target = perturbed.AsSpan(b * imageLength, imageLength);
                for (int i = 0; i < imageLength; i++)
                {
                    target[i] = (float)(x[i] + (scale * d[i]));
                }
            }

            float[] clean = network.Forward(batch).ToArray();
            ReadOnlySpan<float> moved = network.Forward(perturbed.AsSpan(0, n * imageLength));
            int scoreLength = clean.Length / n;
            for (int b = 0; b < n; b++)
            {
                double inputChange = 0, outputChange = 0;
                for (int i = 0; i < imageLength; i++)
                {
                    double step = (double)perturbed[(b * imageLength) + i] - batch[(b * imageLength) + i];
                    inputChange += step * step;
                }

                for (int i = b * scoreLength; i < (b + 1) * scoreLength; i++)
                {
                    double step = (double)moved[i] - clean[i];
                    outputChange += step * step;
                }

                gains[first + b] = Math.Sqrt(outputChange / inputChange);
            }
        }

        return gains;
    }

    /// <summary>
    /// <see cref="Explanations.Fgsm(CompiledNetwork, ReadOnlySpan{float}, ReadOnlySpan{int}, float, float, float)"/> over
    /// a whole labelled data set, in batches of the network's batch size: each image moved by epsilon along the sign of
    /// its own loss gradient (per-pixel labels for a segmentation set), clipped to [<paramref name="min"/>,
    /// <paramref name="max"/>]. Score the result as the clean set (e.g. with SegmentationMetrics) to see what the attack costs.
    /// </summary>
    /// <returns>A data set of the attacked images with the same labels.</returns>
    /// <exception cref="ArgumentException">The set's images are not the network's input shape, the set has float
    /// targets rather than class labels, or the range is not an interval with min &lt;= max.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Epsilon is negative or not finite, or a label is not a class of the network.</exception>
    public static DataSet Fgsm(CompiledNetwork network, DataSet data, float epsilon, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (data.ImageShape != network.InputShape)
        {
            throw new ArgumentException($"The set's images are {data.ImageShape}; the network takes {network.InputShape}.", nameof(data));
        }

        if (data.HasFloatTargets)
        {
            throw new ArgumentException("The set has float targets; FGSM here attacks class labels (one per image or per pixel).", nameof(data));
        }

        var attacked = new float[data.Images.Length];
        for (int first = 0; first < data.Count; first += network.BatchSize)
        {
            int n = Math.Min(network.BatchSize, data.Count - first);
            float[] batch = Explanations.Fgsm(
                network,
                data.Images.Slice(first * data.ImageSize, n * data.ImageSize),
                data.Labels.Slice(first * data.LabelsPerSample, n * data.LabelsPerSample),
                epsilon,
                min,
                max);
            batch.CopyTo(attacked, first * data.ImageSize);
        }

        return new DataSet(attacked, data.Labels.ToArray(), data.ImageShape, data.ClassCount, data.LabelsPerSample);
    }

    private static double Norm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (float value in values)
        {
            sum += (double)value * value;
        }

        return Math.Sqrt(sum);
    }
}
