using System;

namespace NetCompiler.Kernels;

/// <summary>
/// Batch normalisation over [n, channels, planeSize] (planeSize 1 gives BatchNorm1d after a dense layer), with
/// PyTorch's semantics: training normalises with the biased batch variance and (in a separate call, once the step is
/// known to be good) updates the running variance with the unbiased one, running = (1 - momentum) * running + momentum * batch. Statistics are accumulated in double.
/// Work is split over channels, so every sum has a fixed order.
/// </summary>
public static unsafe class BatchNorm
{
    /// <summary>
    /// y = activation(gamma * (x - mean) / sqrt(var + eps) + beta + residual) with batch statistics, the residual (empty,
    /// or x's shape and apart from y: a ResNet block's skip) added before the activation;
    /// saves mean and 1 / sqrt(var + eps) for <see cref="Backward"/> and the unbiased variance for
    /// <see cref="UpdateRunningStatistics"/>. The running statistics are left alone, so a step whose loss turns out
    /// non-finite can be refused with the network unchanged.
    /// </summary>
    public static void ForwardTraining(
        KernelContext context,
        ReadOnlySpan<float> x,
        Span<float> y,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta,
        Span<float> savedMean,
        Span<float> savedInvStd,
        Span<float> savedVariance,
        int n,
        int channels,
        int planeSize,
        float eps,
        Activation activation,
        ReadOnlySpan<float> residual = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckShape(x.Length, y.Length, gamma.Length, beta.Length, n, channels, planeSize);
        Guard.Residual(residual, y);
        Guard.Length(savedMean.Length, channels, nameof(savedMean));
        Guard.Length(savedInvStd.Length, channels, nameof(savedInvStd));
        Guard.Length(savedVariance.Length, channels, nameof(savedVariance));
        if ((long)n * planeSize < 2)
        {
            throw new ArgumentException("Training batch norm needs more than one value per channel.", nameof(n));
        }

        fixed (float* px = x, py = y, pg = gamma, pb = beta, psm = savedMean, psi = savedInvStd, psv = savedVariance, pr = residual)
        {
            var job = new TrainingJob
            {
                Tensor = new Layout { X = px, Y = py, Gamma = pg, Beta = pb, Residual = pr, N = n, Channels = channels, PlaneSize = planeSize, Activation = activation },
                SavedMean = psm,
                SavedInvStd = psi,
                SavedVariance = psv,
                Eps = eps,
            };
            context.For(channels, ref job);
        }
    }

    /// <summary>
    /// PyTorch's running statistics update from a training forward's batch statistics:
    /// running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
    /// </summary>
    public static void UpdateRunningStatistics(Span<float> runningMean, Span<float> runningVar, ReadOnlySpan<float> savedMean, ReadOnlySpan<float> savedVariance, float momentum)
    {
        int channels = runningMean.Length;
        Guard.Length(runningVar.Length, channels, nameof(runningVar));
        Guard.Length(savedMean.Length, channels, nameof(savedMean));
        Guard.Length(savedVariance.Length, channels, nameof(savedVariance));
        for (int c = 0; c < channels; c++)
        {
            runningMean[c] = (float)(((1.0 - momentum) * runningMean[c]) + ((double)momentum * savedMean[c]));
            runningVar[c] = (float)(((1.0 - momentum) * runningVar[c]) + ((double)momentum * savedVariance[c]));
        }
    }

