using System;
using System.Globalization;
using System.Linq;
using NetCompiler;
using NetCompiler.Ilgpu;
using NetCompiler.Samples;

// Reproduces IMEXnet's Q-tips comparison (Haber et al., ICML 2019) as the three ways to widen the receptive field, at
// about equal parameter counts: a plain residual network (local steps), a U-Net (coarsening) and IMEXnet (implicit
// steps, global), trained with the same budget on the same 1,024 images, scored on the 64 validation images.
// The default is CPU-sized (Networks.cs: about 10k parameters each); --full selects the paper's size (about 2.7M).
// Stability, IMEXnet's other claim, is measured on the validation images after training: the mean gain
// ||f(x + d) - f(x)|| / ||d|| of the scores for random d of 1% of the image's norm, and the mean IoU after FGSM.
// Options: --full, --epochs N, --batch N (16), --lr X (0.002), --seed N (1), --threads N (all),
// --device cpu|cuda|opencl|simulator|best (cpu): where the networks train (README: GPUs); --full is meant for a GPU.
// Writes each network's training curves (loss, validation mean IoU and pixel accuracy per epoch) to qtips-<name>-curves.png.
bool full = args.Contains("--full");
int epochs = Option("--epochs", full ? 100 : 15);
int batchSize = Option("--batch", 16);
float learningRate = Option("--lr", 2e-3f);
int seed = Option("--seed", 1);
int threads = Option("--threads", 0);
using IlgpuDevice? device = Option("--device", "cpu") is "cpu" ? null : IlgpuDevice.Create(Option("--device", "cpu"));

(DataSet train, DataSet validation) = QTips.Create(seed);
float[] classWeights = EnetWeights(train);
Console.WriteLine($"Q-tips: {train.Count:N0} training and {validation.Count:N0} validation images of {train.ImageShape}, {QTips.Classes} classes "
    + $"({string.Join(", ", QTips.ClassNames)}).");
Console.WriteLine("class weights (ENet, 1 / ln(1.02 + frequency)): " + string.Join(", ", classWeights.Select(w => F(w, "F2"))));
Console.WriteLine(device is null ? "device: the CPU" : "device: " + device.Description);
Console.WriteLine(full ? "configuration: the paper's size (--full), about 2.7M parameters each" : "configuration: CPU-sized, about 10k parameters each; --full for the paper's size");
Console.WriteLine();

// The attack's step in the normalised input scale (0.05 * 64 = 3.2 grey levels), clipped to what a pixel in 0..255
// normalises to, (v - 128) / 64.
const float FgsmEpsilon = 0.05f, PixelMin = -128f / 64, PixelMax = 127f / 64;
const float PerturbationSize = 1e-2f;   // ||d|| / ||x|| of the random perturbations
const int PerturbationDraws = 4;        // per validation image

(NetworkSummary ResNet, NetworkSummary UNet, NetworkSummary Imex) summaries = full
    ? (QTipsResNetFull.Summary, QTipsUNetFull.Summary, QTipsImexFull.Summary)
    : (QTipsResNet.Summary, QTipsUNet.Summary, QTipsImex.Summary);
Console.WriteLine(summaries.Imex);
Console.WriteLine("three ways to widen the receptive field (of the scores, in input pixels):");
PrintWay("ResNet", summaries.ResNet, "local steps: each 3x3 conv adds 2 pixels at its resolution");
PrintWay("UNet", summaries.UNet, "coarsening: a 3x3 conv at 1/8 resolution spans 24 input pixels");
PrintWay("IMEXnet", summaries.Imex, "implicit steps: the solve couples every pixel");
Console.WriteLine();

Result imex, resNet, uNet;
if (full)
{
    imex = Train("IMEXnet", Weighted(device is null ? new QTipsImexFull(batchSize, seed, threads) : new QTipsImexFull(batchSize, seed, device),
        n => n.ClassWeights = classWeights), summaries.Imex.ParameterCount);
    resNet = Train("ResNet", Weighted(device is null ? new QTipsResNetFull(batchSize, seed, threads) : new QTipsResNetFull(batchSize, seed, device),
        n => n.ClassWeights = classWeights), summaries.ResNet.ParameterCount);
    uNet = Train("UNet", Weighted(device is null ? new QTipsUNetFull(batchSize, seed, threads) : new QTipsUNetFull(batchSize, seed, device),
        n => n.ClassWeights = classWeights), summaries.UNet.ParameterCount);
}
else
{
    imex = Train("IMEXnet", Weighted(device is null ? new QTipsImex(batchSize, seed, threads) : new QTipsImex(batchSize, seed, device),
        n => n.ClassWeights = classWeights), summaries.Imex.ParameterCount);
    resNet = Train("ResNet", Weighted(device is null ? new QTipsResNet(batchSize, seed, threads) : new QTipsResNet(batchSize, seed, device),
        n => n.ClassWeights = classWeights), summaries.ResNet.ParameterCount);
    uNet = Train("UNet", Weighted(device is null ? new QTipsUNet(batchSize, seed, threads) : new QTipsUNet(batchSize, seed, device),
        n => n.ClassWeights = classWeights), summaries.UNet.ParameterCount);
}

