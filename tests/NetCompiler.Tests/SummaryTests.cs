using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

// Classic networks, compiled by the generator as part of this test project's own build.

[Network("1x32x32", Blueprint = "CONV 6 5x5 pad=0 -> RELU -> POOL 2 -> CONV 16 5x5 pad=0 -> RELU -> POOL 2 -> FC 120 -> RELU -> FC 84 -> RELU -> FC 10")]
public partial class LeNet5;

[Network("1x32x32")]
[Conv(6, 5), Relu, MaxPool(2), Conv(16, 5), Relu, MaxPool(2)]
[Dense(120), Relu, Dense(84), Relu, Dense(10)]
public partial class LeNet5Attributes;

// torchvision.models.alexnet at 224x224 (its adaptive 6x6 average pool is the identity there).
[Network("3x224x224", Blueprint = """
    CONV 64 11x11 stride=4 pad=2 -> RELU -> POOL 3 stride=2 -> CONV 192 5x5 -> RELU -> POOL 3 stride=2 ->
    CONV 384 3x3 -> RELU -> CONV 256 3x3 -> RELU -> CONV 256 3x3 -> RELU -> POOL 3 stride=2 ->
    DROPOUT 0.5 -> FC 4096 -> RELU -> DROPOUT 0.5 -> FC 4096 -> RELU -> FC 1000
    """)]
public partial class AlexNet;

// torchvision.models.vgg16 at 224x224.
[Network("3x224x224", Blueprint = """
    [CONV 64 3x3 -> RELU]*2 -> POOL 2 -> [CONV 128 3x3 -> RELU]*2 -> POOL 2 -> [CONV 256 3x3 -> RELU]*3 -> POOL 2 ->
    [CONV 512 3x3 -> RELU]*3 -> POOL 2 -> [CONV 512 3x3 -> RELU]*3 -> POOL 2 ->
    [FC 4096 -> RELU -> DROPOUT 0.5]*2 -> FC 1000
    """)]
public partial class Vgg16;

public sealed class SummaryTests
{
    [Fact]
    public void LeNet5HasTheTextbookParameterCount()
    {
        Assert.Equal(61_706, LeNet5.Summary.ParameterCount);
        Assert.Equal(new long[] { 156, 0, 0, 2_416, 0, 0, 48_120, 0, 10_164, 0, 850 }, LeNet5.Summary.Layers.Select(l => l.Parameters));
        // Conv MACs = out channels * output pixels * in channels * 5 * 5; dense MACs = in * out.
        Assert.Equal(6L * 28 * 28 * 1 * 25, LeNet5.Summary.Layers[0].MultiplyAccumulates);
        Assert.Equal(16L * 10 * 10 * 6 * 25, LeNet5.Summary.Layers[3].MultiplyAccumulates);
        Assert.Equal(400L * 120, LeNet5.Summary.Layers[6].MultiplyAccumulates);
    }

    [Fact]
    public void BothNotationsGiveTheSameNetwork()
    {
        Assert.Equal(
            LeNet5.Summary.Layers.Select(l => (l.Name, l.Kind, l.Output, l.Parameters, l.MultiplyAccumulates, l.ReceptiveField)),
            LeNet5Attributes.Summary.Layers.Select(l => (l.Name, l.Kind, l.Output, l.Parameters, l.MultiplyAccumulates, l.ReceptiveField)));
    }

    [Fact]
    public void AlexNetMatchesTorchvision()
    {
        // sum(p.numel() for p in torchvision.models.alexnet().parameters())
        Assert.Equal(61_100_840, AlexNet.Summary.ParameterCount);
        string[] weighted = AlexNet.Summary.Layers.Where(l => l.Parameters > 0).Select(l => l.Name).ToArray();
        Assert.Equal(["features.0", "features.3", "features.6", "features.8", "features.10", "classifier.1", "classifier.4", "classifier.6"], weighted);
        Assert.Equal(TensorShape.Image(256, 6, 6), AlexNet.Summary.Layers.Single(l => l.Name == "features.12").Output);
    }

    [Fact]
    public void Vgg16MatchesTorchvision()
    {
        Assert.Equal(138_357_544, Vgg16.Summary.ParameterCount);
        string[] weighted = Vgg16.Summary.Layers.Where(l => l.Parameters > 0).Select(l => l.Name).ToArray();
        Assert.Equal(["features.0", "features.2", "features.5", "features.7", "features.10", "features.12", "features.14",
            "features.17", "features.19", "features.21", "features.24", "features.26", "features.28",
            "classifier.0", "classifier.3", "classifier.6"], weighted);
        // 15.47 GMACs, the figure usually quoted for VGG-16: recomputed here from each conv's shape.
        long convMacs = 0;
        int size = 224, channels = 3;
        foreach (int[] stage in new[] { new[] { 64, 64 }, [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512] })
        {
            foreach (int width in stage)
            {
                convMacs += (long)width * size * size * channels * 9;
                channels = width;
            }

            size /= 2;
        }

        Assert.Equal(convMacs + (25_088L * 4096) + (4096L * 4096) + (4096L * 1000), Vgg16.Summary.MultiplyAccumulates);
        Assert.Equal(15_470_264_320, Vgg16.Summary.MultiplyAccumulates);
    }

    [Fact]
    public void ReceptiveFieldsFollowTheStandardRecurrence()
    {
        // r += (k - 1) * jump; jump *= stride: AlexNet's conv1 sees 11, pool1 19, conv2 51, pool2 67, conv5 195.
        long?[] fields = AlexNet.Summary.Layers.Take(13).Select(l => l.ReceptiveField).ToArray();
        Assert.Equal(new long?[] { 11, 11, 19, 51, 51, 67, 99, 99, 131, 131, 163, 163, 195 }, fields);
        Assert.Null(AlexNet.Summary.Layers[^1].ReceptiveField); // after flattening every output sees everything
    }

    [Fact]
    public void ToStringPrintsAnAlignedTable()
    {
        string[] lines = LeNet5.Summary.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal("LeNet5: input 1x32x32, output 10", lines[0]);
        Assert.StartsWith("Layer", lines[1]);
        Assert.Equal(2 + 11 + 2, lines.Length);
        Assert.Matches(@"^features\.3\s+Conv2d\(6, 16, kernel_size=5\)\s+16x10x10\s+2,416\s+240,000\s+6\.25\s+14$", lines[5]);
        Assert.Matches(@"^Total\s+61,706\s+416,520\s+57\.04$", lines[^2]);
        Assert.Equal($"Planned memory per image: {LeNet5.Summary.InferenceBytesPerImage / 1024.0:F2} KB inference, {LeNet5.Summary.TrainingBytesPerImage / 1024.0:F2} KB training", lines[^1]);
        // Every numeric column ends at the same place on every row.
        int paramsEnd = lines[1].IndexOf("Params", System.StringComparison.Ordinal) + "Params".Length;
        Assert.All(lines.Skip(2).SkipLast(2), line => Assert.NotEqual(' ', line[paramsEnd - 1]));
    }
}
