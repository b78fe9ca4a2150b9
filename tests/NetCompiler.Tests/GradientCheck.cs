using System;
using System.Collections.Generic;
using System.Linq;

namespace NetCompiler.Tests;

/// <summary>
/// Finite-difference checks of a compiled network's gradients. The networks are float32, so differences use
/// h = 1e-3 and the comparison is on a sampled vector (relative error, tolerance given by the caller): rounding in the
/// loss (~1e-7 * loss / h) and the odd ReLU or max-pool kink crossed by a step stay well below a few percent; a wrong
/// gradient does not. Parameter gradients are compared tensor by tensor, so a wrong bias or implicit-weight gradient
/// cannot hide under a large weight gradient.
/// </summary>
internal static class GradientCheck
{
    /// <summary>An optimiser that leaves the weights alone, so a training step only computes loss and gradients.</summary>
    public sealed class Frozen() : Optimizer(1f)
    {
        protected override void Update(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep)
        {
        }
    }

    /// <summary>
    /// The finite-difference noise per sample, in loss units per weight unit: the float32 loss (about 1) moves by a few
    /// 1e-7 with the forward's rounding, which the central difference divides by 2h = 2e-3; measured 2e-5 to 4e-5 per
    /// sample. A tensor whose true gradient is ~0 (a bias right before a batch norm) has only this noise to compare, so
    /// each tensor passes within tolerance * |numeric| + NoiseFloor * sqrt(samples); a wrong gradient below the floor
    /// is below what float32 finite differences can resolve.
    /// </summary>
    private const double NoiseFloor = 1e-4;

    /// <summary>
    /// Compares sampled parameter gradients of a training step with central differences of its loss, each tensor's
    /// samples as a vector of their own; fails naming every tensor that is off.
    /// </summary>
    public static void Parameters(CompiledNetwork net, float[] images, int[] labels, Random random, double tolerance, int samplesPerTensor = 6) =>
        Parameters(net, optimizer => net.TrainStep(images, labels, optimizer), random, tolerance, samplesPerTensor);

    /// <summary>The same for a network trained on float targets (one per output element).</summary>
    public static void Parameters(CompiledNetwork net, float[] images, float[] targets, Random random, double tolerance, int samplesPerTensor = 6) =>
        Parameters(net, optimizer => net.TrainStep(images, targets, optimizer), random, tolerance, samplesPerTensor);

    private static void Parameters(CompiledNetwork net, Func<Optimizer, float> trainStep, Random random, double tolerance, int samplesPerTensor)
    {
        var frozen = new Frozen();
        trainStep(frozen);
        // Every gradient at the unperturbed weights: each difference below leaves the gradients of its last loss behind.
        Dictionary<Parameter, float[]> gradients = net.Parameters.Where(p => p.Trainable).ToDictionary(p => p, p => (float[])p.Gradient.Clone());
        var failures = new List<string>();
        double pooled = 0;
        foreach (Parameter parameter in net.Parameters.Where(p => p.Trainable))
        {
            float[] gradient = gradients[parameter];
            var analytic = new List<double>();
            var numeric = new List<double>();
            for (int sample = 0; sample < Math.Min(samplesPerTensor, parameter.Length); sample++)
            {
                int i = random.Next(parameter.Length);
                analytic.Add(gradient[i]);
                numeric.Add(Central(parameter.Value, i, () => trainStep(frozen)));
            }

            (double difference, double scale) = Distance(analytic, numeric);
            pooled += scale * scale;
            if (!(difference <= (tolerance * scale) + (NoiseFloor * Math.Sqrt(numeric.Count))))
            {
                failures.Add($"{parameter.Name}: |analytic - numeric| = {difference:G3}, |numeric| = {scale:G3}: {Pairs(analytic, numeric)}");
            }
        }

        Assert.True(Math.Sqrt(pooled) > 1e-6, "parameter gradients: every sampled gradient is zero, so the check would prove nothing");
        Assert.True(failures.Count == 0, "parameter gradients off:\n" + string.Join("\n", failures));
    }

    /// <summary>Compares sampled entries of InputGradient with central differences of the evaluation-mode loss.</summary>
    public static void Input(CompiledNetwork net, float[] images, int[] labels, Random random, double tolerance, float[]? classWeights = null, int samples = 30)
    {
        float[] inputGradient = net.InputGradient(images, labels).ToArray();
        var analytic = new List<double>();
        var numeric = new List<double>();
        for (int sample = 0; sample < samples; sample++)
        {
            int i = random.Next(images.Length);
            analytic.Add(inputGradient[i]);
            numeric.Add(Central(images, i, () => (float)EvaluationLoss(net, images, labels, classWeights)));
        }

        AssertClose(analytic, numeric, tolerance, "input gradients");
    }

