namespace NetCompiler;

/// <summary>
/// A learning-rate schedule: the optimiser's learning rate as a function of where training is (epoch and batch within
/// it), as PyTorch's lr_scheduler classes compute it. Fit applies it before every step; a hand-written loop calls
/// <see cref="Apply"/> the same way.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for the step at <paramref name="batch"/> (0-based) of <paramref name="epoch"/> (0-based).</summary>
    public abstract float LearningRate(int epoch, int batch, int batchesPerEpoch);

    /// <summary>Sets <paramref name="optimizer"/>'s learning rate for the coming step.</summary>
    public void Apply(Optimizer optimizer, int epoch, int batch, int batchesPerEpoch)
    {
        System.ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.LearningRate = LearningRate(epoch, batch, batchesPerEpoch);
    }
}
