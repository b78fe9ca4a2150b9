using System;

namespace NetCompiler;

/// <summary>
/// Mini-batches of a <see cref="DataSet"/>, copied into buffers the caller owns, so a training loop allocates nothing
/// per batch. Each epoch visits every image once; its last batch is smaller when the batch size does not divide the
/// image count (as a PyTorch DataLoader without drop_last).
/// </summary>
/// <example>
/// <code>
/// var batches = train.Batches(batchSize: 64, seed: 1);
/// var images = new float[64 * train.ImageSize];
/// var labels = new int[64];
/// for (int epoch = 0; epoch &lt; 10; epoch++)
/// {
///     for (int n; (n = batches.Next(images, labels)) &gt; 0;)
///     {
///         net.TrainStep(images.AsSpan(0, n * train.ImageSize), labels.AsSpan(0, n), optimizer);
///     }
/// }
/// </code>
/// </example>
public sealed class MiniBatches
{
    private readonly DataSet _data;
    private readonly int[] _order;
    private readonly Random? _random;
    private readonly int _rank;
    private readonly int _ranks;
    private int _position;

    internal MiniBatches(DataSet data, int batchSize, bool shuffle, int seed, int rank, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ranks);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        _data = data;
        BatchSize = batchSize;
        _rank = rank;
        _ranks = ranks;
        _order = new int[data.Count];
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        _random = shuffle ? new Random(seed) : null;
    }

    public int BatchSize { get; }

    /// <summary>Steps per epoch, the same on every rank.</summary>
    public int BatchesPerEpoch
    {
        get
        {
            long global = (long)BatchSize * _ranks;
            long full = _data.Count / global;
            return (int)(full + (_data.Count - (full * global) >= _ranks ? 1 : 0));
        }
    }

    /// <summary>
    /// Copies the next batch into <paramref name="images"/> (NCHW) and <paramref name="labels"/> (each image's
    /// <see cref="DataSet.LabelsPerSample"/> labels in turn) and returns its size: <see cref="BatchSize"/>, or less for
    /// an epoch's last batch; 0 when the epoch is over, after which the next call starts a new epoch.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has no room for <see cref="BatchSize"/> images.</exception>
    /// <exception cref="InvalidOperationException">The set holds float targets: call the overload that takes them.</exception>
    public int Next(Span<float> images, Span<int> labels)
    {
        if (_data.HasFloatTargets)
        {
            throw new InvalidOperationException("This data set holds float targets, not class labels; call Next(images, targets) with a float buffer.");
        }

        return Next(images, labels, _data.LabelsPerSample, static (data, index) => data.LabelsOf(index));
    }

    /// <summary>
    /// Copies the next batch of a set with float targets into <paramref name="images"/> and <paramref name="targets"/>
    /// (each image's <see cref="DataSet.TargetsPerSample"/> targets in turn); returns its size as the labelled overload does.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has no room for <see cref="BatchSize"/> images.</exception>
    /// <exception cref="InvalidOperationException">The set holds class labels: call the overload that takes them.</exception>
    public int Next(Span<float> images, Span<float> targets)
    {
        if (!_data.HasFloatTargets)
        {
            throw new InvalidOperationException("This data set holds class labels, not float targets; call Next(images, labels) with an int buffer.");
        }

        return Next(images, targets, _data.TargetsPerSample, static (data, index) => data.TargetsOf(index));
    }

    private delegate ReadOnlySpan<T> SampleValues<T>(DataSet data, int index);

    private int Next<T>(Span<float> images, Span<T> values, int valuesPerSample, SampleValues<T> valuesOf)
    {
        int imageSize = _data.ImageSize;
        if (images.Length < (long)BatchSize * imageSize)
        {
            throw new ArgumentException($"The buffer holds {images.Length} floats; a batch of {BatchSize} images needs {(long)BatchSize * imageSize}.", nameof(images));
        }

        if (values.Length < (long)BatchSize * valuesPerSample)
        {
            string what = _data.HasFloatTargets ? "targets" : "labels";
            throw new ArgumentException($"The buffer holds {values.Length} {what}; a batch needs {(long)BatchSize * valuesPerSample}.", what);
        }

        // The global batch at _position: ranks x BatchSize images, or what is left of the epoch.
        int global = (int)Math.Min((long)BatchSize * _ranks, _order.Length - _position);
        if (global < _ranks)
        {
            _position = 0;
            return 0;
        }

        if (_position == 0)
        {
            _random?.Shuffle(_order);
        }

        // This rank's shard: BatchSize images of a full global batch; of the last one, a near-equal share.
        int start = (int)((long)global * _rank / _ranks), count = (int)((long)global * (_rank + 1) / _ranks) - start;
        for (int b = 0; b < count; b++)
        {
            int index = _order[_position + start + b];
            _data.Image(index).CopyTo(images.Slice(b * imageSize, imageSize));
            valuesOf(_data, index).CopyTo(values.Slice(b * valuesPerSample, valuesPerSample));
        }

        _position += global;
        return count;
    }
}
