using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// RMSprop (Hinton's lecture 6e), as torch.optim.RMSprop: g = grad + weightDecay * w; s = alpha * s + (1 - alpha) * g^2;
/// centred, also a = alpha * a + (1 - alpha) * g and the denominator is sqrt(s - a^2) + epsilon, else sqrt(s) + epsilon;
/// with momentum b = momentum * b + g / denominator and w -= learningRate * b, else w -= learningRate * g / denominator.
/// </summary>
public sealed class RMSprop : Optimizer
{
    private const int SquareAverage = 0;

    private readonly int _gradientAverage;
    private readonly int _momentumBuffer;

    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="alpha">The decay of the running averages, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator for stability, positive.</param>
    /// <param name="weightDecay">The L2 penalty factor, non-negative, added to the gradient as weightDecay * w.</param>
    /// <param name="momentum">The momentum factor in [0, 1); 0 turns momentum off.</param>
    /// <param name="centered">Whether to divide by the estimated variance of the gradient rather than its uncentred second moment.</param>
    public RMSprop(float learningRate = 0.01f, float alpha = 0.99f, float epsilon = 1e-8f, float weightDecay = 0f, float momentum = 0f, bool centered = false)
        : base(learningRate, weightDecay, stateBuffers: 1 + (centered ? 1 : 0) + (momentum == 0f ? 0 : 1))
    {
        Alpha = CheckDecayRate(alpha, nameof(alpha));
        Epsilon = CheckEpsilon(epsilon, nameof(epsilon));
        Momentum = CheckDecayRate(momentum, nameof(momentum));
        Centered = centered;
        _gradientAverage = centered ? SquareAverage + 1 : -1;
        _momentumBuffer = momentum == 0f ? -1 : (centered ? 2 : 1);
    }

    public float Alpha { get; }

    public float Epsilon { get; }

    public float Momentum { get; }

    public bool Centered { get; }

    protected override void Update(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep)
    {
        // Unused buffers are stood in for by the square average; the flags keep the loop from touching them.
        float[] squares = State(index, SquareAverage);
        float[] means = Centered ? State(index, _gradientAverage) : squares;
        float[] velocities = Momentum == 0f ? squares : State(index, _momentumBuffer);
        Descend(parameter.Value, parameter.Gradient, squares, means, velocities, learningRate, weightDecay, Alpha, Epsilon, Momentum, Centered);
    }

    private static void Descend(
        Span<float> weights, ReadOnlySpan<float> gradients, Span<float> squares, Span<float> means, Span<float> velocities,
        float learningRate, float weightDecay, float alpha, float epsilon, float momentum, bool centered)
    {
        bool withMomentum = momentum != 0f;
        Span<Vector<float>> weightVectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
        ReadOnlySpan<Vector<float>> gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradients);
        Span<Vector<float>> squareVectors = MemoryMarshal.Cast<float, Vector<float>>(squares);
        Span<Vector<float>> meanVectors = MemoryMarshal.Cast<float, Vector<float>>(means);
        Span<Vector<float>> velocityVectors = MemoryMarshal.Cast<float, Vector<float>>(velocities);
        for (int v = 0; v < weightVectors.Length; v++)
        {
            Vector<float> w = weightVectors[v];
            Vector<float> g = gradientVectors[v] + weightDecay * w;
            Vector<float> s = alpha * squareVectors[v] + (1f - alpha) * (g * g);
            squareVectors[v] = s;
            if (centered)
            {
                Vector<float> a = alpha * meanVectors[v] + (1f - alpha) * g;
                meanVectors[v] = a;
                s -= a * a;
            }

            Vector<float> scaled = g / (Vector.SquareRoot(s) + new Vector<float>(epsilon));
            if (withMomentum)
            {
                scaled = momentum * velocityVectors[v] + scaled;
                velocityVectors[v] = scaled;
            }

            weightVectors[v] = w - learningRate * scaled;
        }

        for (int i = weightVectors.Length * Vector<float>.Count; i < weights.Length; i++)
        {
            float w = weights[i];
            float g = gradients[i] + weightDecay * w;
            float s = alpha * squares[i] + (1f - alpha) * (g * g);
            squares[i] = s;
            if (centered)
            {
                float a = alpha * means[i] + (1f - alpha) * g;
                means[i] = a;
                s -= a * a;
            }

            float scaled = g / (MathF.Sqrt(s) + epsilon);
            if (withMomentum)
            {
                scaled = momentum * velocities[i] + scaled;
                velocities[i] = scaled;
            }

            weights[i] = w - learningRate * scaled;
        }
    }
}
