using System;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>
/// Classifies which of four small shapes a 12x12 image shows, wherever it is: small and fast to learn, and its
/// evidence has a known place. The classes are what, not where: Grad-CAM averages gradients over space, so it cannot
/// explain a class defined by position (a quadrant task gave an all-zero map for nearly every image).
/// </summary>
[Network("1x12x12", Keep = "features.2")]
[Conv(8, 3, Pad = 1), Relu, MaxPool(2)]
[Conv(16, 3, Pad = 1), Relu, MaxPool(2)]
[Dense(4)]
public partial class ShapeNet;

/// <summary>A <see cref="ShapeNet"/> trained once for every explanation test, and the shape images it is tested on.</summary>
public sealed class TrainedShapeNet : IDisposable
{
    public const int Side = 12;
    public const int TestCount = 64;

    /// <summary>Each class's pixels as (row, column) offsets from the shape's centre.</summary>
    private static readonly (int Dy, int Dx)[][] Shapes =
    [
        [(0, -2), (0, -1), (0, 0), (0, 1), (0, 2)],                                             // horizontal bar
        [(-2, 0), (-1, 0), (0, 0), (1, 0), (2, 0)],                                             // vertical bar
        [(-2, -2), (-1, -1), (0, 0), (1, 1), (2, 2)],                                           // diagonal
        [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)],         // square
    ];

    public TrainedShapeNet()
    {
        Network = new ShapeNet(batchSize: 32, seed: 7, threads: 1);
        var random = new Random(5);
        var adam = new Adam(learningRate: 1e-2f);
        for (int step = 0; step < 150; step++)
        {
            (float[] images, int[] labels, _) = Draw(random, 32);
            Network.TrainStep(images, labels, adam);
        }

        (Images, Labels, Centres) = Draw(new Random(6), TestCount);
    }

    public ShapeNet Network { get; }

    public float[] Images { get; }

    public int[] Labels { get; }

    /// <summary>Each test image's shape centre, (row, column).</summary>
    public (int Y, int X)[] Centres { get; }

    public float[] Image(int index) => Images.AsSpan(index * ShapeNet.InputLength, ShapeNet.InputLength).ToArray();

    /// <summary>Images of one shape each, brightness 1.5 to 2.5, centred anywhere it fits, on noise of sigma 0.1.</summary>
    public static (float[] Images, int[] Labels, (int Y, int X)[] Centres) Draw(Random random, int count)
    {
        var images = new float[count * Side * Side];
        var labels = new int[count];
        var centres = new (int, int)[count];
        for (int i = 0; i < count; i++)
        {
            Span<float> image = images.AsSpan(i * Side * Side, Side * Side);
            for (int p = 0; p < image.Length; p++)
            {
                image[p] = 0.1f * MathF.Sqrt(-2 * MathF.Log(1 - random.NextSingle())) * MathF.Cos(2 * MathF.PI * random.NextSingle());
            }

            int label = random.Next(Shapes.Length), cy = random.Next(2, Side - 2), cx = random.Next(2, Side - 2);
            float brightness = 1.5f + random.NextSingle();
            foreach ((int dy, int dx) in Shapes[label])
            {
                image[((cy + dy) * Side) + cx + dx] += brightness;
            }

            labels[i] = label;
            centres[i] = (cy, cx);
        }

        return (images, labels, centres);
    }

    public void Dispose() => Network.Dispose();
}

/// <summary>Properties of the explanations on a network whose evidence is known to lie in the shape.</summary>
public sealed class ExplainTests(TrainedShapeNet trained) : IClassFixture<TrainedShapeNet>
{
    private const int Side = TrainedShapeNet.Side;

    private readonly ShapeNet _net = trained.Network;

    /// <summary>
    /// The first block's output, 8x6x6. Grad-CAM usually takes the last block's, but here that is 3x3: each cell
    /// spans a third of the image, too coarse to place a 5-pixel shape.
    /// </summary>
    private static LayerSummary CamLayer => ShapeNet.Summary.Layers.Single(layer => layer.Name == "features.2");

