using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// Adagrad (Duchi et al.), as torch.optim.Adagrad: g = grad + weightDecay * w; the step size at the parameter's step t is
/// learningRate / (1 + (t - 1) * learningRateDecay); s += g^2 (s starts at initialAccumulatorValue);
/// w -= stepSize * g / (sqrt(s) + epsilon).
/// </summary>
public sealed class Adagrad : Optimizer
{
    private const int SumOfSquares = 0;

    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="learningRateDecay">How fast the step size falls with the parameter's step count, non-negative.</param>
    /// <param name="weightDecay">The L2 penalty factor, non-negative, added to the gradient as weightDecay * w.</param>
    /// <param name="initialAccumulatorValue">Where the sum of squared gradients starts, non-negative.</param>
    /// <param name="epsilon">Added to the root of the sum for stability, positive.</param>
    public Adagrad(float learningRate = 0.01f, float learningRateDecay = 0f, float weightDecay = 0f, float initialAccumulatorValue = 0f, float epsilon = 1e-10f)
        : base(learningRate, weightDecay, stateBuffers: 1)
    {
        if (!(learningRateDecay >= 0f && float.IsFinite(learningRateDecay)))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRateDecay), learningRateDecay, "The learning rate decay must be finite and non-negative.");
        }

        if (!(initialAccumulatorValue >= 0f && float.IsFinite(initialAccumulatorValue)))
        {
            throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "The initial accumulator value must be finite and non-negative.");
        }

        LearningRateDecay = learningRateDecay;
        InitialAccumulatorValue = initialAccumulatorValue;
        Epsilon = CheckEpsilon(epsilon, nameof(epsilon));
    }

    public float LearningRateDecay { get; }

    public float InitialAccumulatorValue { get; }

    public float Epsilon { get; }

    protected override void Update(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep)
    {
        float[] sums = State(index, SumOfSquares);
        if (parameterStep == 1)
        {
            Array.Fill(sums, InitialAccumulatorValue);
        }

        Descend(parameter.Value, parameter.Gradient, sums, StepSize(learningRate, parameterStep, LearningRateDecay), weightDecay, Epsilon);
    }

    /// <summary>The step size of step <paramref name="step"/>: learningRate / (1 + (step - 1) * decay), formed in double (the device's too).</summary>
    internal static float StepSize(float learningRate, long step, float learningRateDecay) =>
        (float)(learningRate / (1 + ((step - 1) * (double)learningRateDecay)));

    private static void Descend(Span<float> weights, ReadOnlySpan<float> gradients, Span<float> sums, float stepSize, float weightDecay, float epsilon)
    {
        Span<Vector<float>> weightVectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
        ReadOnlySpan<Vector<float>> gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradients);
        Span<Vector<float>> sumVectors = MemoryMarshal.Cast<float, Vector<float>>(sums);
        for (int v = 0; v < weightVectors.Length; v++)
        {
            Vector<float> w = weightVectors[v];
            Vector<float> g = gradientVectors[v] + weightDecay * w;
            Vector<float> s = sumVectors[v] + (g * g);
            sumVectors[v] = s;
            weightVectors[v] = w - stepSize * g / (Vector.SquareRoot(s) + new Vector<float>(epsilon));
        }

        for (int i = weightVectors.Length * Vector<float>.Count; i < weights.Length; i++)
        {
            float w = weights[i];
            float g = gradients[i] + weightDecay * w;
            float s = sums[i] + (g * g);
            sums[i] = s;
            weights[i] = w - stepSize * g / (MathF.Sqrt(s) + epsilon);
        }
    }
}
