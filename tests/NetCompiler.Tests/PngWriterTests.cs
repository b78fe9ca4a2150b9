using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>PNG output read back by a decoder written here from the specification, and the picture helpers.</summary>
public sealed class PngWriterTests
{
    /// <summary>A decoded PNG: the IHDR fields, the chunk types in order and the pixels.</summary>
    private sealed record Decoded(int Width, int Height, byte BitDepth, byte ColorType, byte Compression, byte Filter, byte Interlace, List<string> Chunks, byte[] Pixels);

    [Fact]
    public void GrayscaleRoundTripsThroughAnIndependentDecoder()
    {
        var pixels = new byte[13 * 7];
        new Random(1).NextBytes(pixels);
        Decoded png = Decode(Encode(new RasterImage(pixels, width: 13, height: 7, channels: 1)));

        Assert.Equal((13, 7, (byte)8, (byte)0), (png.Width, png.Height, png.BitDepth, png.ColorType));
        Assert.Equal((0, 0, 0), (png.Compression, png.Filter, png.Interlace));
        Assert.Equal(pixels, png.Pixels);
    }

    [Fact]
    public void RgbRoundTripsThroughAnIndependentDecoder()
    {
        var pixels = new byte[5 * 9 * 3];
        new Random(2).NextBytes(pixels);
        Decoded png = Decode(Encode(new RasterImage(pixels, width: 5, height: 9, channels: 3)));

        Assert.Equal((5, 9, (byte)8, (byte)2), (png.Width, png.Height, png.BitDepth, png.ColorType));
        Assert.Equal(pixels, png.Pixels);
    }

    [Fact]
    public void ChunksComeInOrderAndEndWithTheStandardIend()
    {
        byte[] bytes = Encode(new RasterImage(3, 2, 1));
        Assert.Equal(["IHDR", "IDAT", "IEND"], Decode(bytes).Chunks);

        // IEND is always the same 12 bytes: length 0, the type, and the CRC of "IEND" that every PNG ends with.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82 }, bytes[^12..]);
    }

    [Fact]
    public void TheDecoderRejectsACorruptedChunk()
    {
        byte[] bytes = Encode(new RasterImage(4, 4, 3));
        bytes[8 + 8 + 3] ^= 1; // a bit of IHDR's width: its CRC no longer matches
        Assert.Throws<InvalidDataException>(() => Decode(bytes));
    }

