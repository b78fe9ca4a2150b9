using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace NetCompiler;

/// <summary>
/// An array of unsigned bytes in the IDX format of the MNIST files: a big-endian magic number 0x000008RR (0x08 for
/// unsigned bytes, RR the rank), RR big-endian 32-bit dimensions, then the bytes in row-major order. Files may be
/// gzip-compressed, as Debian ships them; the reader recognises gzip by its magic bytes, not by the file name.
/// </summary>
public sealed class IdxFile
{
    private const int UnsignedByteType = 0x08;

    private IdxFile(int[] dimensions, byte[] data)
    {
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The dimensions, outermost first: [count, rows, columns] for images, [count] for labels.</summary>
    public int[] Dimensions { get; }

    /// <summary>The values in row-major order.</summary>
    public byte[] Data { get; }

    /// <summary>Reads an IDX file of unsigned bytes with <paramref name="rank"/> dimensions, plain or gzip-compressed.</summary>
    /// <exception cref="InvalidDataException">
    /// The magic number is not that of unsigned bytes of this rank, the file is shorter or longer than its header says,
    /// or its gzip data is corrupt. The message names the file.
    /// </exception>
    public static IdxFile Read(string path, int rank)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rank, byte.MaxValue);

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        using Stream stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : file;

        Span<byte> header = stackalloc byte[sizeof(int) * (1 + rank)];
        int headerRead = Read(stream, header, path);
        if (headerRead < sizeof(int))
        {
            throw new InvalidDataException($"{path}: truncated: {headerRead} bytes, too short for an IDX header.");
        }

        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        int expectedMagic = (UnsignedByteType << 8) | rank;
        if (magic != expectedMagic)
        {
            throw new InvalidDataException(
                $"{path}: wrong magic number 0x{magic:X8}; expected 0x{expectedMagic:X8}, an IDX file of unsigned bytes with {rank} dimensions.");
        }

        if (headerRead < header.Length)
        {
            throw new InvalidDataException($"{path}: truncated: the header ends after {headerRead} of its {header.Length} bytes.");
        }

        var dimensions = new int[rank];
        long length = 1;
        for (int d = 0; d < rank; d++)
        {
            dimensions[d] = BinaryPrimitives.ReadInt32BigEndian(header[(sizeof(int) * (1 + d))..]);
            if (dimensions[d] < 0)
            {
                throw new InvalidDataException($"{path}: dimension {d} is negative ({dimensions[d]}).");
            }

            length *= dimensions[d];
            if (length > Array.MaxLength)
            {
                throw new InvalidDataException($"{path}: the dimensions {Format(dimensions[..(d + 1)])} hold more bytes than an array can.");
            }
        }

        var data = new byte[length];
        int dataRead = Read(stream, data, path);
        if (dataRead < data.Length)
        {
            throw new InvalidDataException(
                $"{path}: truncated: the header promises {data.Length} bytes of data ({Format(dimensions)}) but the file holds {dataRead}.");
        }

        if (Read(stream, stackalloc byte[1], path) != 0)
        {
            throw new InvalidDataException($"{path}: the file holds more than the {data.Length} bytes of data its header promises ({Format(dimensions)}).");
        }

        return new IdxFile(dimensions, data);
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> signature = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(signature, signature.Length, throwOnEndOfStream: false) == signature.Length
            && signature[0] == 0x1F && signature[1] == 0x8B;
        file.Position = 0;
        return gzip;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the data ends; returns the bytes read.</summary>
    private static int Read(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException exception)
        {
            // GZipStream's message does not say which file it was reading.
            throw new InvalidDataException($"{path}: corrupt gzip data: {exception.Message}", exception);
        }
    }

    private static string Format(int[] dimensions) => string.Join("x", dimensions);
}
