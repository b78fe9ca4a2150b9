using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace NetCompiler;

/// <summary>The element types of the safetensors format, spelled as in its header.</summary>
public enum SafeTensorsDType
{
    BOOL,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

/// <summary>One tensor's entry in a safetensors header; its offsets count from the start of the data section.</summary>
public sealed class SafeTensorInfo
{
    internal SafeTensorInfo(string name, SafeTensorsDType dtype, long[] shape, long start, long end)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Start = start;
        End = end;
    }

    public string Name { get; }

    public SafeTensorsDType DType { get; }

    /// <summary>The dimensions; empty for a scalar (PyTorch's 0-dim tensors, such as num_batches_tracked).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The first byte of the tensor's data, relative to the data section.</summary>
    public long Start { get; }

    /// <summary>One past the last byte of the tensor's data, relative to the data section.</summary>
    public long End { get; }

    public long ByteLength => End - Start;

    public override string ToString() => $"{Name} {DType} {SafeTensors.FormatShape(Shape)}";
}

/// <summary>A validated safetensors header: the tensors in data order and the free-form metadata.</summary>
public sealed class SafeTensorsHeader
{
    internal SafeTensorsHeader(IReadOnlyList<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
        DataLength = tensors.Count == 0 ? 0 : tensors[^1].End;
    }

    /// <summary>Every tensor, sorted by offset: together they cover the data section without gaps or overlaps.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> map; empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The size of the data section in bytes.</summary>
    public long DataLength { get; }
}

/// <summary>A named tensor with its raw little-endian data, as read from or written to a safetensors file.</summary>
public sealed class SafeTensor
{
    /// <exception cref="ArgumentException">The data's length is not the shape's element count times the dtype's size.</exception>
    public SafeTensor(string name, SafeTensorsDType dtype, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (SafeTensors.ByteLength(dtype, shape) != data.Length)
        {
            throw new ArgumentException(
                $"Tensor '{name}': {data.Length} bytes is not the size of a {dtype} tensor of shape {SafeTensors.FormatShape(shape)}.", nameof(data));
        }

        Name = name;
        DType = dtype;
        Shape = shape.ToArray();
        Data = data;
    }

    public string Name { get; }

