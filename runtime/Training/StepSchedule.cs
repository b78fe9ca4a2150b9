using System;

namespace NetCompiler;

/// <summary>torch.optim.lr_scheduler.StepLR stepped per epoch: baseLr * gamma^(epoch / stepEpochs), integer division.</summary>
public sealed class StepSchedule : LearningRateSchedule
{
    private readonly double _baseLearningRate;

    /// <param name="baseLearningRate">The learning rate of the first epochs, positive.</param>
    /// <param name="stepEpochs">The epochs between decays, positive.</param>
    /// <param name="gamma">The factor of each decay, in (0, 1].</param>
    public StepSchedule(float baseLearningRate, int stepEpochs, float gamma = 0.1f)
    {
        _baseLearningRate = CheckLearningRate(baseLearningRate, nameof(baseLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepEpochs);
        Gamma = MultiStepSchedule.CheckGamma(gamma);
        StepEpochs = stepEpochs;
    }

    public int StepEpochs { get; }

    public float Gamma { get; }

    public override float LearningRate(int epoch, int batch, int batchesPerEpoch)
    {
        StepIndex(epoch, batch, batchesPerEpoch);
        return (float)(_baseLearningRate * Math.Pow(Gamma, epoch / StepEpochs));
    }
}
