using System;
using System.Collections.Generic;

namespace NetCompiler;

/// <summary>
/// Explanations of a compiled classifier's decisions (one score per class): saliency (Simonyan et al. 2014), Grad-CAM
/// (Selvaraju et al. 2017), occlusion (Zeiler and Fergus 2014) and the fast gradient sign method's adversarial examples
/// (Goodfellow et al. 2015). The network runs in evaluation mode; a class score is the network's output for that
/// class before the softmax. Maps explain one image and are height x width floats, row-major, at the input's resolution.
/// </summary>
public static class Explanations
{
    /// <summary>
    /// Simonyan et al.'s saliency map: |d score(<paramref name="classIndex"/>) / d image| per pixel, the largest over
    /// the input channels. Large where a small change of the pixel changes the score most.
    /// </summary>
    /// <exception cref="ArgumentException">The image is not one input image of the network, or not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The class is not one the network scores.</exception>
    public static float[] Saliency(CompiledNetwork network, ReadOnlySpan<float> image, int classIndex)
    {
        int plane = CheckImage(network, image);
        ReadOnlySpan<float> gradient = network.ScoreGradient(image, classIndex);
        var map = new float[plane];
        for (int offset = 0; offset < gradient.Length; offset += plane)
        {
            ReadOnlySpan<float> channel = gradient.Slice(offset, plane);
            for (int i = 0; i < plane; i++)
            {
                map[i] = Math.Max(map[i], Math.Abs(channel[i]));
            }
        }

        return map;
    }

    /// <summary>
    /// Selvaraju et al.'s Grad-CAM at <paramref name="layer"/>: with A_k the layer's k-th output channel and
    /// alpha_k the spatial mean of d score(<paramref name="classIndex"/>) / d A_k, the map relu(sum_k alpha_k A_k),
    /// resized bilinearly to the input (half-pixel centres, as PyTorch's interpolate without align_corners).
    /// </summary>
    /// <param name="layer">A spatial layer of the network from its static Summary, typically the last convolutional
    /// block's output; it must keep both its output and its gradient (a pooling layer does; a convolution fused with
    /// its ReLU keeps only one of them, and the network's error says which layer has it).</param>
    /// <exception cref="ArgumentException">The image is not one input image, the layer is flat, unknown to the network,
    /// or not the size the network's layer is.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The class is not one the network scores.</exception>
    /// <exception cref="InvalidOperationException">The network does not keep the layer's output or gradient.</exception>
    public static float[] GradCam(CompiledNetwork network, ReadOnlySpan<float> image, int classIndex, LayerSummary layer)
    {
        CheckImage(network, image);
        ArgumentNullException.ThrowIfNull(layer);
        TensorShape shape = layer.Output;
        if (shape.IsFlat)
        {
            throw new ArgumentException(
                $"Grad-CAM needs a spatial layer (channels x height x width); '{layer.Name}' outputs a flat vector of {shape}.", nameof(layer));
        }

        network.ScoreGradient(image, classIndex);
        ReadOnlySpan<float> activations = network.LayerOutput(layer.Name);
        ReadOnlySpan<float> gradients = network.LayerGradient(layer.Name);
        if (activations.Length != shape.Elements || gradients.Length != shape.Elements)
        {
            throw new ArgumentException(
                $"The network's layer '{layer.Name}' holds {activations.Length} floats per image, not the {shape} of the summary given; pass a layer of this network's Summary.",
                nameof(layer));
        }

        int plane = shape.Height * shape.Width;
        var cam = new float[plane];
        for (int k = 0; k < shape.Channels; k++)
        {
            ReadOnlySpan<float> gradient = gradients.Slice(k * plane, plane);
            float alpha = 0;
            foreach (float value in gradient)
            {
                alpha += value;
            }

            alpha /= plane;
            ReadOnlySpan<float> activation = activations.Slice(k * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                cam[i] += alpha * activation[i];
            }
        }

        for (int i = 0; i < plane; i++)
        {
            cam[i] = Math.Max(cam[i], 0f);
        }

        return ResizeBilinear(cam, shape.Height, shape.Width, network.InputShape.Height, network.InputShape.Width);
    }

