using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Batch normalisation on the device, the calls of the CPU's <see cref="BatchNorm"/> (kernels/BatchNorm.cs) over
/// [n, channels, planeSize] with its semantics: biased batch variance to normalise, the unbiased one saved for the
/// running statistics, mean and 1 / sqrt(var + eps) saved for the backward pass.
/// <para>
/// The statistics and the parameter gradients are reductions over n * planeSize values per channel: one group of
/// <see cref="GroupSize"/> threads per channel, each thread summing a strided share in double (coalesced: consecutive
/// threads read consecutive elements of a plane), then a tree in shared memory. The order is fixed by the shapes
/// alone, so results are deterministic and no atomics are used. Double, as on the CPU: mean, variance and
/// sum dy * x lose digits in float when |mean| >> std; the reduction is memory-bound, so double costs little.
/// The element-wise maps (inference, the input gradient of an inference BN, folding) are one thread per element.
/// </para>
/// </summary>
public sealed class DeviceBatchNorm
{
    /// <summary>Threads per channel in the reductions: a GPU's usual block, and the simulator's largest group.</summary>
    public const int GroupSize = IlgpuDevice.SimulatorThreadsPerGroup;

    private readonly IlgpuDevice _device;
    private readonly Action<KernelConfig, NormalizedTensor, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> _forwardTraining;
    private readonly Action<Index1D, NormalizedTensor, ArrayView<float>, ArrayView<float>, float> _forwardInference;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> _updateRunningStatistics;
    private readonly Action<KernelConfig, BackwardOperands, int, int, int> _backward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, Activation> _activationBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _backwardInference;
    private readonly Action<Index1D, FoldOperands, float, int> _fold;

    public DeviceBatchNorm(IlgpuDevice device)
    {
        _device = device;
        _forwardTraining = device.LoadGrouped<NormalizedTensor, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(ForwardTrainingKernel);
        _forwardInference = device.Load<NormalizedTensor, ArrayView<float>, ArrayView<float>, float>(ForwardInferenceKernel);
        _updateRunningStatistics = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(UpdateRunningStatisticsKernel);
        _backward = device.LoadGrouped<BackwardOperands, int, int, int>(BackwardKernel);
        _activationBackward = device.Load<ArrayView<float>, ArrayView<float>, Activation>(DeviceElementwise.ActivationBackwardKernel);
        _backwardInference = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(BackwardInferenceKernel);
        _fold = device.Load<FoldOperands, float, int>(FoldKernel);
    }

    /// <summary>
    /// y = activation(gamma * (x - mean) / sqrt(var + eps) + beta + residual) with batch statistics; saves mean,
    /// 1 / sqrt(var + eps) and the unbiased variance per channel. The running statistics are left alone.
    /// <paramref name="residual"/> is default (no residual) or as long as y and apart from it.
    /// </summary>
    public void ForwardTraining(
        ArrayView<float> x,
        ArrayView<float> y,
        ArrayView<float> gamma,
        ArrayView<float> beta,
        ArrayView<float> savedMean,
        ArrayView<float> savedInvStd,
        ArrayView<float> savedVariance,
        int n,
        int channels,
        int planeSize,
        float eps,
        Activation activation,
        ArrayView<float> residual = default)
    {
        CheckShape(x, y, gamma, beta, n, channels, planeSize);
        DeviceGuard.Residual(residual, y);
        DeviceGuard.Length(savedMean, channels, nameof(savedMean));
        DeviceGuard.Length(savedInvStd, channels, nameof(savedInvStd));
        DeviceGuard.Length(savedVariance, channels, nameof(savedVariance));
        if ((long)n * planeSize < 2)
        {
            throw new ArgumentException("Training batch norm needs more than one value per channel.", nameof(n));
        }

        _forwardTraining(new KernelConfig(channels, GroupSize), Tensor(x, y, gamma, beta, residual, n, channels, planeSize, activation),
            savedMean, savedInvStd, savedVariance, eps);
    }

