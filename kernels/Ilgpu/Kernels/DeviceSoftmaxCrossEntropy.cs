using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Softmax cross-entropy on the device, the twin of <see cref="SoftmaxCrossEntropy"/>: the gradient with respect to the
/// logits, and the mean loss written to a one-element view (the device does not synchronise for it). One thread per
/// sample (per pixel for segmentation: neighbouring threads read neighbouring pixels of a class plane, so the loads
/// coalesce), in <see cref="DeviceReduction"/>'s grid-stride groups; the loss is summed in double in a fixed order.
/// The host checks the labels before the device runs: the kernels assume every label is in [0, classes).
/// </summary>
public sealed class DeviceSoftmaxCrossEntropy : IDisposable
{
    private readonly IlgpuDevice _device;

    // Loss partials at [0, MaxGroups), weight partials at [MaxGroups, 2 MaxGroups): fixed, whatever the batch.
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _partials;
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<float>, ArrayView<double>, int> _weightPartials;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int> _lossPartials;
    private readonly Action<KernelConfig, ArrayView<double>, int, int, double, ArrayView<float>> _mean;

    public DeviceSoftmaxCrossEntropy(IlgpuDevice device)
    {
        _device = device;
        _partials = device.Allocate<double>("the cross-entropy's partial sums", 2 * DeviceReduction.MaxGroups);
        _weightPartials = device.LoadGrouped<ArrayView<int>, ArrayView<float>, ArrayView<double>, int>(WeightPartialsKernel);
        _lossPartials = device.LoadGrouped<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int>(LossPartialsKernel);
        _mean = device.LoadGrouped<ArrayView<double>, int, int, double, ArrayView<float>>(DeviceReduction.MeanKernel);
    }

    /// <summary>
    /// loss[0] = mean over the n samples of -log softmax(logits[i])[labels[i]]; logits and dlogits are [n, classes] (views
    /// may be longer: the batch's buffers) and dlogits = (softmax - onehot) / n.
    /// </summary>
    public void Forward(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> dlogits, int n, int classes, ArrayView<float> loss) =>
        ForwardPixels(logits, labels, default, dlogits, n, classes, planeSize: 1, loss);

    /// <summary>
    /// Per-pixel cross-entropy: logits and dlogits [n, classes, planeSize], labels [n, planeSize]; loss[0] = PyTorch's
    /// weighted mean sum(w[y] loss) / sum(w[y]), the plain mean when <paramref name="classWeights"/> is a default view.
    /// </summary>
    public void ForwardPixels(
        ArrayView<float> logits,
        ArrayView<int> labels,
        ArrayView<float> classWeights,
        ArrayView<float> dlogits,
        int n,
        int classes,
        int planeSize,
        ArrayView<float> loss)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(planeSize);
        long size = (long)n * classes * planeSize;
        DeviceReduction.CheckLength(logits.Length, size, nameof(logits));
        DeviceReduction.CheckLength(labels.Length, (long)n * planeSize, nameof(labels));
        DeviceReduction.CheckLength(dlogits.Length, size, nameof(dlogits));
        DeviceReduction.CheckLength(loss.Length, 1, nameof(loss));
        bool weighted = classWeights.Length != 0;
        if (weighted && classWeights.Length != classes)
        {
            throw new ArgumentException($"Expected {classes} class weights (or none) but got {classWeights.Length}.", nameof(classWeights));
        }

        int pixels = checked(n * planeSize);
        int groups = DeviceReduction.Groups(pixels);
        KernelConfig config = DeviceReduction.Config(groups);
        if (weighted)
        {
            _weightPartials(config, labels, classWeights, _partials.View, pixels);
        }

        _lossPartials(config, logits, labels, weighted ? classWeights : _device.Unused, dlogits, _partials.View, weighted ? 1 : 0, classes, planeSize, pixels);
        _mean(DeviceReduction.Config(1), _partials.View, groups, weighted ? 1 : 0, pixels, loss);
    }

    public void Dispose() => _partials.Dispose();

    /// <summary>Pass one of the weighted mean's denominator: each group's sum of w[label] into partials[MaxGroups + group].</summary>
    private static void WeightPartialsKernel(ArrayView<int> labels, ArrayView<float> classWeights, ArrayView<double> partials, int pixels)
    {
        ArrayView<double> shared = SharedMemory.Allocate<double>(DeviceReduction.GroupSize);
        double sum = 0;
        for (int q = DeviceReduction.FirstElement; q < pixels; q += DeviceReduction.GridStride)
        {
            sum += classWeights[labels[q]];
        }

        double groupSum = DeviceReduction.GroupSum(sum, shared);
        if (Group.IdxX == 0)
        {
            partials[DeviceReduction.MaxGroups + Grid.IdxX] = groupSum;
        }
    }

    /// <summary>
    /// Pass one of the loss: each pixel's gradient, and each group's sum of w[label] * loss into partials[group]. The
    /// exponentials are computed again for the gradient rather than stored and read back, as the CPU does: a store and
    /// a load of global memory cost more than an exp. The denominator's weight partials are summed by every group in
    /// the same tree, so every group scales by the same value.
    /// </summary>
    private static void LossPartialsKernel(
        ArrayView<float> logits,
        ArrayView<int> labels,
        ArrayView<float> classWeights,
        ArrayView<float> dlogits,
        ArrayView<double> partials,
        int weighted,
        int classes,
        int planeSize,
        int pixels)
    {
        ArrayView<double> shared = SharedMemory.Allocate<double>(DeviceReduction.GroupSize);
        double weightSum = weighted != 0 ? DeviceReduction.SumPartials(partials, DeviceReduction.MaxGroups, Grid.DimX, shared) : pixels;
        double inverseWeightSum = 1.0 / weightSum;
        double loss = 0;
        for (int q = DeviceReduction.FirstElement; q < pixels; q += DeviceReduction.GridStride)
        {
            int image = q / planeSize;
            int first = (image * classes * planeSize) + (q - (image * planeSize)); // logit c at first + c * planeSize
            int label = labels[q];
            float weight = weighted != 0 ? classWeights[label] : 1f;

            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                max = MathF.Max(max, logits[first + (c * planeSize)]);
            }

            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                sum += MathF.Exp(logits[first + (c * planeSize)] - max);
            }

            // Float from here: probability and gradient each round once or twice, well within the gradient's tolerance.
            float inverseSum = (float)(1.0 / sum);
            float scale = (float)(weight * inverseWeightSum);
            for (int c = 0; c < classes; c++)
            {
                int at = first + (c * planeSize);
                float probability = MathF.Exp(logits[at] - max) * inverseSum;
                dlogits[at] = scale * (c == label ? probability - 1f : probability);
            }

            // In double, as the CPU: a confident sample's loss is a small difference of large logits.
            loss += weight * (Math.Log(sum) + max - logits[first + (label * planeSize)]);
        }

        double groupLoss = DeviceReduction.GroupSum(loss, shared);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = groupLoss;
        }
    }
}
