using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>The IDX reader and the Fashion-MNIST loader on small files each test writes into its own directory.</summary>
public sealed class DataTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netcompiler-data-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsPlainAndGzipIdxFiles(bool gzip)
    {
        byte[] values = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 10)).ToArray();
        string path = Write("images.idx", Idx(0x0803, [2, 3, 4], values), gzip);

        IdxFile file = IdxFile.Read(path, rank: 3);

        Assert.Equal([2, 3, 4], file.Dimensions);
        Assert.Equal(values, file.Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWrongMagicNumberIsReported(bool gzip)
    {
        string path = Write("labels.idx", Idx(0x0801, [3], [1, 2, 3]), gzip);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 3));
        Assert.Equal($"{path}: wrong magic number 0x00000801; expected 0x00000803, an IDX file of unsigned bytes with 3 dimensions.", exception.Message);
    }

    [Fact]
    public void AnIdxFileOfAnotherElementTypeIsReported()
    {
        string path = Write("floats.idx", Idx(0x0D01, [1], [0, 0, 0, 0]), gzip: false);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 1));
        Assert.StartsWith($"{path}: wrong magic number 0x00000D01", exception.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TruncatedDataIsReported(bool gzip)
    {
        string path = Write("images.idx", Idx(0x0803, [2, 3, 4], new byte[23]), gzip);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 3));
        Assert.Equal($"{path}: truncated: the header promises 24 bytes of data (2x3x4) but the file holds 23.", exception.Message);
    }

    [Fact]
    public void ATruncatedHeaderIsReported()
    {
        string path = Write("images.idx", Idx(0x0803, [2, 3, 4], [])[..10], gzip: false);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 3));
        Assert.Equal($"{path}: truncated: the header ends after 10 of its 16 bytes.", exception.Message);
    }

    [Fact]
    public void AnEmptyFileIsReported()
    {
        string path = Write("empty.idx", [], gzip: false);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 1));
        Assert.Equal($"{path}: truncated: 0 bytes, too short for an IDX header.", exception.Message);
    }

    [Fact]
    public void DataBeyondTheHeadersDimensionsIsReported()
    {
        string path = Write("labels.idx", Idx(0x0801, [3], [1, 2, 3, 4]), gzip: false);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 1));
        Assert.Equal($"{path}: the file holds more than the 3 bytes of data its header promises (3).", exception.Message);
    }

    [Fact]
    public void ACutGzipStreamIsReportedWithTheFileName()
    {
        byte[] compressed = Gzip(Idx(0x0801, [1000], Enumerable.Range(0, 1000).Select(i => (byte)(i * 7919 >> 3)).ToArray()));
        string path = Write("labels.idx.gz", compressed[..(compressed.Length / 2)], gzip: false);

        var exception = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 1));
        Assert.StartsWith($"{path}: ", exception.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadsFashionMnistScaledToUnitRangeOrStandardised(bool normalize)
    {
        WriteFashionMnist(trainLabels: [0, 9, 3], testLabels: [5, 5]);

        (DataSet train, DataSet test) = FashionMnist.Load(_directory, normalize);

        Assert.Equal(3, train.Count);
        Assert.Equal(2, test.Count);
        Assert.Equal(TensorShape.Image(1, 28, 28), train.ImageShape);
        Assert.Equal(10, train.ClassCount);
        Assert.Equal([0, 9, 3], train.Labels.ToArray());
        Assert.Equal([5, 5], test.Labels.ToArray());

        // The k-th pixel written for a split is k % 256.
        float Expected(int pixel) => normalize ? (pixel / 255f - FashionMnist.Mean) / FashionMnist.StandardDeviation : pixel / 255f;
        Assert.Equal(Expected(0), train.Image(0)[0], 5);
        Assert.Equal(Expected(255), train.Image(0)[255], 5);
        Assert.Equal(Expected(2 * 784 % 256 + 100), train.Image(2)[100], 5);
        Assert.Equal(Expected(784 % 256), test.Image(1)[0], 5);
    }

    [Fact]
    public void LoadsUncompressedFashionMnistFiles()
    {
        WriteFashionMnist(trainLabels: [1], testLabels: [2], gzip: false);

        (DataSet train, DataSet test) = FashionMnist.Load(_directory);

        Assert.Equal([1], train.Labels.ToArray());
        Assert.Equal([2], test.Labels.ToArray());
    }

    [Fact]
    public void AMissingDirectoryTellsHowToInstallTheDataSet()
    {
        string missing = Path.Combine(_directory, "absent");

        var exception = Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Load(missing));
        Assert.Contains(missing, exception.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", exception.Message);
    }

    [Fact]
    public void AMissingFileTellsHowToInstallTheDataSet()
    {
        WriteFashionMnist(trainLabels: [1], testLabels: [2]);
        File.Delete(Path.Combine(_directory, "t10k-labels-idx1-ubyte.gz"));

        var exception = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(_directory));
        Assert.Contains("t10k-labels-idx1-ubyte.gz", exception.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", exception.Message);
    }

    [Fact]
    public void AnImageLabelCountMismatchNamesBothFiles()
    {
        WriteFashionMnist(trainLabels: [1, 2, 3], testLabels: [2]);
        string labels = Write("train-labels-idx1-ubyte.gz", Idx(0x0801, [2], [1, 2]), gzip: true);

        var exception = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_directory));
        Assert.Equal(
            $"{labels}: holds 2 labels but {Path.Combine(_directory, "train-images-idx3-ubyte.gz")} holds 3 images; they must match one to one.",
            exception.Message);
    }

    [Fact]
    public void ALabelOutsideTheTenClassesIsReported()
    {
        WriteFashionMnist(trainLabels: [1, 10, 3], testLabels: [2]);

        var exception = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_directory));
        Assert.Equal($"{Path.Combine(_directory, "train-labels-idx1-ubyte.gz")}: label 10 of image 1 is outside 0..9.", exception.Message);
    }

    [Fact]
    public void ImagesOfAnotherSizeAreReported()
    {
        WriteFashionMnist(trainLabels: [1], testLabels: [2]);
        string images = Write("t10k-images-idx3-ubyte.gz", Idx(0x0803, [1, 32, 32], new byte[32 * 32]), gzip: true);

        var exception = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_directory));
        Assert.Equal($"{images}: the images are 32x32 pixels; Fashion-MNIST's are 28x28.", exception.Message);
    }

    [Fact]
    public void ACorruptFashionMnistFileIsReportedByName()
    {
        WriteFashionMnist(trainLabels: [1], testLabels: [2]);
        string images = Write("train-images-idx3-ubyte.gz", Idx(0x0803, [1, 28, 28], new byte[100]), gzip: true);

        var exception = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_directory));
        Assert.StartsWith($"{images}: truncated", exception.Message);
    }

    /// <summary>Writes the four Fashion-MNIST files; the k-th pixel of each split is k % 256.</summary>
    private void WriteFashionMnist(byte[] trainLabels, byte[] testLabels, bool gzip = true)
    {
        string suffix = gzip ? ".gz" : "";
        foreach ((string split, byte[] labels) in new[] { ("train", trainLabels), ("t10k", testLabels) })
        {
            var pixels = new byte[labels.Length * 28 * 28];
            for (int i = 0; i < pixels.Length; i++)
            {
                pixels[i] = (byte)i;
            }

            Write($"{split}-images-idx3-ubyte{suffix}", Idx(0x0803, [labels.Length, 28, 28], pixels), gzip);
            Write($"{split}-labels-idx1-ubyte{suffix}", Idx(0x0801, [labels.Length], labels), gzip);
        }
    }

    private string Write(string name, byte[] contents, bool gzip)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, gzip ? Gzip(contents) : contents);
        return path;
    }

    private static byte[] Idx(int magic, int[] dimensions, byte[] data)
    {
        var file = new byte[4 * (1 + dimensions.Length) + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(file, magic);
        for (int d = 0; d < dimensions.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4 * (1 + d)), dimensions[d]);
        }

        data.CopyTo(file, 4 * (1 + dimensions.Length));
        return file;
    }

    private static byte[] Gzip(byte[] contents)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal))
        {
            gzip.Write(contents);
        }

        return compressed.ToArray();
    }
}
