using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace NetCompiler;

public abstract partial class CompiledNetwork
{
    /// <summary>
    /// Trains for up to <paramref name="epochs"/> epochs over <paramref name="training"/>, as Keras' fit or a PyTorch
    /// Lightning Trainer would: each step takes the next shuffled batch, runs the augmentation on it, applies the
    /// schedule and calls <see cref="TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, Optimizer)"/> (or the float-target
    /// overload for a set with float targets). After every epoch it evaluates the validation set, saves the best
    /// checkpoint and stops early, as <paramref name="options"/> ask. With a group (<see cref="Distribute"/>) every rank
    /// calls Fit alike and trains on its shard of each batch; rank 0 alone validates, reports progress and saves, and
    /// its decisions (stop, cancel) reach every rank.
    /// </summary>
    /// <returns>The history: one record per epoch, the best epoch, and why training stopped.</returns>
    /// <exception cref="ArgumentException">The data does not fit the network, or the options contradict each other.</exception>
    /// <exception cref="FitCanceledException">
    /// <paramref name="cancellationToken"/> was cancelled (rank 0's, when distributed). It is observed between steps only,
    /// so the network holds exactly the weights of its last complete step; the exception carries the history so far.
    /// </exception>
    /// <exception cref="IOException">Saving the best checkpoint failed (or <see cref="UnauthorizedAccessException"/>); the file keeps the previous best, as saves are atomic.</exception>
    public TrainingHistory Fit(DataSet training, int epochs, Optimizer optimizer, FitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        ArgumentNullException.ThrowIfNull(optimizer);
        options ??= new FitOptions();
        CheckFitData(training, nameof(training));
        int batchSize = options.BatchSize ?? BatchSize;
        if (batchSize <= 0 || batchSize > BatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), batchSize, $"FitOptions.BatchSize {batchSize} is not in 1..{BatchSize}, the batch size this network was created for.");
        }

        var validator = new FitValidator(this, training, options);
        int rank = _group?.Rank ?? 0, ranks = _group?.Size ?? 1;
        MiniBatches batches = training.Batches(batchSize, options.Shuffle, options.Seed, rank, ranks);
        int batchesPerEpoch = batches.BatchesPerEpoch;
        if (batchesPerEpoch == 0)
        {
            throw new ArgumentException($"The training set's {training.Count} images cannot give each of the {ranks} ranks one.", nameof(training));
        }

        var images = new float[batchSize * training.ImageSize];
        var labels = new int[batchSize * training.LabelsPerSample];
        var targets = new float[batchSize * training.TargetsPerSample];
        var augmentationRandom = new Random(unchecked(options.Seed + rank));
        IProgress<TrainingProgress>? progress = rank == 0 ? options.Progress : null;
        var history = new TrainingHistory(validator.Enabled ? options.Monitor : null);
        var clock = Stopwatch.StartNew();
        TimeSpan lastEpochTime = TimeSpan.Zero;
        long steps = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            TimeSpan epochStart = clock.Elapsed;
            double lossSum = 0;
            long seen = 0;
            for (int batch = 0; batch < batchesPerEpoch; batch++)
            {
                if (IsCancelled(cancellationToken))
                {
                    history.StopReason = StopReason.Canceled;
                    throw new FitCanceledException(history, steps, cancellationToken);
                }

                int n = training.HasFloatTargets ? batches.Next(images, targets) : batches.Next(images, labels);
                Span<float> batchImages = images.AsSpan(0, n * training.ImageSize);
                Span<int> batchLabels = labels.AsSpan(0, n * training.LabelsPerSample);
                Span<float> batchTargets = targets.AsSpan(0, n * training.TargetsPerSample);
                options.Augmentation?.Invoke(new TrainingBatch(batchImages, batchLabels, batchTargets, n, training.ImageShape), augmentationRandom);
                options.Schedule?.Apply(optimizer, epoch, batch, batchesPerEpoch);
                float loss = training.HasFloatTargets ? TrainStep(batchImages, batchTargets, optimizer) : TrainStep(batchImages, batchLabels, optimizer);
                lossSum += (double)loss * n;
                seen += n;
                steps++;
                if (progress is not null)
                {
                    TimeSpan inEpoch = clock.Elapsed - epochStart;
                    TimeSpan epochEstimate = epoch > 0 ? lastEpochTime : inEpoch / (batch + 1) * batchesPerEpoch;
                    progress.Report(new TrainingProgress
                    {
                        Epoch = epoch + 1,
                        Epochs = epochs,
                        Batch = batch + 1,
                        Batches = batchesPerEpoch,
                        Loss = lossSum / seen,
                        LearningRate = optimizer.LearningRate,
                        ImagesPerSecond = seen * ranks / inEpoch.TotalSeconds,
                        Elapsed = clock.Elapsed,
                        Remaining = (inEpoch / (batch + 1) * (batchesPerEpoch - batch - 1)) + (epochEstimate * (epochs - epoch - 1)),
                    });
                }
            }

            // The batches object is at its epoch's end: one more call rewinds it for the next epoch.
            _ = training.HasFloatTargets ? batches.Next(images, targets) : batches.Next(images, labels);
            double trainingSeconds = (clock.Elapsed - epochStart).TotalSeconds;
            (double validationLoss, KeyValuePair<string, double>[] metrics) = validator.Evaluate(rank == 0);
            (bool improved, bool stop) = validator.Judge(epoch + 1, validationLoss, metrics, _group);
            if (improved && rank == 0)
            {
                validator.KeepBest(this);
            }

            lastEpochTime = clock.Elapsed - epochStart;
            var record = new EpochRecord(epoch + 1, lossSum / seen, validationLoss, metrics, optimizer.LearningRate, lastEpochTime, seen * ranks / trainingSeconds);
            history.Add(record);
            history.BestEpoch = validator.BestEpoch;
            progress?.Report(new TrainingProgress
            {
                Epoch = epoch + 1,
                Epochs = epochs,
                Batch = batchesPerEpoch,
                Batches = batchesPerEpoch,
                Loss = record.TrainLoss,
                LearningRate = optimizer.LearningRate,
                ImagesPerSecond = record.ImagesPerSecond,
                Elapsed = clock.Elapsed,
                Remaining = lastEpochTime * (epochs - epoch - 1),
                EpochEnd = record,
            });
            if (stop)
            {
                history.StopReason = StopReason.EarlyStopped;
                break;
            }
        }

        if (validator.RestoreBest(this, history.Epochs.Count) && _group is { } group)
        {
            Distribute(group); // rank 0 restored the best weights; the others take them from it
        }

        return history;
    }

    /// <summary>Whether to stop before the next step: rank 0's token decides for every rank, so they stop at the same step.</summary>
    private bool IsCancelled(CancellationToken cancellationToken)
    {
        if (_group is not { Size: > 1 } group)
        {
            return cancellationToken.IsCancellationRequested;
        }

        Span<long> cancelled = [cancellationToken.IsCancellationRequested ? 1 : 0];
        group.Broadcast(cancelled);
        return cancelled[0] != 0;
    }

    private void CheckFitData(DataSet data, string argument)
    {
        if (data.ImageShape != InputShape)
        {
            throw new ArgumentException($"The {argument} set's images are {data.ImageShape}, but {GetType().Name} takes {InputShape}.", argument);
        }

        if (data.Count == 0)
        {
            throw new ArgumentException($"The {argument} set is empty.", argument);
        }

        bool floatTargets = Loss is not (Loss.CrossEntropy or Loss.PixelCrossEntropy);
        if (data.HasFloatTargets != floatTargets)
        {
            throw new ArgumentException(
                $"{GetType().Name} trains with Loss.{Loss} on {(floatTargets ? "float targets" : "class labels")}, but the {argument} set holds "
                + $"{(data.HasFloatTargets ? "float targets" : "class labels")}.", argument);
        }
    }

    /// <summary>Fit's end-of-epoch work: the validation pass, the monitored figure, the best weights and early stopping.</summary>
    private sealed class FitValidator
    {
        private readonly CompiledNetwork _network;
        private readonly FitOptions _options;
        private readonly DataSet? _data;
        private readonly ValidationMetric _loss;
        private readonly ValidationMetric[] _metrics;
        private readonly bool _higherIsBetter;
        private readonly float[] _images = [];
        private readonly int[] _labels = [];
        private readonly float[] _targets = [];
        private double _best = double.NaN;
        private int _sinceBest;
        private byte[]? _bestWeights;

        public FitValidator(CompiledNetwork network, DataSet training, FitOptions options)
        {
            _network = network;
            _options = options;
            _data = options.Validation;
            _loss = options.ValidationLoss ?? (training.HasFloatTargets ? ValidationMetric.MeanSquaredError() : ValidationMetric.CrossEntropy());
            if (_data is null)
            {
                _metrics = [];
                string? needs = options.Patience is not null ? "Patience (early stopping)"
                    : options.BestCheckpoint is not null ? "BestCheckpoint"
                    : options.RestoreBestWeights ? "RestoreBestWeights" : null;
                if (needs is not null)
                {
                    throw new ArgumentException($"FitOptions.{needs} needs a validation set to judge epochs by: set FitOptions.Validation.", nameof(options));
                }

                return;
            }

            network.CheckFitData(_data, "validation");
            if (options.Patience is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.Patience, "FitOptions.Patience must be at least 1 epoch.");
            }

            if (!double.IsFinite(options.MinDelta) || options.MinDelta < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.MinDelta, "FitOptions.MinDelta must be finite and not negative.");
            }

            _metrics = options.Metrics ?? DefaultMetrics(_data);
            ValidationMetric? monitored = options.Monitor == _loss.Name ? _loss : Array.Find(_metrics, m => m.Name == options.Monitor);
            if (monitored is null)
            {
                throw new ArgumentException(
                    $"FitOptions.Monitor '{options.Monitor}' is not a validation figure; the figures are {_loss.Name}{string.Concat(Array.ConvertAll(_metrics, m => ", " + m.Name))}.", nameof(options));
            }

            _higherIsBetter = monitored.HigherIsBetter;
            _images = new float[network.BatchSize * _data.ImageSize];
            _labels = new int[network.BatchSize * _data.LabelsPerSample];
            _targets = new float[network.BatchSize * _data.TargetsPerSample];
        }

        public bool Enabled => _data is not null;

        public int BestEpoch { get; private set; }

        /// <summary>The validation loss and metrics in evaluation mode; NaN and none without a validation set or off rank 0.</summary>
        public (double Loss, KeyValuePair<string, double>[] Metrics) Evaluate(bool isRoot)
        {
            if (_data is null || !isRoot)
            {
                return (double.NaN, []);
            }

            _loss.Reset();
            foreach (ValidationMetric metric in _metrics)
            {
                metric.Reset();
            }

            MiniBatches batches = _data.Batches(_network.BatchSize, shuffle: false);
            for (int n; (n = _data.HasFloatTargets ? batches.Next(_images, _targets) : batches.Next(_images, _labels)) > 0;)
            {
                ReadOnlySpan<float> outputs = _network.Forward(_images.AsSpan(0, n * _data.ImageSize));
                foreach (ValidationMetric metric in (ReadOnlySpan<ValidationMetric>)[_loss, .. _metrics])
                {
                    if (_data.HasFloatTargets)
                    {
                        metric.Add(outputs, _targets.AsSpan(0, n * _data.TargetsPerSample), n);
                    }
                    else
                    {
                        metric.Add(outputs, _labels.AsSpan(0, n * _data.LabelsPerSample), n);
                    }
                }
            }

            return (_loss.Value, Array.ConvertAll(_metrics, m => KeyValuePair.Create(m.Name, m.Value)));
        }

        /// <summary>
        /// Whether this epoch is the best so far (by at least MinDelta, as Keras counts it) and whether to stop early.
        /// Rank 0 judges; with a group its verdict is broadcast, so every rank stops at the same epoch.
        /// </summary>
        public (bool Improved, bool Stop) Judge(int epoch, double loss, KeyValuePair<string, double>[] metrics, ProcessGroup? group)
        {
            if (_data is null)
            {
                return (false, false);
            }

            Span<long> verdict = [0, 0];
            if (group is null || group.IsRoot)
            {
                double value = _options.Monitor == _loss.Name ? loss : Array.Find(metrics, m => m.Key == _options.Monitor).Value;
                bool improved = double.IsNaN(_best)
                    ? !double.IsNaN(value)
                    : _higherIsBetter ? value - _options.MinDelta > _best : value + _options.MinDelta < _best;
                if (improved)
                {
                    (_best, _sinceBest) = (value, 0);
                }
                else
                {
                    _sinceBest++;
                }

                verdict[0] = improved ? 1 : 0;
                verdict[1] = _sinceBest >= _options.Patience ? 1 : 0;
            }

            group?.Broadcast(verdict);
            BestEpoch = verdict[0] != 0 ? epoch : BestEpoch;
            return (verdict[0] != 0, verdict[1] != 0);
        }

        /// <summary>Saves the new best weights: to the checkpoint file (atomically) and, to restore them at the end, in memory.</summary>
        public void KeepBest(CompiledNetwork network)
        {
            if (_options.BestCheckpoint is { } path)
            {
                network.Save(path);
            }

            if (_options.RestoreBestWeights)
            {
                using var memory = new MemoryStream();
                network.Save(memory);
                _bestWeights = memory.ToArray();
            }
        }

        /// <summary>Puts the best epoch's weights back when asked and when they are not the last epoch's; says whether every rank must resync.</summary>
        public bool RestoreBest(CompiledNetwork network, int epochsRun)
        {
            if (!_options.RestoreBestWeights || BestEpoch == 0 || BestEpoch == epochsRun)
            {
                return false;
            }

            if (_bestWeights is not null)
            {
                network.Load(new MemoryStream(_bestWeights, writable: false));
            }

            return true;
        }

        private static ValidationMetric[] DefaultMetrics(DataSet data) =>
            data.HasFloatTargets ? []
            : data.LabelsPerSample == 1 ? [ValidationMetric.Accuracy()]
            : [ValidationMetric.MeanIoU(data.ClassCount), ValidationMetric.PixelAccuracy(data.ClassCount)];
    }
}
