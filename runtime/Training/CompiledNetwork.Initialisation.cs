using System;

namespace NetCompiler;

/// <summary>The initialisation schemes besides He and Xavier that a network's Init chooses (see <see cref="Initialization"/>).</summary>
public abstract partial class CompiledNetwork
{
    /// <summary>AlexNet's weight scale: N(0, 0.01^2).</summary>
    private const double SmallNormalStd = 0.01;

    /// <summary>
    /// Uniform within 1/sqrt(<paramref name="fanIn"/>): PyTorch's default for conv and linear weights
    /// (kaiming_uniform_ with a = sqrt(5): gain sqrt(2 / 6) times sqrt(3 / fan_in)) and for their biases, with the
    /// weight's fan_in.
    /// </summary>
    protected Parameter AddFanInUniformParameter(string name, int[] shape, int fanIn)
    {
        Parameter parameter = AddParameter(name, shape, trainable: true);
        double bound = 1 / Math.Sqrt(fanIn);
        foreach (ref float value in parameter.Value.AsSpan())
        {
            value = (float)(((2 * _initRandom.NextDouble()) - 1) * bound);
        }

        return parameter;
    }

    /// <summary>N(0, 0.01^2), as AlexNet's weights.</summary>
    protected Parameter AddSmallNormalParameter(string name, int[] shape)
    {
        Parameter parameter = AddParameter(name, shape, trainable: true);
        foreach (ref float value in parameter.Value.AsSpan())
        {
            value = (float)(_initRandom.NextGaussian() * SmallNormalStd);
        }

        return parameter;
    }

    /// <summary>
    /// torch.nn.init.orthogonal_ with gain 1: the weight flattened to rows = shape[0] by the rest is the Q of a Gaussian
    /// matrix's QR decomposition with diag(R) made positive, so its rows are orthonormal when rows &lt;= columns and its
    /// columns otherwise.
    /// </summary>
    protected Parameter AddOrthogonalParameter(string name, int[] shape)
    {
        Parameter parameter = AddParameter(name, shape, trainable: true);
        int rows = shape[0], columns = parameter.Length / rows;

        // The min(rows, columns) vectors of length max(rows, columns) are the tall matrix's columns; Gram-Schmidt on
        // them is its QR with a positive diagonal, the sign convention orthogonal_ fixes.
        int count = Math.Min(rows, columns), length = Math.Max(rows, columns);
        var vectors = new double[count][];
        for (int k = 0; k < count; k++)
        {
            double[] vector = vectors[k] = new double[length];
            for (int i = 0; i < length; i++)
            {
                vector[i] = _initRandom.NextGaussian();
            }

            // Twice, for orthogonality to double rounding even when the draw is nearly dependent.
            for (int pass = 0; pass < 2; pass++)
            {
                for (int j = 0; j < k; j++)
                {
                    double projection = Dot(vectors[j], vector);
                    for (int i = 0; i < length; i++)
                    {
                        vector[i] -= projection * vectors[j][i];
                    }
                }
            }

            double norm = Math.Sqrt(Dot(vector, vector));
            for (int i = 0; i < length; i++)
            {
                vector[i] /= norm;
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                parameter.Value[(r * columns) + c] = (float)(rows <= columns ? vectors[r][c] : vectors[c][r]);
            }
        }

        return parameter;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
