using System;
using System.Linq;

namespace NetCompiler.Tests;

[Network("4x8x8", Keep = "features.3, features.4")]
[Conv(8, 3, Pad = 1), BatchNorm, Relu]
[Conv(8, 3, Pad = 1, Bias = false), BatchNorm]
[Conv(8, 3, Pad = 1, Groups = 2), BatchNorm, Relu]
[Conv(8, 3, Pad = 1, Groups = 8, Bias = false), BatchNorm(Eps = 1e-3f), Relu, MaxPool(2)]
[Dense(16), BatchNorm, Relu, Dense(16, Bias = false), BatchNorm, Dense(3)]
public partial class FoldingNet;

/// <summary>Batch norm folded into the layer before it in inference: the same function, never stale.</summary>
public sealed class BatchNormFoldingTests
{
    /// <summary>
    /// Folded and unfolded evaluation outputs agree to float rounding: each folded weight is w * s rounded once
    /// instead of (w x) * s, a few ulps per layer through five folded layers, so 1e-4 relative to the output scale.
    /// </summary>
    [Fact]
    public void FoldedOutputEqualsUnfoldedOutputWithAndWithoutBiasGroupedDepthwiseAndDense()
    {
        using var net = new FoldingNet(batchSize: 4, seed: 3, threads: 1);
        var random = new Random(7);
        Randomise(net, random);
        float[] images = GradientCheck.RandomImages(random, 4 * FoldingNet.InputLength);

        net.FoldBatchNorm = false;
        float[] unfolded = net.Forward(images).ToArray();
        net.FoldBatchNorm = true;
        float[] folded = net.Forward(images).ToArray();

        AssertClose(unfolded, folded, 1e-4);
        Assert.NotEqual(unfolded, folded); // the folded path really ran: its rounding differs somewhere
    }

    [Fact]
    public void FoldedWeightsFollowEveryTrainStepAndLoad()
    {
        using var net = new FoldingNet(batchSize: 4, seed: 3, threads: 1);
        var random = new Random(8);
        float[] images = GradientCheck.RandomImages(random, 4 * FoldingNet.InputLength);
        var adam = new Adam(learningRate: 1e-2f);
        for (int step = 0; step < 3; step++)
        {
            net.FoldBatchNorm = true;
            float[] folded = net.Forward(images).ToArray();
            net.FoldBatchNorm = false;
            AssertClose(net.Forward(images).ToArray(), folded, 1e-4);
            net.TrainStep(images, [0, 1, 2, 0], adam);
        }

        // Written by hand: MarkParametersChanged is the contract.
        Parameter gamma = net.Parameters.First(p => p.Name == "features.1.weight");
        gamma.Value.AsSpan().Fill(3f);
        net.MarkParametersChanged();
        net.FoldBatchNorm = true;
        float[] afterEdit = net.Forward(images).ToArray();
        net.FoldBatchNorm = false;
        AssertClose(net.Forward(images).ToArray(), afterEdit, 1e-4);
    }

    [Fact]
    public void AFoldedLayersOwnOutputIsNotReported()
    {
        using var net = new FoldingNet(batchSize: 1, seed: 1);
        float[] image = new float[FoldingNet.InputLength];
        net.Forward(image);
        Assert.Contains("features.4", Assert.Throws<InvalidOperationException>(() => net.LayerOutput("features.3")).Message);
        Assert.Equal(8 * 8 * 8, net.LayerOutput("features.4").Length);
        net.FoldBatchNorm = false;
        net.Forward(image);
        Assert.Equal(8 * 8 * 8, net.LayerOutput("features.3").Length);
    }

    [Fact]
    public void OnlyTheKeptLayersCanBeReadAfterACall()
    {
        // FoldingNet keeps features.3 and features.4; the others' storage is reused by the memory planner.
        using var net = new FoldingNet(batchSize: 1, seed: 1);
        float[] image = new float[FoldingNet.InputLength];
        net.InputGradient(image, [0]);
        InvalidOperationException notKept = Assert.Throws<InvalidOperationException>(() => net.LayerOutput("features.2"));
        Assert.Contains("Keep = \"features.2\"", notKept.Message);
        Assert.Contains("Keep = \"features.6\"", Assert.Throws<InvalidOperationException>(() => net.LayerGradient("features.6")).Message);
        Assert.Equal(8 * 8 * 8, net.LayerGradient("features.4").Length);
        Assert.True(FoldingNet.Summary.TrainingBytesPerImage < FoldingNet.Summary.ActivationBytes * 2,
            "training storage below one output and one gradient per layer");
    }

    /// <summary>Non-trivial batch norms: random scales, shifts and running statistics, so folding has work to do.</summary>
    private static void Randomise(CompiledNetwork net, Random random)
    {
        foreach (Parameter parameter in net.Parameters)
        {
            string role = parameter.Name[(parameter.Name.LastIndexOf('.') + 1)..];
            bool norm = net.Parameters.Any(p => p.Name == parameter.Name[..parameter.Name.LastIndexOf('.')] + ".running_var");
            for (int i = 0; i < parameter.Length; i++)
            {
                parameter.Value[i] = (norm, role) switch
                {
                    (true, "running_var") => 0.2f + (float)random.NextDouble(),
                    (true, "weight") => 0.5f + (float)random.NextDouble(),
                    (true, _) => (float)(random.NextDouble() - 0.5),
                    (false, "bias") => (float)(random.NextDouble() - 0.5),
                    _ => parameter.Value[i],
                };
            }
        }

        net.MarkParametersChanged();
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        double scale = expected.Max(v => Math.Abs((double)v));
        Assert.True(scale > 1e-3, "the outputs are all near zero, so the comparison would prove nothing");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"output {i}: unfolded {expected[i]}, folded {actual[i]} (scale {scale})");
        }
    }
}
