using System;

namespace NetCompiler;

/// <summary>
/// The one-cycle policy (Smith and Topin), as torch.optim.lr_scheduler.OneCycleLR with anneal_strategy = 'cos' and
/// three_phase = False, stepped after every batch: over the first pctStart of the T = epochs * batchesPerEpoch steps the
/// rate rises by cosine from maxLr / divFactor to maxLr, then falls by cosine to maxLr / (divFactor * finalDivFactor).
/// Momentum is not cycled (PyTorch cycles beta1 or momentum by default): a schedule sets only the learning rate.
/// </summary>
public sealed class OneCycleSchedule : LearningRateSchedule
{
    private readonly double _maxLearningRate;

    /// <param name="maxLearningRate">The peak learning rate, positive.</param>
    /// <param name="epochs">The epochs of training, positive; asking for a later epoch is an error, as in PyTorch.</param>
    /// <param name="pctStart">The fraction of the steps spent rising, in (0, 1).</param>
    /// <param name="divFactor">The initial rate is maxLr / divFactor; positive.</param>
    /// <param name="finalDivFactor">The final rate is the initial one / finalDivFactor; positive.</param>
    public OneCycleSchedule(float maxLearningRate, int epochs, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
    {
        _maxLearningRate = CheckLearningRate(maxLearningRate, nameof(maxLearningRate));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        if (!(pctStart > 0 && pctStart < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must be in (0, 1).");
        }

        if (!(divFactor > 0 && double.IsFinite(divFactor)))
        {
            throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "divFactor must be finite and positive.");
        }

        if (!(finalDivFactor > 0 && double.IsFinite(finalDivFactor)))
        {
            throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "finalDivFactor must be finite and positive.");
        }

        Epochs = epochs;
        PctStart = pctStart;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
    }

    public int Epochs { get; }

    public double PctStart { get; }

    public double DivFactor { get; }

    public double FinalDivFactor { get; }

    public override float LearningRate(int epoch, int batch, int batchesPerEpoch)
    {
        long step = StepIndex(epoch, batch, batchesPerEpoch);
        if (epoch >= Epochs)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"The schedule covers epochs 0..{Epochs - 1}.");
        }

        // torch's phase boundaries: the rise ends at step pctStart * T - 1 (a float), the fall at T - 1.
        double initial = _maxLearningRate / DivFactor;
        double final = initial / FinalDivFactor;
        double riseEnd = (PctStart * Epochs * batchesPerEpoch) - 1;
        double fallEnd = ((double)Epochs * batchesPerEpoch) - 1;
        if (step <= riseEnd)
        {
            // A one-step rise (riseEnd = 0) is just its start, where torch would divide by zero.
            return (float)CosineAnneal(initial, _maxLearningRate, riseEnd > 0 ? step / riseEnd : 0);
        }

        // riseEnd < fallEnd since pctStart < 1.
        return (float)CosineAnneal(_maxLearningRate, final, (step - riseEnd) / (fallEnd - riseEnd));
    }
}
