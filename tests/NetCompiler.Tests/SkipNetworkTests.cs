using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler.Kernels;

namespace NetCompiler.Tests;

// The PyTorch twin is UNet in Fixtures/make_skip_fixtures.py: two levels down, a bilinear upsample joined to enc2 by
// addition and a nearest one joined to enc1 by concatenation, per-pixel scores. The convolutions before a batch norm
// have no bias (the norm cancels it, so its gradient is rounding noise in both).
[Network("1x32x32", Loss = Loss.PixelCrossEntropy)]
[Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc1")]
[MaxPool(2), Conv(12, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc2")]
[MaxPool(2), Conv(12, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2, Mode = UpsampleMode.Bilinear), Add("enc2")]
[Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Upsample(2), Concat("enc1"), Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu]
[Conv(3, 1)]
public partial class FixtureUNet;

// The same network in the blueprint notation.
[Network("1x32x32", Loss = Loss.PixelCrossEntropy, Blueprint =
    "CONV 8 3 bias=false -> BN -> RELU -> SAVE enc1 -> POOL 2 -> CONV 12 3 bias=false -> BN -> RELU -> SAVE enc2 -> POOL 2"
    + " -> CONV 12 3 bias=false -> BN -> RELU -> UPSAMPLE 2 mode=bilinear -> ADD enc2 -> CONV 8 3 bias=false -> BN -> RELU"
    + " -> UPSAMPLE 2 -> CONCAT enc1 -> CONV 8 3 bias=false -> BN -> RELU -> CONV 3 1")]
public partial class BlueprintUNet;

// A skip saved straight from the images and joined twice (three-way fan-out of the input of the first conv), so the
// gradient sums of a saved tensor with several uses are checked too.
[Network("2x8x8", Loss = Loss.PixelCrossEntropy)]
[Save("images"), Conv(3, 3, Pad = 1), Relu, Concat("images"), Save("joined")]
[Upsample(3, Mode = UpsampleMode.Bilinear), AvgPool(3), Add("joined"), Concat("images")]
[Conv(3, 1)]
public partial class FanOutSkipNet;

/// <summary>Upsample and the named skips: against F.interpolate and a PyTorch U-Net, and by finite differences.</summary>
public sealed class SkipNetworkTests
{
    private const int BatchSize = 4;

    /// <summary>
    /// Relative to each tensor's largest reference value, as TrainingFixtureTests: the fixtures are float64 results
    /// rounded to float32, so this covers NetCompiler's own float32 rounding (sums of a few hundred terms and batch
    /// norm's cancellations, ~1e-6); a swapped channel block, a missing skip gradient or a shifted pixel is far larger.
    /// </summary>
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("nearest", 2)]
    [InlineData("nearest", 3)]
    [InlineData("bilinear", 2)]
    [InlineData("bilinear", 3)]
    public void UpsampleKernelsMatchInterpolate(string mode, int scale)
    {
        Dictionary<string, SafeTensor> torch = SafeTensors.Read(TrainingFixtureTests.Fixture("upsample.safetensors")).Tensors.ToDictionary(t => t.Name);
        float[] x = torch["x"].ToFloat32Array(), weights = torch[$"w.{mode}.{scale}"].ToFloat32Array();
        var y = new float[x.Length * scale * scale];
        var dx = new float[x.Length];
        using var context = new KernelContext(2);
        bool bilinear = mode == "bilinear";
        if (scale == 2)
        {
            Run<Interpolate2>(context, bilinear, x, weights, y, dx);
        }
        else
        {
            Run<Interpolate3>(context, bilinear, x, weights, y, dx);
        }

        // Each output is a sum of at most 4 weighted inputs, each input gradient of at most 36 terms: float32 rounding only.
        AssertClose(torch[$"y.{mode}.{scale}"].ToFloat32Array(), y, 1e-6, "y");
        AssertClose(torch[$"dx.{mode}.{scale}"].ToFloat32Array(), dx, 1e-5, "dx");
    }

    private static void Run<S>(KernelContext context, bool bilinear, float[] x, float[] weights, float[] y, float[] dx)
        where S : struct, IUpsampleShape
    {
        const int n = 2;
        if (bilinear)
        {
            Upsample2d.BilinearForward<S>(context, x, y, n);
            Upsample2d.BilinearBackward<S>(context, weights, dx, n);
        }
        else
        {
            Upsample2d.NearestForward<S>(context, x, y, n);
            Upsample2d.NearestBackward<S>(context, weights, dx, n);
        }
    }

    [Fact]
    public void TheUNetMatchesItsPyTorchTwinInEvaluationAndInOneSgdStep()
    {
        using var net = new FixtureUNet(BatchSize, seed: 1, threads: 2);
        net.Load(TrainingFixtureTests.Fixture("unet.safetensors"));
        Dictionary<string, SafeTensor> torch = SafeTensors.Read(TrainingFixtureTests.Fixture("unet.step.safetensors")).Tensors.ToDictionary(t => t.Name);
        float[] images = torch["input"].ToFloat32Array();
        AssertClose(torch["eval_scores"].ToFloat32Array(), net.Forward(images).ToArray(), Tolerance, "evaluation scores");

        Dictionary<string, float[]> before = net.Parameters.ToDictionary(p => p.Name, p => (float[])p.Value.Clone());
        int[] labels = Array.ConvertAll(torch["labels"].ToInt64Array(), label => (int)label);
        float loss = net.TrainStep(images, labels, new Sgd(learningRate: 0.1f));
        TrainingFixtureTests.AssertStepMatches(net, torch, before, loss);
    }

    [Fact]
    public void TheBlueprintUNetIsTheAttributeOne()
    {
        Assert.Equal(
            FixtureUNet.Summary.Layers.Select(l => (l.Name, l.Kind, l.Output, l.Parameters, l.MultiplyAccumulates, l.ActivationBytes, l.ReceptiveField)),
            BlueprintUNet.Summary.Layers.Select(l => (l.Name, l.Kind, l.Output, l.Parameters, l.MultiplyAccumulates, l.ActivationBytes, l.ReceptiveField)));
    }

    [Fact]
    public void TheUNetGradientsMatchFiniteDifferences()
    {
        using var net = new FixtureUNet(batchSize: 2, seed: 3, threads: 1);
        var random = new Random(12);
        float[] images = Enumerable.Range(0, 2 * FixtureUNet.InputLength).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        int[] labels = Enumerable.Range(0, 2 * FixtureUNet.LabelsPerImage).Select(_ => random.Next(3)).ToArray();
        // GradientCheck's tolerance for networks with ReLU and max-pool kinks (see GradientCheck's summary). The input
        // gradients are ~1e-3 (the loss is a mean over 2048 pixels) while the float32 loss moves in steps that the
        // central difference turns into 6e-5: measured 3% over the 30 samples, so 0.05 for them; a lost skip or a
        // misplaced upsampling tap moves them by far more.
        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.05);
    }

    [Fact]
    public void ASkipWithSeveralUsesSumsItsGradients()
    {
        using var net = new FanOutSkipNet(batchSize: 2, seed: 4, threads: 1);
        var random = new Random(13);
        float[] images = Enumerable.Range(0, 2 * FanOutSkipNet.InputLength).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        int[] labels = Enumerable.Range(0, 2 * FanOutSkipNet.LabelsPerImage).Select(_ => random.Next(3)).ToArray();
        GradientCheck.Parameters(net, images, labels, random, tolerance: 0.02);
        GradientCheck.Input(net, images, labels, random, tolerance: 0.02);
    }

    [Fact]
    public void TheSummaryCountsTheJoins()
    {
        LayerSummary[] layers = [.. FixtureUNet.Summary.Layers];
        LayerSummary save = layers.Single(l => l.Name == "features.3"), concat = layers.Single(l => l.Name == "features.19");
        LayerSummary add = layers.Single(l => l.Name == "features.14"), upsample = layers.Single(l => l.Name == "features.13");
        Assert.Equal(TensorShape.Image(8, 32, 32), save.Output);
        Assert.Equal(0, save.ActivationBytes); // a Save keeps its input under a name: no new tensor
        Assert.Equal(TensorShape.Image(16, 32, 32), concat.Output);
        Assert.Equal(16L * 32 * 32 * sizeof(float), concat.ActivationBytes);
        Assert.Equal(TensorShape.Image(12, 16, 16), add.Output);
        Assert.Equal(TensorShape.Image(12, 16, 16), upsample.Output);
        Assert.All(new[] { save, concat, add, upsample }, l => Assert.Equal((0L, 0L), (l.Parameters, l.MultiplyAccumulates)));

        // By hand: the deep path sees 18 pixels before the bilinear upsample (two input pixels per axis at a jump of 4:
        // 22), enc2 only 8, so the Add sees 22; 26 after the next conv (jump 2); the nearest upsample keeps 26; enc1 sees
        // 3, so the Concat sees 26 and the last 3x3 conv 28.
        Assert.Equal(22, add.ReceptiveField);
        Assert.Equal(26, concat.ReceptiveField);
        Assert.Equal(28, layers[^1].ReceptiveField);
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double largest = expected.Max(Math.Abs);
        Assert.True(largest > 0, what + ": the reference is all zero, so the comparison would prove nothing");
        int worst = Enumerable.Range(0, expected.Length).MaxBy(i => Math.Abs((double)actual[i] - expected[i]));
        double difference = Math.Abs((double)actual[worst] - expected[worst]);
        Assert.True(difference <= tolerance * largest, $"{what}: [{worst}] is {actual[worst]}, expected {expected[worst]} (max |expected| {largest:G3})");
    }

    private readonly struct Interpolate2 : IUpsampleShape
    {
        public static int Channels => 3;
        public static int InHeight => 5;
        public static int InWidth => 4;
        public static int Scale => 2;
    }

    private readonly struct Interpolate3 : IUpsampleShape
    {
        public static int Channels => 3;
        public static int InHeight => 5;
        public static int InWidth => 4;
        public static int Scale => 3;
    }
}
