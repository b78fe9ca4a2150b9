using System;

namespace NetCompiler;

/// <summary>
/// Labelled images held in memory: <see cref="Count"/> images of <see cref="ImageShape"/> stored flat in NCHW order,
/// each with <see cref="LabelsPerSample"/> class labels in [0, <see cref="ClassCount"/>): one for classification,
/// one per pixel (height * width, row-major) for segmentation. A set for a regression loss holds
/// <see cref="TargetsPerSample"/> float targets per image instead (<see cref="HasFloatTargets"/>).
/// </summary>
public sealed class DataSet
{
    private readonly float[] _images;
    private readonly int[] _labels;
    private readonly float[] _targets = [];

    /// <summary>Wraps <paramref name="images"/> and <paramref name="labels"/> without copying them.</summary>
    /// <param name="labelsPerSample">Labels per image: 1 for classification, height * width for segmentation.</param>
    /// <exception cref="ArgumentException">The arrays disagree on the image count, or a label is outside [0, classCount).</exception>
    public DataSet(float[] images, int[] labels, TensorShape imageShape, int classCount, int labelsPerSample = 1)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageShape.Elements, nameof(imageShape));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(imageShape.Elements, Array.MaxLength, nameof(imageShape));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(labelsPerSample);
        if (labels.Length % labelsPerSample != 0)
        {
            throw new ArgumentException($"{labels.Length} labels are not a whole number of images with {labelsPerSample} labels each.", nameof(labels));
        }

        int count = labels.Length / labelsPerSample;
        if (images.LongLength != (long)count * imageShape.Elements)
        {
            throw new ArgumentException(
                $"{images.Length} floats are not {count} images of {imageShape} ({imageShape.Elements} floats each).", nameof(images));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                string where = labelsPerSample == 1 ? $"of image {i}" : $"at position {i % labelsPerSample} of image {i / labelsPerSample}";
                throw new ArgumentException($"Label {labels[i]} {where} is outside [0, {classCount}).", nameof(labels));
            }
        }

        _images = images;
        _labels = labels;
        ImageShape = imageShape;
        ClassCount = classCount;
        LabelsPerSample = labelsPerSample;
        Count = count;
    }

    /// <summary>Wraps <paramref name="images"/> and their float <paramref name="targets"/> (for regression losses) without copying them.</summary>
    /// <param name="targetsPerSample">Targets per image: the network's output elements per image.</param>
    /// <exception cref="ArgumentException">The arrays disagree on the image count, or a target is not finite.</exception>
    public DataSet(float[] images, float[] targets, TensorShape imageShape, int targetsPerSample)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageShape.Elements, nameof(imageShape));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(imageShape.Elements, Array.MaxLength, nameof(imageShape));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetsPerSample);
        if (targets.Length % targetsPerSample != 0)
        {
            throw new ArgumentException($"{targets.Length} targets are not a whole number of images with {targetsPerSample} targets each.", nameof(targets));
        }

        int count = targets.Length / targetsPerSample;
        if (images.LongLength != (long)count * imageShape.Elements)
        {
            throw new ArgumentException(
                $"{images.Length} floats are not {count} images of {imageShape} ({imageShape.Elements} floats each).", nameof(images));
        }

        int bad = Array.FindIndex(targets, t => !float.IsFinite(t));
        if (bad >= 0)
        {
            throw new ArgumentException($"Target {bad % targetsPerSample} of image {bad / targetsPerSample} is {targets[bad]}; targets must be finite.", nameof(targets));
        }

        _images = images;
        _labels = [];
        _targets = targets;
        ImageShape = imageShape;
        TargetsPerSample = targetsPerSample;
        Count = count;
    }

    public int Count { get; }

    /// <summary>The shape of one image, e.g. 1x28x28.</summary>
    public TensorShape ImageShape { get; }

    /// <summary>Floats per image: channels * height * width.</summary>
    public int ImageSize => (int)ImageShape.Elements;

    /// <summary>The number of classes; 0 for a set with float targets.</summary>
    public int ClassCount { get; }

    /// <summary>Labels per image: 1 for classification, height * width for segmentation; 0 for a set with float targets.</summary>
    public int LabelsPerSample { get; }

    /// <summary>Float targets per image for a regression set; 0 for a labelled one.</summary>
    public int TargetsPerSample { get; }

    /// <summary>Whether this set holds float targets (regression) rather than class labels.</summary>
    public bool HasFloatTargets => TargetsPerSample > 0;

    /// <summary>Every image, one after another.</summary>
    public ReadOnlySpan<float> Images => _images;

    /// <summary>Every image's labels, one image's <see cref="LabelsPerSample"/> after another.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>Every image's float targets, one image's <see cref="TargetsPerSample"/> after another; empty for a labelled set.</summary>
    public ReadOnlySpan<float> Targets => _targets;

    public ReadOnlySpan<float> Image(int index) => _images.AsSpan(checked(index * ImageSize), ImageSize);

    /// <summary>The <see cref="LabelsPerSample"/> labels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<int> LabelsOf(int index) => _labels.AsSpan(checked(index * LabelsPerSample), LabelsPerSample);

    /// <summary>The <see cref="TargetsPerSample"/> float targets of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> TargetsOf(int index) => _targets.AsSpan(checked(index * TargetsPerSample), TargetsPerSample);

    /// <summary>How many labels each class has, indexed by label: images for classification, pixels for segmentation.</summary>
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
    /// <param name="rank">For data-parallel training: this process's rank, 0 to <paramref name="ranks"/> - 1.</param>
    /// <param name="ranks">
    /// The group's size. Every rank draws the same global order (same seed) and takes its own shard of each global
    /// batch of <paramref name="ranks"/> x <paramref name="batchSize"/> images, so N ranks with batch b see what one
    /// process with batch N*b sees. An epoch's last, smaller global batch is split into near-equal shards; one too small
    /// to give every rank an image is left out, so every rank takes the same number of steps.
    /// </param>
    public MiniBatches Batches(int batchSize, bool shuffle = true, int seed = 0, int rank = 0, int ranks = 1) =>
        new(this, batchSize, shuffle, seed, rank, ranks);
}
