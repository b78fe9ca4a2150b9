using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// Adam (Kingma and Ba), bias-corrected as in Goodfellow et al., Deep Learning, Algorithm 8.7, with L2 weight decay
/// added to the gradient, as torch.optim.Adam: g = grad + weightDecay * w; m = beta1 * m + (1 - beta1) * g;
/// v = beta2 * v + (1 - beta2) * g^2; w -= learningRate * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon).
/// </summary>
public sealed class Adam : Optimizer
{
    private const int FirstMoment = 0;
    private const int SecondMoment = 1;

    private readonly ParameterStates _states = new(buffersPerParameter: 2);

    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="beta1">The decay of the first-moment (mean) estimate, in [0, 1).</param>
    /// <param name="beta2">The decay of the second-moment (uncentred variance) estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the root of the second moment for stability, positive.</param>
    /// <param name="weightDecay">The L2 penalty factor, non-negative, added to the gradient as weightDecay * w.</param>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
        : base(learningRate)
    {
        if (!(beta1 >= 0f && beta1 < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        }

        if (!(beta2 >= 0f && beta2 < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        }

        if (!(epsilon > 0f && float.IsFinite(epsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and positive.");
        }

        if (!(weightDecay >= 0f && float.IsFinite(weightDecay)))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be finite and non-negative.");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Epsilon { get; }

    public float WeightDecay { get; }

    protected override void Update(int index, Parameter parameter)
    {
        _states.Bind(index, parameter, StepCount);

        // Every trainable parameter is updated on every step, so the optimiser's step count is each one's t.
        // The corrections are formed in double: beta^t underflows float long before it matters.
        double firstCorrection = 1 - Math.Pow(Beta1, StepCount);
        double secondCorrection = 1 - Math.Pow(Beta2, StepCount);
        float stepSize = (float)(LearningRate / firstCorrection);
        float inverseRootSecondCorrection = (float)(1 / Math.Sqrt(secondCorrection));

        Descend(
            parameter.Value, parameter.Gradient, _states.Buffer(index, FirstMoment), _states.Buffer(index, SecondMoment),
            stepSize, inverseRootSecondCorrection, Beta1, Beta2, Epsilon, WeightDecay);
    }

    private static void Descend(
        Span<float> weights, ReadOnlySpan<float> gradients, Span<float> firstMoments, Span<float> secondMoments,
        float stepSize, float inverseRootSecondCorrection, float beta1, float beta2, float epsilon, float weightDecay)
    {
        Span<Vector<float>> weightVectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
        ReadOnlySpan<Vector<float>> gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradients);
        Span<Vector<float>> firstVectors = MemoryMarshal.Cast<float, Vector<float>>(firstMoments);
        Span<Vector<float>> secondVectors = MemoryMarshal.Cast<float, Vector<float>>(secondMoments);
        for (int v = 0; v < weightVectors.Length; v++)
        {
            Vector<float> w = weightVectors[v];
            Vector<float> g = gradientVectors[v] + weightDecay * w;
            Vector<float> m = beta1 * firstVectors[v] + (1f - beta1) * g;
            Vector<float> s = beta2 * secondVectors[v] + (1f - beta2) * (g * g);
            firstVectors[v] = m;
            secondVectors[v] = s;
            weightVectors[v] = w - stepSize * m / (Vector.SquareRoot(s) * inverseRootSecondCorrection + new Vector<float>(epsilon));
        }

        for (int i = weightVectors.Length * Vector<float>.Count; i < weights.Length; i++)
        {
            float w = weights[i];
            float g = gradients[i] + weightDecay * w;
            float m = beta1 * firstMoments[i] + (1f - beta1) * g;
            float s = beta2 * secondMoments[i] + (1f - beta2) * (g * g);
            firstMoments[i] = m;
            secondMoments[i] = s;
            weights[i] = w - stepSize * m / (MathF.Sqrt(s) * inverseRootSecondCorrection + epsilon);
        }
    }
}
