using System;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The optimisers' updates on the device, the twins of the runtime's loops (runtime/Training: <see cref="NetCompiler.Adam"/> and
/// <see cref="NetCompiler.AdamW"/> through Adam.Descend, <see cref="NetCompiler.Sgd"/>, <see cref="NetCompiler.RMSprop"/>, <see cref="NetCompiler.Adagrad"/>): one
/// thread per weight, the same float arithmetic in the same order, and the scalars of a parameter's step (bias
/// corrections, step sizes) formed on the host in double exactly as the runtime forms them. Each method is one launch.
/// Also the sums of squares for <see cref="Optimizer.MaxGradientNorm"/>'s global norm, in a fixed order; the clipping
/// itself is <see cref="DeviceElementwise.Scale"/> by the host's coefficient.
/// </summary>
public sealed class DeviceOptimizers : IDisposable
{
    private readonly IlgpuDevice _device;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _partials;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float, float> _adam;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, float, float> _sgd;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int> _sgdWithMomentum;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, int> _rmsprop;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int> _adagrad;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, int> _squarePartials;
    private readonly Action<KernelConfig, ArrayView<double>, int, ArrayView<double>, int> _total;

    public DeviceOptimizers(IlgpuDevice device)
    {
        _device = device;
        _partials = device.Allocate<double>("the gradient norm's partial sums", DeviceReduction.MaxGroups);
        _adam = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, float, float>(AdamKernel);
        _sgd = device.Load<ArrayView<float>, ArrayView<float>, float, float>(SgdKernel);
        _sgdWithMomentum = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int>(SgdWithMomentumKernel);
        _rmsprop = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, float, int>(RMSpropKernel);
        _adagrad = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, int>(AdagradKernel);
        _squarePartials = device.LoadGrouped<ArrayView<float>, ArrayView<double>, int>(SquarePartialsKernel);
        _total = device.LoadGrouped<ArrayView<double>, int, ArrayView<double>, int>(TotalKernel);
    }

    /// <summary>
    /// Adam.Descend: one Adam step at the parameter's step <paramref name="step"/> (1 on its first). The weights are first
    /// scaled by <paramref name="weightScale"/> (AdamW's decoupled decay, 1 - learningRate * weightDecay; 1 for Adam), then
    /// moved by the bias-corrected moments of grad + <paramref name="l2Decay"/> * w (Adam's weight decay; 0 for AdamW).
    /// </summary>
    public void Adam(
        ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> firstMoments, ArrayView<float> secondMoments,
        float learningRate, long step, float beta1, float beta2, float epsilon, float l2Decay, float weightScale)
    {
        CheckAsLong(weights, gradients, nameof(gradients));
        CheckAsLong(weights, firstMoments, nameof(firstMoments));
        CheckAsLong(weights, secondMoments, nameof(secondMoments));
        CheckStep(step);
        (float stepSize, float inverseRootSecondCorrection) = NetCompiler.Adam.Corrections(learningRate, step, beta1, beta2);
        _adam((int)weights.Length, weights, gradients, firstMoments, secondMoments, stepSize, inverseRootSecondCorrection, beta1, beta2, epsilon, l2Decay, weightScale);
    }

    /// <summary>Sgd without momentum: w -= learningRate * (grad + weightDecay * w).</summary>
    public void Sgd(ArrayView<float> weights, ArrayView<float> gradients, float learningRate, float weightDecay)
    {
        CheckAsLong(weights, gradients, nameof(gradients));
        _sgd((int)weights.Length, weights, gradients, learningRate, weightDecay);
    }

    /// <summary>
    /// Sgd with momentum at the parameter's step <paramref name="step"/>: b = momentum * b + g (b = g on the first step,
    /// as PyTorch), g = grad + weightDecay * w; w -= learningRate * (nesterov ? g + momentum * b : b).
    /// </summary>
    public void SgdWithMomentum(
        ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> buffer,
        float learningRate, float weightDecay, float momentum, bool nesterov, long step)
    {
        CheckAsLong(weights, gradients, nameof(gradients));
        CheckAsLong(weights, buffer, nameof(buffer));
        CheckStep(step);
        // As Sgd.Update: a zero factor on the first step makes b = g whatever the buffer held.
        float bufferDecay = step == 1 ? 0f : momentum;
        _sgdWithMomentum((int)weights.Length, weights, gradients, buffer, learningRate, weightDecay, bufferDecay, momentum, nesterov ? 1 : 0);
    }

    /// <summary>
    /// RMSprop's step: s = alpha * s + (1 - alpha) * g^2, g = grad + weightDecay * w; centred, also the gradient average
    /// <paramref name="means"/>; with momentum, the <paramref name="velocities"/>. A buffer the options do not use is
    /// passed as a default view.
    /// </summary>
    public void RMSprop(
        ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> squares, ArrayView<float> means, ArrayView<float> velocities,
        float learningRate, float weightDecay, float alpha, float epsilon, float momentum, bool centered)
    {
        CheckAsLong(weights, gradients, nameof(gradients));
        CheckAsLong(weights, squares, nameof(squares));
        if (centered)
        {
            CheckAsLong(weights, means, nameof(means));
        }

        if (momentum != 0f)
        {
            CheckAsLong(weights, velocities, nameof(velocities));
        }

        _rmsprop(
            (int)weights.Length, weights, gradients, squares, centered ? means : _device.Unused, momentum != 0f ? velocities : _device.Unused,
            learningRate, weightDecay, alpha, epsilon, momentum, centered ? 1 : 0);
    }

    /// <summary>
    /// Adagrad's step at the parameter's step <paramref name="step"/>: the step size learningRate / (1 + (step - 1) *
    /// learningRateDecay), formed in double as the runtime; s += g^2, s starting at
    /// <paramref name="initialAccumulatorValue"/> on the first step (the kernel starts from it rather than from the buffer).
    /// </summary>
    public void Adagrad(
        ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> sums,
        float learningRate, float learningRateDecay, float weightDecay, float initialAccumulatorValue, float epsilon, long step)
    {
        CheckAsLong(weights, gradients, nameof(gradients));
        CheckAsLong(weights, sums, nameof(sums));
        CheckStep(step);
        float stepSize = NetCompiler.Adagrad.StepSize(learningRate, step, learningRateDecay);
        _adagrad((int)weights.Length, weights, gradients, sums, stepSize, weightDecay, epsilon, initialAccumulatorValue, step == 1 ? 1 : 0);
    }

    /// <summary>
    /// sums[slot] = the sum of squares of <paramref name="gradient"/>, in double and a fixed order (one slot per
    /// parameter, for the global norm of clip_grad_norm_). Two launches: grid-stride partials, then one group's total.
    /// </summary>
    public void SumOfSquares(ArrayView<float> gradient, ArrayView<double> sums, int slot)
    {
        if ((uint)slot >= (ulong)sums.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"The slot must be in [0, {sums.Length}).");
        }

        int count = checked((int)gradient.Length);
        int groups = DeviceReduction.Groups(count);
        _squarePartials(DeviceReduction.Config(groups), gradient, _partials.View, count);
        _total(DeviceReduction.Config(1), _partials.View, groups, sums, slot);
    }

    public void Dispose() => _partials.Dispose();

    private static void CheckAsLong(ArrayView<float> weights, ArrayView<float> other, string name)
    {
        if (other.Length != weights.Length)
        {
            throw new ArgumentException($"Expected a view as long as the weights, {weights.Length} elements, but got {other.Length}.", name);
        }
    }

    private static void CheckStep(long step) => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);

    private static void AdamKernel(
        Index1D i, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> firstMoments, ArrayView<float> secondMoments,
        float stepSize, float inverseRootSecondCorrection, float beta1, float beta2, float epsilon, float l2Decay, float weightScale)
    {
        float w = weights[i] * weightScale;
        float g = gradients[i] + (l2Decay * w);
        float m = (beta1 * firstMoments[i]) + ((1f - beta1) * g);
        float s = (beta2 * secondMoments[i]) + ((1f - beta2) * (g * g));
        firstMoments[i] = m;
        secondMoments[i] = s;
        weights[i] = w - (stepSize * m / ((MathF.Sqrt(s) * inverseRootSecondCorrection) + epsilon));
    }

    private static void SgdKernel(Index1D i, ArrayView<float> weights, ArrayView<float> gradients, float learningRate, float weightDecay)
    {
        float w = weights[i];
        weights[i] = w - (learningRate * (gradients[i] + (weightDecay * w)));
    }

    private static void SgdWithMomentumKernel(
        Index1D i, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> buffer,
        float learningRate, float weightDecay, float bufferDecay, float momentum, int nesterov)
    {
        float w = weights[i];
        float g = gradients[i] + (weightDecay * w);
        float b = (bufferDecay * buffer[i]) + g;
        buffer[i] = b;
        weights[i] = w - (learningRate * (nesterov != 0 ? g + (momentum * b) : b));
    }

    private static void RMSpropKernel(
        Index1D i, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> squares, ArrayView<float> means, ArrayView<float> velocities,
        float learningRate, float weightDecay, float alpha, float epsilon, float momentum, int centered)
    {
        float w = weights[i];
        float g = gradients[i] + (weightDecay * w);
        float s = (alpha * squares[i]) + ((1f - alpha) * (g * g));
        squares[i] = s;
        if (centered != 0)
        {
            float a = (alpha * means[i]) + ((1f - alpha) * g);
            means[i] = a;
            s -= a * a;
        }

        float scaled = g / (MathF.Sqrt(s) + epsilon);
        if (momentum != 0f)
        {
            scaled = (momentum * velocities[i]) + scaled;
            velocities[i] = scaled;
        }

        weights[i] = w - (learningRate * scaled);
    }

    private static void AdagradKernel(
        Index1D i, ArrayView<float> weights, ArrayView<float> gradients, ArrayView<float> sums,
        float stepSize, float weightDecay, float epsilon, float initialAccumulatorValue, int firstStep)
    {
        float w = weights[i];
        float g = gradients[i] + (weightDecay * w);
        float s = (firstStep != 0 ? initialAccumulatorValue : sums[i]) + (g * g);
        sums[i] = s;
        weights[i] = w - (stepSize * g / (MathF.Sqrt(s) + epsilon));
    }

    private static void SquarePartialsKernel(ArrayView<float> values, ArrayView<double> partials, int count)
    {
        ArrayView<double> shared = SharedMemory.Allocate<double>(DeviceReduction.GroupSize);
        double sum = 0;
        for (int i = DeviceReduction.FirstElement; i < count; i += DeviceReduction.GridStride)
        {
            double value = values[i];
            sum += value * value;
        }

        double groupSum = DeviceReduction.GroupSum(sum, shared);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = groupSum;
        }
    }

    private static void TotalKernel(ArrayView<double> partials, int groups, ArrayView<double> sums, int slot)
    {
        ArrayView<double> shared = SharedMemory.Allocate<double>(DeviceReduction.GroupSize);
        double total = DeviceReduction.SumPartials(partials, 0, groups, shared);
        if (Group.IdxX == 0)
        {
            sums[slot] = total;
        }
    }
}