    /// <summary>running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance (in double, as the CPU).</summary>
    public void UpdateRunningStatistics(ArrayView<float> runningMean, ArrayView<float> runningVar, ArrayView<float> savedMean, ArrayView<float> savedVariance, float momentum)
    {
        long channels = runningMean.Length;
        DeviceGuard.Length(runningVar, channels, nameof(runningVar));
        DeviceGuard.Length(savedMean, channels, nameof(savedMean));
        DeviceGuard.Length(savedVariance, channels, nameof(savedVariance));
        if (channels > 0)
        {
            _updateRunningStatistics((int)channels, runningMean, runningVar, savedMean, savedVariance, momentum);
        }
    }

    /// <summary>y = activation(gamma * (x - runningMean) / sqrt(runningVar + eps) + beta + residual).</summary>
    public void ForwardInference(
        ArrayView<float> x,
        ArrayView<float> y,
        ArrayView<float> gamma,
        ArrayView<float> beta,
        ArrayView<float> runningMean,
        ArrayView<float> runningVar,
        int n,
        int channels,
        int planeSize,
        float eps,
        Activation activation,
        ArrayView<float> residual = default)
    {
        CheckShape(x, y, gamma, beta, n, channels, planeSize);
        DeviceGuard.Residual(residual, y);
        DeviceGuard.Length(runningMean, channels, nameof(runningMean));
        DeviceGuard.Length(runningVar, channels, nameof(runningVar));
        if (y.Length > 0)
        {
            _forwardInference((int)y.Length, Tensor(x, y, gamma, beta, residual, n, channels, planeSize, activation), runningMean, runningVar, eps);
        }
    }

    /// <summary>
    /// Training-mode gradients (overwritten): dbeta = sum dy, dgamma = sum dy * xhat,
    /// dx = gamma * invStd / m * (m * dy - dbeta - xhat * dgamma) with m = n * planeSize. A fused activation's
    /// backward is applied to dy in place first, from <paramref name="activationOutput"/> (the forward's y), as the
    /// CPU's call does (<see cref="DeviceElementwise.ActivationBackward"/>'s kernel).
    /// </summary>
    public void Backward(
        ArrayView<float> dy,
        ArrayView<float> x,
        ArrayView<float> gamma,
        ArrayView<float> savedMean,
        ArrayView<float> savedInvStd,
        ArrayView<float> dx,
        ArrayView<float> dgamma,
        ArrayView<float> dbeta,
        int n,
        int channels,
        int planeSize,
        Activation activation = default,
        ArrayView<float> activationOutput = default)
    {
        CheckExtents(n, channels, planeSize);
        long size = (long)n * channels * planeSize;
        DeviceGuard.Length(dy, size, nameof(dy));
        DeviceGuard.Length(x, size, nameof(x));
        DeviceGuard.Length(dx, size, nameof(dx));
        DeviceGuard.Length(gamma, channels, nameof(gamma));
        DeviceGuard.Length(savedMean, channels, nameof(savedMean));
        DeviceGuard.Length(savedInvStd, channels, nameof(savedInvStd));
        DeviceGuard.Length(dgamma, channels, nameof(dgamma));
        DeviceGuard.Length(dbeta, channels, nameof(dbeta));
        if (activation.Kind != ActivationKind.None)
        {
            DeviceGuard.Length(activationOutput, size, nameof(activationOutput));
            _activationBackward((int)size, activationOutput, dy, activation);
        }

        var operands = new BackwardOperands
        {
            Dy = dy, X = x, Gamma = gamma, SavedMean = savedMean, SavedInvStd = savedInvStd, Dx = dx, Dgamma = dgamma, Dbeta = dbeta,
        };
        _backward(new KernelConfig(channels, GroupSize), operands, n, channels, planeSize);
    }

