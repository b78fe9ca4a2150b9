using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using NetCompiler;
using NetCompiler.Samples;
using static System.FormattableString;

// Explains the trained Fashion-MNIST network's decisions on one test image per class and writes the pictures as
// PNG files: saliency (Simonyan et al.), Grad-CAM (Selvaraju et al.), occlusion (Zeiler and Fergus), an FGSM
// adversarial example (Goodfellow et al.) and the first layer's filters.
// Options: --checkpoint PATH (default fashion.safetensors, where the FashionMnist sample saves; when that default is
// missing the network trains for --epochs and is saved there), --out DIR (explain), --epsilon X (FGSM step in pixel
// units, 0.1 of the black-to-white range), --scale N (pixels per input pixel, 8), --epochs N (2), --seed N (1),
// --threads N (all).
string checkpoint = Option("--checkpoint", "fashion.safetensors");
string outputDirectory = Option("--out", "explain");
float epsilonPixels = Option("--epsilon", 0.1f);
int scale = Option("--scale", 8);
int epochs = Option("--epochs", 2);
int seed = Option("--seed", 1);
int threads = Option("--threads", 0);
var clock = Stopwatch.StartNew();

(DataSet train, DataSet test) = FashionMnist.Load();
using var net = new FashionNet(batchSize: 64, seed, threads);
if (File.Exists(checkpoint))
{
    net.Load(checkpoint);
    Console.WriteLine($"Loaded {checkpoint}.");
}
else if (args.Contains("--checkpoint"))
{
    throw new FileNotFoundException($"The checkpoint '{checkpoint}' does not exist.", checkpoint);
}
else
{
    var training = Stopwatch.StartNew();
    Train(net, train, epochs, seed);
    net.Save(checkpoint);
    Console.WriteLine(Invariant($"No checkpoint at {checkpoint}: trained {epochs} epochs in {training.Elapsed.TotalSeconds:F1} s and saved it there."));
}

Console.WriteLine(Invariant($"Test accuracy {Accuracy(net, test, test.Count):F4}."));

// The data are standardised, (pixel - mean) / std: black and white pixels map to these values.
const float black = -FashionMnist.Mean / FashionMnist.StandardDeviation;
const float white = (1 - FashionMnist.Mean) / FashionMnist.StandardDeviation;
float epsilon = epsilonPixels / FashionMnist.StandardDeviation;
int side = FashionNet.InputWidth;
LayerSummary camLayer = FashionNet.Summary.Layers.Last(layer => !layer.Output.IsFlat);
int[] picks = Enumerable.Range(0, FashionNet.ClassCount).Select(label => IndexOfFirst(test, label)).ToArray();