    [Fact]
    public void SaveReplacesTheFileAndLeavesNoTemporaryBehind()
    {
        string directory = Directory.CreateTempSubdirectory("png-").FullName;
        try
        {
            string path = Path.Combine(directory, "picture.png");
            File.WriteAllText(path, "an older file");
            var pixels = new byte[6 * 4];
            new Random(3).NextBytes(pixels);
            new RasterImage(pixels, 6, 4, 1).Save(path);

            Assert.Equal(pixels, Decode(File.ReadAllBytes(path)).Pixels);
            Assert.Equal(["picture.png"], Directory.GetFiles(directory).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void GrayscaleScalesMinimumToBlackAndMaximumToWhite()
    {
        Assert.Equal(new byte[] { 0, 64, 255, 128 }, RasterImage.Grayscale([-1f, 0f, 3f, 1f], 2, 2).Pixels);
        Assert.Equal(new byte[] { 0, 0 }, RasterImage.Grayscale([5f, 5f], 2, 1).Pixels);

        // A fixed scale clamps values outside it.
        Assert.Equal(new byte[] { 0, 0, 128, 255, 255 }, RasterImage.Grayscale([-3f, 0f, 1f, 2f, 9f], 5, 1, black: 0f, white: 2f).Pixels);
    }

    [Fact]
    public void HeatRunsFromDarkBlueThroughGreenToDarkRed()
    {
        RasterImage heat = RasterImage.Heat([0f, 2f, 4f], 3, 1);
        Assert.Equal(new byte[] { 0, 0, 128, 128, 255, 128, 128, 0, 0 }, heat.Pixels);
    }

    [Fact]
    public void DivergingIsBlueBelowZeroWhiteAtZeroAndRedAbove()
    {
        RasterImage diverging = RasterImage.Diverging([-2f, -1f, 0f, 1f, 4f], 5, 1, limit: 2f);
        Assert.Equal(new byte[] { 0, 0, 255, 128, 128, 255, 255, 255, 255, 255, 128, 128, 255, 0, 0 }, diverging.Pixels);

        // Without a limit the largest magnitude saturates.
        Assert.Equal(new byte[] { 255, 0, 0, 191, 191, 255 }, RasterImage.Diverging([4f, -1f], 2, 1).Pixels);
    }

    [Fact]
    public void UpscaleTurnsEachPixelIntoABlock()
    {
        RasterImage image = new RasterImage([1, 2, 3, 4, 5, 6], width: 2, height: 1, channels: 3).Upscale(2);
        Assert.Equal((4, 2, 3), (image.Width, image.Height, image.Channels));
        byte[] row = [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6];
        Assert.Equal(row.Concat(row), image.Pixels);
    }

    [Fact]
    public void OverlayBlendsAndPromotesGreyToRgb()
    {
        var grey = new RasterImage([100, 200], 2, 1, 1);
        var colour = new RasterImage([0, 0, 255, 255, 0, 0], 2, 1, 3);
        Assert.Equal(new byte[] { 75, 75, 139, 214, 150, 150 }, grey.Overlay(colour, opacity: 0.25f).Pixels);
    }

    [Fact]
    public void GridPlacesTilesRowByRowWithMargins()
    {
        var grey = new RasterImage([10, 20], 1, 2, 1);
        var colour = new RasterImage([1, 2, 3], 1, 1, 3);
        RasterImage grid = RasterImage.Grid([grey, colour, grey], columns: 2, margin: 1, background: 0);

        // Cells are 1x2 (the largest tile): 2 columns and 2 rows with 1-pixel margins make 5x7, RGB.
        Assert.Equal((5, 7, 3), (grid.Width, grid.Height, grid.Channels));
        byte[] Pixel(int x, int y) => grid.Pixels.AsSpan(((y * grid.Width) + x) * 3, 3).ToArray();
        Assert.Equal(new byte[] { 10, 10, 10 }, Pixel(1, 1));
        Assert.Equal(new byte[] { 20, 20, 20 }, Pixel(1, 2));
        Assert.Equal(new byte[] { 1, 2, 3 }, Pixel(3, 1));
        Assert.Equal(new byte[] { 0, 0, 0 }, Pixel(3, 2)); // below the shorter tile: background
        Assert.Equal(new byte[] { 10, 10, 10 }, Pixel(1, 4));
        Assert.Equal(new byte[] { 0, 0, 0 }, Pixel(3, 4)); // no fourth tile
        Assert.Equal(new byte[] { 0, 0, 0 }, Pixel(0, 0));
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RasterImage(2, 2, channels: 2));
        Assert.Throws<ArgumentException>(() => new RasterImage(new byte[5], 2, 2, 1));
        Assert.Throws<ArgumentException>(() => RasterImage.Grayscale([1f, 2f, 3f], 2, 2));
        Assert.Throws<ArgumentException>(() => RasterImage.Heat([1f, float.NaN], 2, 1));
        Assert.Throws<ArgumentException>(() => RasterImage.Grayscale([1f], 1, 1, black: 2f, white: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => RasterImage.Diverging([1f], 1, 1, limit: -1f));
        Assert.Throws<ArgumentException>(() => RasterImage.Grid([], columns: 2));
        Assert.Throws<ArgumentException>(() => new RasterImage(2, 2, 1).Overlay(new RasterImage(2, 3, 1), 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RasterImage(2, 2, 1).Overlay(new RasterImage(2, 2, 1), 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RasterImage(2, 2, 1).Upscale(0));
    }

    private static byte[] Encode(RasterImage image)
    {
        using var stream = new MemoryStream();
        PngWriter.Write(stream, image);
        return stream.ToArray();
    }

    /// <summary>
    /// A minimal PNG decoder from the specification, independent of the writer: checks the signature and each chunk's
    /// CRC (computed bit by bit), reads IHDR, inflates the IDAT data and removes the filter bytes (type 0 only, which
    /// is all a non-interlaced 8-bit image written without filtering needs).
    /// </summary>
    private static Decoded Decode(byte[] png)
    {
        byte[] signature = [137, 80, 78, 71, 13, 10, 26, 10];
        if (!png.AsSpan(0, 8).SequenceEqual(signature))
        {
            throw new InvalidDataException("not a PNG signature");
        }

        var chunks = new List<string>();
        var idat = new MemoryStream();
        byte[] header = [];
        for (int at = 8; at < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            byte[] data = png.AsSpan(at + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            if (crc != BitwiseCrc32(png.AsSpan(at + 4, 4 + length)))
            {
                throw new InvalidDataException($"bad CRC on {type}");
            }

            chunks.Add(type);
            if (type == "IHDR")
            {
                header = data;
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            at += 12 + length;
        }

        int width = BinaryPrimitives.ReadInt32BigEndian(header);
        int height = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        int channels = header[9] switch { 0 => 1, 2 => 3, _ => throw new InvalidDataException("unsupported colour type") };
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        byte[] raw = inflated.ToArray();
        int stride = width * channels;
        Assert.Equal(height * (stride + 1), raw.Length);
        var pixels = new byte[height * stride];
        for (int row = 0; row < height; row++)
        {
            Assert.Equal(0, raw[row * (stride + 1)]);
            raw.AsSpan((row * (stride + 1)) + 1, stride).CopyTo(pixels.AsSpan(row * stride));
        }

        return new Decoded(width, height, header[8], header[9], header[10], header[11], header[12], chunks, pixels);
    }

    private static uint BitwiseCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte value in data)
        {
            crc ^= value;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc >> 1) ^ (0xEDB88320 & (0u - (crc & 1)));
            }
        }

        return ~crc;
    }
}
