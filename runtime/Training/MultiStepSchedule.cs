using System;
using System.Collections.Generic;

namespace NetCompiler;

/// <summary>
/// torch.optim.lr_scheduler.MultiStepLR stepped per epoch: baseLr * gamma^(the number of milestones at or before the
/// epoch).
/// </summary>
public sealed class MultiStepSchedule : LearningRateSchedule
{
    private readonly double _baseLearningRate;
    private readonly int[] _milestones;

    /// <param name="baseLearningRate">The learning rate before the first milestone, positive.</param>
    /// <param name="milestones">The epochs at which the rate decays, positive and strictly increasing (PyTorch counts a repeated one twice; here that is a mistake).</param>
    /// <param name="gamma">The factor of each decay, in (0, 1].</param>
    public MultiStepSchedule(float baseLearningRate, IReadOnlyList<int> milestones, float gamma = 0.1f)
    {
        _baseLearningRate = CheckLearningRate(baseLearningRate, nameof(baseLearningRate));
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = [.. milestones];
        for (int i = 0; i < _milestones.Length; i++)
        {
            if (_milestones[i] <= 0 || (i > 0 && _milestones[i] <= _milestones[i - 1]))
            {
                throw new ArgumentException(
                    $"milestones[{i}] = {_milestones[i]}; the milestones must be positive epochs in strictly increasing order.", nameof(milestones));
            }
        }

        Gamma = CheckGamma(gamma);
    }

    public IReadOnlyList<int> Milestones => _milestones;

    public float Gamma { get; }

    public override float LearningRate(int epoch, int batch, int batchesPerEpoch)
    {
        StepIndex(epoch, batch, batchesPerEpoch);
        int passed = 0;
        while (passed < _milestones.Length && _milestones[passed] <= epoch)
        {
            passed++;
        }

        return (float)(_baseLearningRate * Math.Pow(Gamma, passed));
    }

    /// <summary>A decay factor: in (0, 1] (a factor above 1 grows the rate without bound).</summary>
    internal static float CheckGamma(float gamma) =>
        gamma > 0f && gamma <= 1f ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in (0, 1].");
}
