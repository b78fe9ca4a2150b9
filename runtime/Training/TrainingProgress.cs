using System;

namespace NetCompiler;

/// <summary>
/// Where <see cref="CompiledNetwork.Fit"/> stands, reported after every step and once more at every epoch's end, when
/// <see cref="EpochEnd"/> carries the epoch's record with its validation figures. A value type: reporting allocates nothing.
/// </summary>
public readonly record struct TrainingProgress
{
    /// <summary>The epoch, 1-based.</summary>
    public int Epoch { get; init; }

    public int Epochs { get; init; }

    /// <summary>Steps done in this epoch, 1 to <see cref="Batches"/>.</summary>
    public int Batch { get; init; }

    /// <summary>Steps per epoch.</summary>
    public int Batches { get; init; }

    /// <summary>The mean training loss of this epoch so far, weighted by batch size.</summary>
    public double Loss { get; init; }

    /// <summary>The learning rate of the last step.</summary>
    public float LearningRate { get; init; }

    /// <summary>Training images per second in this epoch so far, over every rank.</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Time since Fit started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>The estimated time to the last epoch's end, at this epoch's pace (validation included from the first epoch's end on).</summary>
    public TimeSpan Remaining { get; init; }

    /// <summary>At an epoch's end, its record (losses, validation figures, time); null after an ordinary step.</summary>
    public EpochRecord? EpochEnd { get; init; }
}