    [Fact]
    public void TheNetworkHasLearnedItsTask()
    {
        // Every property below assumes a network that classifies well.
        float[] scores = _net.Forward(trained.Images.AsSpan(0, 32 * ShapeNet.InputLength)).ToArray();
        int correct = Enumerable.Range(0, 32).Count(i => ArgMax(scores.AsSpan(i * 4, 4)) == trained.Labels[i]);
        Assert.True(correct >= 31, $"{correct}/32 correct");
    }

    [Fact]
    public void SaliencyIsANonNegativeInputSizedMapLargestAroundTheShape()
    {
        // Plain gradients are noisy (the reason for SmoothGrad), so the property is on means, not the single largest pixel.
        int larger = 0;
        for (int i = 0; i < TrainedShapeNet.TestCount; i++)
        {
            float[] map = Explanations.Saliency(_net, trained.Image(i), trained.Labels[i]);
            Assert.Equal(Side * Side, map.Length);
            Assert.All(map, value => Assert.True(value >= 0));
            (int y, int x) = trained.Centres[i];
            bool Around(int p) => Math.Abs((p / Side) - y) <= 2 && Math.Abs((p % Side) - x) <= 2;
            double around = Enumerable.Range(0, map.Length).Where(Around).Average(p => map[p]);
            double elsewhere = Enumerable.Range(0, map.Length).Where(p => !Around(p)).Average(p => map[p]);
            larger += around > elsewhere ? 1 : 0;
        }

        Assert.True(larger >= 0.9 * TrainedShapeNet.TestCount, $"saliency is larger around the shape than elsewhere in {larger}/{TrainedShapeNet.TestCount} images");
    }

    [Fact]
    public void SaliencyIsTheLargestAbsoluteScoreGradientOverChannels()
    {
        float[] image = trained.Image(0);
        float[] expected = _net.ScoreGradient(image, 2).ToArray().Select(Math.Abs).ToArray();
        Assert.Equal(expected, Explanations.Saliency(_net, image, 2));
    }

    [Fact]
    public void GradCamIsANonNegativeInputSizedMapPeakingAtTheShape()
    {
        int near = 0;
        for (int i = 0; i < TrainedShapeNet.TestCount; i++)
        {
            float[] map = Explanations.GradCam(_net, trained.Image(i), trained.Labels[i], CamLayer);
            Assert.Equal(Side * Side, map.Length);
            Assert.All(map, value => Assert.True(value >= 0));
            near += PeakDistance(map, trained.Centres[i]) <= 3 ? 1 : 0;
        }

        Assert.True(near >= 0.9 * TrainedShapeNet.TestCount, $"Grad-CAM peaks near the shape in {near}/{TrainedShapeNet.TestCount} images");
    }

    [Fact]
    public void GradCamIsTheReluOfTheGradientWeightedActivationsResized()
    {
        // At features.2 (8x6x6) the map is resized 2x: half-pixel bilinear resizing clamps at the corners, so a corner
        // pixel is its corner cell, and it keeps the mean (each cell's weights over the output pixels sum to 4).
        float[] image = trained.Image(3);
        float[] map = Explanations.GradCam(_net, image, 1, CamLayer);
        _net.ScoreGradient(image, 1);
        float[] activations = _net.LayerOutput("features.2").ToArray();
        float[] gradients = _net.LayerGradient("features.2").ToArray();
        var cam = new float[36];
        for (int k = 0; k < 8; k++)
        {
            float alpha = gradients.Skip(k * 36).Take(36).Average();
            for (int p = 0; p < 36; p++)
            {
                cam[p] += alpha * activations[(k * 36) + p];
            }
        }

        float[] relu = cam.Select(value => Math.Max(value, 0f)).ToArray();
        Assert.True(relu.Max() > 0 && relu.Min() == 0, "the test needs both signs before the ReLU");
        Assert.Equal(relu[0], map[0], 1e-5f);
        Assert.Equal(relu[5], map[Side - 1], 1e-5f);
        Assert.Equal(relu[35], map[^1], 1e-5f);
        Assert.Equal(relu.Average(), map.Average(), 1e-4f);
    }

