using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace NetCompiler;

/// <summary>
/// Writes 8-bit grey-scale and RGB images as PNG files (ISO/IEC 15948): signature, IHDR, one IDAT compressed with
/// zlib, IEND, each chunk with its CRC-32. Rows are stored unfiltered (filter type 0): the images here are small
/// and the writer stays simple.
/// </summary>
public static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>Writes <paramref name="image"/> as a PNG file, through a temporary file renamed into place so a
    /// reader never sees half a file. The directory must exist.</summary>
    public static void Save(string path, RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        AtomicFile.Write(path, stream => Write(stream, image));
    }

    /// <summary>Writes <paramref name="image"/> as a PNG stream to <paramref name="destination"/>.</summary>
    public static void Write(Stream destination, RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(image);
        destination.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8;                                   // bit depth
        header[9] = (byte)(image.Channels == 1 ? 0 : 2); // colour type: grey-scale or truecolour
        header[10] = 0;                                  // compression: deflate
        header[11] = 0;                                  // filter method: adaptive (each row says its filter)
        header[12] = 0;                                  // no interlace
        WriteChunk(destination, "IHDR", header);

        int stride = image.Width * image.Channels;
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int row = 0; row < image.Height; row++)
            {
                zlib.WriteByte(0); // filter type None
                zlib.Write(image.Pixels, row * stride, stride);
            }
        }

        WriteChunk(destination, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(destination, "IEND", []);
    }

    private static void WriteChunk(Stream destination, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> field = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(field, data.Length);
        destination.Write(field);
        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        destination.Write(typeBytes);
        destination.Write(data);

        // The CRC covers the type and the data, not the length.
        BinaryPrimitives.WriteUInt32BigEndian(field, ~Update(Update(0xFFFFFFFFu, typeBytes), data));
        destination.Write(field);
    }

    /// <summary>Runs the CRC-32 of ISO 3309 (reflected polynomial 0xEDB88320) over <paramref name="data"/>.</summary>
    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte value in data)
        {
            crc = CrcTable[(crc ^ value) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}

/// <summary>
/// An 8-bit image held in memory, row-major, one byte per channel: grey-scale (1 channel) or RGB (3 channels, in
/// that order). The factories turn float maps (saliency, Grad-CAM, weights) into pictures; <see cref="Upscale"/>,
/// <see cref="Overlay"/> and <see cref="Grid"/> compose them and <see cref="Save"/> writes a PNG.
/// </summary>
public sealed class RasterImage
{
    /// <summary>Wraps <paramref name="pixels"/> (width * height * channels bytes, row-major) without copying.</summary>
    /// <exception cref="ArgumentException">The channel count is not 1 or 3, or the pixel count does not match.</exception>
    public RasterImage(byte[] pixels, int width, int height, int channels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "An image has 1 (grey-scale) or 3 (RGB) channels.");
        }

        if (pixels.LongLength != (long)width * height * channels)
        {
            throw new ArgumentException(
                $"{pixels.Length} bytes are not a {width}x{height} image of {channels} channel(s) ({(long)width * height * channels} bytes).", nameof(pixels));
        }

        Pixels = pixels;
        Width = width;
        Height = height;
        Channels = channels;
    }

    /// <summary>A black image.</summary>
    public RasterImage(int width, int height, int channels)
        : this(new byte[checked(width * height * channels)], width, height, channels)
    {
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>1 for grey-scale, 3 for RGB.</summary>
    public int Channels { get; }

    /// <summary>Row-major bytes, <see cref="Channels"/> per pixel.</summary>
    public byte[] Pixels { get; }

    /// <summary>A grey-scale picture of a height x width map, scaled so its minimum is black and its maximum white
    /// (a constant map is black).</summary>
    public static RasterImage Grayscale(ReadOnlySpan<float> values, int width, int height)
    {
        (float min, float max) = Range(values, width, height);
        return Grayscale(values, width, height, min, max);
    }

    /// <summary>A grey-scale picture of a height x width map on a fixed scale: <paramref name="black"/> and below are
    /// black, <paramref name="white"/> and above white. A fixed scale keeps several pictures comparable (an image and
    /// its adversarial version).</summary>
    public static RasterImage Grayscale(ReadOnlySpan<float> values, int width, int height, float black, float white)
    {
        CheckMap(values, width, height);
        CheckScale(black, white);
        var image = new RasterImage(width, height, 1);
        float scale = white > black ? 1f / (white - black) : 0f;
        for (int i = 0; i < values.Length; i++)
        {
            image.Pixels[i] = ToByte((values[i] - black) * scale);
        }

        return image;
    }

    /// <summary>A heat map of a height x width map in the jet colour map (blue, cyan, green, yellow, red) that the
    /// Grad-CAM paper's figures use, scaled so the minimum is blue and the maximum red.</summary>
    public static RasterImage Heat(ReadOnlySpan<float> values, int width, int height)
    {
        (float min, float max) = Range(values, width, height);
        var image = new RasterImage(width, height, 3);
        float scale = max > min ? 1f / (max - min) : 0f;
        for (int i = 0; i < values.Length; i++)
        {
            float t = (values[i] - min) * scale;

            // Jet: red, green and blue are trapezoids centred at 3/4, 1/2 and 1/4, full within 1/8 of the centre, zero beyond 3/8.
            image.Pixels[3 * i] = ToByte(1.5f - Math.Abs((4 * t) - 3));
            image.Pixels[(3 * i) + 1] = ToByte(1.5f - Math.Abs((4 * t) - 2));
            image.Pixels[(3 * i) + 2] = ToByte(1.5f - Math.Abs((4 * t) - 1));
        }

        return image;
    }

    /// <summary>A picture of a signed height x width map in a diverging colour map: negative values blue, zero white,
    /// positive red, saturating at the largest magnitude in the map.</summary>
    public static RasterImage Diverging(ReadOnlySpan<float> values, int width, int height)
    {
        (float min, float max) = Range(values, width, height);
        return Diverging(values, width, height, Math.Max(Math.Abs(min), Math.Abs(max)));
    }

    /// <summary>A picture of a signed height x width map in a diverging colour map on a fixed scale: -<paramref name="limit"/>
    /// and below full blue, zero white, <paramref name="limit"/> and above full red.</summary>
    public static RasterImage Diverging(ReadOnlySpan<float> values, int width, int height, float limit)
    {
        CheckMap(values, width, height);
        if (!(float.IsFinite(limit) && limit >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit is a finite magnitude, zero or more.");
        }

        var image = new RasterImage(width, height, 3);
        float scale = limit > 0 ? 1f / limit : 0f;
        for (int i = 0; i < values.Length; i++)
        {
            float t = Math.Clamp(values[i] * scale, -1f, 1f);

            // Fade the other two primaries towards the sign's colour: red for positive, blue for negative.
            byte faded = ToByte(1f - Math.Abs(t));
            image.Pixels[3 * i] = t < 0 ? faded : (byte)255;
            image.Pixels[(3 * i) + 1] = faded;
            image.Pixels[(3 * i) + 2] = t > 0 ? faded : (byte)255;
        }

        return image;
    }

    /// <summary>This image with <paramref name="top"/> blended over it: (1 - opacity) * this + opacity * top, per
    /// channel; the result is RGB when either is. The two must be the same size.</summary>
    public RasterImage Overlay(RasterImage top, float opacity)
    {
        ArgumentNullException.ThrowIfNull(top);
        if (top.Width != Width || top.Height != Height)
        {
            throw new ArgumentException($"The overlay is {top.Width}x{top.Height}; it must match this {Width}x{Height} image.", nameof(top));
        }

        if (!(opacity is >= 0f and <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(opacity), opacity, "The opacity is in [0, 1].");
        }

        int channels = Math.Max(Channels, top.Channels);
        var result = new RasterImage(Width, Height, channels);
        for (int pixel = 0; pixel < Width * Height; pixel++)
        {
            for (int c = 0; c < channels; c++)
            {
                float below = Pixels[(pixel * Channels) + Math.Min(c, Channels - 1)];
                float above = top.Pixels[(pixel * top.Channels) + Math.Min(c, top.Channels - 1)];
                result.Pixels[(pixel * channels) + c] = (byte)MathF.Round(((1 - opacity) * below) + (opacity * above));
            }
        }

        return result;
    }

    /// <summary>This image enlarged <paramref name="factor"/> times by nearest neighbour, so each pixel becomes a
    /// factor x factor block: small inputs stay crisp.</summary>
    public RasterImage Upscale(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        var result = new RasterImage(checked(Width * factor), checked(Height * factor), Channels);
        int rowBytes = result.Width * Channels;
        for (int y = 0; y < result.Height; y++)
        {
            Span<byte> row = result.Pixels.AsSpan(y * rowBytes, rowBytes);
            int source = (y / factor) * Width * Channels;
            for (int x = 0; x < result.Width; x++)
            {
                Pixels.AsSpan(source + ((x / factor) * Channels), Channels).CopyTo(row.Slice(x * Channels, Channels));
            }
        }

        return result;
    }

    /// <summary>
    /// Tiles <paramref name="tiles"/> row by row, <paramref name="columns"/> to a row, with <paramref name="margin"/>
    /// pixels of <paramref name="background"/> around and between them. Each cell is as large as the largest tile,
    /// which sits in its top-left corner; the grid is RGB when any tile is.
    /// </summary>
    public static RasterImage Grid(IReadOnlyList<RasterImage> tiles, int columns, int margin = 2, byte background = 255)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.Count == 0)
        {
            throw new ArgumentException("A grid needs at least one tile.", nameof(tiles));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(margin);
        int cellWidth = 0, cellHeight = 0, channels = 1;
        for (int i = 0; i < tiles.Count; i++)
        {
            RasterImage tile = tiles[i] ?? throw new ArgumentException($"Tile {i} is null.", nameof(tiles));
            cellWidth = Math.Max(cellWidth, tile.Width);
            cellHeight = Math.Max(cellHeight, tile.Height);
            channels = Math.Max(channels, tile.Channels);
        }

        columns = Math.Min(columns, tiles.Count);
        int rows = (tiles.Count + columns - 1) / columns;
        var grid = new RasterImage(
            checked(margin + (columns * (cellWidth + margin))), checked(margin + (rows * (cellHeight + margin))), channels);
        Array.Fill(grid.Pixels, background);
        for (int i = 0; i < tiles.Count; i++)
        {
            RasterImage tile = tiles[i];
            int left = margin + ((i % columns) * (cellWidth + margin));
            int top = margin + ((i / columns) * (cellHeight + margin));
            for (int y = 0; y < tile.Height; y++)
            {
                for (int x = 0; x < tile.Width; x++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        // A grey tile in an RGB grid repeats its one channel.
                        grid.Pixels[((((top + y) * grid.Width) + left + x) * channels) + c] =
                            tile.Pixels[(((y * tile.Width) + x) * tile.Channels) + Math.Min(c, tile.Channels - 1)];
                    }
                }
            }
        }

        return grid;
    }

    /// <summary>Writes this image as a PNG file (see <see cref="PngWriter.Save"/>).</summary>
    public void Save(string path) => PngWriter.Save(path, this);

    private static (float Min, float Max) Range(ReadOnlySpan<float> values, int width, int height)
    {
        CheckMap(values, width, height);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float value in values)
        {
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        return (min, max);
    }

    private static void CheckMap(ReadOnlySpan<float> values, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (values.Length != (long)width * height)
        {
            throw new ArgumentException($"{values.Length} values are not a {width}x{height} map ({(long)width * height} values).", nameof(values));
        }

        foreach (float value in values)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException($"The map holds {value}; its values must be finite.", nameof(values));
            }
        }
    }

    private static void CheckScale(float black, float white)
    {
        if (!(float.IsFinite(black) && float.IsFinite(white) && black <= white))
        {
            throw new ArgumentException($"The scale [{black}, {white}] is not a finite range with black <= white.", nameof(black));
        }
    }

    private static byte ToByte(float unit) => (byte)MathF.Round(Math.Clamp(unit, 0f, 1f) * 255f);
}
