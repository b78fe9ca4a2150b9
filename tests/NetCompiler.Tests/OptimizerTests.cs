using System;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>
/// Sgd and Adam against double-precision transcriptions of torch.optim.SGD and of Goodfellow et al. Algorithm 8.7.
/// Parameter lengths 37 and 3 exercise both the vectorised loop and its scalar remainder.
/// </summary>
[Collection(Allocations.Alone)]
public sealed class OptimizerTests
{
    // Float rounding over ten steps stays within a few ulps of weights of order 1; a wrong term moves them by
    // learningRate * |gradient| (about 1e-2) or more.
    private const double Tolerance = 1e-5;
    private const int Steps = 10;

    [Theory]
    [InlineData(0f, 0f, false)]
    [InlineData(0f, 0.01f, false)]
    [InlineData(0.9f, 0f, false)]
    [InlineData(0.9f, 0.01f, false)]
    [InlineData(0.9f, 0.01f, true)]
    [InlineData(0.5f, 0f, true)]
    public void SgdMatchesTorchOptimSgd(float momentum, float weightDecay, bool nesterov)
    {
        var sgd = new Sgd(learningRate: 0.1f, momentum, weightDecay, nesterov);
        Parameter[] parameters = CreateParameters();
        double[][] weights = ToDouble(parameters, p => p.Value);
        double[][] buffers = Array.ConvertAll(weights, w => new double[w.Length]);
        var random = new Random(2);

        for (int step = 1; step <= Steps; step++)
        {
            sgd.LearningRate = step <= Steps / 2 ? 0.1f : 0.05f;
            SetGradients(parameters, random);
            sgd.Step(parameters);

            for (int p = 0; p < weights.Length; p++)
            {
                if (!parameters[p].Trainable)
                {
                    continue;
                }

                for (int i = 0; i < weights[p].Length; i++)
                {
                    double w = weights[p][i];
                    double g = parameters[p].Gradient[i] + (double)weightDecay * w;
                    if (momentum != 0f)
                    {
                        buffers[p][i] = step == 1 ? g : momentum * buffers[p][i] + g;
                        g = nesterov ? g + momentum * buffers[p][i] : buffers[p][i];
                    }

                    weights[p][i] = w - (double)sgd.LearningRate * g;
                }
            }

            AssertClose(weights, parameters, step);
        }
    }

    [Theory]
    [InlineData(0.9f, 0.999f, 1e-8f, 0f)]
    [InlineData(0.5f, 0.9f, 1e-3f, 0.01f)]
    public void AdamMatchesAlgorithm8Point7(float beta1, float beta2, float epsilon, float weightDecay)
    {
        var adam = new Adam(learningRate: 0.01f, beta1, beta2, epsilon, weightDecay);
        Parameter[] parameters = CreateParameters();
        double[][] weights = ToDouble(parameters, p => p.Value);
        double[][] firstMoments = Array.ConvertAll(weights, w => new double[w.Length]);
        double[][] secondMoments = Array.ConvertAll(weights, w => new double[w.Length]);
        var random = new Random(3);

        for (int t = 1; t <= Steps; t++)
        {
            SetGradients(parameters, random);
            adam.Step(parameters);

            for (int p = 0; p < weights.Length; p++)
            {
                if (!parameters[p].Trainable)
                {
                    continue;
                }

                for (int i = 0; i < weights[p].Length; i++)
                {
                    double g = parameters[p].Gradient[i] + (double)weightDecay * weights[p][i];
                    firstMoments[p][i] = beta1 * firstMoments[p][i] + (1 - (double)beta1) * g;
                    secondMoments[p][i] = beta2 * secondMoments[p][i] + (1 - (double)beta2) * g * g;
                    double correctedFirst = firstMoments[p][i] / (1 - Math.Pow(beta1, t));
                    double correctedSecond = secondMoments[p][i] / (1 - Math.Pow(beta2, t));
                    weights[p][i] -= 0.01 * correctedFirst / (Math.Sqrt(correctedSecond) + epsilon);
                }
            }

            AssertClose(weights, parameters, t);
        }
    }

    [Fact]
    public void AdamFirstStepMovesEachWeightByTheLearningRateWhateverTheGradientScale()
    {
        // After one step m_hat = g and sqrt(v_hat) = |g|, so the move is lr * g / (|g| + eps), lr * sign(g) within eps / |g|.
        const float LearningRate = 1e-3f;
        var parameter = new Parameter("w", [40], trainable: true);
        var random = new Random(4);
        for (int i = 0; i < parameter.Length; i++)
        {
            parameter.Value[i] = (float)random.NextDouble();
            float magnitude = MathF.Pow(10f, i % 7 - 3);    // 1e-3 .. 1e3
            parameter.Gradient[i] = i % 2 == 0 ? magnitude : -magnitude;
        }

        float[] before = (float[])parameter.Value.Clone();
        new Adam(LearningRate).Step([parameter]);

        for (int i = 0; i < parameter.Length; i++)
        {
            float move = parameter.Value[i] - before[i];
            Assert.True(
                Math.Abs(move + LearningRate * Math.Sign(parameter.Gradient[i])) <= LearningRate * 1e-3,
                $"weight {i}: gradient {parameter.Gradient[i]} moved it by {move}, expected {-LearningRate * Math.Sign(parameter.Gradient[i])}");
        }
    }

    [Fact]
    public void AdamSteadyStateStepAllocatesNothing() => AssertStepsAllocateNothing(new Adam(weightDecay: 0.01f));