    [Fact]
    public void OcclusionMatchesTheScoresOfDirectlyOccludedImages()
    {
        float[] image = trained.Image(5);
        int label = trained.Labels[5];
        float baseline = _net.Forward(image)[label];

        // Squares of 5 every 3 pixels: at 0, 3, 6 and, flush with the edge, 7; the corners are each covered by one square.
        float[] map = Explanations.Occlusion(_net, image, label, patch: 5, stride: 3, fill: -0.5f);
        Assert.Equal(baseline - OccludedScore(image, label, 0, 0, 5, -0.5f), map[0], 1e-4f);
        Assert.Equal(baseline - OccludedScore(image, label, 7, 7, 5, -0.5f), map[^1], 1e-4f);
        Assert.Equal(baseline - OccludedScore(image, label, 0, 7, 5, -0.5f), map[Side - 1], 1e-4f);

        // Pixel (0, 4) lies under the squares at columns 0 and 3 of the top row.
        float both = ((baseline - OccludedScore(image, label, 0, 0, 5, -0.5f)) + (baseline - OccludedScore(image, label, 0, 3, 5, -0.5f))) / 2;
        Assert.Equal(both, map[4], 1e-4f);
    }

    [Fact]
    public void OcclusionPeaksAtTheShape()
    {
        int near = 0;
        for (int i = 0; i < TrainedShapeNet.TestCount; i++)
        {
            float[] map = Explanations.Occlusion(_net, trained.Image(i), trained.Labels[i], patch: 3, stride: 1);
            near += PeakDistance(map, trained.Centres[i]) <= 3 ? 1 : 0;
        }

        Assert.True(near >= 0.9 * TrainedShapeNet.TestCount, $"occlusion peaks near the shape in {near}/{TrainedShapeNet.TestCount} images");
    }

    [Fact]
    public void OccludingTheMostSalientRegionLowersTheScoreMoreThanARandomRegion()
    {
        const int patch = 4;
        var random = new Random(8);
        double salientDrop = 0, randomDrop = 0;
        for (int i = 0; i < TrainedShapeNet.TestCount; i++)
        {
            float[] image = trained.Image(i);
            int label = trained.Labels[i];
            float baseline = _net.Forward(image)[label];
            float[] saliency = Explanations.Saliency(_net, image, label);
            (int top, int left) = Enumerable.Range(0, (Side - patch + 1) * (Side - patch + 1))
                .Select(p => (Top: p / (Side - patch + 1), Left: p % (Side - patch + 1)))
                .MaxBy(square => WindowSum(saliency, square.Top, square.Left, patch));
            salientDrop += baseline - OccludedScore(image, label, top, left, patch, 0f);
            randomDrop += baseline - OccludedScore(image, label, random.Next(Side - patch + 1), random.Next(Side - patch + 1), patch, 0f);
        }

        salientDrop /= TrainedShapeNet.TestCount;
        randomDrop /= TrainedShapeNet.TestCount;
        Assert.True(salientDrop > 2 * Math.Max(randomDrop, 0) && salientDrop > 0, $"mean drop: salient {salientDrop}, random {randomDrop}");
    }

    [Fact]
    public void FgsmLowersTheTrueClassScoreWithinEpsilonAndTheRange()
    {
        const float epsilon = 0.1f, min = -0.3f, max = 2.5f;
        int lowered = 0;
        for (int i = 0; i < TrainedShapeNet.TestCount; i++)
        {
            float[] image = trained.Image(i);
            int label = trained.Labels[i];
            float before = _net.Forward(image)[label];
            float[] adversarial = Explanations.Fgsm(_net, image, label, epsilon, min, max);
            float after = _net.Forward(adversarial)[label];
            lowered += after < before ? 1 : 0;
            for (int p = 0; p < image.Length; p++)
            {
                Assert.InRange(adversarial[p], min, max);
                Assert.True(Math.Abs(adversarial[p] - Math.Clamp(image[p], min, max)) <= epsilon + 1e-6f);
            }
        }

        Assert.True(lowered >= 0.9 * TrainedShapeNet.TestCount, $"FGSM lowered the true class score in {lowered}/{TrainedShapeNet.TestCount} images");
    }

    [Fact]
    public void FgsmStepsEveryPixelByEpsilonAlongTheLossGradientSign()
    {
        float[] image = trained.Image(2);
        float[] gradient = _net.InputGradient(image, [trained.Labels[2]]).ToArray();
        float[] adversarial = Explanations.Fgsm(_net, image, trained.Labels[2], 0.25f);
        for (int p = 0; p < image.Length; p++)
        {
            Assert.Equal(image[p] + (0.25f * MathF.Sign(gradient[p])), adversarial[p]);
        }
    }