    /// <summary>y = activation(gamma * (x - runningMean) / sqrt(runningVar + eps) + beta + residual), the residual as in <see cref="ForwardTraining"/>.</summary>
    public static void ForwardInference(
        KernelContext context,
        ReadOnlySpan<float> x,
        Span<float> y,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVar,
        int n,
        int channels,
        int planeSize,
        float eps,
        Activation activation,
        ReadOnlySpan<float> residual = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckShape(x.Length, y.Length, gamma.Length, beta.Length, n, channels, planeSize);
        Guard.Residual(residual, y);
        Guard.Length(runningMean.Length, channels, nameof(runningMean));
        Guard.Length(runningVar.Length, channels, nameof(runningVar));
        fixed (float* px = x, py = y, pg = gamma, pb = beta, prm = runningMean, prv = runningVar, pr = residual)
        {
            var job = new InferenceJob
            {
                Tensor = new Layout { X = px, Y = py, Gamma = pg, Beta = pb, Residual = pr, N = n, Channels = channels, PlaneSize = planeSize, Activation = activation },
                RunningMean = prm,
                RunningVar = prv,
                Eps = eps,
            };
            context.For(channels, ref job);
        }
    }

    /// <summary>
    /// Training-mode gradients (overwritten): dbeta = sum dy, dgamma = sum dy * xhat,
    /// dx = gamma * invStd / m * (m * dy - dbeta - xhat * dgamma) with m = n * planeSize.
    /// When the forward pass fused an activation, pass it and its output (the forward's y): its backward is applied to
    /// dy in place first (<see cref="Activation.Backward"/>), channel by channel inside this call, so it costs no pass of
    /// its own over the tensor.
    /// </summary>
    public static void Backward(
        KernelContext context,
        Span<float> dy,
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> savedMean,
        ReadOnlySpan<float> savedInvStd,
        Span<float> dx,
        Span<float> dgamma,
        Span<float> dbeta,
        int n,
        int channels,
        int planeSize,
        Activation activation = default,
        ReadOnlySpan<float> activationOutput = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        Guard.Batch(n);
        Guard.Positive(channels, nameof(channels));
        Guard.Positive(planeSize, nameof(planeSize));
        long size = (long)n * channels * planeSize;
        Guard.Length(dy.Length, size, nameof(dy));
        Guard.Length(x.Length, size, nameof(x));
        Guard.Length(dx.Length, size, nameof(dx));
        if (activation.Kind != ActivationKind.None)
        {
            Guard.Length(activationOutput.Length, size, nameof(activationOutput));
        }

        Guard.Length(gamma.Length, channels, nameof(gamma));
        Guard.Length(savedMean.Length, channels, nameof(savedMean));
        Guard.Length(savedInvStd.Length, channels, nameof(savedInvStd));
        Guard.Length(dgamma.Length, channels, nameof(dgamma));
        Guard.Length(dbeta.Length, channels, nameof(dbeta));
        fixed (float* pdy = dy, px = x, pg = gamma, psm = savedMean, psi = savedInvStd, pdx = dx, pdg = dgamma, pdb = dbeta, pay = activationOutput)
        {
            var job = new BackwardJob
            {
                Activation = activation,
                ActivationOutput = pay,
                Dy = pdy,
                X = px,
                Gamma = pg,
                SavedMean = psm,
                SavedInvStd = psi,
                Dx = pdx,
                Dgamma = pdg,
                Dbeta = pdb,
                N = n,
                Channels = channels,
                PlaneSize = planeSize,
            };
            context.For(channels, ref job);
        }
    }