    /// <summary>Inference-mode input gradient (overwritten): dx = dy * gamma / sqrt(runningVar + eps).</summary>
    public void BackwardInference(
        ArrayView<float> dy,
        ArrayView<float> gamma,
        ArrayView<float> runningVar,
        ArrayView<float> dx,
        int n,
        int channels,
        int planeSize,
        float eps)
    {
        CheckExtents(n, channels, planeSize);
        long size = (long)n * channels * planeSize;
        DeviceGuard.Length(dy, size, nameof(dy));
        DeviceGuard.Length(dx, size, nameof(dx));
        DeviceGuard.Length(gamma, channels, nameof(gamma));
        DeviceGuard.Length(runningVar, channels, nameof(runningVar));
        if (size > 0)
        {
            _backwardInference((int)size, dy, gamma, runningVar, dx, channels, planeSize, eps);
        }
    }

    /// <summary>
    /// Folds an inference-mode batch norm into the layer before it (weight rows = its output channels):
    /// w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(runningVar + eps), s in double as on the CPU.
    /// <paramref name="bias"/> is default for a layer without one.
    /// </summary>
    public void Fold(
        ArrayView<float> weight,
        ArrayView<float> bias,
        ArrayView<float> gamma,
        ArrayView<float> beta,
        ArrayView<float> runningMean,
        ArrayView<float> runningVar,
        float eps,
        ArrayView<float> foldedWeight,
        ArrayView<float> foldedBias)
    {
        long channels = foldedBias.Length;
        DeviceGuard.Positive(channels, nameof(foldedBias));
        DeviceGuard.Length(foldedWeight, weight.Length, nameof(foldedWeight));
        DeviceGuard.OptionalLength(bias, channels, nameof(bias));
        DeviceGuard.Length(gamma, channels, nameof(gamma));
        DeviceGuard.Length(beta, channels, nameof(beta));
        DeviceGuard.Length(runningMean, channels, nameof(runningMean));
        DeviceGuard.Length(runningVar, channels, nameof(runningVar));
        if (weight.Length == 0 || weight.Length % channels != 0)
        {
            throw new ArgumentException($"weight has {weight.Length} floats, not a whole number of rows for {channels} output channels.", nameof(weight));
        }

        var operands = new FoldOperands
        {
            Weight = weight, Bias = bias.Length == 0 ? _device.Unused : bias, HasBias = bias.Length != 0 ? 1 : 0, Gamma = gamma, Beta = beta,
            RunningMean = runningMean, RunningVar = runningVar, FoldedWeight = foldedWeight, FoldedBias = foldedBias,
        };
        _fold((int)weight.Length, operands, eps, (int)(weight.Length / channels));
    }

