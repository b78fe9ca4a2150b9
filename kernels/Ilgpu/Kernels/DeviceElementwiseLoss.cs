using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The element-wise losses on the device, the twins of <see cref="ElementwiseLoss"/>: each writes d(loss)/d(scores),
/// divided by the element count, and the mean loss into loss[0]. One kernel serves the four (the kind is a launch
/// argument, uniform over the grid, so its switch does not diverge), in <see cref="DeviceReduction"/>'s grid-stride
/// groups; the loss is summed in double in a fixed order, and a second launch of one group forms the mean.
/// </summary>
public sealed class DeviceElementwiseLoss : IDisposable
{
    private const int MeanSquaredErrorKind = 0;
    private const int L1Kind = 1;
    private const int SmoothL1Kind = 2;
    private const int BinaryCrossEntropyKind = 3;

    private readonly MemoryBuffer1D<double, Stride1D.Dense> _partials;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, float, double, int> _lossPartials;
    private readonly Action<KernelConfig, ArrayView<double>, int, int, double, ArrayView<float>> _mean;

    public DeviceElementwiseLoss(IlgpuDevice device)
    {
        _partials = device.Allocate<double>("the loss's partial sums", DeviceReduction.MaxGroups);
        _lossPartials = device.LoadGrouped<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, float, double, int>(LossPartialsKernel);
        _mean = device.LoadGrouped<ArrayView<double>, int, int, double, ArrayView<float>>(DeviceReduction.MeanKernel);
    }

    /// <summary>loss[0] = mean((s - t)^2); d = 2 (s - t) / N.</summary>
    public void MeanSquaredError(ArrayView<float> scores, ArrayView<float> targets, ArrayView<float> dscores, ArrayView<float> loss) =>
        Launch(MeanSquaredErrorKind, 2.0, scores, targets, dscores, loss);

    /// <summary>loss[0] = mean(|s - t|); d = sign(s - t) / N, 0 where s = t.</summary>
    public void L1(ArrayView<float> scores, ArrayView<float> targets, ArrayView<float> dscores, ArrayView<float> loss) =>
        Launch(L1Kind, 1.0, scores, targets, dscores, loss);

    /// <summary>Huber with beta 1: loss[0] = mean of 0.5 e^2 where |e| &lt; 1, |e| - 0.5 elsewhere; d = clamp(e, -1, 1) / N.</summary>
    public void SmoothL1(ArrayView<float> scores, ArrayView<float> targets, ArrayView<float> dscores, ArrayView<float> loss) =>
        Launch(SmoothL1Kind, 1.0, scores, targets, dscores, loss);

    /// <summary>On logits: loss[0] = mean of max(x, 0) - x t + log(1 + exp(-|x|)); d = (sigmoid(x) - t) / N.</summary>
    public void BinaryCrossEntropy(ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> dlogits, ArrayView<float> loss) =>
        Launch(BinaryCrossEntropyKind, 1.0, logits, targets, dlogits, loss);

    public void Dispose() => _partials.Dispose();

    private void Launch(int kind, double gradientFactor, ArrayView<float> scores, ArrayView<float> targets, ArrayView<float> dscores, ArrayView<float> loss)
    {
        if (scores.Length == 0)
        {
            throw new ArgumentException("The scores must not be empty.", nameof(scores));
        }

        if (targets.Length != scores.Length || dscores.Length != scores.Length)
        {
            throw new ArgumentException(
                $"The scores, targets and their gradient must be as long: {scores.Length}, {targets.Length} and {dscores.Length}.",
                targets.Length != scores.Length ? nameof(targets) : nameof(dscores));
        }

        DeviceReduction.CheckLength(loss.Length, 1, nameof(loss));
        int count = checked((int)scores.Length);
        int groups = DeviceReduction.Groups(count);
        double inverseCount = 1.0 / count;
        // The CPU's gradient factors: float 2/N or 1/N for the regressions, double 1/N for the cross-entropy.
        _lossPartials(DeviceReduction.Config(groups), scores, targets, dscores, _partials.View, kind, (float)(gradientFactor * inverseCount), inverseCount, count);
        _mean(DeviceReduction.Config(1), _partials.View, groups, 0, count, loss);
    }

    /// <summary>Pass one: each element's gradient, and each group's double sum of the loss terms into partials[group].</summary>
    private static void LossPartialsKernel(
        ArrayView<float> scores,
        ArrayView<float> targets,
        ArrayView<float> dscores,
        ArrayView<double> partials,
        int kind,
        float scale,
        double inverseCount,
        int count)
    {
        ArrayView<double> shared = SharedMemory.Allocate<double>(DeviceReduction.GroupSize);
        double sum = 0;
        for (int i = DeviceReduction.FirstElement; i < count; i += DeviceReduction.GridStride)
        {
            float x = scores[i];
            float difference = x - targets[i];
            switch (kind)
            {
                case MeanSquaredErrorKind:
                    sum += (double)difference * difference;
                    dscores[i] = scale * difference;
                    break;
                case L1Kind:
                    sum += MathF.Abs(difference);
                    dscores[i] = difference > 0f ? scale : difference < 0f ? -scale : 0f;
                    break;
                case SmoothL1Kind:
                    float magnitude = MathF.Abs(difference);
                    sum += magnitude < 1f ? 0.5f * difference * difference : magnitude - 0.5f;
                    dscores[i] = scale * MathF.Min(MathF.Max(difference, -1f), 1f);
                    break;
                default:
                    // In double, as the CPU: log(1 + e) and the sigmoid near saturation. The scores of a multi-label
                    // head are a negligible share of a step.
                    double target = targets[i];
                    double exponential = Math.Exp(-Math.Abs((double)x)); // in (0, 1]
                    sum += Math.Max(x, 0.0) - (x * target) + Math.Log(1.0 + exponential);
                    double sigmoid = x >= 0f ? 1.0 / (1.0 + exponential) : exponential / (1.0 + exponential);
                    dscores[i] = (float)((sigmoid - target) * inverseCount);
                    break;
            }
        }

        double groupSum = DeviceReduction.GroupSum(sum, shared);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = groupSum;
        }
    }
}