    /// <summary>
    /// Compares sampled entries of InputGradient with central differences of the evaluation-mode loss, for a network
    /// trained on float targets; the loss is recomputed in double from Forward's scores by <see cref="FloatTargetLoss"/>.
    /// </summary>
    public static void Input(CompiledNetwork net, float[] images, float[] targets, Random random, double tolerance, int samples = 30)
    {
        float[] inputGradient = net.InputGradient(images, targets).ToArray();
        var analytic = new List<double>();
        var numeric = new List<double>();
        for (int sample = 0; sample < samples; sample++)
        {
            int i = random.Next(images.Length);
            analytic.Add(inputGradient[i]);
            numeric.Add(Central(images, i, () => (float)FloatTargetLoss(net.Loss, net.Forward(images).ToArray(), targets)));
        }

        AssertClose(analytic, numeric, tolerance, "input gradients");
    }

    /// <summary>The mean over every element of PyTorch's MSELoss, L1Loss, SmoothL1Loss (beta 1) or BCEWithLogitsLoss, in double.</summary>
    public static double FloatTargetLoss(Loss loss, float[] scores, float[] targets)
    {
        Func<double, double, double> term = loss switch
        {
            Loss.MeanSquaredError => (s, t) => (s - t) * (s - t),
            Loss.L1 => (s, t) => Math.Abs(s - t),
            Loss.SmoothL1 => (s, t) => Math.Abs(s - t) < 1 ? 0.5 * (s - t) * (s - t) : Math.Abs(s - t) - 0.5,
            Loss.BinaryCrossEntropy => (x, t) => -((t * Math.Log(1 / (1 + Math.Exp(-x)))) + ((1 - t) * Math.Log(1 / (1 + Math.Exp(x))))),
            _ => throw new ArgumentException($"{loss} trains on class labels.", nameof(loss)),
        };
        return scores.Zip(targets, (s, t) => term(s, t)).Average();
    }

    /// <summary>
    /// The evaluation-mode (weighted) mean cross-entropy, recomputed in double from Forward's scores laid out
    /// [n, classes, plane] with labels [n, plane] (plane 1 for classification).
    /// </summary>
    public static double EvaluationLoss(CompiledNetwork net, float[] images, int[] labels, float[]? classWeights = null) =>
        CrossEntropy(net.Forward(images).ToArray(), labels, images.Length / (int)net.InputShape.Elements, classWeights);

    /// <summary>Weighted mean softmax cross-entropy over every labelled position, as PyTorch's CrossEntropyLoss(weight=).</summary>
    public static double CrossEntropy(float[] scores, int[] labels, int n, float[]? classWeights = null)
    {
        int plane = labels.Length / n, classes = scores.Length / labels.Length;
        double loss = 0, weights = 0;
        for (int position = 0; position < labels.Length; position++)
        {
            int image = position / plane, pixel = position % plane;
            double[] row = Enumerable.Range(0, classes).Select(c => (double)scores[(((image * classes) + c) * plane) + pixel]).ToArray();
            double max = row.Max(), weight = classWeights?[labels[position]] ?? 1.0;
            loss += weight * (Math.Log(row.Sum(s => Math.Exp(s - max))) + max - row[labels[position]]);
            weights += weight;
        }

        return loss / weights;
    }

    public static double Central(float[] values, int index, Func<float> loss)
    {
        const float h = 1e-3f;
        float saved = values[index];
        values[index] = saved + h;
        double up = loss();
        values[index] = saved - h;
        double down = loss();
        values[index] = saved;
        return (up - down) / (2 * h);
    }

    public static void AssertClose(List<double> analytic, List<double> numeric, double tolerance, string what)
    {
        (double difference, double scale) = Distance(analytic, numeric);
        Assert.True(scale > 1e-6, $"{what}: the sampled gradient is zero, so the check would prove nothing");
        Assert.True(difference <= tolerance * scale, $"{what}: |analytic - numeric| = {difference}, |numeric| = {scale}: {Pairs(analytic, numeric)}");
    }

    /// <summary>|analytic - numeric| and |numeric|, Euclidean.</summary>
    private static (double Difference, double Scale) Distance(List<double> analytic, List<double> numeric) =>
        (Math.Sqrt(analytic.Zip(numeric, (a, b) => (a - b) * (a - b)).Sum()), Math.Sqrt(numeric.Sum(b => b * b)));

    private static string Pairs(List<double> analytic, List<double> numeric) =>
        string.Join("; ", analytic.Zip(numeric, (a, b) => $"{a:G4}/{b:G4}"));

    public static float[] RandomImages(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
}