    /// <summary>
    /// Folds an inference-mode batch norm into the convolution or dense layer before it, whose weight rows are its
    /// output channels ([out, in/groups, k, k] or [out, in]): w' = w * s and b' = (b - mean) * s + beta with
    /// s = gamma / sqrt(runningVar + eps), so the layer alone computes BN(layer(x)). <paramref name="bias"/> is empty
    /// for a layer without one. The scale is computed in double, then each product rounded once.
    /// </summary>
    public static void Fold(
        ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVar,
        float eps,
        Span<float> foldedWeight,
        Span<float> foldedBias)
    {
        int channels = foldedBias.Length;
        Guard.Positive(channels, nameof(foldedBias));
        Guard.Length(foldedWeight.Length, weight.Length, nameof(foldedWeight));
        Guard.OptionalLength(bias.Length, channels, nameof(bias));
        Guard.Length(gamma.Length, channels, nameof(gamma));
        Guard.Length(beta.Length, channels, nameof(beta));
        Guard.Length(runningMean.Length, channels, nameof(runningMean));
        Guard.Length(runningVar.Length, channels, nameof(runningVar));
        if (weight.Length % channels != 0)
        {
            throw new ArgumentException($"weight has {weight.Length} floats, not a whole number of rows for {channels} output channels.", nameof(weight));
        }

        int row = weight.Length / channels;
        for (int channel = 0; channel < channels; channel++)
        {
            double scale = gamma[channel] / Math.Sqrt((double)runningVar[channel] + eps);
            for (int i = channel * row; i < (channel + 1) * row; i++)
            {
                foldedWeight[i] = (float)(weight[i] * scale);
            }

            double shift = bias.IsEmpty ? 0 : bias[channel];
            foldedBias[channel] = (float)(((shift - runningMean[channel]) * scale) + beta[channel]);
        }
    }

    /// <summary>
    /// Inference-mode input gradient (overwritten): with the running statistics fixed the layer is a per-channel
    /// affine map, so dx = dy * gamma / sqrt(runningVar + eps). Used by input gradients (saliency) in evaluation mode.
    /// </summary>
    public static void BackwardInference(
        ReadOnlySpan<float> dy,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> runningVar,
        Span<float> dx,
        int n,
        int channels,
        int planeSize,
        float eps)
    {
        Guard.Batch(n);
        Guard.Positive(channels, nameof(channels));
        Guard.Positive(planeSize, nameof(planeSize));
        long size = (long)n * channels * planeSize;
        Guard.Length(dy.Length, size, nameof(dy));
        Guard.Length(dx.Length, size, nameof(dx));
        Guard.Length(gamma.Length, channels, nameof(gamma));
        Guard.Length(runningVar.Length, channels, nameof(runningVar));
        for (int image = 0; image < n; image++)
        {
            for (int channel = 0; channel < channels; channel++)
            {
                float scale = gamma[channel] / MathF.Sqrt(runningVar[channel] + eps);
                int offset = ((image * channels) + channel) * planeSize;
                VectorMath.Normalize(dy.Slice(offset, planeSize), center: 0f, scale, shift: 0f, Activation.None, dx.Slice(offset, planeSize));
            }
        }
    }

    private static void CheckShape(int x, int y, int gamma, int beta, int n, int channels, int planeSize)
    {
        Guard.Batch(n);
        Guard.Positive(channels, nameof(channels));
        Guard.Positive(planeSize, nameof(planeSize));
        long size = (long)n * channels * planeSize;
        Guard.Length(x, size, nameof(x));
        Guard.Length(y, size, nameof(y));
        Guard.Length(gamma, channels, nameof(gamma));
        Guard.Length(beta, channels, nameof(beta));
    }

    /// <summary>The tensor being normalised and the affine parameters, shared by both forward passes.</summary>
    private struct Layout
    {
        public float* X;
        public float* Y;
        public float* Gamma;
        public float* Beta;

        /// <summary>Added before the activation; null for none.</summary>
        public float* Residual;
        public int N;
        public int Channels;
        public int PlaneSize;
        public Activation Activation;

        public readonly Span<float> Plane(float* tensor, int image, int channel) =>
            new(tensor + ((((nint)image * Channels) + channel) * PlaneSize), PlaneSize);

        /// <summary>y = activation(gamma * (x - mean) * invStd + beta + residual) over every plane of <paramref name="channel"/>.</summary>
        public readonly void Normalize(int channel, double mean, double invStd)
        {
            var scale = (float)(Gamma[channel] * invStd);
            for (int image = 0; image < N; image++)
            {
                VectorMath.Normalize(Plane(X, image, channel), (float)mean, scale, Beta[channel], Activation, Plane(Y, image, channel),
                    Residual == null ? default : Plane(Residual, image, channel));
            }
        }
    }

