using System;
namespace NetCompiler.Kernels.Tests;

/// <summary>Naive double-precision references, written independently of the kernels (plain loops).</summary>
internal static partial class Reference
{
    public static double[] Gemm(float[] a, bool transposeA, float[] b, bool transposeB, int m, int n, int k)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double left = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                    double right = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                    sum += left * right;
                }

                c[(i * n) + j] = sum;
            }
        }

        return c;
    }
}

internal static partial class Reference
{
    /// <summary>PyTorch conv2d: y[i, o, oh, ow] = bias[o] + sum x[i, g*Cg + c, oh*S - P + kh*D, ow*S - P + kw*D] * w[o, c, kh, kw].</summary>
    public static double[] Conv(double[] x, double[] w, double[]? bias, int n, ConvDims d)
    {
        int groupIn = d.InChannels / d.Groups, groupOut = d.OutChannels / d.Groups;
        var y = new double[n * d.OutputSize];
        for (int i = 0; i < n; i++)
        {
            for (int o = 0; o < d.OutChannels; o++)
            {
                int g = o / groupOut;
                for (int oh = 0; oh < d.OutHeight; oh++)
                {
                    for (int ow = 0; ow < d.OutWidth; ow++)
                    {
                        double sum = bias is null ? 0 : bias[o];
                        for (int c = 0; c < groupIn; c++)
                        {
                            for (int kh = 0; kh < d.Kernel; kh++)
                            {
                                for (int kw = 0; kw < d.Kernel; kw++)
                                {
                                    int ih = (oh * d.Stride) - d.Pad + (kh * d.Dilation);
                                    int iw = (ow * d.Stride) - d.Pad + (kw * d.Dilation);
                                    if (ih >= 0 && ih < d.InHeight && iw >= 0 && iw < d.InWidth)
                                    {
                                        int channel = (g * groupIn) + c;
                                        sum += x[(((i * d.InChannels) + channel) * d.InHeight + ih) * d.InWidth + iw]
                                            * w[(((o * groupIn) + c) * d.Kernel + kh) * d.Kernel + kw];
                                    }
                                }
                            }
                        }

                        y[(((i * d.OutChannels) + o) * d.OutHeight + oh) * d.OutWidth + ow] = sum;
                    }
                }
            }
        }

        return y;
    }

    /// <summary>dL/dw[o, c, kh, kw] = sum over images and output pixels of dy[i, o, oh, ow] * x[i, g*Cg + c, ih, iw].</summary>
    public static double[] ConvWeightGradient(double[] x, double[] dy, int n, ConvDims d)
    {
        int groupIn = d.InChannels / d.Groups, groupOut = d.OutChannels / d.Groups;
        var dw = new double[d.OutChannels * groupIn * d.Kernel * d.Kernel];
        for (int o = 0; o < d.OutChannels; o++)
        {
            for (int c = 0; c < groupIn; c++)
            {
                for (int kh = 0; kh < d.Kernel; kh++)
                {
                    for (int kw = 0; kw < d.Kernel; kw++)
                    {
                        double sum = 0;
                        int channel = ((o / groupOut) * groupIn) + c;
                        for (int i = 0; i < n; i++)
                        {
                            for (int oh = 0; oh < d.OutHeight; oh++)
                            {
                                for (int ow = 0; ow < d.OutWidth; ow++)
                                {
                                    int ih = (oh * d.Stride) - d.Pad + (kh * d.Dilation);
                                    int iw = (ow * d.Stride) - d.Pad + (kw * d.Dilation);
                                    if (ih >= 0 && ih < d.InHeight && iw >= 0 && iw < d.InWidth)
                                    {
                                        sum += dy[(((i * d.OutChannels) + o) * d.OutHeight + oh) * d.OutWidth + ow]
                                            * x[(((i * d.InChannels) + channel) * d.InHeight + ih) * d.InWidth + iw];
                                    }
                                }
                            }
                        }

                        dw[(((o * groupIn) + c) * d.Kernel + kh) * d.Kernel + kw] = sum;
                    }
                }
            }
        }

        return dw;
    }

