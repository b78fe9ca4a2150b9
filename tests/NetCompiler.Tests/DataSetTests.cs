using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

[Collection(Allocations.Alone)]
public sealed class DataSetTests
{
    private static readonly TensorShape Shape = TensorShape.Image(2, 1, 3);

    /// <summary>Ten images whose six pixels all hold their index, labelled index % 4.</summary>
    private static DataSet CreateDataSet(int count = 10) => new(
        Enumerable.Range(0, count * 6).Select(i => (float)(i / 6)).ToArray(),
        Enumerable.Range(0, count).Select(i => i % 4).ToArray(),
        Shape,
        classCount: 4);

    [Fact]
    public void AShuffledEpochVisitsEveryImageOnceInBatchesOfTheRequestedSize()
    {
        DataSet data = CreateDataSet();
        MiniBatches batches = data.Batches(batchSize: 4, seed: 7);
        var images = new float[4 * data.ImageSize];
        var labels = new int[4];

        List<int> visited = [];
        List<int> sizes = [];
        for (int n; (n = batches.Next(images, labels)) > 0;)
        {
            sizes.Add(n);
            for (int b = 0; b < n; b++)
            {
                int index = (int)images[b * data.ImageSize];
                Assert.All(images.AsSpan(b * data.ImageSize, data.ImageSize).ToArray(), pixel => Assert.Equal(index, pixel));
                Assert.Equal(index % 4, labels[b]);
                visited.Add(index);
            }
        }

        Assert.Equal([4, 4, 2], sizes);
        Assert.Equal(3, batches.BatchesPerEpoch);
        Assert.Equal(Enumerable.Range(0, 10), visited.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), visited);
    }

    [Fact]
    public void EachEpochHasANewOrderAndTheSeedRepeatsThemAll()
    {
        int[][] first = Epochs(seed: 3, count: 3);

        Assert.NotEqual(first[0], first[1]);
        Assert.NotEqual(first[1], first[2]);
        Assert.Equal(first, Epochs(seed: 3, count: 3));
        Assert.NotEqual(first, Epochs(seed: 4, count: 3));
    }

    [Fact]
    public void WithoutShufflingBatchesFollowTheDataSetOrder()
    {
        Assert.Equal(Enumerable.Range(0, 10), Epochs(seed: 0, count: 2, shuffle: false)[1]);
    }

    [Fact]
    public void NextAllocatesNothing()
    {
        DataSet data = CreateDataSet(count: 1000);
        MiniBatches batches = data.Batches(batchSize: 64, seed: 1);
        var images = new float[64 * data.ImageSize];
        var labels = new int[64];
        Allocations.AssertNone("100 batches", () =>
        {
            for (int batch = 0; batch < 100; batch++)
            {
                batches.Next(images, labels);   // crosses epochs, so reshuffling is measured too
            }
        });
    }

    [Fact]
    public void BuffersWithoutRoomForABatchAreRejected()
    {
        MiniBatches batches = CreateDataSet().Batches(batchSize: 4);

        Assert.Equal("images", Assert.Throws<ArgumentException>(() => batches.Next(new float[4 * 6 - 1], new int[4])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => batches.Next(new float[4 * 6], new int[3])).ParamName);
    }

    [Fact]
    public void TheConstructorRejectsInconsistentArrays()
    {
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => new DataSet(new float[13], new int[2], Shape, 4)).ParamName);
        var exception = Assert.Throws<ArgumentException>(() => new DataSet(new float[12], [1, 4], Shape, 4));
        Assert.Equal("labels", exception.ParamName);
        Assert.StartsWith("Label 4 of image 1 is outside [0, 4).", exception.Message);
    }

    [Fact]
    public void CountPerClassCountsTheLabels()
    {
        Assert.Equal([3, 3, 2, 2], CreateDataSet().CountPerClass());
    }

    [Fact]
    public void BatchesCarryEveryLabelOfTheirImages()
    {
        // Per-pixel labels as in segmentation: image i's three labels are 10 * i, 10 * i + 1 and 10 * i + 2.
        var data = new DataSet(
            Enumerable.Range(0, 5 * 6).Select(i => (float)(i / 6)).ToArray(),
            Enumerable.Range(0, 5 * 3).Select(i => (10 * (i / 3)) + (i % 3)).ToArray(),
            Shape,
            classCount: 50,
            labelsPerSample: 3);
        MiniBatches batches = data.Batches(batchSize: 2, seed: 5);
        var images = new float[2 * data.ImageSize];
        var labels = new int[2 * 3];

        Assert.Equal(5, data.Count);
        Assert.Equal([40, 41, 42], data.LabelsOf(4).ToArray());
        List<int> visited = [];
        for (int n; (n = batches.Next(images, labels)) > 0;)
        {
            for (int b = 0; b < n; b++)
            {
                int index = (int)images[b * data.ImageSize];
                Assert.Equal([10 * index, (10 * index) + 1, (10 * index) + 2], labels.AsSpan(b * 3, 3).ToArray());
                visited.Add(index);
            }
        }

        Assert.Equal(Enumerable.Range(0, 5), visited.Order());
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => batches.Next(images, new int[2 * 3 - 1])).ParamName);
    }

    [Fact]
    public void PerPixelLabelsAreCheckedAgainstTheImages()
    {
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => new DataSet(new float[12], new int[7], Shape, 4, labelsPerSample: 3)).ParamName);
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => new DataSet(new float[12], new int[9], Shape, 4, labelsPerSample: 3)).ParamName);
        var exception = Assert.Throws<ArgumentException>(() => new DataSet(new float[12], [0, 1, 2, 3, 0, 4], Shape, 4, labelsPerSample: 3));
        Assert.StartsWith("Label 4 at position 2 of image 1 is outside [0, 4).", exception.Message);
    }

    /// <summary>The image order of each of <paramref name="count"/> epochs.</summary>
    private static int[][] Epochs(int seed, int count, bool shuffle = true)
    {
        DataSet data = CreateDataSet();
        MiniBatches batches = data.Batches(batchSize: 3, shuffle, seed);
        var images = new float[3 * data.ImageSize];
        var labels = new int[3];
        var epochs = new int[count][];
        for (int epoch = 0; epoch < count; epoch++)
        {
            List<int> order = [];
            for (int n; (n = batches.Next(images, labels)) > 0;)
            {
                for (int b = 0; b < n; b++)
                {
                    order.Add((int)images[b * data.ImageSize]);
                }
            }

            epochs[epoch] = [.. order];
        }

        return epochs;
    }
}