var originals = new List<RasterImage>();
var saliencies = new List<float[]>();
var gradCams = new List<float[]>();
var occlusions = new List<float[]>();
var perturbations = new List<RasterImage>();
var adversarials = new List<RasterImage>();
Console.WriteLine();
Console.WriteLine(Invariant($"{"Test image",-18} {"prediction (p)",-22} {$"after FGSM, eps {epsilonPixels:F2}",-22} true class score"));
foreach (int index in picks)
{
    float[] image = test.Image(index).ToArray();
    int label = test.LabelsOf(index)[0];
    float[] before = net.Forward(image).ToArray();
    saliencies.Add(Explanations.Saliency(net, image, label));
    gradCams.Add(Explanations.GradCam(net, image, label, camLayer));

    // A black square: on Fashion-MNIST's black background it hides part of the garment without drawing a new edge.
    occlusions.Add(Explanations.Occlusion(net, image, label, patch: 6, stride: 2, fill: black));
    float[] adversarial = Explanations.Fgsm(net, image, label, epsilon, black, white);
    float[] after = net.Forward(adversarial).ToArray();

    originals.Add(Picture(image));
    perturbations.Add(RasterImage.Diverging(adversarial.Select((value, i) => value - image[i]).ToArray(), side, side, epsilon).Upscale(scale));
    adversarials.Add(Picture(adversarial));
    Console.WriteLine(Invariant(
        $"{$"#{index} {FashionMnist.ClassNames[label]}",-18} {Describe(before),-22} {Describe(after),-22} {before[label],6:F2} -> {after[label],6:F2}"));
}

int zeroCams = gradCams.Count(map => map.Max() == 0);
if (zeroCams > 0)
{
    Console.WriteLine($"Grad-CAM at {camLayer.Name} is zero for {zeroCams} of the {picks.Length} images: no location there has net positive evidence for the class.");
}

(int fooled, int stillCorrect) = FgsmOnTestImages(net, test, count: 1000, epsilon, black, white);
Console.WriteLine(Invariant(
    $"FGSM, eps {epsilonPixels:F2}, on the first 1000 test images: {stillCorrect} of the {fooled + stillCorrect} correctly classified stay correct, {fooled} change class."));

Directory.CreateDirectory(outputDirectory);
Console.WriteLine();
Write("saliency.png", MapFigure(saliencies, heat: true), "rows: image, |d score / d pixel| (Simonyan et al.), overlay; one column per class");
Write("gradcam.png", MapFigure(gradCams, heat: true), $"rows: image, Grad-CAM at {camLayer.Name} ({camLayer.Output}) resized to {side}x{side}, overlay");
Write("occlusion.png", MapFigure(occlusions, heat: false), "rows: image, class score drop under a 6x6 black square (red: the region supports the class), overlay");
Write("fgsm.png", RasterImage.Grid([.. originals, .. perturbations, .. adversarials], columns: picks.Length),
    "rows: image, perturbation eps * sign(d loss / d x) (red +, blue -), adversarial image");
Write("filters.png", FilterFigure(net.Parameters[0]), $"{net.Parameters[0]}, blue negative, red positive, one scale");
Console.WriteLine(Invariant($"Done in {clock.Elapsed.TotalSeconds:F1} s."));

// Image, map and overlay rows, one column per picked image. Saliency and Grad-CAM are non-negative: a heat map;
// occlusion drops are signed: a diverging map centred on zero.
RasterImage MapFigure(List<float[]> maps, bool heat)
{
    List<RasterImage> pictures = maps.Select(map => (heat ? RasterImage.Heat(map, side, side) : RasterImage.Diverging(map, side, side)).Upscale(scale)).ToList();
    List<RasterImage> overlays = pictures.Select((picture, i) => originals[i].Overlay(picture, opacity: 0.5f)).ToList();
    return RasterImage.Grid([.. originals, .. pictures, .. overlays], columns: maps.Count);
}

RasterImage Picture(ReadOnlySpan<float> image) => RasterImage.Grayscale(image, side, side, black, white).Upscale(scale);

void Write(string name, RasterImage figure, string contents)
{
    string path = Path.Combine(outputDirectory, name);
    figure.Save(path);
    Console.WriteLine(Invariant($"{path,-24} {figure.Width}x{figure.Height}  {contents}"));
}

// One tile per output channel on a shared scale, so the filters' strengths compare.
static RasterImage FilterFigure(Parameter weights)
{
    int outChannels = weights.Shape[0], height = weights.Shape[2], width = weights.Shape[3];
    int tile = weights.Length / outChannels;
    if (tile != height * width)
    {
        throw new InvalidOperationException($"{weights} has {tile / (height * width)} input channels; this figure draws grey-scale filters only.");
    }

    float limit = weights.Value.Max(Math.Abs);
    List<RasterImage> filters = Enumerable.Range(0, outChannels)
        .Select(k => RasterImage.Diverging(weights.Value.AsSpan(k * tile, tile), width, height, limit).Upscale(16))
        .ToList();
    return RasterImage.Grid(filters, columns: 8, margin: 4);
}

// Adam at 1e-3 on shuffled mini-batches of 64, as the FashionMnist sample trains (without its augmentation: a short run).
static void Train(FashionNet net, DataSet train, int epochs, int seed) =>
    TrainingDisplay.Run("FashionNet", progress => net.Fit(train, epochs, new Adam(1e-3f), new FitOptions { Seed = seed, Progress = progress }));

static double Accuracy(FashionNet net, DataSet data, int count)
{
    int correct = 0;
    for (int first = 0; first < count; first += net.BatchSize)
    {
        int n = Math.Min(net.BatchSize, count - first);
        ReadOnlySpan<float> scores = net.Forward(data.Images.Slice(first * data.ImageSize, n * data.ImageSize));
        for (int i = 0; i < n; i++)
        {
            correct += ArgMax(scores.Slice(i * FashionNet.ClassCount, FashionNet.ClassCount)) == data.LabelsOf(first + i)[0] ? 1 : 0;
        }
    }

    return (double)correct / count;
}

// Of the first images the network classifies correctly, how many FGSM moves to another class; a batch at a time.
static (int Fooled, int StillCorrect) FgsmOnTestImages(FashionNet net, DataSet data, int count, float epsilon, float min, float max)
{
    int fooled = 0, stillCorrect = 0;
    for (int first = 0; first < count; first += net.BatchSize)
    {
        int n = Math.Min(net.BatchSize, count - first);
        ReadOnlySpan<float> images = data.Images.Slice(first * data.ImageSize, n * data.ImageSize);
        ReadOnlySpan<int> labels = data.Labels.Slice(first, n);
        float[] before = net.Forward(images).ToArray();
        float[] adversarial = Explanations.Fgsm(net, images, labels, epsilon, min, max);
        ReadOnlySpan<float> after = net.Forward(adversarial);
        for (int i = 0; i < n; i++)
        {
            if (ArgMax(before.AsSpan(i * FashionNet.ClassCount, FashionNet.ClassCount)) == labels[i])
            {
                bool correct = ArgMax(after.Slice(i * FashionNet.ClassCount, FashionNet.ClassCount)) == labels[i];
                stillCorrect += correct ? 1 : 0;
                fooled += correct ? 0 : 1;
            }
        }
    }

    return (fooled, stillCorrect);
}

static string Describe(float[] scores)
{
    int best = ArgMax(scores);

    // Softmax probability of the best class, shifted by its score for stability.
    double sum = scores.Sum(score => Math.Exp(score - scores[best]));
    return Invariant($"{FashionMnist.ClassNames[best]} ({1 / sum:F2})");
}

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        best = values[i] > values[best] ? i : best;
    }

    return best;
}

static int IndexOfFirst(DataSet data, int label)
{
    for (int i = 0; i < data.Count; i++)
    {
        if (data.LabelsOf(i)[0] == label)
        {
            return i;
        }
    }

    throw new InvalidDataException($"The test set has no image of class {label} ({FashionMnist.ClassNames[label]}).");
}

T Option<T>(string name, T fallback) where T : IParsable<T>
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? T.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}
