using System;
using System.Collections.Generic;
using System.IO;

namespace NetCompiler;

/// <summary>
/// Zalando's Fashion-MNIST: 28x28 grey-scale images of clothing in 10 classes, 60,000 for training and 10,000 for
/// testing, read from the IDX files Debian's dataset-fashion-mnist package installs.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's dataset-fashion-mnist package installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The mean of the training images' pixels scaled to [0, 1].</summary>
    public const float Mean = 0.2860406f;

    /// <summary>The standard deviation of the training images' pixels scaled to [0, 1].</summary>
    public const float StandardDeviation = 0.3530242f;

    private const string InstallHint =
        "Install Debian's package with 'sudo apt-get install dataset-fashion-mnist', or pass the directory that holds its IDX files.";

    public static TensorShape ImageShape { get; } = TensorShape.Image(1, 28, 28);

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Loads the training and test sets from <paramref name="directory"/>, which holds train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each gzip-compressed (.gz, as
    /// Debian ships them) or plain. Pixels are scaled to [0, 1] and, with <paramref name="normalize"/>, standardised
    /// with the training set's <see cref="Mean"/> and <see cref="StandardDeviation"/>, as torchvision's
    /// ToTensor() and Normalize((0.2860,), (0.3530,)) do.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist; the message says how to install the data set.</exception>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to install the data set.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or the files disagree; the message names the file and the fault.</exception>
    public static (DataSet Train, DataSet Test) Load(string directory = DefaultDirectory, bool normalize = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException(
                $"Fashion-MNIST was not found: the directory '{directory}' does not exist. {InstallHint}");
        }

        return (LoadSplit(directory, "train", normalize), LoadSplit(directory, "t10k", normalize));
    }

    private static DataSet LoadSplit(string directory, string split, bool normalize)
    {
        string imagesPath = Find(directory, $"{split}-images-idx3-ubyte");
        string labelsPath = Find(directory, $"{split}-labels-idx1-ubyte");
        IdxFile images = IdxFile.Read(imagesPath, rank: 3);
        IdxFile labels = IdxFile.Read(labelsPath, rank: 1);

        int count = images.Dimensions[0];
        if (images.Dimensions[1] != ImageShape.Height || images.Dimensions[2] != ImageShape.Width)
        {
            throw new InvalidDataException(
                $"{imagesPath}: the images are {images.Dimensions[1]}x{images.Dimensions[2]} pixels; Fashion-MNIST's are {ImageShape.Height}x{ImageShape.Width}.");
        }

        if (labels.Dimensions[0] != count)
        {
            throw new InvalidDataException(
                $"{labelsPath}: holds {labels.Dimensions[0]} labels but {imagesPath} holds {count} images; they must match one to one.");
        }

        var classLabels = new int[count];
        for (int i = 0; i < count; i++)
        {
            classLabels[i] = labels.Data[i];
            if (classLabels[i] >= ClassNames.Count)
            {
                throw new InvalidDataException(
                    $"{labelsPath}: label {classLabels[i]} of image {i} is outside 0..{ClassNames.Count - 1}.");
            }
        }

        // x / 255 then (x - mean) / std, folded into one multiply-add per pixel.
        float scale = normalize ? 1f / (255f * StandardDeviation) : 1f / 255f;
        float shift = normalize ? -Mean / StandardDeviation : 0f;
        var pixels = new float[images.Data.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = images.Data[i] * scale + shift;
        }

        return new DataSet(pixels, classLabels, ImageShape, ClassNames.Count);
    }

    private static string Find(string directory, string name)
    {
        string compressed = Path.Combine(directory, name + ".gz");
        if (File.Exists(compressed))
        {
            return compressed;
        }

        string plain = Path.Combine(directory, name);
        if (File.Exists(plain))
        {
            return plain;
        }

        throw new FileNotFoundException($"Fashion-MNIST is incomplete: '{directory}' has neither {name}.gz nor {name}. {InstallHint}", compressed);
    }
}
