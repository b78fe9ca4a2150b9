namespace NetCompiler;

/// <summary>
/// AdamW (Loshchilov and Hutter), as torch.optim.AdamW: the weight decay is decoupled from the gradient,
/// w *= 1 - learningRate * weightDecay, and then <see cref="Adam"/>'s bias-corrected step on the plain gradient.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="beta1">The decay of the first-moment (mean) estimate, in [0, 1).</param>
    /// <param name="beta2">The decay of the second-moment (uncentred variance) estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the root of the second moment for stability, positive.</param>
    /// <param name="weightDecay">The decoupled decay factor, non-negative: each step shrinks w by learningRate * weightDecay * w.</param>
    public AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 1e-2f)
        : base(learningRate, weightDecay, stateBuffers: 2)
    {
        Beta1 = CheckDecayRate(beta1, nameof(beta1));
        Beta2 = CheckDecayRate(beta2, nameof(beta2));
        Epsilon = CheckEpsilon(epsilon, nameof(epsilon));
    }

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Epsilon { get; }

    protected override void Update(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep) =>
        Adam.Descend(
            parameter, State(index, Adam.FirstMoment), State(index, Adam.SecondMoment), learningRate, parameterStep,
            Beta1, Beta2, Epsilon, l2Decay: 0f, weightScale: 1f - (learningRate * weightDecay));
}
