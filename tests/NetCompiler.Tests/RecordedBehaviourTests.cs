using System;
using System.Globalization;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

// Copies of the samples' networks under their own names, so the record holds even if a sample changes.

[Network("1x28x28")]
[Conv(32, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Conv(64, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(128), Relu, Dropout(0.25f)]
[Dense(10)]
public partial class RecordedFashionNet;

// The CIFAR VGG blueprint shrunk from CONV 32 and FC 128 to CONV 8 and FC 32 for test time; the structure (batch
// norms, relus, three pools, the dense chain) is the same.
[Network("3x32x32", Blueprint = "[[CONV 8 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 32 -> RELU]*2 -> FC 10")]
public partial class RecordedCifarVgg;

[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Imex(Steps = 4, H = 1f)]
[ConvTranspose(QTips.Classes, 2, Stride = 2)]
public partial class RecordedQTipsImex;

[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Residual(Steps = 4, H = 1f, Symmetric = true)]
[ConvTranspose(QTips.Classes, 2, Stride = 2)]
public partial class RecordedQTipsResNet;

// The released IMEX form and a grouped (not depthwise) implicit solve, which the Q-tips networks do not use.
[Network("1x16x16", Loss = Loss.PixelCrossEntropy)]
[Conv(4, 3, Pad = 1), BatchNorm, Relu]
[Imex(Steps = 2, ReleasedVariant = true, Groups = 2)]
[Conv(3, 1)]
public partial class RecordedReleasedImex;

/// <summary>
/// Values recorded from the generator before its planning and emission stage was rewritten: with the same seed and
/// thread count, the same networks must train to the same losses and give the same scores and gradients.
/// </summary>
public sealed class RecordedBehaviourTests
{
    private const int Batch = 4;
    private const int Seed = 7;
    private const int Threads = 2;
    private const int Steps = 3;

    // An equivalent rewrite may still reorder float sums (other loop orders, fusions, thread splits, SIMD widths).
    // Measured when recording: one thread instead of two, which reorders the reductions, moved no checked value by
    // more than 1e-5 of its scale, nor did scaling the inputs by 1 + 1e-6; 1e-4 leaves room above that. A changed
    // operation (another initialisation, dropout mask, padding, step or update) moves them by far more.
    private const double Tolerance = 1e-4;

    [Fact]
    public void FashionNetTrainsAndScoresAsRecorded()
    {
        // The dropout masks enter the losses. By the third step this run diverges and is sure of images 0 and 2,
        // whose loss gradients are therefore nearly zero: the input gradient's entries 0 and 2 record that.
        using var net = new RecordedFashionNet(Batch, Seed, Threads);
        Behaviour actual = Observe(net, RecordedFashionNet.ClassCount, RecordedFashionNet.LabelsPerImage, new Sgd(learningRate: 0.05f, momentum: 0.9f));
        Check(new Behaviour(
            Losses: [2.80438423, 5.94853067, 404.910278],
            Scores: [41.2331314, -23.4973316, 41.2285538, -21.7970428, 42.047657, -22.5490227, 47.7704735, -26.8839264], ScoreSum: -236.999755, ScoreSumOfSquares: 117609.757,
            InputGradient: [-5.46506401E-43, -0.230707347, -5.88545355E-43, -0.0563363917], InputGradientSumOfSquares: 41.1758039,
            ScoreGradient: [0.0330049358, 0.0976932868, -0.00207766891, -0.0284944046], ScoreGradientSumOfSquares: 14.0110143), actual);
    }

    [Fact]
    public void FashionNetTrainsWithAdamAsRecorded()
    {
        // Losses only: the conv biases ahead of batch norms get gradients that are zero but for rounding, which Adam
        // scales up to full steps of about its learning rate. Training-mode outputs cancel them in the batch norm,
        // but the running means carry them into evaluation, so later scores would hold rounding noise, not behaviour.
        using var net = new RecordedFashionNet(Batch, Seed, Threads);
        Behaviour actual = Observe(net, RecordedFashionNet.ClassCount, RecordedFashionNet.LabelsPerImage, new Adam(1e-3f));
        CloseEach("loss", [2.80438423, 0.220612064, 0.477047771], actual.Losses, scale: null);
    }

    [Fact]
    public void CifarVggTrainsAndScoresAsRecorded()
    {
        using var net = new RecordedCifarVgg(Batch, Seed, Threads);
        Behaviour actual = Observe(net, RecordedCifarVgg.ClassCount, RecordedCifarVgg.LabelsPerImage, new Sgd(learningRate: 0.05f, momentum: 0.9f));
        Check(new Behaviour(
            Losses: [2.65718794, 1.08761287, 2.73298168],
            Scores: [11.4893131, -4.16705275, 8.22788429, -1.17699158, 12.1620598, -1.13635433, 9.48283482, -5.21559], ScoreSum: 60.7082028, ScoreSumOfSquares: 14163.9342,
            InputGradient: [6.96564998E-15, 0.00615165941, -1.94445709E-15, -0.00458222954], InputGradientSumOfSquares: 3.69904178,
            ScoreGradient: [-0.00379605102, -0.0209736601, -0.179349899, 0.00544051779], ScoreGradientSumOfSquares: 70.2260996), actual);
    }

    [Fact]
    public void QTipsImexTrainsAndScoresAsRecorded()
    {
        using var net = new RecordedQTipsImex(Batch, Seed, Threads);
        Behaviour actual = Observe(net, RecordedQTipsImex.ClassCount, RecordedQTipsImex.LabelsPerImage, new Sgd(learningRate: 0.05f, momentum: 0.9f));
        Check(new Behaviour(
            Losses: [2.88365412, 2.53430343, 2.09711432],
            Scores: [-0.529458284, 0.284362823, -1.7743032, -1.90983856, 1.42477608, 0.768759847, -0.166170001, 0.277081132], ScoreSum: -22120.0079, ScoreSumOfSquares: 277313.784,
            InputGradient: [0.000191474639, 5.02985931E-05, -0.000196557245, 0.000162971395], InputGradientSumOfSquares: 0.00433640923,
            ScoreGradient: [2.34153676, 2.58041978, 2.1032784, 2.83451223], ScoreGradientSumOfSquares: 418859.104), actual);
    }

    [Fact]
    public void QTipsResNetTrainsAndScoresAsRecorded()
    {
        using var net = new RecordedQTipsResNet(Batch, Seed, Threads);
        Behaviour actual = Observe(net, RecordedQTipsResNet.ClassCount, RecordedQTipsResNet.LabelsPerImage, new Sgd(learningRate: 0.05f, momentum: 0.9f));
        Check(new Behaviour(
            Losses: [3.10938525, 2.65835476, 2.2569983],
            Scores: [0.0616676696, 0.169585854, -0.451818228, -0.639724493, -0.740485549, -0.585390508, 0.186891183, 0.607533216], ScoreSum: -2868.59431, ScoreSumOfSquares: 329132.172,
            InputGradient: [-0.000106091516, -6.95598064E-05, 0.000202256575, -0.000145943428], InputGradientSumOfSquares: 0.00751531667,
            ScoreGradient: [2.04968143, 2.28489208, 1.57828283, 1.19495308], ScoreGradientSumOfSquares: 506721.399), actual);
    }

    [Fact]
    public void ReleasedGroupedImexTrainsAndScoresAsRecorded()
    {
        using var net = new RecordedReleasedImex(Batch, Seed, Threads);
        Behaviour actual = Observe(net, RecordedReleasedImex.ClassCount, RecordedReleasedImex.LabelsPerImage, new Sgd(learningRate: 0.05f, momentum: 0.9f));
        Check(new Behaviour(
            Losses: [1.172894, 1.16885149, 1.16177464],
            Scores: [0.334928393, -0.291800708, 0.136760905, -0.333302647, -0.803688943, -0.585825443, 0.728326082, 0.112503089], ScoreSum: -1797.44478, ScoreSumOfSquares: 4457.67377,
            InputGradient: [0.00186936068, -0.0023623968, 0.000999492942, 0.000287014002], InputGradientSumOfSquares: 0.0044668314,
            ScoreGradient: [-0.117671855, -0.0350394398, -3.07389855, -0.0245647356], ScoreGradientSumOfSquares: 14522.9489), actual);
    }

    /// <summary>
    /// What a network did: its training losses, then, after training, a spread of its evaluation-mode scores, of the
    /// loss's input gradient and of class 1's score gradient, each with sums that cover the entries not listed.
    /// </summary>
    private sealed record Behaviour(
        double[] Losses,
        double[] Scores, double ScoreSum, double ScoreSumOfSquares,
        double[] InputGradient, double InputGradientSumOfSquares,
        double[] ScoreGradient, double ScoreGradientSumOfSquares);

    private static Behaviour Observe(CompiledNetwork net, int classCount, int labelsPerImage, Optimizer optimizer)
    {
        // Fixed formulas rather than System.Random, whose sequence is not promised across runtime versions.
        float[] images = new float[Batch * (int)net.InputShape.Elements];
        for (int i = 0; i < images.Length; i++)
        {
            images[i] = (float)(Math.Sin((0.37 * i) + 0.11) * Math.Cos(0.013 * i));
        }

        int[] labels = new int[Batch * labelsPerImage];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = ((5 * i) + (i / 17)) % classCount;
        }

        double[] losses = new double[Steps];
        for (int step = 0; step < Steps; step++)
        {
            losses[step] = net.TrainStep(images, labels, optimizer);
        }

        float[] scores = net.Forward(images).ToArray();
        float[] inputGradient = net.InputGradient(images, labels).ToArray();
        float[] scoreGradient = net.ScoreGradient(images, classIndex: 1).ToArray();
        return new Behaviour(
            losses,
            Spread(scores, 8), scores.Sum(s => (double)s), SumOfSquares(scores),
            Spread(inputGradient, 4), SumOfSquares(inputGradient),
            Spread(scoreGradient, 4), SumOfSquares(scoreGradient));
    }

    /// <summary>The entries at the centres of <paramref name="count"/> equal parts: spread over the images, away from their corners.</summary>
    private static double[] Spread(float[] values, int count) =>
        Enumerable.Range(0, count).Select(k => (double)values[(int)((((2L * k) + 1) * values.Length) / (2 * count))]).ToArray();

    private static double SumOfSquares(float[] values) => values.Sum(v => (double)v * v);

    private static void Check(Behaviour expected, Behaviour actual)
    {
        // Losses and sums of squares are compared relative to themselves. An entry's rounding error is relative to
        // the size of the tensor it is in, not to its own size (which can be nearly zero), so entries are compared
        // relative to the largest recorded entry; a sum, which can cancel to near zero, relative to the root of the
        // sum of squares.
        CloseEach("loss", expected.Losses, actual.Losses, scale: null);
        CloseEach("score", expected.Scores, actual.Scores, scale: expected.Scores.Max(Math.Abs));
        Close("score sum", expected.ScoreSum, actual.ScoreSum, Math.Max(Math.Abs(expected.ScoreSum), Math.Sqrt(expected.ScoreSumOfSquares)));
        Close("score sum of squares", expected.ScoreSumOfSquares, actual.ScoreSumOfSquares, expected.ScoreSumOfSquares);
        CloseEach("input gradient", expected.InputGradient, actual.InputGradient, scale: expected.InputGradient.Max(Math.Abs));
        Close("input gradient sum of squares", expected.InputGradientSumOfSquares, actual.InputGradientSumOfSquares, expected.InputGradientSumOfSquares);
        CloseEach("score gradient", expected.ScoreGradient, actual.ScoreGradient, scale: expected.ScoreGradient.Max(Math.Abs));
        Close("score gradient sum of squares", expected.ScoreGradientSumOfSquares, actual.ScoreGradientSumOfSquares, expected.ScoreGradientSumOfSquares);
    }

    /// <param name="scale">What the error is relative to; null means each value itself.</param>
    private static void CloseEach(string what, double[] expected, double[] actual, double? scale)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Close($"{what} {i}", expected[i], actual[i], scale ?? Math.Abs(expected[i]));
        }
    }

    private static void Close(string what, double expected, double actual, double scale) =>
        Assert.True(
            Math.Abs(actual - expected) <= Tolerance * scale,
            $"The {what} is {actual.ToString("G9", CultureInfo.InvariantCulture)}; {expected.ToString("G9", CultureInfo.InvariantCulture)} was recorded.");
}
