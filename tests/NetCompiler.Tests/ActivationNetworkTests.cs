using System;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

// Every activation past ReLU, fused into a convolution, transposed convolution, dense layer or batch norm before it, and
// as a call of its own (after pooling or after another activation). SiLU is a call of its own in training wherever it
// stands; inference fuses it after the batch norm (folded into the convolution before) and after the strided
// convolution, not after the sigmoid. The kinked activations (LeakyReLU, ReLU6, ELU with alpha other than 1) are in the
// dense layers, where 8 features of 4 images are few values for a finite difference's step to carry across a kink.
[Network("2x8x8")]
[Conv(4, 3, Pad = 1), Tanh, Sigmoid]
[Conv(4, 3, Pad = 1), BatchNorm, Silu, Elu]
[AvgPool(2), Tanh]
[ConvTranspose(4, 2, Stride = 2), Elu]
[Conv(4, 3, Stride = 2, Pad = 1), Silu]
[Conv(4, 3, Pad = 1), BatchNorm, Tanh]
[Dense(8), LeakyRelu(0.1f), Relu6]
[Dense(8), BatchNorm, Elu(0.5f), LeakyRelu(0.2f)]
[Dense(8), Sigmoid, Silu]
[Dense(6), Relu6]
[Dense(3)]
public partial class ActivationGradientNet;

// A kept layer before a SiLU: LayerOutput reads it after Forward, so inference does not fuse the SiLU away from it.
[Network("1x6x6", Keep = "features.0, features.1")]
[Conv(3, 3, Pad = 1), Silu, Dense(2)]
public partial class KeptSiluNet;

/// <summary>The activations end to end: gradients through every one of them, and SiLU's fusion for inference alone.</summary>
public sealed class ActivationNetworkTests
{
    [Fact]
    public void ParameterAndInputGradientsThroughEveryActivationMatchFiniteDifferences()
    {
        using var net = new ActivationGradientNet(batchSize: 4, seed: 3, threads: 1);
        var random = new Random(17);
        float[] images = GradientCheck.RandomImages(random, 4 * ActivationGradientNet.InputLength);
        int[] labels = [0, 1, 2, 1];
        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.02);
    }

    [Fact]
    public void TrainingFusesEveryActivationButSiluAndInferenceFusesSiluToo()
    {
        string training = Routine(ActivationGradientNet.Program, "training"), inference = Routine(ActivationGradientNet.Program, "inference");
        Assert.Contains("Features_0Shape +tanh", training);
        Assert.Contains("Features_9Shape +elu(1)", training);
        Assert.Contains("Features_13Shape\n", training); // the batch norm after it takes the tanh
        Assert.Contains("eps=1E-05 +tanh", training);
        Assert.Contains("Classifier_0Shape +leaky_relu(0.1)", training);
        Assert.Contains("eps=1E-05 +elu(0.5)", training);
        Assert.Contains("Classifier_7Shape +sigmoid", training);
        Assert.Contains("Classifier_10Shape +relu6", training);
        Assert.Contains("\n  sigmoid(%features.1.output) -> %features.2.output\n", training);
        Assert.Contains("\n  elu(%features.5.output) -> %features.6.output  alpha=1\n", training);
        Assert.Contains("\n  tanh(%features.7.output) -> %features.8.output\n", training);
        Assert.Contains("\n  relu6(%classifier.1.output) -> %classifier.2.output\n", training);
        Assert.Contains("\n  leaky_relu(%classifier.5.output) -> %classifier.6.output  negative_slope=0.2\n", training);
        Assert.Contains("\n  silu(%features.4.output) -> %features.5.output\n", training);
        Assert.Contains("\n  silu(%features.11.output) -> %features.12.output\n", training);
        Assert.Contains("\n  silu.backward(%features.11.output, %features.11.output.grad) -> %features.11.output.grad\n", training);
        Assert.DoesNotContain("+silu", training);

        // Inference keeps nothing for a backward: SiLU fuses after the batch norm (folded into the convolution before
        // it) and after the strided convolution, but not after the sigmoid, which is a call of its own.
        Assert.Contains("Features_3Shape +silu", inference);
        Assert.Contains("Features_11Shape +silu", inference);
        Assert.Equal(1, inference.Split("\n  silu(").Length - 1);
        Assert.Equal(3, Routine(ActivationGradientNet.Program, "inference_for_gradients").Split("\n  silu(").Length - 1);
    }

    [Fact]
    public void FusedAndFoldedInferenceMatchesTheUnfusedUnfoldedOne()
    {
        using var net = new ActivationGradientNet(batchSize: 4, seed: 4, threads: 2);
        var random = new Random(3);
        float[] images = GradientCheck.RandomImages(random, 4 * ActivationGradientNet.InputLength);
        int[] labels = [2, 0, 1, 1];
        var sgd = new Sgd(learningRate: 0.05f, momentum: 0.9f);
        for (int step = 0; step < 3; step++)
        {
            net.TrainStep(images, labels, sgd); // running statistics and weights away from their starting values
        }

        float[] fused = net.Forward(images).ToArray();
        float[] fusedGradient = net.InputGradient(images, labels).ToArray();
        net.FoldBatchNorm = false;
        float[] unfused = net.Forward(images).ToArray();
        float[] unfusedGradient = net.InputGradient(images, labels).ToArray();
        AssertClose(unfused, fused, "scores");
        AssertClose(unfusedGradient, fusedGradient, "input gradient");
    }

    [Fact]
    public void AKeptLayerBeforeASiluIsReadableAfterForward()
    {
        using var net = new KeptSiluNet(batchSize: 2, seed: 1, threads: 1);
        float[] images = GradientCheck.RandomImages(new Random(8), 2 * KeptSiluNet.InputLength);
        net.Forward(images);
        float[] conv = net.LayerOutput("features.0").ToArray(), silu = net.LayerOutput("features.1").ToArray();
        Assert.Contains(conv, v => v < 0);
        for (int i = 0; i < conv.Length; i++)
        {
            Assert.Equal(conv[i] / (1 + Math.Exp(-conv[i])), silu[i], 1e-6);
        }

        Assert.DoesNotContain("routine inference_for_gradients", KeptSiluNet.Program);
    }

    /// <summary>Folding and fusing reorder float operations only: within 1e-4 of the largest value.</summary>
    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        double scale = expected.Max(v => Math.Abs((double)v)), worst = expected.Zip(actual).Max(p => Math.Abs((double)p.First - p.Second));
        Assert.True(scale > 0, $"{what}: all zero, so the comparison would prove nothing");
        Assert.True(worst <= 1e-4 * scale, $"{what}: fused and folded differ by {worst:G3} (values up to {scale:G3})");
    }

    /// <summary>One routine of a printed program, from its header to the next.</summary>
    private static string Routine(string program, string name)
    {
        int start = program.IndexOf("routine " + name + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no routine {name}");
        int end = program.IndexOf("\nroutine ", start + 1, StringComparison.Ordinal);
        return program.Substring(start, (end < 0 ? program.Length : end + 1) - start);
    }
}
