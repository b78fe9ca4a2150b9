using System;

namespace NetCompiler;

/// <summary>
/// Linear warm-up, then cosine annealing, per batch: PyTorch's SequentialLR(LinearLR(start_factor = warmupStartFactor,
/// total_iters = W), CosineAnnealingLR(T_max = T - W, eta_min = minLr), milestones = [W]) stepped after every batch,
/// where T = epochs * batchesPerEpoch and W = warmupEpochs * batchesPerEpoch. At step s &lt; W the rate is
/// baseLr * (warmupStartFactor + (1 - warmupStartFactor) * s / W); from W on, minLr + (baseLr - minLr) *
/// (1 + cos(pi * (s - W) / (T - W))) / 2. Past the last epoch it stays at minLr (PyTorch's would rise again).
/// </summary>
public sealed class CosineSchedule : LearningRateSchedule
{
    private readonly double _baseLearningRate;

    /// <param name="baseLearningRate">The peak learning rate, reached at the end of the warm-up, positive.</param>
    /// <param name="epochs">The epochs of training, warm-up included, positive.</param>
    /// <param name="warmupEpochs">The epochs of linear warm-up, in [0, epochs).</param>
    /// <param name="minLearningRate">The rate at the end, in [0, baseLearningRate].</param>
    /// <param name="warmupStartFactor">The first step's rate as a fraction of the base rate, in (0, 1].</param>
    public CosineSchedule(float baseLearningRate, int epochs, int warmupEpochs = 0, float minLearningRate = 0f, float warmupStartFactor = 1f / 3)
    {
        _baseLearningRate = CheckLearningRate(baseLearningRate, nameof(baseLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        if (warmupEpochs < 0 || warmupEpochs >= epochs)
        {
            throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, $"The warm-up must take 0 to {epochs - 1} of the {epochs} epochs.");
        }

        if (!(minLearningRate >= 0f && minLearningRate <= baseLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, $"The minimum learning rate must be in [0, {baseLearningRate}], the base rate.");
        }

        if (!(warmupStartFactor > 0f && warmupStartFactor <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(warmupStartFactor), warmupStartFactor, "The warm-up start factor must be in (0, 1].");
        }

        Epochs = epochs;
        WarmupEpochs = warmupEpochs;
        MinLearningRate = minLearningRate;
        WarmupStartFactor = warmupStartFactor;
    }

    public int Epochs { get; }

    public int WarmupEpochs { get; }

    public float MinLearningRate { get; }

    public float WarmupStartFactor { get; }

    public override float LearningRate(int epoch, int batch, int batchesPerEpoch)
    {
        long step = StepIndex(epoch, batch, batchesPerEpoch);
        long warmupSteps = (long)WarmupEpochs * batchesPerEpoch;
        long annealSteps = ((long)Epochs * batchesPerEpoch) - warmupSteps;
        if (step < warmupSteps)
        {
            return (float)(_baseLearningRate * (WarmupStartFactor + ((1 - (double)WarmupStartFactor) * step / warmupSteps)));
        }

        double fraction = Math.Min(1, (double)(step - warmupSteps) / annealSteps);
        return (float)CosineAnneal(_baseLearningRate, MinLearningRate, fraction);
    }
}