    [Fact]
    public void BatchedFgsmMatchesOneImageAtATime()
    {
        const int count = 8;
        float[] batched = Explanations.Fgsm(_net, trained.Images.AsSpan(0, count * ShapeNet.InputLength), trained.Labels.AsSpan(0, count), 0.1f, -0.3f, 2.5f);
        float[] single = Enumerable.Range(0, count).SelectMany(i => Explanations.Fgsm(_net, trained.Image(i), trained.Labels[i], 0.1f, -0.3f, 2.5f)).ToArray();

        // A batch may round differently in the kernels, which can flip the sign of a gradient that is nearly zero.
        int differ = Enumerable.Range(0, batched.Length).Count(p => batched[p] != single[p]);
        Assert.True(differ <= batched.Length / 100, $"{differ} of {batched.Length} pixels differ");
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        float[] image = trained.Image(0);
        Assert.Throws<ArgumentNullException>(() => Explanations.Saliency(null!, image, 0));
        Assert.Throws<ArgumentException>(() => Explanations.Saliency(_net, image.AsSpan(1).ToArray(), 0));
        Assert.Throws<ArgumentException>(() => Explanations.Saliency(_net, image.Concat(image).ToArray(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Saliency(_net, image, 4));
        Assert.Throws<ArgumentException>(() => Explanations.Saliency(_net, image.Select(v => float.NaN).ToArray(), 0));

        Assert.Throws<ArgumentException>(() => Explanations.GradCam(_net, image, 0, ShapeNet.Summary.Layers[^1]));
        Assert.Throws<ArgumentException>(() => Explanations.GradCam(_net, image, 0, CamLayer with { Name = "features.9" }));
        Assert.Throws<ArgumentException>(() => Explanations.GradCam(_net, image, 0, CamLayer with { Output = TensorShape.Image(16, 3, 3) }));
        Assert.Throws<InvalidOperationException>(() => Explanations.GradCam(_net, image, 0, ShapeNet.Summary.Layers[0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.GradCam(_net, image, -1, CamLayer));

        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Occlusion(_net, image, 4, patch: 3, stride: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Occlusion(_net, image, 0, patch: 0, stride: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Occlusion(_net, image, 0, patch: 13, stride: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Occlusion(_net, image, 0, patch: 3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Occlusion(_net, image, 0, patch: 3, stride: 4));
        Assert.Throws<ArgumentException>(() => Explanations.Occlusion(_net, image, 0, patch: 3, stride: 1, fill: float.NaN));

        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Fgsm(_net, image, 4, 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Fgsm(_net, image, 0, -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Fgsm(_net, image, 0, float.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => Explanations.Fgsm(_net, image, 0, 0.1f, min: 1f, max: 0f));
        Assert.Throws<ArgumentException>(() => Explanations.Fgsm(_net, image.Concat(image).ToArray(), [0], 0.1f));
        Assert.Throws<ArgumentException>(() => Explanations.Fgsm(_net, image.AsSpan(1).ToArray(), [0], 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Explanations.Fgsm(_net, image.Concat(image).ToArray(), [0, 4], 0.1f));
        Assert.Throws<ArgumentException>(() => Explanations.Fgsm(_net, new float[33 * ShapeNet.InputLength], new int[33], 0.1f));
    }

    private float OccludedScore(float[] image, int label, int top, int left, int patch, float fill)
    {
        float[] occluded = (float[])image.Clone();
        for (int y = top; y < top + patch; y++)
        {
            occluded.AsSpan((y * Side) + left, patch).Fill(fill);
        }

        return _net.Forward(occluded)[label];
    }

    private static float WindowSum(float[] map, int top, int left, int patch)
    {
        float sum = 0;
        for (int y = top; y < top + patch; y++)
        {
            for (int x = left; x < left + patch; x++)
            {
                sum += map[(y * Side) + x];
            }
        }

        return sum;
    }

    /// <summary>Distance in pixels from the map's largest value to the shape centre.</summary>
    private static double PeakDistance(float[] map, (int Y, int X) centre)
    {
        int peak = ArgMax(map);
        return Math.Sqrt(Math.Pow((peak / Side) - centre.Y, 2) + Math.Pow((peak % Side) - centre.X, 2));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
