using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// Adam (Kingma and Ba), bias-corrected as in Goodfellow et al., Deep Learning, Algorithm 8.7, with L2 weight decay
/// added to the gradient, as torch.optim.Adam: g = grad + weightDecay * w; m = beta1 * m + (1 - beta1) * g;
/// v = beta2 * v + (1 - beta2) * g^2; w -= learningRate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon),
/// t the parameter's own step count.
/// </summary>
public sealed class Adam : Optimizer
{
    internal const int FirstMoment = 0;
    internal const int SecondMoment = 1;

    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="beta1">The decay of the first-moment (mean) estimate, in [0, 1).</param>
    /// <param name="beta2">The decay of the second-moment (uncentred variance) estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the root of the second moment for stability, positive.</param>
    /// <param name="weightDecay">The L2 penalty factor, non-negative, added to the gradient as weightDecay * w.</param>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
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
        Descend(parameter, State(index, FirstMoment), State(index, SecondMoment), learningRate, parameterStep, Beta1, Beta2, Epsilon, weightDecay, weightScale: 1f);

    /// <summary>
    /// The bias corrections of step <paramref name="step"/> as the update applies them: learningRate / (1 - beta1^t) and
    /// 1 / sqrt(1 - beta2^t), formed in double (beta^t underflows float long before it matters). The device update takes
    /// the same two floats.
    /// </summary>
    internal static (float StepSize, float InverseRootSecondCorrection) Corrections(float learningRate, long step, float beta1, float beta2) =>
        ((float)(learningRate / (1 - Math.Pow(beta1, step))), (float)(1 / Math.Sqrt(1 - Math.Pow(beta2, step))));

    /// <summary>
    /// One Adam step of <paramref name="parameter"/> at its step <paramref name="step"/>: the weights are first scaled by
    /// <paramref name="weightScale"/> (AdamW's decoupled decay; 1 for Adam), then moved by the bias-corrected moments of
    /// grad + <paramref name="l2Decay"/> * w.
    /// </summary>
    internal static void Descend(
        Parameter parameter, Span<float> firstMoments, Span<float> secondMoments, float learningRate, long step,
        float beta1, float beta2, float epsilon, float l2Decay, float weightScale)
    {
        (float stepSize, float inverseRootSecondCorrection) = Corrections(learningRate, step, beta1, beta2);

        Span<float> weights = parameter.Value;
        ReadOnlySpan<float> gradients = parameter.Gradient;
        Span<Vector<float>> weightVectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
        ReadOnlySpan<Vector<float>> gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradients);
        Span<Vector<float>> firstVectors = MemoryMarshal.Cast<float, Vector<float>>(firstMoments);
        Span<Vector<float>> secondVectors = MemoryMarshal.Cast<float, Vector<float>>(secondMoments);
        for (int v = 0; v < weightVectors.Length; v++)
        {
            Vector<float> w = weightVectors[v] * weightScale;
            Vector<float> g = gradientVectors[v] + l2Decay * w;
            Vector<float> m = beta1 * firstVectors[v] + (1f - beta1) * g;
            Vector<float> s = beta2 * secondVectors[v] + (1f - beta2) * (g * g);
            firstVectors[v] = m;
            secondVectors[v] = s;
            weightVectors[v] = w - stepSize * m / (Vector.SquareRoot(s) * inverseRootSecondCorrection + new Vector<float>(epsilon));
        }

        for (int i = weightVectors.Length * Vector<float>.Count; i < weights.Length; i++)
        {
            float w = weights[i] * weightScale;
            float g = gradients[i] + l2Decay * w;
            float m = beta1 * firstMoments[i] + (1f - beta1) * g;
            float s = beta2 * secondMoments[i] + (1f - beta2) * (g * g);
            firstMoments[i] = m;
            secondMoments[i] = s;
            weights[i] = w - stepSize * m / (MathF.Sqrt(s) * inverseRootSecondCorrection + epsilon);
        }
    }
}