    /// <summary>PyTorch conv_transpose2d by its scatter definition: every input pixel adds x * w[c, o] into the output window.</summary>
    public static double[] ConvTranspose(double[] x, double[] w, double[]? bias, int n, ConvDims d)
    {
        int groupIn = d.InChannels / d.Groups, groupOut = d.OutChannels / d.Groups;
        var y = new double[n * d.OutputSize];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < d.InChannels; c++)
            {
                int g = c / groupIn;
                for (int ih = 0; ih < d.InHeight; ih++)
                {
                    for (int iw = 0; iw < d.InWidth; iw++)
                    {
                        double value = x[(((i * d.InChannels) + c) * d.InHeight + ih) * d.InWidth + iw];
                        for (int o = 0; o < groupOut; o++)
                        {
                            for (int kh = 0; kh < d.Kernel; kh++)
                            {
                                for (int kw = 0; kw < d.Kernel; kw++)
                                {
                                    int oh = (ih * d.Stride) - d.Pad + (kh * d.Dilation);
                                    int ow = (iw * d.Stride) - d.Pad + (kw * d.Dilation);
                                    if (oh >= 0 && oh < d.OutHeight && ow >= 0 && ow < d.OutWidth)
                                    {
                                        int channel = (g * groupOut) + o;
                                        y[(((i * d.OutChannels) + channel) * d.OutHeight + oh) * d.OutWidth + ow] +=
                                            value * w[(((c * groupOut) + o) * d.Kernel + kh) * d.Kernel + kw];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        if (bias is not null)
        {
            int plane = d.OutHeight * d.OutWidth;
            for (int k = 0; k < y.Length; k++)
            {
                y[k] += bias[k / plane % d.OutChannels];
            }
        }

        return y;
    }

    public static double[] Dense(double[] x, double[] w, double[]? bias, int n, int inFeatures, int outFeatures)
    {
        var y = new double[n * outFeatures];
        for (int i = 0; i < n; i++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias is null ? 0 : bias[o];
                for (int k = 0; k < inFeatures; k++)
                {
                    sum += x[(i * inFeatures) + k] * w[(o * inFeatures) + k];
                }

                y[(i * outFeatures) + o] = sum;
            }
        }

        return y;
    }

    /// <summary>Max (or, with <paramref name="average"/>, mean over Kernel^2 with padding counted) over each window.</summary>
    public static double[] Pool(double[] x, int n, PoolDims d, bool average, int[]? argmax = null)
    {
        var y = new double[n * d.OutputSize];
        for (int plane = 0; plane < n * d.Channels; plane++)
        {
            for (int oh = 0; oh < d.OutHeight; oh++)
            {
                for (int ow = 0; ow < d.OutWidth; ow++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    int bestIndex = -1;
                    for (int kh = 0; kh < d.Kernel; kh++)
                    {
                        for (int kw = 0; kw < d.Kernel; kw++)
                        {
                            int ih = (oh * d.Stride) - d.Pad + kh, iw = (ow * d.Stride) - d.Pad + kw;
                            if (ih < 0 || ih >= d.InHeight || iw < 0 || iw >= d.InWidth)
                            {
                                continue;
                            }

                            double value = x[(plane * d.InHeight * d.InWidth) + (ih * d.InWidth) + iw];
                            sum += value;
                            if (value > best)
                            {
                                best = value;
                                bestIndex = (ih * d.InWidth) + iw;
                            }
                        }
                    }

                    int output = (plane * d.OutHeight * d.OutWidth) + (oh * d.OutWidth) + ow;
                    y[output] = average ? sum / (d.Kernel * d.Kernel) : best;
                    if (argmax is not null)
                    {
                        argmax[output] = bestIndex;
                    }
                }
            }
        }

        return y;
    }

    /// <summary>Training-mode batch norm over [n, C, plane] with biased batch variance.</summary>
    public static double[] BatchNorm(double[] x, double[] gamma, double[] beta, int n, int channels, int plane, double eps, out double[] mean, out double[] variance)
    {
        int count = n * plane;
        mean = new double[channels];
        variance = new double[channels];
        var y = new double[x.Length];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                for (int p = 0; p < plane; p++)
                {
                    sum += x[(((i * channels) + c) * plane) + p];
                }
            }

            mean[c] = sum / count;
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                for (int p = 0; p < plane; p++)
                {
                    double deviation = x[(((i * channels) + c) * plane) + p] - mean[c];
                    squares += deviation * deviation;
                }
            }

            variance[c] = squares / count;
            for (int i = 0; i < n; i++)
            {
                for (int p = 0; p < plane; p++)
                {
                    int k = (((i * channels) + c) * plane) + p;
                    y[k] = ((x[k] - mean[c]) / Math.Sqrt(variance[c] + eps) * gamma[c]) + beta[c];
                }
            }
        }

        return y;
    }

    /// <summary>Weighted mean cross-entropy over samples laid out [n, classes, plane] (plane 1 for classification).</summary>
    public static double CrossEntropy(double[] logits, int[] labels, double[]? weights, int n, int classes, int plane)
    {
        double loss = 0, weightSum = 0;
        for (int i = 0; i < n; i++)
        {
            for (int p = 0; p < plane; p++)
            {
                double max = double.NegativeInfinity;
                for (int c = 0; c < classes; c++)
                {
                    max = Math.Max(max, logits[(((i * classes) + c) * plane) + p]);
                }

                double sum = 0;
                for (int c = 0; c < classes; c++)
                {
                    sum += Math.Exp(logits[(((i * classes) + c) * plane) + p] - max);
                }

                int label = labels[(i * plane) + p];
                double weight = weights is null ? 1 : weights[label];
                loss += weight * (Math.Log(sum) + max - logits[(((i * classes) + label) * plane) + p]);
                weightSum += weight;
            }
        }

        return loss / weightSum;
    }

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>
    /// d loss / d theta by central differences in double, h = 1e-6: truncation error O(h^2) ~ 1e-12 and rounding
    /// ~ 1e-16 / h ~ 1e-10, far below the float kernels' own error.
    /// </summary>
    public static double[] NumericGradient(double[] theta, Func<double[], double> loss)
    {
        const double H = 1e-6;
        var gradient = new double[theta.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            double saved = theta[i];
            theta[i] = saved + H;
            double up = loss(theta);
            theta[i] = saved - H;
            double down = loss(theta);
            theta[i] = saved;
            gradient[i] = (up - down) / (2 * H);
        }

        return gradient;
    }
}