Console.WriteLine();
Console.WriteLine($"validation, after {epochs} epochs each (the paper, full size: IMEXnet IoU 0.926, ResNet 0.741)");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"stability: gain = mean ||f(x + d) - f(x)|| / ||d|| of the scores, {PerturbationDraws} random d of {PerturbationSize:0.##%} of ||x|| per image; "
    + $"FGSM at eps {FgsmEpsilon} (normalised scale): mean IoU after the attack and its drop"));
Console.WriteLine("network    parameters   mean IoU   loss     pixel accuracy   IoU per class (bg, w/w, w/b, b/b)   train time   gain    FGSM IoU   IoU drop");
foreach (Result result in new[] { imex, resNet, uNet })
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{result.Name,-10} {result.Parameters,10:N0}   {result.MeanIoU,8:F3}   {result.Loss,6:F4}   {result.PixelAccuracy,14:F4}   "
        + $"{string.Join(" ", result.ClassIoU.Select(v => v.ToString("F3", CultureInfo.InvariantCulture))),-34}  {result.Time:mm\\:ss}     "
        + $"{result.Gain,7:F2}    {result.FgsmMeanIoU,8:F3}   {result.MeanIoU - result.FgsmMeanIoU,8:F3}"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"IMEXnet mean IoU - ResNet mean IoU = {imex.MeanIoU - resNet.MeanIoU:+0.000;-0.000}"));

// The ENet class weights on a network, whichever constructor (CPU or device) made it.
static T Weighted<T>(T net, Action<T> setWeights)
{
    setWeights(net);
    return net;
}

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
        // The loss (the paper's unweighted mean cross-entropy) is Fit's last validation loss.
        EpochRecord last = history.Epochs[^1];
        SegmentationMetrics clean = Score(net, validation);
        double gain = Stability.Amplification(net, validation.Images, PerturbationSize, PerturbationDraws, (ulong)seed);
        SegmentationMetrics attacked = Score(net, Stability.Fgsm(net, validation, FgsmEpsilon, PixelMin, PixelMax));
        return new Result(
            name, parameters, clean.MeanIoU, last.ValidationLoss, clean.PixelAccuracy, Enumerable.Range(0, QTips.Classes).Select(clean.IoU).ToArray(),
            history.Epochs.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Time), gain, attacked.MeanIoU);
    }
}

// The segmentation metrics of the final weights on a set, the validation images as they are or attacked.
SegmentationMetrics Score(CompiledNetwork net, DataSet data)
{
    var metrics = new SegmentationMetrics(QTips.Classes);
    MiniBatches batches = data.Batches(batchSize, shuffle: false);
    var images = new float[batchSize * data.ImageSize];
    var labels = new int[batchSize * data.LabelsPerSample];
    for (int n; (n = batches.Next(images, labels)) > 0;)
    {
        metrics.Add(net.Forward(images.AsSpan(0, n * data.ImageSize)), labels.AsSpan(0, n * data.LabelsPerSample), n);
    }

    return metrics;
}

static void PrintWay(string name, NetworkSummary summary, string how) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {name,-8} {summary.ParameterCount,10:N0} parameters   receptive field {summary.Layers[^1].ReceptiveField?.ToString(CultureInfo.InvariantCulture) ?? "global",6}   {how}"));

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

/// <param name="Gain">Stability.Amplification on the validation images.</param>
/// <param name="FgsmMeanIoU">The mean IoU on the validation images after FGSM.</param>
internal sealed record Result(
    string Name, long Parameters, double MeanIoU, double Loss, double PixelAccuracy, double[] ClassIoU, TimeSpan Time, double Gain, double FgsmMeanIoU);