    private static void CheckExtents(int n, int channels, int planeSize)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Positive(channels, nameof(channels));
        DeviceGuard.Positive(planeSize, nameof(planeSize));
    }

    private static void CheckShape(ArrayView<float> x, ArrayView<float> y, ArrayView<float> gamma, ArrayView<float> beta, int n, int channels, int planeSize)
    {
        CheckExtents(n, channels, planeSize);
        long size = (long)n * channels * planeSize;
        DeviceGuard.Length(x, size, nameof(x));
        DeviceGuard.Length(y, size, nameof(y));
        DeviceGuard.Length(gamma, channels, nameof(gamma));
        DeviceGuard.Length(beta, channels, nameof(beta));
    }

    private NormalizedTensor Tensor(ArrayView<float> x, ArrayView<float> y, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> residual,
        int n, int channels, int planeSize, Activation activation) => new()
        {
            X = x, Y = y, Gamma = gamma, Beta = beta, Residual = residual.Length == 0 ? _device.Unused : residual, HasResidual = residual.Length != 0 ? 1 : 0,
            N = n, Channels = channels, PlaneSize = planeSize, Activation = activation,
        };

    /// <summary>
    /// One group per channel (grid index): mean, then squared deviations about it (a one-pass sum of squares loses
    /// digits when |mean| >> std, as the CPU notes), each a group sum; thread 0 saves the statistics; then every
    /// thread normalises its share.
    /// </summary>
    private static void ForwardTrainingKernel(NormalizedTensor tensor, ArrayView<float> savedMean, ArrayView<float> savedInvStd, ArrayView<float> savedVariance, float eps)
    {
        ArrayView<double> partials = SharedMemory.Allocate<double>(GroupSize);
        int channel = Grid.IdxX, count = tensor.N * tensor.PlaneSize;
        double sum = 0;
        for (int j = Group.IdxX; j < count; j += GroupSize)
        {
            sum += tensor.X[tensor.Index(channel, j)];
        }

        double mean = DeviceReduction.GroupSum(sum, partials) / count;
        double squares = 0;
        for (int j = Group.IdxX; j < count; j += GroupSize)
        {
            double deviation = tensor.X[tensor.Index(channel, j)] - mean;
            squares += deviation * deviation;
        }

        squares = DeviceReduction.GroupSum(squares, partials);
        double invStd = 1.0 / Math.Sqrt((squares / count) + eps);
        if (Group.IdxX == 0)
        {
            savedMean[channel] = (float)mean;
            savedInvStd[channel] = (float)invStd;
            savedVariance[channel] = (float)(squares / (count - 1));
        }

        var scale = (float)(tensor.Gamma[channel] * invStd);
        for (int j = Group.IdxX; j < count; j += GroupSize)
        {
            tensor.Normalize(tensor.Index(channel, j), (float)mean, scale, tensor.Beta[channel]);
        }
    }

    private static void ForwardInferenceKernel(Index1D i, NormalizedTensor tensor, ArrayView<float> runningMean, ArrayView<float> runningVar, float eps)
    {
        int channel = (i / tensor.PlaneSize) % tensor.Channels;
        var scale = (float)(tensor.Gamma[channel] / Math.Sqrt(runningVar[channel] + (double)eps));
        tensor.Normalize(i, runningMean[channel], scale, tensor.Beta[channel]);
    }

    private static void UpdateRunningStatisticsKernel(Index1D c, ArrayView<float> runningMean, ArrayView<float> runningVar, ArrayView<float> savedMean, ArrayView<float> savedVariance, float momentum)
    {
        runningMean[c] = (float)(((1.0 - momentum) * runningMean[c]) + ((double)momentum * savedMean[c]));
        runningVar[c] = (float)(((1.0 - momentum) * runningVar[c]) + ((double)momentum * savedVariance[c]));
    }

    /// <summary>One group per channel: sum dy and sum dy * x (group sums), thread 0 writes dbeta and dgamma, then every thread its share of dx.</summary>
    private static void BackwardKernel(BackwardOperands operands, int n, int channels, int planeSize)
    {
        ArrayView<double> partials = SharedMemory.Allocate<double>(GroupSize);
        int channel = Grid.IdxX, count = n * planeSize;
        double sumDy = 0, sumDyX = 0;
        for (int j = Group.IdxX; j < count; j += GroupSize)
        {
            int index = ElementIndex(channels, planeSize, channel, j);
            float gradient = operands.Dy[index];
            sumDy += gradient;
            sumDyX += (double)gradient * operands.X[index];
        }

        sumDy = DeviceReduction.GroupSum(sumDy, partials);
        sumDyX = DeviceReduction.GroupSum(sumDyX, partials);
        double mean = operands.SavedMean[channel], invStd = operands.SavedInvStd[channel];

        // sum dy * xhat = invStd * (sum dy * x - mean * sum dy); dx = k * dy + a * (x - mean) + b, the CPU's expansion.
        double dgamma = invStd * (sumDyX - (mean * sumDy));
        if (Group.IdxX == 0)
        {
            operands.Dbeta[channel] = (float)sumDy;
            operands.Dgamma[channel] = (float)dgamma;
        }

        double k = operands.Gamma[channel] * invStd;
        var dyScale = (float)k;
        var xScale = (float)(-k * invStd * dgamma / count);
        var shift = (float)(-k * sumDy / count);
        var center = (float)mean;
        for (int j = Group.IdxX; j < count; j += GroupSize)
        {
            int index = ElementIndex(channels, planeSize, channel, j);
            operands.Dx[index] = (operands.Dy[index] * dyScale) + (((operands.X[index] - center) * xScale) + shift);
        }
    }

    private static void BackwardInferenceKernel(Index1D i, ArrayView<float> dy, ArrayView<float> gamma, ArrayView<float> runningVar, ArrayView<float> dx, int channels, int planeSize, float eps)
    {
        int channel = (i / planeSize) % channels;
        dx[i] = dy[i] * (gamma[channel] / MathF.Sqrt(runningVar[channel] + eps));
    }

    /// <summary>One thread per weight element; the first of each row also folds that channel's bias.</summary>
    private static void FoldKernel(Index1D i, FoldOperands operands, float eps, int row)
    {
        int channel = i / row;
        double scale = operands.Gamma[channel] / Math.Sqrt((double)operands.RunningVar[channel] + eps);
        operands.FoldedWeight[i] = (float)(operands.Weight[i] * scale);
        if (i % row == 0)
        {
            double shift = operands.HasBias != 0 ? operands.Bias[channel] : 0;
            operands.FoldedBias[channel] = (float)(((shift - operands.RunningMean[channel]) * scale) + operands.Beta[channel]);
        }
    }

    /// <summary>The index of the <paramref name="j"/>th value of <paramref name="channel"/>, counting image by image through its planes.</summary>
    private static int ElementIndex(int channels, int planeSize, int channel, int j)
    {
        int image = j / planeSize;
        return (((image * channels) + channel) * planeSize) + (j - (image * planeSize));
    }

    /// <summary>The tensor being normalised and its epilogue, shared by both forward passes (views packed: ILGPU takes few kernel parameters).</summary>
    internal struct NormalizedTensor
    {
        public ArrayView<float> X;
        public ArrayView<float> Y;
        public ArrayView<float> Gamma;
        public ArrayView<float> Beta;

        /// <summary>Added before the activation when <see cref="HasResidual"/> is 1; the device's unused view otherwise.</summary>
        public ArrayView<float> Residual;

        /// <summary>1 or 0: kernel parameters must be blittable, and bool is not.</summary>
        public int HasResidual;
        public int N;
        public int Channels;
        public int PlaneSize;
        public Activation Activation;

        public readonly int Index(int channel, int j) => ElementIndex(Channels, PlaneSize, channel, j);

        /// <summary>y = activation((x - center) * scale + shift + residual) at <paramref name="index"/>.</summary>
        public readonly void Normalize(int index, float center, float scale, float shift)
        {
            float value = ((X[index] - center) * scale) + shift;
            Y[index] = DeviceActivation.Forward(Activation, HasResidual != 0 ? value + Residual[index] : value);
        }
    }

    internal struct BackwardOperands
    {
        public ArrayView<float> Dy;
        public ArrayView<float> X;
        public ArrayView<float> Gamma;
        public ArrayView<float> SavedMean;
        public ArrayView<float> SavedInvStd;
        public ArrayView<float> Dx;
        public ArrayView<float> Dgamma;
        public ArrayView<float> Dbeta;
    }

    internal struct FoldOperands
    {
        public ArrayView<float> Weight;
        public ArrayView<float> Bias;

        /// <summary>1 or 0, as <see cref="NormalizedTensor.HasResidual"/>.</summary>
        public int HasBias;
        public ArrayView<float> Gamma;
        public ArrayView<float> Beta;
        public ArrayView<float> RunningMean;
        public ArrayView<float> RunningVar;
        public ArrayView<float> FoldedWeight;
        public ArrayView<float> FoldedBias;
    }
}
