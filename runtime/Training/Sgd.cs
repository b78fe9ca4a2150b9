using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as torch.optim.SGD
/// (no dampening): g = grad + weightDecay * w; with momentum, b = momentum * b + g (b = g on the first step) and
/// g = nesterov ? g + momentum * b : b; then w -= learningRate * g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private const int MomentumBuffer = 0;

    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="momentum">
    /// The momentum factor in [0, 1); 0 turns momentum off. (PyTorch also takes 1 or more, which never forgets a
    /// gradient; here that is a mistake.)
    /// </param>
    /// <param name="weightDecay">The L2 penalty factor, non-negative, added to the gradient as weightDecay * w.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum; needs a positive <paramref name="momentum"/>.</param>
    public Sgd(float learningRate, float momentum = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(learningRate, weightDecay, stateBuffers: momentum == 0f ? 0 : 1)
    {
        CheckDecayRate(momentum, nameof(momentum));
        if (nesterov && momentum == 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Nesterov momentum needs a positive momentum.");
        }

        Momentum = momentum;
        Nesterov = nesterov;
    }

    public float Momentum { get; }

    public bool Nesterov { get; }

    protected override void Update(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep)
    {
        if (Momentum == 0f)
        {
            Descend(parameter.Value, parameter.Gradient, learningRate, weightDecay);
        }
        else
        {
            // A zeroed buffer with a zero factor makes the first step's b = g, as PyTorch initialises it.
            float bufferDecay = parameterStep == 1 ? 0f : Momentum;
            DescendWithMomentum(parameter.Value, parameter.Gradient, State(index, MomentumBuffer), learningRate, weightDecay, bufferDecay, Momentum, Nesterov);
        }
    }

    private static void Descend(Span<float> weights, ReadOnlySpan<float> gradients, float learningRate, float weightDecay)
    {
        Span<Vector<float>> weightVectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
        ReadOnlySpan<Vector<float>> gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradients);
        for (int v = 0; v < weightVectors.Length; v++)
        {
            Vector<float> w = weightVectors[v];
            weightVectors[v] = w - learningRate * (gradientVectors[v] + weightDecay * w);
        }

        for (int i = weightVectors.Length * Vector<float>.Count; i < weights.Length; i++)
        {
            float w = weights[i];
            weights[i] = w - learningRate * (gradients[i] + weightDecay * w);
        }
    }

    private static void DescendWithMomentum(
        Span<float> weights, ReadOnlySpan<float> gradients, Span<float> buffer,
        float learningRate, float weightDecay, float bufferDecay, float momentum, bool nesterov)
    {
        Span<Vector<float>> weightVectors = MemoryMarshal.Cast<float, Vector<float>>(weights);
        ReadOnlySpan<Vector<float>> gradientVectors = MemoryMarshal.Cast<float, Vector<float>>(gradients);
        Span<Vector<float>> bufferVectors = MemoryMarshal.Cast<float, Vector<float>>(buffer);
        for (int v = 0; v < weightVectors.Length; v++)
        {
            Vector<float> w = weightVectors[v];
            Vector<float> g = gradientVectors[v] + weightDecay * w;
            Vector<float> b = bufferDecay * bufferVectors[v] + g;
            bufferVectors[v] = b;
            weightVectors[v] = w - learningRate * (nesterov ? g + momentum * b : b);
        }

        for (int i = weightVectors.Length * Vector<float>.Count; i < weights.Length; i++)
        {
            float w = weights[i];
            float g = gradients[i] + weightDecay * w;
            float b = bufferDecay * buffer[i] + g;
            buffer[i] = b;
            weights[i] = w - learningRate * (nesterov ? g + momentum * b : b);
        }
    }
}
