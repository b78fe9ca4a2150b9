using System;
using System.Collections.Generic;

namespace NetCompiler;

/// <summary>
/// The Q-tips segmentation task of Haber et al., IMEXnet (ICML 2019): 64x64 single-channel images of one bar on a
/// background, whose two end squares mark its class; the network labels every pixel. Recognising the class needs
/// both ends, up to 59 pixels apart, so the task rewards a wide receptive field.
/// </summary>
/// <remarks>
/// <para>
/// Each image draws, in this order from a <c>SeededRandom</c>: the class, uniform in 1..3; the bar width w, uniform
/// in 4..7; its length, uniform in 32..59; its angle, uniform in [-180, 180) degrees; and for class 2 only, which
/// end is white, a fair coin. Class 1 has two white ends, class 2 one white and one black, class 3 two black.
/// </para>
/// <para>
/// Unrotated, the bar is the axis-aligned rectangle of columns c .. c + length - 1 and rows r .. r + w - 1, where
/// c = (64 - length) / 2 and r = (64 - w) / 2 (integer division, so an odd size sits half a pixel before the
/// centre); its first and last w columns are the end squares, part of the length, and the rest is the body. The image is rendered by inverse
/// mapping: each output pixel centre is rotated by -angle about the image centre (31.5, 31.5), the centre of the
/// pixel grid, and takes the value of the unrotated pixel nearest to it. The angle turns the column axis towards the
/// row axis, so positive angles turn clockwise as displayed (rows grow downwards); 90 degrees maps the unrotated
/// pixel (row r, column c) to (row c, column 63 - r). Every bar fits inside the image at every angle.
/// </para>
/// <para>
/// A pixel's label is the bar's class on the whole bar, end squares included, and 0 (background) elsewhere.
/// </para>
/// </remarks>
public static class QTips
{
    /// <summary>Image height and width.</summary>
    public const int Size = 64;

    /// <summary>Background plus the three bar classes.</summary>
    public const int Classes = 4;

    /// <summary>The raw pixel values.</summary>
    public const float Background = 64f, Body = 128f, White = 255f, Black = 1f;

    public static TensorShape ImageShape { get; } = TensorShape.Image(1, Size, Size);

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["background", "white/white", "white/black", "black/black"];

    private const double Centre = (Size - 1) / 2.0;

    /// <summary>
    /// Creates the training and validation sets, <see cref="Size"/>x<see cref="Size"/> images with a label per
    /// pixel (<see cref="DataSet.LabelsPerSample"/> = 4,096). The same seed gives the same images on every platform;
    /// the validation set comes from its own stream, so it does not change with <paramref name="trainCount"/>, and a
    /// smaller <paramref name="trainCount"/> gives a prefix of a larger one's images.
    /// </summary>
    /// <param name="normalize">
    /// Maps the raw values v (64, 128, 255, 1) to (v - 128) / 64: background -1, body 0, white and black about +2
    /// and -2, so the ends are symmetric about the body and the scale is of order 1. Without it, the raw values.
    /// </param>
    public static (DataSet Train, DataSet Validation) Create(int seed = 0, int trainCount = 1024, int validationCount = 64, bool normalize = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(validationCount);

        // The seed's 32 bits with a different high bit for each split: no seed's validation stream is another's training stream.
        ulong stream = (uint)seed;
        return (CreateSplit(new SeededRandom(stream), trainCount, normalize), CreateSplit(new SeededRandom(stream | (1UL << 32)), validationCount, normalize));
    }

    private static DataSet CreateSplit(SeededRandom random, int count, bool normalize)
    {
        const int pixels = Size * Size;
        var images = new float[checked(count * pixels)];
        var labels = new int[images.Length];
        for (int i = 0; i < count; i++)
        {
            Render(Bar.Next(ref random), images.AsSpan(i * pixels, pixels), labels.AsSpan(i * pixels, pixels));
        }

        if (normalize)
        {
            foreach (ref float value in images.AsSpan())
            {
                value = (value - Body) / (Body - Background);
            }
        }

        return new DataSet(images, labels, ImageShape, Classes, pixels);
    }

    /// <summary>Draws <paramref name="bar"/> with raw values into one image and its per-pixel labels.</summary>
    internal static void Render(Bar bar, Span<float> image, Span<int> labels)
    {
        int w = bar.Width;
        int firstColumn = (Size - bar.Length) / 2;
        int firstRow = (Size - w) / 2;
        float firstEnd = bar.Class == 1 || (bar.Class == 2 && bar.WhiteFirst) ? White : Black;
        float lastEnd = bar.Class == 1 || (bar.Class == 2 && !bar.WhiteFirst) ? White : Black;
        double radians = bar.Angle * (Math.PI / 180);
        double cos = Math.Cos(radians), sin = Math.Sin(radians);

        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                double dx = x - Centre, dy = y - Centre;

                // Rotated back by -angle, then rounded to the nearest unrotated pixel; floor(x + 0.5), not Math.Round, whose ties go to even.
                int column = (int)Math.Floor((cos * dx) + (sin * dy) + Centre + 0.5) - firstColumn;
                int row = (int)Math.Floor((-sin * dx) + (cos * dy) + Centre + 0.5) - firstRow;
                bool onBar = (uint)column < (uint)bar.Length && (uint)row < (uint)w;
                image[(y * Size) + x] = !onBar ? Background
                    : column < w ? firstEnd
                    : column >= bar.Length - w ? lastEnd
                    : Body;
                labels[(y * Size) + x] = onBar ? bar.Class : 0;
            }
        }
    }

    /// <summary>
    /// One image's bar: its class (1..3), width, length, angle in degrees and, for class 2, whether the first end (the
    /// unrotated left one) is the white one; false for the other classes.
    /// </summary>
    internal readonly record struct Bar(int Class, int Width, int Length, double Angle, bool WhiteFirst)
    {
        /// <summary>The next bar from <paramref name="random"/>, drawn as the class remarks describe.</summary>
        public static Bar Next(ref SeededRandom random)
        {
            int label = Uniform(ref random, 1, 3);
            int width = Uniform(ref random, 4, 7);
            int length = Uniform(ref random, 32, 59);
            double angle = (360 * random.NextDouble()) - 180;
            bool whiteFirst = label == 2 && random.NextDouble() < 0.5;
            return new Bar(label, width, length, angle, whiteFirst);
        }

        /// <summary>Uniform in [min, max]: 53 random bits make the bias of scaling negligible for a handful of values.</summary>
        private static int Uniform(ref SeededRandom random, int min, int max) => min + (int)(random.NextDouble() * (max - min + 1));
    }
}
