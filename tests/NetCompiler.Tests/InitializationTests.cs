using System;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

[Network("3x8x8", Init = Initialization.PyTorchDefault)]
[Conv(16, 3), BatchNorm, Relu]
[Dense(40)]
public partial class PyTorchInitNet;

[Network("3x8x8", Init = Initialization.SmallNormal)]
[Conv(16, 3), BatchNorm, Relu]
[Dense(40)]
public partial class SmallNormalInitNet;

// Wide weights (16 x 27, 40 x 576) and a tall one (60 x 40).
[Network("3x8x8", Init = Initialization.Orthogonal)]
[Conv(16, 3), BatchNorm, Relu]
[Dense(40), Relu]
[Dense(60)]
public partial class OrthogonalInitNet;

/// <summary>
/// The initialisation schemes' statistics. A sample statistic of n independent draws is within 5 standard errors of
/// its expectation except with probability 6e-7, so each bound below is 5 / sqrt(n) times the statistic's spread.
/// </summary>
public sealed class InitializationTests
{
    private const double StandardErrors = 5;

    [Fact]
    public void PyTorchDefaultIsUniformWithinOneOverRootFanInForWeightsAndBiases()
    {
        using var net = new PyTorchInitNet(batchSize: 1, seed: 1, threads: 1);
        AssertUniform(net, "features.0.weight", fanIn: 27);
        AssertUniform(net, "features.0.bias", fanIn: 27);
        AssertUniform(net, "classifier.0.weight", fanIn: 16 * 6 * 6);
        AssertUniform(net, "classifier.0.bias", fanIn: 16 * 6 * 6);
        AssertBatchNormIsTheIdentity(net);
    }

    [Fact]
    public void SmallNormalDrawsWeightsFromNZeroPointZeroOneAndZeroBiases()
    {
        using var net = new SmallNormalInitNet(batchSize: 1, seed: 1, threads: 1);
        foreach (string name in new[] { "features.0.weight", "classifier.0.weight" })
        {
            float[] w = Tensor(net, name).Value;
            // Mean: spread 0.01. Mean of squares (variance): spread sqrt(2) * 0.01^2, as E[x^4] = 3 sigma^4.
            Assert.InRange(w.Average(v => (double)v), -StandardErrors * 0.01 / Math.Sqrt(w.Length), StandardErrors * 0.01 / Math.Sqrt(w.Length));
            double variance = w.Average(v => (double)v * v);
            Assert.InRange(variance, 1e-4 * (1 - (StandardErrors * Math.Sqrt(2.0 / w.Length))), 1e-4 * (1 + (StandardErrors * Math.Sqrt(2.0 / w.Length))));
        }

        Assert.All(Tensor(net, "features.0.bias").Value, b => Assert.Equal(0f, b));
        Assert.All(Tensor(net, "classifier.0.bias").Value, b => Assert.Equal(0f, b));
        AssertBatchNormIsTheIdentity(net);
    }

    [Theory]
    [InlineData("features.0.weight", 16, 27)]
    [InlineData("classifier.0.weight", 40, 576)]
    [InlineData("classifier.2.weight", 60, 40)]
    public void OrthogonalWeightsHaveOrthonormalRowsOrColumns(string name, int rows, int columns)
    {
        using var net = new OrthogonalInitNet(batchSize: 1, seed: 1, threads: 1);
        float[] w = Tensor(net, name).Value;
        Assert.Equal(rows * columns, w.Length);
        // W W^T = I when wide, W^T W = I when tall; the float32 rounding of each entry (6e-8 relative) sums to ~1e-7.
        bool wide = rows <= columns;
        int count = wide ? rows : columns, length = wide ? columns : rows;
        double At(int vector, int i) => wide ? w[(vector * columns) + i] : w[(i * columns) + vector];
        for (int a = 0; a < count; a++)
        {
            for (int b = 0; b <= a; b++)
            {
                double dot = 0;
                for (int i = 0; i < length; i++)
                {
                    dot += At(a, i) * At(b, i);
                }

                Assert.True(Math.Abs(dot - (a == b ? 1 : 0)) <= 1e-5, $"{name}: vectors {a} and {b} have dot product {dot}");
            }
        }

        Assert.All(Tensor(net, name.Replace("weight", "bias")).Value, b => Assert.Equal(0f, b));
        AssertBatchNormIsTheIdentity(net);
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeightsAndAnotherSeedOthers()
    {
        using var first = new OrthogonalInitNet(batchSize: 1, seed: 4, threads: 1);
        using var again = new OrthogonalInitNet(batchSize: 2, seed: 4, threads: 1);
        using var other = new OrthogonalInitNet(batchSize: 1, seed: 5, threads: 1);
        Assert.Equal(first.Parameters.Select(p => p.Value), again.Parameters.Select(p => p.Value));
        Assert.NotEqual(first.Parameters[0].Value, other.Parameters[0].Value);

        using var pytorch = new PyTorchInitNet(batchSize: 1, seed: 4, threads: 1);
        using var pytorchAgain = new PyTorchInitNet(batchSize: 1, seed: 4, threads: 1);
        Assert.Equal(pytorch.Parameters.Select(p => p.Value), pytorchAgain.Parameters.Select(p => p.Value));
    }

    private static void AssertUniform(CompiledNetwork net, string name, int fanIn)
    {
        float[] values = Tensor(net, name).Value;
        double bound = 1 / Math.Sqrt(fanIn);
        Assert.All(values, v => Assert.True(Math.Abs(v) <= bound, $"{name}: {v} outside +-{bound}"));
        // U(-b, b): mean 0 with spread b / sqrt(3); mean of squares b^2 / 3 with spread sqrt(4 / 45) b^2.
        double n = values.Length;
        double meanLimit = StandardErrors * bound / Math.Sqrt(3 * n);
        Assert.InRange(values.Average(v => (double)v), -meanLimit, meanLimit);
        double squareLimit = StandardErrors * Math.Sqrt(4.0 / 45) * bound * bound / Math.Sqrt(n);
        Assert.InRange(values.Average(v => (double)v * v), (bound * bound / 3) - squareLimit, (bound * bound / 3) + squareLimit);
        // Not degenerate: the draws reach past half the bound.
        Assert.Contains(values, v => Math.Abs(v) > bound / 2);
    }

    private static void AssertBatchNormIsTheIdentity(CompiledNetwork net)
    {
        Assert.All(Tensor(net, "features.1.weight").Value, v => Assert.Equal(1f, v));
        Assert.All(Tensor(net, "features.1.bias").Value, v => Assert.Equal(0f, v));
        Assert.All(Tensor(net, "features.1.running_var").Value, v => Assert.Equal(1f, v));
    }

    private static Parameter Tensor(CompiledNetwork net, string name) => net.Parameters.Single(p => p.Name == name);
}
