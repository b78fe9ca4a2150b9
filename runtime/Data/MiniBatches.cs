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
    private int _position;

    internal MiniBatches(DataSet data, int batchSize, bool shuffle, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _data = data;
        BatchSize = batchSize;
        _order = new int[data.Count];
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        _random = shuffle ? new Random(seed) : null;
    }

    public int BatchSize { get; }

    public int BatchesPerEpoch => (_data.Count + BatchSize - 1) / BatchSize;

    /// <summary>
    /// Copies the next batch into <paramref name="images"/> (NCHW) and <paramref name="labels"/> (each image's
    /// <see cref="DataSet.LabelsPerSample"/> labels in turn) and returns its size: <see cref="BatchSize"/>, or less for
    /// an epoch's last batch; 0 when the epoch is over, after which the next call starts a new epoch.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has no room for <see cref="BatchSize"/> images.</exception>
    public int Next(Span<float> images, Span<int> labels)
    {
        int imageSize = _data.ImageSize;
        int labelsPerSample = _data.LabelsPerSample;
        if (images.Length < (long)BatchSize * imageSize)
        {
            throw new ArgumentException($"The buffer holds {images.Length} floats; a batch of {BatchSize} images needs {(long)BatchSize * imageSize}.", nameof(images));
        }

        if (labels.Length < (long)BatchSize * labelsPerSample)
        {
            throw new ArgumentException($"The buffer holds {labels.Length} labels; a batch needs {(long)BatchSize * labelsPerSample}.", nameof(labels));
        }

        if (_position == _order.Length)
        {
            _position = 0;
            return 0;
        }

        if (_position == 0)
        {
            _random?.Shuffle(_order);
        }

        int count = Math.Min(BatchSize, _order.Length - _position);
        for (int b = 0; b < count; b++)
        {
            int index = _order[_position + b];
            _data.Image(index).CopyTo(images.Slice(b * imageSize, imageSize));
            _data.LabelsOf(index).CopyTo(labels.Slice(b * labelsPerSample, labelsPerSample));
        }

        _position += count;
        return count;
    }
}