    public SafeTensorsDType DType { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements, little-endian, row-major.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>A float32 tensor holding a copy of <paramref name="values"/>.</summary>
    public static SafeTensor Float32(string name, IReadOnlyList<long> shape, ReadOnlySpan<float> values) =>
        new(name, SafeTensorsDType.F32, shape, SafeTensors.ToLittleEndian(values));

    /// <summary>An int64 tensor holding a copy of <paramref name="values"/>.</summary>
    public static SafeTensor Int64(string name, IReadOnlyList<long> shape, ReadOnlySpan<long> values) =>
        new(name, SafeTensorsDType.I64, shape, SafeTensors.ToLittleEndian(values));

    /// <summary>The elements of an F32 tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not F32.</exception>
    public float[] ToFloat32Array() => SafeTensors.FromLittleEndian<float>(Data.Span, Check(SafeTensorsDType.F32));

    /// <summary>The elements of an I64 tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not I64.</exception>
    public long[] ToInt64Array() => SafeTensors.FromLittleEndian<long>(Data.Span, Check(SafeTensorsDType.I64));

    public override string ToString() => $"{Name} {DType} {SafeTensors.FormatShape(Shape)}";

    private int Check(SafeTensorsDType expected) => DType == expected
        ? Data.Length / SafeTensors.ElementSize(expected)
        : throw new InvalidOperationException($"Tensor '{Name}' is {DType}, not {expected}.");
}

/// <summary>
/// The safetensors format (github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON header
/// mapping each tensor name to its dtype, shape and data_offsets (plus an optional <c>__metadata__</c> map of strings),
/// then the data section. The reader enforces the reference implementation's rules (the header size limit, sizes
/// that match dtype and shape, a data section fully indexed without gaps or overlaps), so the files it writes load
/// in PyTorch; every problem is a <see cref="CheckpointException"/> naming the file and the tensor.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header accepted, the reference implementation's limit: it bounds what a bad length can allocate.</summary>
    public const int MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Reads a whole safetensors file: its metadata and every tensor with its data.</summary>
    /// <exception cref="CheckpointException">The file is not a valid safetensors file.</exception>
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<SafeTensor> Tensors) Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(file, path);
    }

    /// <summary>Reads a whole safetensors file from <paramref name="stream"/>'s current position to its end.</summary>
    /// <param name="source">The file's name for error messages.</param>
    /// <exception cref="CheckpointException">The stream does not hold a valid safetensors file.</exception>
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<SafeTensor> Tensors) Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // Only a known length lets the header's sizes be checked before anything is allocated for them.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        SafeTensorsHeader header = ReadHeader(stream, source);
        byte[][] data = header.Tensors.Select(t => new byte[t.ByteLength]).ToArray();
        ReadData(stream, header, source, data);
        var tensors = new SafeTensor[data.Length];
        for (int i = 0; i < tensors.Length; i++)
        {
            SafeTensorInfo info = header.Tensors[i];
            tensors[i] = new SafeTensor(info.Name, info.DType, info.Shape, data[i]);
        }

        return (header.Metadata, tensors);
    }

    /// <summary>
    /// Reads and validates the header at <paramref name="stream"/>'s position, leaving the stream at the start of the
    /// data section. On a seekable stream it also checks the data section's length, so no tensor runs past the end.
    /// </summary>
    /// <param name="source">The file's name for error messages.</param>
    /// <exception cref="CheckpointException">The header is truncated, too long, malformed or inconsistent.</exception>
    public static SafeTensorsHeader ReadHeader(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        long available = stream.CanSeek ? stream.Length - stream.Position : -1;
        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < prefix.Length)
        {
            throw new CheckpointException(source, null, $"the file is {got} bytes long, too short for the 8-byte header length (truncated?).");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderLength)
        {
            throw new CheckpointException(source, null, $"the header length {headerLength} exceeds the safetensors limit of {MaxHeaderLength} bytes.");
        }

        if (available >= 0 && (long)headerLength > available - prefix.Length)
        {
            throw new CheckpointException(source, null,
                $"the header length {headerLength} runs past the end of the file ({available} bytes, {available - prefix.Length} after the length).");
        }

        byte[] json = ReadGrowing(stream, (int)headerLength, source);
        SafeTensorsHeader header = ParseHeader(json, source);
        if (available >= 0)
        {
            long dataAvailable = available - prefix.Length - (long)headerLength;
            CheckDataLength(header, dataAvailable, source);
        }

        return header;
    }

    /// <summary>
    /// Writes a safetensors file: the tensors' header entries in the order given, their data sorted by element size,
    /// largest first, so every tensor is aligned to its element size (the header is padded to a multiple of 8 bytes
    /// with spaces, as the reference writer does).
    /// </summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or one is named <c>__metadata__</c>.</exception>
    public static void Write(Stream stream, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (SafeTensor tensor in tensors)
        {
            if (tensor.Name == MetadataKey || !names.Add(tensor.Name))
            {
                throw new ArgumentException($"Tensor name '{tensor.Name}' is reserved or used twice.", nameof(tensors));
            }
        }

        SafeTensor[] dataOrder = [.. tensors.OrderByDescending(t => ElementSize(t.DType))];
        var start = new Dictionary<SafeTensor, long>(ReferenceEqualityComparer.Instance);
        long offset = 0;
        foreach (SafeTensor tensor in dataOrder)
        {
            start[tensor] = offset;
            offset += tensor.Data.Length;
        }

        var header = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach ((string key, string value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            foreach (SafeTensor tensor in tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.ToString());
                json.WriteStartArray("shape");
                foreach (long dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(start[tensor]);
                json.WriteNumberValue(start[tensor] + tensor.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        int padding = (8 - (header.WrittenCount % 8)) % 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(header.WrittenCount + padding));
        stream.Write(prefix);
        stream.Write(header.WrittenSpan);
        for (int i = 0; i < padding; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (SafeTensor tensor in dataOrder)
        {
            stream.Write(tensor.Data.Span);
        }
    }

    /// <summary>
    /// Reads the data section that follows <paramref name="header"/> into one buffer per tensor, in the header's
    /// (data) order; each buffer must be the tensor's byte length, or null to skip the tensor's bytes. The stream must
    /// end with the last tensor.
    /// </summary>
    internal static void ReadData(Stream stream, SafeTensorsHeader header, string source, IReadOnlyList<byte[]?> destinations)
    {
        byte[]? scratch = null;
        for (int i = 0; i < header.Tensors.Count; i++)
        {
            SafeTensorInfo tensor = header.Tensors[i];
            long got = 0;
            if (destinations[i] is byte[] destination)
            {
                got = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            }
            else
            {
                scratch ??= new byte[1 << 16];
                int read;
                do
                {
                    read = stream.Read(scratch, 0, (int)Math.Min(scratch.Length, tensor.ByteLength - got));
                    got += read;
                }
                while (read > 0 && got < tensor.ByteLength);
            }

            if (got < tensor.ByteLength)
            {
                throw new CheckpointException(source, tensor.Name,
                    $"the file ends {got} bytes into this tensor's {tensor.ByteLength} bytes of data (truncated?).");
            }
        }

        if (!stream.CanSeek && stream.ReadByte() >= 0)
        {
            throw new CheckpointException(source, null, "there are bytes after the last tensor's data; safetensors data sections are fully indexed.");
        }
    }

    /// <summary>The bytes of one element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.BOOL or SafeTensorsDType.U8 or SafeTensorsDType.I8 or SafeTensorsDType.F8_E5M2 or SafeTensorsDType.F8_E4M3 => 1,
        SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.I32 or SafeTensorsDType.U32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.F64 or SafeTensorsDType.I64 or SafeTensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>A shape as PyTorch prints it: "[4, 1, 3, 3]", "[]" for a scalar.</summary>
    internal static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The byte size of a tensor, or null when it does not fit in a long (a corrupt shape).</summary>
    internal static long? ByteLength(SafeTensorsDType dtype, IEnumerable<long> shape)
    {
        long bytes = ElementSize(dtype);
        foreach (long dimension in shape)
        {
            if (dimension < 0 || (dimension != 0 && bytes > long.MaxValue / dimension))
            {
                return null;
            }

            bytes *= dimension;
        }

        return bytes;
    }

    internal static byte[] ToLittleEndian<T>(ReadOnlySpan<T> values)
        where T : unmanaged
    {
        byte[] bytes = MemoryMarshal.AsBytes(values).ToArray();
        SwapIfBigEndian<T>(bytes);
        return bytes;
    }

    internal static T[] FromLittleEndian<T>(ReadOnlySpan<byte> bytes, int count)
        where T : unmanaged
    {
        var values = new T[count];
        Span<byte> destination = MemoryMarshal.AsBytes(values.AsSpan());
        bytes.CopyTo(destination);
        SwapIfBigEndian<T>(destination);
        return values;
    }

    /// <summary>
    /// Turns little-endian elements into host order and back (its own inverse); nothing to do on little-endian hosts.
    /// Only the 4- and 8-byte elements of F32 and I64 tensors are ever converted.
    /// </summary>
    private static void SwapIfBigEndian<T>(Span<byte> bytes)
        where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            return;
        }

        if (Unsafe.SizeOf<T>() == sizeof(int))
        {
            Span<int> words = MemoryMarshal.Cast<byte, int>(bytes);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        else
        {
            Span<long> words = MemoryMarshal.Cast<byte, long>(bytes);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes, growing the buffer as data arrives: on a stream of unknown length a
    /// corrupt length can then allocate only about what the stream really holds.
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, int length, string source)
    {
        byte[] buffer = new byte[Math.Min(length, 1 << 16)];
        int filled = 0;
        while (true)
        {
            filled += stream.ReadAtLeast(buffer.AsSpan(filled), buffer.Length - filled, throwOnEndOfStream: false);
            if (filled < buffer.Length)
            {
                throw new CheckpointException(source, null, $"the file ends {filled} bytes into the {length}-byte header (truncated?).");
            }

            if (filled == length)
            {
                return buffer;
            }

            Array.Resize(ref buffer, (int)Math.Min(length, buffer.Length * 2L));
        }
    }

    private static SafeTensorsHeader ParseHeader(byte[] json, string source)
    {
        if (!Utf8.IsValid(json))
        {
            throw new CheckpointException(source, null, "the header is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException error)
        {
            throw new CheckpointException(source, null, $"the header is not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException(source, null, $"the header is a JSON {document.RootElement.ValueKind}, not an object.");
            }

            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                string name = NameOf(property, source);
                if (!names.Add(name))
                {
                    throw new CheckpointException(source, name, "appears twice in the header.");
                }

                if (name == MetadataKey)
                {
                    ParseMetadata(property.Value, metadata, source);
                }
                else
                {
                    tensors.Add(ParseTensor(name, property.Value, source));
                }
            }

            tensors.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.End.CompareTo(b.End));
            CheckContiguous(tensors, source);
            return new SafeTensorsHeader(tensors, metadata);
        }
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return; // the reference reader takes a null __metadata__ as none
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(source, null, $"{MetadataKey} is a JSON {value.ValueKind}, not an object of strings.");
        }

        foreach (JsonProperty entry in value.EnumerateObject())
        {
            string key = NameOf(entry, source);
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException(source, null, $"{MetadataKey} entry '{key}' is a JSON {entry.Value.ValueKind}, not a string.");
            }

            if (!metadata.TryAdd(key, StringOf(entry.Value, source)))
            {
                throw new CheckpointException(source, null, $"{MetadataKey} entry '{key}' appears twice.");
            }
        }
    }

    private static SafeTensorInfo ParseTensor(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(source, name, $"the header entry is a JSON {value.ValueKind}, not an object with dtype, shape and data_offsets.");
        }

        SafeTensorsDType? dtype = null;
        long[]? shape = null, offsets = null;
        // Other fields are ignored, as the reference reader ignores them; a known one given twice is an error there too.
        foreach (JsonProperty field in value.EnumerateObject())
        {
            string key = NameOf(field, source);
            if ((key == "dtype" && dtype is not null) || (key == "shape" && shape is not null) || (key == "data_offsets" && offsets is not null))
            {
                throw new CheckpointException(source, name, $"the header entry has '{key}' twice.");
            }

            switch (key)
            {
                case "dtype":
                    dtype = ParseDType(field.Value, name, source);
                    break;
                case "shape":
                    shape = ParseIntegers(field.Value, "shape", name, source);
                    break;
                case "data_offsets":
                    offsets = ParseIntegers(field.Value, "data_offsets", name, source);
                    break;
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw new CheckpointException(source, name, $"the header entry has no '{missing}'.");
        }

        if (offsets.Length != 2 || offsets[0] > offsets[1])
        {
            throw new CheckpointException(source, name, $"data_offsets {FormatShape(offsets)} is not a [start, end] pair with start <= end.");
        }

        long? bytes = ByteLength(dtype.Value, shape);
        if (bytes != offsets[1] - offsets[0])
        {
            throw new CheckpointException(source, name,
                $"data_offsets {FormatShape(offsets)} span {offsets[1] - offsets[0]} bytes, but a {dtype} tensor of shape {FormatShape(shape)} "
                + (bytes is null ? "is too large to exist." : $"has {bytes}."));
        }

        return new SafeTensorInfo(name, dtype.Value, shape, offsets[0], offsets[1]);
    }

    private static SafeTensorsDType ParseDType(JsonElement value, string name, string source)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointException(source, name, $"dtype is a JSON {value.ValueKind}, not a string.");
        }

        string text = StringOf(value, source);
        return text switch
        {
            "BOOL" => SafeTensorsDType.BOOL,
            "U8" => SafeTensorsDType.U8,
            "I8" => SafeTensorsDType.I8,
            "F8_E5M2" => SafeTensorsDType.F8_E5M2,
            "F8_E4M3" => SafeTensorsDType.F8_E4M3,
            "I16" => SafeTensorsDType.I16,
            "U16" => SafeTensorsDType.U16,
            "F16" => SafeTensorsDType.F16,
            "BF16" => SafeTensorsDType.BF16,
            "I32" => SafeTensorsDType.I32,
            "U32" => SafeTensorsDType.U32,
            "F32" => SafeTensorsDType.F32,
            "F64" => SafeTensorsDType.F64,
            "I64" => SafeTensorsDType.I64,
            "U64" => SafeTensorsDType.U64,
            _ => throw new CheckpointException(source, name, $"unknown dtype '{text}'."),
        };
    }

    private static string NameOf(JsonProperty property, string source)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException error)
        {
            throw NotText(source, error);
        }
    }

    private static string StringOf(JsonElement value, string source)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException error)
        {
            throw NotText(source, error);
        }
    }

    /// <summary>The parser accepts escapes such as a lone "\ud800" that no .NET string can hold; they fail only when read.</summary>
    private static CheckpointException NotText(string source, InvalidOperationException error) =>
        new(source, null, $"the header is not valid JSON: {error.Message}", error);

    private static long[] ParseIntegers(JsonElement value, string field, string name, string source)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointException(source, name, $"{field} is a JSON {value.ValueKind}, not an array of integers.");
        }

        var integers = new long[value.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out integers[i]) || integers[i] < 0)
            {
                throw new CheckpointException(source, name, $"{field}[{i}] is {item.GetRawText()}, not a non-negative integer.");
            }

            i++;
        }

        return integers;
    }

    /// <summary>The data section must be fully indexed: sorted by offset, each tensor starts where the previous one ended.</summary>
    private static void CheckContiguous(List<SafeTensorInfo> tensors, string source)
    {
        long end = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            SafeTensorInfo tensor = tensors[i];
            if (tensor.Start < end)
            {
                SafeTensorInfo previous = tensors[i - 1];
                throw new CheckpointException(source, tensor.Name,
                    $"data_offsets [{tensor.Start}, {tensor.End}] overlap those of '{previous.Name}' [{previous.Start}, {previous.End}].");
            }

            if (tensor.Start > end)
            {
                throw new CheckpointException(source, tensor.Name,
                    $"data_offsets [{tensor.Start}, {tensor.End}] leave bytes {end} to {tensor.Start} of the data section unused; safetensors data sections are fully indexed.");
            }

            end = tensor.End;
        }
    }

    private static void CheckDataLength(SafeTensorsHeader header, long dataAvailable, string source)
    {
        foreach (SafeTensorInfo tensor in header.Tensors)
        {
            if (tensor.End > dataAvailable)
            {
                throw new CheckpointException(source, tensor.Name,
                    $"data_offsets [{tensor.Start}, {tensor.End}] run past the end of the data section ({dataAvailable} bytes; truncated?).");
            }
        }

        if (dataAvailable > header.DataLength)
        {
            throw new CheckpointException(source, null,
                $"the data section has {dataAvailable} bytes but its tensors use {header.DataLength}; safetensors data sections are fully indexed.");
        }
    }
}

/// <summary>
/// A checkpoint that cannot be read or does not fit the network: the message names the file and, where there is
/// one, the tensor. A failed load leaves the network as it was. It is an <see cref="IOException"/>, so code that
/// handles an unreadable checkpoint handles a corrupt one too.
/// </summary>
public sealed class CheckpointException : IOException
{
    public CheckpointException(string fileName, string? tensorName, string problem, Exception? inner = null)
        : base(tensorName is null ? $"Checkpoint '{fileName}': {problem}" : $"Checkpoint '{fileName}', tensor '{tensorName}': {problem}", inner)
    {
        FileName = fileName;
        TensorName = tensorName;
    }

    /// <summary>The checkpoint file (or "(stream)" when read from a stream with no file behind it).</summary>
    public string FileName { get; }

    /// <summary>The tensor at fault, or null where the problem is the file as a whole.</summary>
    public string? TensorName { get; }
}
