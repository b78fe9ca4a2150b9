using System;

namespace NetCompiler;

/// <summary>
/// A learning-rate schedule: the optimiser's learning rate as a function of where training is (epoch and batch within
/// it), as PyTorch's lr_scheduler classes compute it. Fit applies it before every step; a hand-written loop calls
/// <see cref="Apply"/> the same way. It sets <see cref="Optimizer.LearningRate"/>, which every parameter group scales.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for the step at <paramref name="batch"/> (0-based) of <paramref name="epoch"/> (0-based).</summary>
    public abstract float LearningRate(int epoch, int batch, int batchesPerEpoch);

    /// <summary>Sets <paramref name="optimizer"/>'s learning rate for the coming step.</summary>
    public void Apply(Optimizer optimizer, int epoch, int batch, int batchesPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.LearningRate = LearningRate(epoch, batch, batchesPerEpoch);
    }

    /// <summary>The check every schedule makes of a learning rate argument: finite and positive.</summary>
    internal static double CheckLearningRate(float learningRate, string argument) =>
        learningRate > 0f && float.IsFinite(learningRate)
            ? learningRate
            : throw new ArgumentOutOfRangeException(argument, learningRate, "The learning rate must be finite and positive.");

    /// <summary>Checks a position in training and returns the 0-based step it is: epoch * batchesPerEpoch + batch.</summary>
    protected static long StepIndex(int epoch, int batch, int batchesPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchesPerEpoch);
        if ((uint)batch >= (uint)batchesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"The batch must be in 0..{batchesPerEpoch - 1} for {batchesPerEpoch} batches per epoch.");
        }

        return ((long)epoch * batchesPerEpoch) + batch;
    }

    /// <summary>Cosine annealing from <paramref name="start"/> (at fraction 0) to <paramref name="end"/> (at 1), as torch's.</summary>
    protected static double CosineAnneal(double start, double end, double fraction) =>
        end + ((start - end) / 2 * (Math.Cos(Math.PI * fraction) + 1));
}