    private struct TrainingJob : IParallelJob
    {
        public Layout Tensor;
        public float* SavedMean;
        public float* SavedInvStd;
        public float* SavedVariance;
        public float Eps;

        public readonly void Execute(int begin, int end, int thread)
        {
            long count = (long)Tensor.N * Tensor.PlaneSize;
            for (int c = begin; c < end; c++)
            {
                // Mean first, then squared deviations: a one-pass sum of squares loses digits when |mean| >> std.
                double sum = 0;
                for (int image = 0; image < Tensor.N; image++)
                {
                    sum += VectorMath.Sum(Tensor.Plane(Tensor.X, image, c));
                }

                double mean = sum / count;
                double squares = 0;
                for (int image = 0; image < Tensor.N; image++)
                {
                    squares += VectorMath.SquaredDeviations(Tensor.Plane(Tensor.X, image, c), mean);
                }

                double variance = squares / count;
                double invStd = 1.0 / Math.Sqrt(variance + Eps);
                SavedMean[c] = (float)mean;
                SavedInvStd[c] = (float)invStd;
                SavedVariance[c] = (float)(squares / (count - 1));
                Tensor.Normalize(c, mean, invStd);
            }
        }
    }

    private struct InferenceJob : IParallelJob
    {
        public Layout Tensor;
        public float* RunningMean;
        public float* RunningVar;
        public float Eps;

        public readonly void Execute(int begin, int end, int thread)
        {
            for (int c = begin; c < end; c++)
            {
                Tensor.Normalize(c, RunningMean[c], 1.0 / Math.Sqrt(RunningVar[c] + (double)Eps));
            }
        }
    }

    private struct BackwardJob : IParallelJob
    {
        public Activation Activation;
        public float* ActivationOutput;
        public float* Dy;
        public float* X;
        public float* Gamma;
        public float* SavedMean;
        public float* SavedInvStd;
        public float* Dx;
        public float* Dgamma;
        public float* Dbeta;
        public int N;
        public int Channels;
        public int PlaneSize;

        public readonly void Execute(int begin, int end, int thread)
        {
            double count = (double)N * PlaneSize;
            for (int c = begin; c < end; c++)
            {
                double mean = SavedMean[c], invStd = SavedInvStd[c];

                // sum dy * xhat = invStd * (sum dy * x - mean * sum dy), both sums in one pass over the channel, each
                // plane's dy first through the fused activation's backward.
                double sumDy = 0, sumDyX = 0;
                for (int image = 0; image < N; image++)
                {
                    if (Activation.Kind != ActivationKind.None)
                    {
                        Activation.Backward(Plane(ActivationOutput, image, c), Plane(Dy, image, c));
                    }

                    (double plane, double planeX) = VectorMath.SumAndDot(Plane(Dy, image, c), Plane(X, image, c));
                    sumDy += plane;
                    sumDyX += planeX;
                }

                double dbeta = sumDy;
                double dgamma = invStd * (sumDyX - (mean * sumDy));
                Dbeta[c] = (float)dbeta;
                Dgamma[c] = (float)dgamma;

                // dx = k * dy + a * (x - mean) + b: the formula above expanded with xhat = (x - mean) * invStd.
                double k = Gamma[c] * invStd;
                double a = -k * invStd * dgamma / count;
                double b = -k * dbeta / count;
                for (int image = 0; image < N; image++)
                {
                    VectorMath.MultiplyAddAffine(Plane(Dy, image, c), (float)k, Plane(X, image, c), (float)mean, (float)a, (float)b, Plane(Dx, image, c));
                }
            }
        }

        private readonly Span<float> Plane(float* tensor, int image, int channel) =>
            new(tensor + ((((nint)image * Channels) + channel) * PlaneSize), PlaneSize);
    }
}
