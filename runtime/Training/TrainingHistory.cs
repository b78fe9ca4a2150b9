using System;
using System.Collections.Generic;

namespace NetCompiler;

/// <summary>What <see cref="CompiledNetwork.Fit"/> did: a record per epoch, the best epoch and why it stopped.</summary>
public sealed class TrainingHistory
{
    private readonly List<EpochRecord> _epochs = [];

    internal TrainingHistory(string? monitor) => Monitor = monitor;

    /// <summary>One record per completed epoch, in order.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>The validation figure that chose <see cref="BestEpoch"/>; null without a validation set.</summary>
    public string? Monitor { get; }

    /// <summary>The epoch (1-based) whose <see cref="Monitor"/> was best; 0 without a validation set.</summary>
    public int BestEpoch { get; internal set; }

    public StopReason StopReason { get; internal set; } = StopReason.Completed;

    internal void Add(EpochRecord record) => _epochs.Add(record);
}

/// <summary>Why Fit stopped.</summary>
public enum StopReason
{
    /// <summary>It trained every epoch asked for.</summary>
    Completed,

    /// <summary>The monitored validation figure stopped improving for <see cref="FitOptions.Patience"/> epochs.</summary>
    EarlyStopped,

    /// <summary>The cancellation token was cancelled; Fit threw <see cref="FitCanceledException"/> carrying this history.</summary>
    Canceled,
}

/// <summary>One epoch of training.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="TrainLoss">The mean training loss over the epoch's steps (training mode, this rank's shard), weighted by batch size.</param>
/// <param name="ValidationLoss">The validation loss after the epoch (evaluation mode); NaN without a validation set.</param>
/// <param name="Metrics">The validation metrics by name, in <see cref="FitOptions.Metrics"/> order; empty without a validation set.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="Time">The epoch's training and validation time.</param>
/// <param name="ImagesPerSecond">Training images per second over every rank, validation excluded.</param>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double ValidationLoss,
    IReadOnlyList<KeyValuePair<string, double>> Metrics,
    float LearningRate,
    TimeSpan Time,
    double ImagesPerSecond)
{
    /// <summary>The validation figure named <paramref name="name"/>: "loss" or a metric's name.</summary>
    /// <exception cref="KeyNotFoundException">No such figure was computed.</exception>
    public double Validation(string name)
    {
        if (name == "loss")
        {
            return ValidationLoss;
        }

        foreach ((string key, double value) in Metrics)
        {
            if (key == name)
            {
                return value;
            }
        }

        throw new KeyNotFoundException($"Epoch {Epoch} has no validation figure '{name}'; it has loss{(Metrics.Count > 0 ? ", " : "")}{string.Join(", ", System.Linq.Enumerable.Select(Metrics, m => m.Key))}.");
    }
}

/// <summary>
/// Fit's cancellation, as .NET's convention has it (an <see cref="OperationCanceledException"/>), carrying the history up
/// to the cancellation. The token is observed between steps only, so the network holds the weights of the last
/// complete step: no step is half applied.
/// </summary>
public sealed class FitCanceledException(TrainingHistory history, long steps, System.Threading.CancellationToken token)
    : OperationCanceledException($"Training was cancelled after {steps} steps in this Fit.", token)
{
    public TrainingHistory History { get; } = history;

    /// <summary>Steps this Fit took before it was cancelled.</summary>
    public long Steps { get; } = steps;
}