    /// <summary>
    /// Zeiler and Fergus's occlusion map: a <paramref name="patch"/> x <paramref name="patch"/> square of
    /// <paramref name="fill"/> (in every channel) slides over the image in steps of <paramref name="stride"/>, the last
    /// position flush with the far edge, and each pixel gets the mean drop of the class score (unoccluded minus
    /// occluded) over the squares that cover it. Positive where hiding the region lowers the score, so the region
    /// supports the class. The drop is in the score rather than Zeiler and Fergus's softmax probability: the
    /// probability of a confidently classified image saturates near 1 and hides all but the largest effects, and
    /// saliency and Grad-CAM explain the same score. The occluded images run in batches of the network's batch size.
    /// </summary>
    /// <param name="fill">The occluder's value; 0 on data standardised by its mean is the mean pixel, a neutral grey.</param>
    /// <exception cref="ArgumentException">The image is not one input image or not finite, or the fill is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The class is not one the network scores, the patch does not fit the
    /// image, or the stride is not in 1..patch (a larger one would leave pixels never occluded).</exception>
    public static float[] Occlusion(CompiledNetwork network, ReadOnlySpan<float> image, int classIndex, int patch, int stride, float fill = 0f)
    {
        int plane = CheckImage(network, image);
        int height = network.InputShape.Height, width = network.InputShape.Width;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(patch, Math.Min(height, width));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stride, patch);
        if (!float.IsFinite(fill))
        {
            throw new ArgumentException($"The fill is {fill}; it must be finite.", nameof(fill));
        }

        ReadOnlySpan<float> unoccluded = network.Forward(image);
        CheckClass(classIndex, unoccluded.Length, nameof(classIndex));
        float baseline = unoccluded[classIndex];
        List<int> rows = Positions(height, patch, stride), columns = Positions(width, patch, stride);
        var squares = new List<(int Top, int Left)>(rows.Count * columns.Count);
        foreach (int top in rows)
        {
            foreach (int left in columns)
            {
                squares.Add((top, left));
            }
        }

        var dropSum = new float[plane];
        var covered = new int[plane];
        var batch = new float[network.BatchSize * image.Length];
        for (int first = 0; first < squares.Count; first += network.BatchSize)
        {
            int count = Math.Min(network.BatchSize, squares.Count - first);
            for (int b = 0; b < count; b++)
            {
                Span<float> occluded = batch.AsSpan(b * image.Length, image.Length);
                image.CopyTo(occluded);
                (int top, int left) = squares[first + b];
                for (int offset = 0; offset < image.Length; offset += plane)
                {
                    for (int y = top; y < top + patch; y++)
                    {
                        occluded.Slice(offset + (y * width) + left, patch).Fill(fill);
                    }
                }
            }

            ReadOnlySpan<float> scores = network.Forward(batch.AsSpan(0, count * image.Length));
            int classes = scores.Length / count;
            for (int b = 0; b < count; b++)
            {
                float drop = baseline - scores[(b * classes) + classIndex];
                (int top, int left) = squares[first + b];
                for (int y = top; y < top + patch; y++)
                {
                    for (int x = left; x < left + patch; x++)
                    {
                        dropSum[(y * width) + x] += drop;
                        covered[(y * width) + x]++;
                    }
                }
            }
        }

        for (int i = 0; i < plane; i++)
        {
            dropSum[i] /= covered[i];
        }

