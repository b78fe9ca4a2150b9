using System;

namespace NetCompiler;

/// <summary>
/// Labelled images held in memory: <see cref="Count"/> images of <see cref="ImageShape"/> stored flat in NCHW order,
/// one class label in [0, <see cref="ClassCount"/>) per image.
/// </summary>
public sealed class DataSet
{
    private readonly float[] _images;
    private readonly int[] _labels;

    /// <summary>Wraps <paramref name="images"/> and <paramref name="labels"/> without copying them.</summary>
    /// <exception cref="ArgumentException">The arrays disagree on the image count, or a label is outside [0, classCount).</exception>
    public DataSet(float[] images, int[] labels, TensorShape imageShape, int classCount)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageShape.Elements, nameof(imageShape));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(imageShape.Elements, Array.MaxLength, nameof(imageShape));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        if (images.LongLength != labels.LongLength * imageShape.Elements)
        {
            throw new ArgumentException(
                $"{images.Length} floats are not {labels.Length} images of {imageShape} ({imageShape.Elements} floats each).", nameof(images));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"Label {labels[i]} of image {i} is outside [0, {classCount}).", nameof(labels));
            }
        }

        _images = images;
        _labels = labels;
        ImageShape = imageShape;
        ClassCount = classCount;
    }

    public int Count => _labels.Length;

    /// <summary>The shape of one image, e.g. 1x28x28.</summary>
    public TensorShape ImageShape { get; }

    /// <summary>Floats per image: channels * height * width.</summary>
    public int ImageSize => (int)ImageShape.Elements;

    public int ClassCount { get; }

    /// <summary>Every image, one after another.</summary>
    public ReadOnlySpan<float> Images => _images;

    public ReadOnlySpan<int> Labels => _labels;

    public ReadOnlySpan<float> Image(int index) => _images.AsSpan(checked(index * ImageSize), ImageSize);

    /// <summary>How many images each class has, indexed by label.</summary>
    public int[] CountPerClass()
    {
        var counts = new int[ClassCount];
        foreach (int label in _labels)
        {
            counts[label]++;
        }

        return counts;
    }

    /// <summary>
    /// Mini-batches over this set, epoch after epoch; with <paramref name="shuffle"/>, each epoch visits the images in
    /// a fresh order drawn from a generator seeded with <paramref name="seed"/>, so runs repeat exactly.
    /// </summary>
    public MiniBatches Batches(int batchSize, bool shuffle = true, int seed = 0) => new(this, batchSize, shuffle, seed);
}