    [Fact]
    public void SgdWithNesterovMomentumSteadyStateStepAllocatesNothing() =>
        AssertStepsAllocateNothing(new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: true));

    [Fact]
    public void PlainSgdStepAllocatesNothing() => AssertStepsAllocateNothing(new Sgd(0.1f));

    [Fact]
    public void CenteredRMSpropWithMomentumSteadyStateStepAllocatesNothing() =>
        AssertStepsAllocateNothing(new RMSprop(weightDecay: 0.01f, momentum: 0.9f, centered: true));

    [Fact]
    public void AdamWSteadyStateStepAllocatesNothing() => AssertStepsAllocateNothing(new AdamW());

    [Fact]
    public void AdagradSteadyStateStepAllocatesNothing() => AssertStepsAllocateNothing(new Adagrad(learningRateDecay: 0.1f));

    [Fact]
    public void ClippingAndParameterGroupsAllocateNothing()
    {
        var adam = new AdamW { MaxGradientNorm = 0.1f };
        adam.Groups.Add(ParameterGroup.NormsAndBiases);
        AssertStepsAllocateNothing(adam);
    }

    [Theory]
    [InlineData("momentum", -0.1f, 0f, false)]
    [InlineData("momentum", 1f, 0f, false)]
    [InlineData("momentum", float.NaN, 0f, false)]
    [InlineData("momentum", 0f, 0f, true)]
    [InlineData("weightDecay", 0f, -1e-4f, false)]
    [InlineData("weightDecay", 0.9f, float.PositiveInfinity, false)]
    public void SgdRejectsArgumentsOutOfRange(string name, float momentum, float weightDecay, bool nesterov)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f, momentum, weightDecay, nesterov));
        Assert.Equal(name, exception.ParamName);
    }

    [Theory]
    [InlineData("learningRate", 0f, 0.9f, 0.999f, 1e-8f, 0f)]
    [InlineData("beta1", 1e-3f, 1f, 0.999f, 1e-8f, 0f)]
    [InlineData("beta1", 1e-3f, -0.1f, 0.999f, 1e-8f, 0f)]
    [InlineData("beta2", 1e-3f, 0.9f, 1f, 1e-8f, 0f)]
    [InlineData("beta2", 1e-3f, 0.9f, float.NaN, 1e-8f, 0f)]
    [InlineData("epsilon", 1e-3f, 0.9f, 0.999f, 0f, 0f)]
    [InlineData("weightDecay", 1e-3f, 0.9f, 0.999f, 1e-8f, -1f)]
    public void AdamRejectsArgumentsOutOfRange(string name, float learningRate, float beta1, float beta2, float epsilon, float weightDecay)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate, beta1, beta2, epsilon, weightDecay));
        Assert.Equal(name, exception.ParamName);
    }

    public static TheoryData<string> OptimizerNames => ["sgd", "sgd-momentum", "adam", "adamw", "rmsprop", "adagrad"];

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void AParameterWhoseLengthChangedBetweenStepsIsReported(string optimizerName)
    {
        Optimizer optimizer = Create(optimizerName);
        optimizer.Step([new Parameter("features.0.weight", [4], trainable: true)]);

        var exception = Assert.Throws<InvalidOperationException>(() => optimizer.Step([new Parameter("features.0.weight", [5], trainable: true)]));
        Assert.Contains("Parameter 0 ('features.0.weight') has 5 elements but had 4 on earlier steps", exception.Message);
    }

    private static Optimizer Create(string name) => name switch
    {
        "sgd" => new Sgd(0.1f),
        "sgd-momentum" => new Sgd(0.1f, momentum: 0.9f),
        "adamw" => new AdamW(),
        "rmsprop" => new RMSprop(momentum: 0.9f, centered: true),
        "adagrad" => new Adagrad(),
        _ => new Adam(),
    };

    /// <summary>A weight, a running statistic the optimiser must leave alone, and a bias shorter than a vector.</summary>
    private static Parameter[] CreateParameters()
    {
        Parameter[] parameters =
        [
            new Parameter("features.0.weight", [37], trainable: true),
            new Parameter("features.1.running_mean", [5], trainable: false),
            new Parameter("features.0.bias", [3], trainable: true),
        ];
        var random = new Random(1);
        foreach (Parameter parameter in parameters)
        {
            for (int i = 0; i < parameter.Length; i++)
            {
                parameter.Value[i] = (float)(2 * random.NextDouble() - 1);
            }
        }

        return parameters;
    }

    private static void SetGradients(Parameter[] parameters, Random random)
    {
        foreach (Parameter parameter in parameters)
        {
            for (int i = 0; i < parameter.Gradient.Length; i++)
            {
                parameter.Gradient[i] = (float)(2 * random.NextDouble() - 1);
            }
        }
    }

    private static double[][] ToDouble(Parameter[] parameters, Func<Parameter, float[]> select) =>
        Array.ConvertAll(parameters, p => Array.ConvertAll(select(p), v => (double)v));

    private static void AssertClose(double[][] expected, Parameter[] parameters, int step)
    {
        for (int p = 0; p < parameters.Length; p++)
        {
            for (int i = 0; i < expected[p].Length; i++)
            {
                double error = Math.Abs(parameters[p].Value[i] - expected[p][i]);
                Assert.True(
                    error <= Tolerance * (1 + Math.Abs(expected[p][i])),
                    $"step {step}, {parameters[p].Name}[{i}]: {parameters[p].Value[i]} vs reference {expected[p][i]}");
            }
        }
    }

    private static void AssertStepsAllocateNothing(Optimizer optimizer)
    {
        Parameter[] parameters = CreateParameters();
        SetGradients(parameters, new Random(5));
        // The warm-up allocates the per-parameter state.
        Allocations.AssertNone($"100 steps of {optimizer.GetType().Name}", () =>
        {
            for (int step = 0; step < 100; step++)
            {
                optimizer.Step(parameters);
            }
        });
    }
}
