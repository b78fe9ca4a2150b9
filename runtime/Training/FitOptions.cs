using System;

namespace NetCompiler;

/// <summary>How <see cref="CompiledNetwork.Fit"/> trains, beyond the data, the epochs and the optimiser. Every setting is optional.</summary>
public sealed record FitOptions
{
    /// <summary>Images per step (per rank when distributed); by default the network's batch size.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Whether each epoch visits the training images in a fresh order (on by default).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seeds the shuffling and the augmentation's generator, so runs repeat exactly.</summary>
    public int Seed { get; init; }

    /// <summary>Sets the optimiser's learning rate before every step.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Called on every training batch before its step, e.g. to flip or crop images, with a generator seeded by <see cref="Seed"/> (and the rank).</summary>
    public BatchAugmentation? Augmentation { get; init; }

    /// <summary>Evaluated after every epoch in evaluation mode: the validation loss and <see cref="Metrics"/>.</summary>
    public DataSet? Validation { get; init; }

    /// <summary>
    /// The validation loss, named "loss": by default <see cref="ValidationMetric.CrossEntropy"/> for class labels and
    /// <see cref="ValidationMetric.MeanSquaredError"/> for float targets; set it to match another regression loss.
    /// </summary>
    public ValidationMetric? ValidationLoss { get; init; }

    /// <summary>
    /// Validation figures besides the loss. By default accuracy for a classifier (one label per image), mean IoU and pixel
    /// accuracy for a segmenter (one per pixel), none for float targets.
    /// </summary>
    public ValidationMetric[]? Metrics { get; init; }

    /// <summary>The validation figure that decides the best epoch (for early stopping and checkpoints): "loss" or a metric's name.</summary>
    public string Monitor { get; init; } = "loss";

    /// <summary>Early stopping: stop once <see cref="Monitor"/> has not improved by <see cref="MinDelta"/> for this many epochs; null trains every epoch.</summary>
    public int? Patience { get; init; }

    /// <summary>The least change of <see cref="Monitor"/> that counts as an improvement (Keras' min_delta).</summary>
    public double MinDelta { get; init; }

    /// <summary>Where to save the best epoch's weights (atomically, by <see cref="CompiledNetwork.Save(string)"/>) each time <see cref="Monitor"/> improves.</summary>
    public string? BestCheckpoint { get; init; }

    /// <summary>Whether Fit ends with the best epoch's weights rather than the last epoch's (Keras' restore_best_weights).</summary>
    public bool RestoreBestWeights { get; init; }

    /// <summary>Told after every step and at every epoch's end (with the validation figures); called on the training thread.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }
}

/// <summary>
/// Changes a training batch in place before its step. <paramref name="batch"/> holds the images and their labels or
/// targets; draw randomness from <paramref name="random"/> only, so a run repeats.
/// </summary>
public delegate void BatchAugmentation(TrainingBatch batch, Random random);

/// <summary>One training batch as the augmentation sees it: <see cref="Count"/> images and their labels (or float targets).</summary>
public readonly ref struct TrainingBatch(Span<float> images, Span<int> labels, Span<float> targets, int count, TensorShape imageShape)
{
    /// <summary>The batch's images, NCHW.</summary>
    public Span<float> Images { get; } = images;

    /// <summary>The class labels (per image or per pixel); empty for a set with float targets.</summary>
    public Span<int> Labels { get; } = labels;

    /// <summary>The float targets; empty for a labelled set.</summary>
    public Span<float> Targets { get; } = targets;

    public int Count { get; } = count;

    public TensorShape ImageShape { get; } = imageShape;
}
