using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace NetCompiler.Tests;

// torchvision.models.googlenet(aux_logits=False, transform_input=False, init_weights=False), written with the attributes
// and torchvision's names: BasicConv2d as conv (no bias) + BatchNorm(eps 0.001) + ReLU, its pools in ceil mode.
[Network("3x224x224")]
[Conv(64, 7, Stride = 2, Pad = 3, Bias = false, Name = "conv1.conv"), BatchNorm(Eps = 0.001f, Name = "conv1.bn"), Relu, MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool1")]
[Conv(64, 1, Bias = false, Name = "conv2.conv"), BatchNorm(Eps = 0.001f, Name = "conv2.bn"), Relu]
[Conv(192, 3, Pad = 1, Bias = false, Name = "conv3.conv"), BatchNorm(Eps = 0.001f, Name = "conv3.bn"), Relu, MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool2")]
[Inception(64, 96, 128, 16, 32, 32, Name = "inception3a"), Inception(128, 128, 192, 32, 96, 64, Name = "inception3b"), MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool3")]
[Inception(192, 96, 208, 16, 48, 64, Name = "inception4a"), Inception(160, 112, 224, 24, 64, 64, Name = "inception4b"), Inception(128, 128, 256, 24, 64, 64, Name = "inception4c")]
[Inception(112, 144, 288, 32, 64, 64, Name = "inception4d"), Inception(256, 160, 320, 32, 128, 128, Name = "inception4e"), MaxPool(2, Stride = 2, CeilMode = true, Name = "maxpool4")]
[Inception(256, 160, 320, 32, 128, 128, Name = "inception5a"), Inception(384, 192, 384, 48, 128, 128, Name = "inception5b")]
[GlobalAvgPool(Name = "avgpool"), Dropout(0.2f, Name = "dropout"), Dense(1000, Name = "fc")]
public partial class GoogLeNet;

// The narrow twin of Fixtures/make_googlenet_fixtures.py, built there from torchvision's own Inception and BasicConv2d.
[Network("3x32x32")]
[Conv(8, 7, Stride = 2, Pad = 3, Bias = false, Name = "conv1.conv"), BatchNorm(Eps = 0.001f, Name = "conv1.bn"), Relu, MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool1")]
[Conv(8, 1, Bias = false, Name = "conv2.conv"), BatchNorm(Eps = 0.001f, Name = "conv2.bn"), Relu]
[Conv(16, 3, Pad = 1, Bias = false, Name = "conv3.conv"), BatchNorm(Eps = 0.001f, Name = "conv3.bn"), Relu, MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool2")]
[Inception(4, 4, 8, 2, 4, 4, Name = "inception3a"), Inception(8, 6, 8, 2, 4, 4, Name = "inception3b"), MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool3")]
[Inception(8, 4, 8, 4, 4, 4, Name = "inception4a"), MaxPool(2, Stride = 2, CeilMode = true, Name = "maxpool4")]
[Inception(8, 4, 12, 2, 4, 8, Name = "inception5a")]
[GlobalAvgPool(Name = "avgpool"), Dense(10, Name = "fc")]
public partial class FixtureGoogLeNet;

[Network("3x32x32", Blueprint = """
    CONV 8 7x7 stride=2 pad=3 bias=false -> BN eps=0.001 -> RELU -> MAXPOOL 3 stride=2 ceil=true ->
    CONV 8 1x1 bias=false -> BN eps=0.001 -> RELU -> CONV 16 3x3 bias=false -> BN eps=0.001 -> RELU -> MAXPOOL 3 stride=2 ceil=true ->
    INCEPTION 4 4 8 2 4 4 -> INCEPTION 8 6 8 2 4 4 -> MAXPOOL 3 stride=2 ceil=true ->
    INCEPTION 8 4 8 4 4 4 -> MAXPOOL 2 stride=2 ceil=true -> INCEPTION 8 4 12 2 4 8 -> GAP -> FC 10
    """)]
public partial class FixtureGoogLeNetBlueprint;

// A tiny Inception network for finite differences, its output pooled in ceil mode (5x5 -> 3x3, the last windows clipped).
[Network("3x5x5")]
[Inception(2, 2, 3, 1, 2, 2), MaxPool(2, Stride = 2, CeilMode = true), Dense(3)]
public partial class GradientInceptionNet;

/// <summary>GoogLeNet's Inception module: counts, names, figures, torchvision's weights' scores and SGD step, finite differences.</summary>
public sealed class InceptionTests
{
    private const int BatchSize = 4;

    /// <summary>
    /// Relative to the largest reference score: the fixture is float64 rounded to float32, so this covers NetCompiler's
    /// float32 rounding through 20 convolutions and batch norms (folded for inference: another rounding order); a
    /// misplaced branch, running statistic or eps moves the scores by far more.
    /// </summary>
    private const double ScoreTolerance = 1e-4;

    [Fact]
    public void GoogLeNetParameterCountIsTorchvisions()
    {
        // sum(p.numel() for p in torchvision.models.googlenet(aux_logits=False, init_weights=False).parameters()).
        Assert.Equal(6_624_904, GoogLeNet.Summary.ParameterCount);
        Assert.Equal(6_624_904, TorchvisionKeys().GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void GoogLeNetStateDictKeysAreTorchvisionsInOrder()
    {
        using var net = new GoogLeNet(batchSize: 1, seed: 1, threads: 1);
        string[] expected = [.. TorchvisionKeys().GetProperty("keys").EnumerateArray().Select(k => k.GetString()!)];
        Assert.Equal(expected, ResNetTests.StateDictKeys(net));
    }

    [Fact]
    public void GoogLeNetFiguresAreExact()
    {
        NetworkSummary summary = GoogLeNet.Summary;
        // The stem's ceil-mode pools: 112 -> 56 and 56 -> 28 (floor mode: 55 and 27); maxpool4 14 -> 7.
        Assert.Equal(TensorShape.Image(64, 56, 56), Layer(summary, "maxpool1").Output);
        Assert.Equal(TensorShape.Image(192, 28, 28), Layer(summary, "maxpool2").Output);
        Assert.Equal(TensorShape.Image(480, 14, 14), Layer(summary, "maxpool3").Output);
        Assert.Equal(TensorShape.Image(832, 7, 7), Layer(summary, "maxpool4").Output);
        Assert.Equal(TensorShape.Image(1024, 7, 7), Layer(summary, "inception5b").Output);
        // inception3a at 28x28 from 192 channels: 1x1 to 64; 1x1 to 96, 3x3 to 128; 1x1 to 16, 3x3 to 32; pool, 1x1 to 32.
        LayerSummary inception3a = Layer(summary, "inception3a");
        Assert.Equal(TensorShape.Image(256, 28, 28), inception3a.Output);
        Assert.Equal(28L * 28 * ((192 * 64) + (192 * 96) + (96 * 128 * 9) + (192 * 16) + (16 * 32 * 9) + (192 * 32)), inception3a.MultiplyAccumulates);
        // Its trainable parameters as torchvision counts them: the convolutions and each batch norm's weight and bias.
        Assert.Equal((192 * 64) + (192 * 96) + (96 * 128 * 9) + (192 * 16) + (16 * 32 * 9) + (192 * 32) + (2 * (64 + 96 + 128 + 16 + 32 + 32)), inception3a.Parameters);
        Assert.Equal(256L * 28 * 28 * sizeof(float), inception3a.ActivationBytes);
        // 7 (conv1, jump 2) + 2 * 2 (maxpool1, jump 4) + 2 * 4 (conv3) + 2 * 4 (maxpool2, jump 8) = 27; the widest
        // branches add one 3x3 (pool then 1x1, or 1x1 then 3x3) at jump 8: 27 + 2 * 8.
        Assert.Equal(27, Layer(summary, "maxpool2").ReceptiveField);
        Assert.Equal(43, inception3a.ReceptiveField);
        // Every conv and the fc, counted by forward hooks on torchvision's googlenet at 224x224.
        Assert.Equal(1_498_376_192, summary.MultiplyAccumulates);
    }

    [Fact]
    public void BothNotationsGiveTheSameNetwork()
    {
        Assert.Equal(
            FixtureGoogLeNet.Summary.Layers.Select(l => (l.Output, l.Parameters, l.MultiplyAccumulates, l.ReceptiveField)),
            FixtureGoogLeNetBlueprint.Summary.Layers.Select(l => (l.Output, l.Parameters, l.MultiplyAccumulates, l.ReceptiveField)));
    }

    [Fact]
    public void TorchvisionWeightsGiveTorchvisionsEvalScores()
    {
        Dictionary<string, SafeTensor> io = SafeTensors.Read(TrainingFixtureTests.Fixture("googlenet_narrow.io.safetensors")).Tensors.ToDictionary(t => t.Name);
        float[] images = io["input"].ToFloat32Array(), expected = io["output"].ToFloat32Array();
        using var net = new FixtureGoogLeNet(BatchSize, seed: 1, threads: 2);
        net.Load(TrainingFixtureTests.Fixture("googlenet_narrow.safetensors"));
        foreach (bool folded in new[] { true, false })
        {
            net.FoldBatchNorm = folded;
            float[] scores = net.Forward(images).ToArray();
            double largest = expected.Max(Math.Abs), worst = scores.Zip(expected, (a, e) => Math.Abs((double)a - e)).Max();
            Assert.True(worst <= ScoreTolerance * largest, $"folded={folded}: max |difference| {worst:G3} > {ScoreTolerance * largest:G3}");
        }
    }

    [Fact]
    public void OneSgdStepFromTorchvisionWeightsGivesPyTorchsStep()
    {
        using var net = new FixtureGoogLeNet(BatchSize, seed: 1, threads: 2);
        net.Load(TrainingFixtureTests.Fixture("googlenet_narrow.safetensors"));
        Dictionary<string, SafeTensor> torch = SafeTensors.Read(TrainingFixtureTests.Fixture("googlenet_narrow.step.safetensors")).Tensors.ToDictionary(t => t.Name);
        Dictionary<string, float[]> before = net.Parameters.ToDictionary(p => p.Name, p => (float[])p.Value.Clone());
        int[] labels = Array.ConvertAll(torch["labels"].ToInt64Array(), label => (int)label);

        float loss = net.TrainStep(torch["input"].ToFloat32Array(), labels, new Sgd(learningRate: 0.1f));

        TrainingFixtureTests.AssertStepMatches(net, torch, before, loss);
    }

    /// <summary>
    /// As ResNetTests' BasicBlock tolerance, for the same reason: finite differences at h = 1e-3 through batch norms over
    /// a few dozen values with ReLUs after them (and max pools) are a few percent off the true gradient; a lost branch
    /// or a fan-out gradient not summed moves a tensor's gradient by far more.
    /// </summary>
    private const double GradientTolerance = 0.05;

    [Fact]
    public void InceptionGradientsMatchFiniteDifferences()
    {
        using var net = new GradientInceptionNet(batchSize: 4, seed: 5, threads: 1);
        var random = new Random(23);
        float[] images = GradientCheck.RandomImages(random, 4 * GradientInceptionNet.InputLength);
        int[] labels = [1, 0, 2, 1];
        GradientCheck.Parameters(net, images, labels, random, GradientTolerance);
        GradientCheck.Input(net, images, labels, random, GradientTolerance);
    }

    private static LayerSummary Layer(NetworkSummary summary, string name) => summary.Layers.Single(l => l.Name == name);

    private static JsonElement TorchvisionKeys() =>
        JsonDocument.Parse(File.ReadAllText(TrainingFixtureTests.Fixture("googlenet_keys.json"))).RootElement;
}