        return dropSum;
    }

    /// <summary>
    /// Goodfellow et al.'s fast gradient sign method: x + epsilon * sign(d loss / d x), the loss being the network's
    /// cross-entropy for the true <paramref name="label"/>, clipped to [<paramref name="min"/>, <paramref name="max"/>].
    /// Pass the range the data can take so the result is still a possible image: for data standardised as
    /// (pixel - mean) / std with pixels in [0, 1], that is [-mean / std, (1 - mean) / std], and epsilon is in the
    /// same standardised units (epsilon / std in pixel units). The default range does not clip.
    /// </summary>
    /// <returns>The adversarial image, shaped as the input.</returns>
    /// <exception cref="ArgumentException">The image is not one input image or not finite, or the range is not an
    /// interval with min &lt;= max.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label is not a class of the network, or epsilon is negative or not finite.</exception>
    public static float[] Fgsm(
        CompiledNetwork network, ReadOnlySpan<float> image, int label, float epsilon, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        CheckImage(network, image);
        return FastGradientSign(network, image, [label], epsilon, min, max, nameof(label));
    }

    /// <summary>
    /// The fast gradient sign method for up to the network's batch size of images at once (n*C*H*W floats), one
    /// label each, or for a <see cref="Loss.PixelCrossEntropy"/> network one label per output pixel (n*H*W, as its
    /// TrainStep takes them): one forward and backward pass for the batch instead of one per image. See the one-image overload.
    /// </summary>
    /// <returns>The adversarial images, shaped as the input.</returns>
    /// <exception cref="ArgumentException">The images are not a whole number of input images, more than the batch size,
    /// not finite, or not one per label (per pixel's labels for a segmentation network); or the range is not an interval
    /// with min &lt;= max.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class of the network, or epsilon is negative or not finite.</exception>
    public static float[] Fgsm(
        CompiledNetwork network, ReadOnlySpan<float> images, ReadOnlySpan<int> labels, float epsilon, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(network);
        long imageLength = network.InputShape.Elements;
        bool perPixel = network.Loss == Loss.PixelCrossEntropy;
        long count = images.Length / imageLength;
        if (images.Length % imageLength != 0 || (perPixel ? count == 0 || labels.Length % count != 0 : count != labels.Length))
        {
            string labelled = perPixel ? "each with the same number of per-pixel labels" : "one per label";
            throw new ArgumentException(
                $"The images are {images.Length} floats for {labels.Length} labels, not a whole number of {network.InputShape} images ({imageLength} floats each), {labelled}.",
                nameof(images));
        }

        return FastGradientSign(network, images, labels, epsilon, min, max, nameof(labels));
    }

    private static float[] FastGradientSign(
        CompiledNetwork network, ReadOnlySpan<float> images, ReadOnlySpan<int> labels, float epsilon, float min, float max, string labelArgument)
    {
        if (!(float.IsFinite(epsilon) && epsilon >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon is a finite step size, zero or more.");
        }

        if (float.IsNaN(min) || float.IsNaN(max) || min > max)
        {
            throw new ArgumentException($"[{min}, {max}] is not a range with min <= max.", nameof(min));
        }

        // A segmentation network's InputGradient checks its per-pixel labels itself, their count and their classes.
        if (network.Loss != Loss.PixelCrossEntropy)
        {
            ReadOnlySpan<float> scores = network.Forward(images);
            int classes = scores.Length / labels.Length;
            foreach (int label in labels)
            {
                CheckClass(label, classes, labelArgument);
            }
        }

        ReadOnlySpan<float> gradient = network.InputGradient(images, labels);
        var adversarial = new float[images.Length];
        for (int i = 0; i < images.Length; i++)
        {
            adversarial[i] = Math.Clamp(images[i] + (epsilon * MathF.Sign(gradient[i])), min, max);
        }

        return adversarial;
    }

    /// <summary>Checks that <paramref name="image"/> is exactly one input image and returns its height * width.</summary>
    private static int CheckImage(CompiledNetwork network, ReadOnlySpan<float> image)
    {
        ArgumentNullException.ThrowIfNull(network);
        TensorShape shape = network.InputShape;
        if (image.Length != shape.Elements)
        {
            throw new ArgumentException(
                $"The image has {image.Length} floats; the network takes one {shape} image of {shape.Elements} floats.", nameof(image));
        }

        return shape.Height * shape.Width;
    }

    /// <summary>Checks a class index against a classifier's score count (one score per class).</summary>
    private static void CheckClass(int classIndex, int classes, string argument)
    {
        if ((uint)classIndex >= (uint)classes)
        {
            throw new ArgumentOutOfRangeException(argument, classIndex, $"The network scores classes 0..{classes - 1}.");
        }
    }

    /// <summary>The square's top (or left) edges along a side: every stride, plus one flush with the far edge.</summary>
    private static List<int> Positions(int side, int patch, int stride)
    {
        var positions = new List<int>();
        for (int at = 0; at <= side - patch; at += stride)
        {
            positions.Add(at);
        }

        if (positions[^1] != side - patch)
        {
            positions.Add(side - patch);
        }

        return positions;
    }

    /// <summary>Bilinear resize with half-pixel centres, clamped at the borders (PyTorch's align_corners=False).</summary>
    private static float[] ResizeBilinear(float[] source, int sourceHeight, int sourceWidth, int height, int width)
    {
        var result = new float[height * width];
        for (int y = 0; y < height; y++)
        {
            (int y0, int y1, float fy) = Sample(y, sourceHeight, height);
            for (int x = 0; x < width; x++)
            {
                (int x0, int x1, float fx) = Sample(x, sourceWidth, width);
                float top = source[(y0 * sourceWidth) + x0] + (fx * (source[(y0 * sourceWidth) + x1] - source[(y0 * sourceWidth) + x0]));
                float bottom = source[(y1 * sourceWidth) + x0] + (fx * (source[(y1 * sourceWidth) + x1] - source[(y1 * sourceWidth) + x0]));
                result[(y * width) + x] = top + (fy * (bottom - top));
            }
        }

        return result;

        static (int Low, int High, float Fraction) Sample(int target, int sourceSize, int targetSize)
        {
            float at = Math.Max(((target + 0.5f) * sourceSize / targetSize) - 0.5f, 0f);
            int low = Math.Min((int)at, sourceSize - 1);
            int high = Math.Min(low + 1, sourceSize - 1);
            return (low, high, at - low);
        }
    }
}
