using System;
using System.Globalization;
using System.Linq;
using NetCompiler;
using NetCompiler.Samples;

// Reproduces IMEXnet's Q-tips comparison (Haber et al., ICML 2019): an IMEX network and a ResNet of about equal
// parameter count, trained with the same budget on the same 1,024 images, scored on the 64 validation images.
// The default is CPU-sized (Networks.cs: 16 channels at 32x32, four steps); --full selects the paper's size.
// Options: --full, --epochs N, --batch N (16), --lr X (0.002), --seed N (1), --threads N (all).
// Writes each network's training curves (loss, validation mean IoU and pixel accuracy per epoch) to qtips-<name>-curves.png.
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
        var options = new FitOptions
        {
            Seed = seed,
            Schedule = new MultiStepSchedule(learningRate, [Math.Max(1, epochs * 4 / 5)], gamma: 0.1f), // a tenth for the last fifth
            Validation = validation,
        };
        TrainingHistory history = TrainingDisplay.Run(name, progress => net.Fit(train, epochs, new Adam(learningRate), options with { Progress = progress }));
        TrainingCurves.Write(history, $"qtips-{name.ToLowerInvariant()}-curves.png", $"{name} on Q-tips");
        EpochRecord last = history.Epochs[^1];
        return Evaluate(name, net, parameters, last.ValidationLoss, history.Epochs.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Time));
    }
}

// The per-class IoU of the final weights; the loss (the paper's unweighted mean cross-entropy) is Fit's last validation loss.
Result Evaluate(string name, CompiledNetwork net, long parameters, double loss, TimeSpan time)
{
    var metrics = new SegmentationMetrics(QTips.Classes);
    MiniBatches batches = validation.Batches(batchSize, shuffle: false);
    var images = new float[batchSize * validation.ImageSize];
    var labels = new int[batchSize * validation.LabelsPerSample];
    for (int n; (n = batches.Next(images, labels)) > 0;)
    {
        metrics.Add(net.Forward(images.AsSpan(0, n * validation.ImageSize)), labels.AsSpan(0, n * validation.LabelsPerSample), n);
    }

    double[] classIoU = Enumerable.Range(0, QTips.Classes).Select(metrics.IoU).ToArray();
    return new Result(name, parameters, metrics.MeanIoU, loss, metrics.PixelAccuracy, classIoU, time);
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
