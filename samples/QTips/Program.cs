using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using NetCompiler;

// Reproduces IMEXnet's Q-tips comparison (Haber et al., ICML 2019): an IMEX network and a ResNet of about equal
// parameter count, trained with the same budget on the same 1,024 images, scored on the 64 validation images.
// The default is CPU-sized (Networks.cs: 16 channels at 32x32, four steps); --full selects the paper's size.
// Options: --full, --epochs N, --batch N (16), --lr X (0.002), --seed N (1), --threads N (all).
bool full = args.Contains("--full");
int epochs = Option("--epochs", full ? 100 : 15);
int batchSize = Option("--batch", 16);
float learningRate = Option("--lr", 2e-3f);
int seed = Option("--seed", 1);
int threads = Option("--threads", 0);

(DataSet train, DataSet validation) = QTips.Create(seed);
float[] classWeights = EnetWeights(train);
Console.WriteLine($"Q-tips: {train.Count:N0} training and {validation.Count:N0} validation images of {train.ImageShape}, {QTips.Classes} classes "
    + $"({string.Join(", ", QTips.ClassNames)}).");
Console.WriteLine("class weights (ENet, 1 / ln(1.02 + frequency)): " + string.Join(", ", classWeights.Select(w => F(w, "F2"))));
Console.WriteLine(full ? "configuration: the paper's size (--full)" : "configuration: CPU-sized (16 channels at 32x32, 4 steps); --full for the paper's size");
Console.WriteLine();

Result imex, resNet;
if (full)
{
    Console.WriteLine(QTipsImexFull.Summary);
    imex = Train("IMEXnet", new QTipsImexFull(batchSize, seed, threads) { ClassWeights = classWeights }, QTipsImexFull.Summary.ParameterCount);
    resNet = Train("ResNet", new QTipsResNetFull(batchSize, seed, threads) { ClassWeights = classWeights }, QTipsResNetFull.Summary.ParameterCount);
}
else
{
    Console.WriteLine(QTipsImex.Summary);
    imex = Train("IMEXnet", new QTipsImex(batchSize, seed, threads) { ClassWeights = classWeights }, QTipsImex.Summary.ParameterCount);
    resNet = Train("ResNet", new QTipsResNet(batchSize, seed, threads) { ClassWeights = classWeights }, QTipsResNet.Summary.ParameterCount);
}

Console.WriteLine();
Console.WriteLine($"validation, after {epochs} epochs each (the paper, full size: IMEXnet IoU 0.926, ResNet 0.741)");
Console.WriteLine("network    parameters   mean IoU   loss     pixel accuracy   IoU per class (bg, w/w, w/b, b/b)   train time");
foreach (Result result in new[] { imex, resNet })
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{result.Name,-10} {result.Parameters,10:N0}   {result.MeanIoU,8:F3}   {result.Loss,6:F4}   {result.PixelAccuracy,14:F4}   "
        + $"{string.Join(" ", result.ClassIoU.Select(v => v.ToString("F3", CultureInfo.InvariantCulture))),-34}  {result.Time:mm\\:ss}"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"IMEXnet mean IoU - ResNet mean IoU = {imex.MeanIoU - resNet.MeanIoU:+0.000;-0.000}"));

Result Train(string name, CompiledNetwork net, long parameters)
{
    using (net)
    {
        var adam = new Adam(learningRate);
        MiniBatches batches = train.Batches(batchSize, shuffle: true, seed: seed);
        var images = new float[batchSize * train.ImageSize];
        var labels = new int[batchSize * train.LabelsPerSample];
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            // A tenth of the step size for the last fifth: the usual final gain of a step schedule.
            adam.LearningRate = epoch > epochs * 4 / 5 ? learningRate / 10 : learningRate;
            double lossSum = 0;
            int seen = 0;
            for (int n; (n = batches.Next(images, labels)) > 0;)
            {
                lossSum += net.TrainStep(images.AsSpan(0, n * train.ImageSize), labels.AsSpan(0, n * train.LabelsPerSample), adam) * n;
                seen += n;
            }

            if (epoch % 5 == 0 || epoch == epochs)
            {
                Result progress = Evaluate(name, net, parameters, clock.Elapsed);
                TimeSpan left = clock.Elapsed / epoch * (epochs - epoch);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-8} epoch {epoch,3}/{epochs}  training loss {lossSum / seen:F4}  validation mean IoU {progress.MeanIoU:F3}  time left {left:mm\\:ss}"));
            }
        }

        return Evaluate(name, net, parameters, clock.Elapsed);
    }
}

Result Evaluate(string name, CompiledNetwork net, long parameters, TimeSpan time)
{
    var metrics = new SegmentationMetrics(QTips.Classes);
    MiniBatches batches = validation.Batches(batchSize, shuffle: false);
    var images = new float[batchSize * validation.ImageSize];
    var labels = new int[batchSize * validation.LabelsPerSample];
    double lossSum = 0;
    for (int n; (n = batches.Next(images, labels)) > 0;)
    {
        ReadOnlySpan<float> scores = net.Forward(images.AsSpan(0, n * validation.ImageSize));
        metrics.Add(scores, labels.AsSpan(0, n * validation.LabelsPerSample), n);
        lossSum += PixelCrossEntropySum(scores, labels.AsSpan(0, n * validation.LabelsPerSample), QTips.Classes);
    }

    double[] classIoU = Enumerable.Range(0, QTips.Classes).Select(metrics.IoU).ToArray();
    return new Result(name, parameters, metrics.MeanIoU, lossSum / validation.Labels.Length, metrics.PixelAccuracy, classIoU, time);
}

// The unweighted mean cross-entropy of the paper's table, summed here over the batch's pixels (in double).
static double PixelCrossEntropySum(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, int classes)
{
    int plane = QTips.Size * QTips.Size;
    double sum = 0;
    for (int pixel = 0; pixel < labels.Length; pixel++)
    {
        int image = pixel / plane, offset = (image * classes * plane) + (pixel % plane);
        double max = double.NegativeInfinity;
        for (int c = 0; c < classes; c++)
        {
            max = Math.Max(max, scores[offset + (c * plane)]);
        }

        double total = 0;
        for (int c = 0; c < classes; c++)
        {
            total += Math.Exp(scores[offset + (c * plane)] - max);
        }

        sum += Math.Log(total) + max - scores[offset + (labels[pixel] * plane)];
    }

    return sum;
}

// The background covers ~95% of the pixels: without weights a network scores well by painting everything
// background. ENet's weighting (Paszke et al. 2016) evens the classes out without letting rare ones dominate.
static float[] EnetWeights(DataSet train)
{
    int[] counts = train.CountPerClass();
    double total = counts.Sum(c => (double)c);
    return counts.Select(c => (float)(1 / Math.Log(1.02 + (c / total)))).ToArray();
}

static string F(float value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

T Option<T>(string name, T fallback) where T : IParsable<T>
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? T.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record Result(string Name, long Parameters, double MeanIoU, double Loss, double PixelAccuracy, double[] ClassIoU, TimeSpan Time);
