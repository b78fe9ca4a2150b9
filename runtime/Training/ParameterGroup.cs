using System;

namespace NetCompiler;

/// <summary>
/// Settings for the parameters a selector picks, as a PyTorch param_group: e.g. no weight decay for batch norm and
/// biases. Add it to <see cref="Optimizer.Groups"/>; the first group that selects a parameter wins.
/// </summary>
/// <param name="selects">Which parameters belong to the group, e.g. <c>p =&gt; p.Name.StartsWith("classifier.")</c>.</param>
public sealed class ParameterGroup(Func<Parameter, bool> selects)
{
    /// <summary>Batch norm weights and biases and every bias (the one-dimensional tensors) without weight decay.</summary>
    public static ParameterGroup NormsAndBiases { get; } = new(p => p.Shape.Length == 1) { WeightDecay = 0f };

    public Func<Parameter, bool> Selects { get; } = selects ?? throw new ArgumentNullException(nameof(selects));

    /// <summary>
    /// The group's learning rate as a factor of the optimiser's <see cref="Optimizer.LearningRate"/> (1 unless set),
    /// so a schedule scales every group from its initial rate as PyTorch's schedulers do; finite and positive.
    /// </summary>
    public float LearningRateScale
    {
        get;
        init => field = value > 0f && float.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(LearningRateScale), value, "The learning rate scale must be finite and positive.");
    } = 1f;

    /// <summary>The group's weight decay, applied as its optimiser applies its own; null (the default) keeps the optimiser's.</summary>
    public float? WeightDecay
    {
        get;
        init => field = value is not float decay || (decay >= 0f && float.IsFinite(decay))
            ? value
            : throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, "The weight decay must be finite and non-negative.");
    }
}
