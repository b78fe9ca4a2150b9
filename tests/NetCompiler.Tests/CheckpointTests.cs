using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using NetCompiler;

namespace NetCompiler.Tests;

// The PyTorch twins of these two networks are in Fixtures/make_fixtures.py, which made the fixture checkpoints.
[Network("1x8x8")]
[Conv(4, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Conv(6, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(8), BatchNorm, Relu, Dropout(0.5f)]
[Dense(3)]
public partial class CheckpointConvNet;

[Network("4x8x8")]
[Conv(8, 3, Stride = 2, Pad = 1, Groups = 2, Bias = false), BatchNorm, Relu]
[Conv(8, 3, Pad = 2, Dilation = 2, Groups = 8), Relu]
[ConvTranspose(6, 2, Stride = 2, Groups = 2)]
[AvgPool(2), GlobalAvgPool]
[Dense(5)]
public partial class CheckpointGroupedNet;

/// <summary>
/// Checkpoints: PyTorch's fixtures load and give PyTorch's scores, saved files have PyTorch's layout, saving is
/// atomic, and every kind of bad file fails with a message naming the file and tensor, leaving the network as it was.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    private const int BatchSize = 4;

    /// <summary>Set to a directory to export NetCompiler-saved checkpoints for `make_fixtures.py verify`.</summary>
    private const string ExportVariable = "NETCOMPILER_CHECKPOINT_EXPORT";

    private readonly string _directory = Directory.CreateTempSubdirectory("netcompiler-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("conv")]
    [InlineData("grouped")]
    public void PyTorchCheckpointLoadsAndGivesPyTorchScores(string name)
    {
        using CompiledNetwork net = Create(name, seed: 1);
        Dictionary<string, SafeTensor> io = ReadFile(Fixture(name + ".io.safetensors"));
        float[] images = io["input"].ToFloat32Array(), expected = io["output"].ToFloat32Array();
        float[] before = net.Forward(images).ToArray();
        long version = net.ParameterVersion;

        net.Load(Fixture(name + ".safetensors"));
        float[] scores = net.Forward(images).ToArray();

        // float32 with a different summation order (and batch norm folded into the weights) rounds differently
        // from PyTorch: about 1e-7 relative per operation over sums of at most a few hundred terms, so ~1e-5 at
        // worst. A misplaced or transposed weight moves the scores by a good fraction of their size.
        double scale = expected.Max(Math.Abs);
        Assert.True(MaxDifference(scores, expected) <= 1e-4 * scale, $"max |NetCompiler - PyTorch| = {MaxDifference(scores, expected)}, max |score| = {scale}");
        Assert.True(MaxDifference(before, expected) > 0.1 * scale, "the initialised network already gave PyTorch's scores, so the check proved nothing");
        Assert.True(net.ParameterVersion > version, "Load must tell the network its parameters changed");

        Dictionary<string, SafeTensor> torch = ReadFile(Fixture(name + ".safetensors"));
        Assert.NotEmpty(net.BatchCounters);
        foreach (BatchCounter counter in net.BatchCounters)
        {
            Assert.Equal(torch[counter.Name].ToInt64Array().Single(), counter.Count);
        }
    }

    [Theory]
    [InlineData("conv")]
    [InlineData("grouped")]
    public void SavedCheckpointHasPyTorchNamesShapesAndDtypes(string name)
    {
        using CompiledNetwork net = Create(name, seed: 7);
        Train(net, steps: 3);
        var file = new MemoryStream();
        net.Save(file);

        (IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafeTensor> tensors) = SafeTensors.Read(new MemoryStream(file.ToArray()), "saved");
        Dictionary<string, SafeTensor> saved = tensors.ToDictionary(t => t.Name);
        Dictionary<string, SafeTensor> torch = ReadFile(Fixture(name + ".safetensors"));
        Assert.Equal(torch.Keys.Order(StringComparer.Ordinal), saved.Keys.Order(StringComparer.Ordinal));
        foreach (SafeTensor tensor in saved.Values)
        {
            Assert.Equal(torch[tensor.Name].DType, tensor.DType);
            Assert.Equal(torch[tensor.Name].Shape, tensor.Shape);
        }

        foreach (Parameter parameter in net.Parameters)
        {
            Assert.Equal(Bits(parameter.Value), Bits(saved[parameter.Name].ToFloat32Array()));
        }

        foreach (BatchCounter counter in net.BatchCounters)
        {
            Assert.Equal(3L, saved[counter.Name].ToInt64Array().Single());
        }

        Assert.Equal("pt", metadata["format"]);
        Export(name, net, file.ToArray());
    }

    [Theory]
    [InlineData("conv")]
    [InlineData("grouped")]
    public void PyTorchCheckpointSavesBackByteForByte(string name)
    {
        using CompiledNetwork net = Create(name, seed: 1);
        net.Load(Fixture(name + ".safetensors"));
        var file = new MemoryStream();
        net.Save(file);

        Dictionary<string, SafeTensor> torch = ReadFile(Fixture(name + ".safetensors"));
        IReadOnlyList<SafeTensor> saved = SafeTensors.Read(new MemoryStream(file.ToArray()), "saved").Tensors;
        Assert.Equal(torch.Count, saved.Count);
        foreach (SafeTensor tensor in saved)
        {
            Assert.True(torch[tensor.Name].Data.Span.SequenceEqual(tensor.Data.Span), $"{tensor.Name} changed on the way through NetCompiler");
        }
    }

    [Fact]
    public void SaveThenLoadRoundTripsBitIdentically()
    {
        using var trained = new CheckpointConvNet(BatchSize, seed: 3, threads: 1);
        using var other = new CheckpointConvNet(BatchSize, seed: 4, threads: 1);
        string path = Path.Combine(_directory, "model.safetensors");
        other.Save(path);
        Train(trained, steps: 2);

        trained.Save(path); // over the existing file
        other.Load(path);

        Assert.Equal(Snapshot(trained), Snapshot(other));
        float[] images = RandomImages(new Random(8), BatchSize * CheckpointConvNet.InputLength);
        Assert.Equal(trained.Forward(images).ToArray(), other.Forward(images).ToArray());
        Assert.Equal(new[] { path }, Directory.GetFiles(_directory));
    }

    [Fact]
    public void AFailedSaveLeavesTheOldFileAndNoTemporaryFile()
    {
        string path = Path.Combine(_directory, "model.safetensors");
        using var net = new CheckpointConvNet(BatchSize, seed: 3, threads: 1);
        net.Save(path);
        byte[] old = File.ReadAllBytes(path);

        // The write fails halfway, as on a full disk.
        var error = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[old.Length / 2]);
            throw new IOException("No space left on device");
        }));

        Assert.Equal("No space left on device", error.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(_directory));
    }

    [Fact]
    public void AFailedRenameLeavesNoTemporaryFile()
    {
        // A directory where the checkpoint should go: the temporary file is written, the rename over it fails.
        string path = Directory.CreateDirectory(Path.Combine(_directory, "model.safetensors")).FullName;
        using var net = new CheckpointConvNet(BatchSize, seed: 3, threads: 1);

        Exception error = Record.Exception(() => net.Save(path));

        Assert.True(error is IOException or UnauthorizedAccessException, $"unexpected {error}");
        Assert.Empty(Directory.GetFiles(_directory));
        Assert.True(Directory.Exists(path));
    }

    [Theory]
    [InlineData("truncated-length")]
    [InlineData("truncated-header")]
    [InlineData("truncated-data")]
    [InlineData("header-length-past-end")]
    [InlineData("header-length-over-limit")]
    [InlineData("header-length-too-short")]
    [InlineData("malformed-json")]
    [InlineData("json-not-an-object")]
    [InlineData("json-too-deep")]
    [InlineData("invalid-utf8")]
    [InlineData("lone-surrogate-name")]
    [InlineData("unknown-dtype")]
    [InlineData("dtype-not-a-string")]
    [InlineData("unsupported-dtype")]
    [InlineData("counter-as-float")]
    [InlineData("wrong-shape")]
    [InlineData("counter-not-a-scalar")]
    [InlineData("negative-dimension")]
    [InlineData("shape-overflow")]
    [InlineData("extra-tensor")]
    [InlineData("missing-tensor")]
    [InlineData("missing-counter")]
    [InlineData("duplicate-tensor")]
    [InlineData("entry-not-an-object")]
    [InlineData("repeated-field")]
    [InlineData("missing-field")]
    [InlineData("metadata-not-strings")]
    [InlineData("overlapping-offsets")]
    [InlineData("gap-between-tensors")]
    [InlineData("offsets-past-end")]
    [InlineData("offsets-size-mismatch")]
    [InlineData("offsets-reversed")]
    [InlineData("trailing-bytes")]
    [InlineData("nan-weight")]
    [InlineData("negative-counter")]
    public void BadCheckpointFailsNamingFileAndTensorAndChangesNothing(string kind)
    {
        (byte[] bytes, string? tensor, string problem) = BadCheckpoint(kind);
        string path = Path.Combine(_directory, kind + ".safetensors");
        File.WriteAllBytes(path, bytes);
        using var net = new CheckpointConvNet(BatchSize, seed: 5, threads: 1);
        long[] before = Snapshot(net);
        long version = net.ParameterVersion;

        var error = Assert.Throws<CheckpointException>(() => net.Load(path));

        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Equal(path, error.FileName);
        Assert.Equal(tensor, error.TensorName);
        if (tensor is not null)
        {
            Assert.Contains($"tensor '{tensor}'", error.Message);
        }

        Assert.Equal(before, Snapshot(net));
        Assert.Equal(version, net.ParameterVersion);
    }

    [Fact]
    public void AForwardOnlyStreamLoadsAndIsCheckedToItsEnd()
    {
        byte[] valid = ValidCheckpoint();
        using var net = new CheckpointConvNet(BatchSize, seed: 5, threads: 1);
        using var source = new CheckpointConvNet(BatchSize, seed: 2, threads: 1);

        net.Load(new ForwardOnlyStream(valid));
        Assert.Equal(Snapshot(source), Snapshot(net));

        long[] loaded = Snapshot(net);
        string last = SafeTensors.ReadHeader(new MemoryStream(valid), "valid").Tensors[^1].Name;
        var truncated = Assert.Throws<CheckpointException>(() => net.Load(new ForwardOnlyStream(valid[..^6])));
        Assert.Equal(last, truncated.TensorName);
        Assert.Contains("(stream)", truncated.Message);
        Assert.Contains("the file ends", truncated.Message);
        var trailing = Assert.Throws<CheckpointException>(() => net.Load(new ForwardOnlyStream([.. valid, 0])));
        Assert.Contains("bytes after the last tensor", trailing.Message);
        var header = Assert.Throws<CheckpointException>(() => net.Load(new ForwardOnlyStream(valid[..40])));
        Assert.Contains("bytes into the", header.Message);
        Assert.Equal(loaded, Snapshot(net));
    }

    [Fact]
    public void UnknownFieldsAndNullMetadataAreIgnoredAsByTheReferenceReader()
    {
        byte[] valid = ValidCheckpoint();
        int length = (int)BitConverter.ToUInt64(valid, 0);
        JsonObject root = JsonNode.Parse(Encoding.UTF8.GetString(valid, 8, length))!.AsObject();
        root["__metadata__"] = null;
        foreach ((string _, JsonNode? entry) in root.Where(e => e.Value is JsonObject).ToList())
        {
            entry!["comment"] = new JsonArray("not", "read");
        }

        using var net = new CheckpointConvNet(BatchSize, seed: 5, threads: 1);
        using var source = new CheckpointConvNet(BatchSize, seed: 2, threads: 1);
        net.Load(new MemoryStream(Assemble(Encoding.UTF8.GetBytes(root.ToJsonString()), valid[(8 + length)..])));
        Assert.Equal(Snapshot(source), Snapshot(net));
    }

    /// <summary>
    /// 12,000 mutations of a valid checkpoint (bit flips, truncations, header-length edits, inserted and deleted
    /// bytes, JSON edits): each either loads, with every value from the file, or throws CheckpointException and
    /// leaves the network bit for bit as it was. Anything else escaping (an index, overflow or JSON error, an
    /// out-of-memory) fails the test.
    /// </summary>
    [Fact]
    public void MutatedCheckpointsLoadExactlyOrFailCleanly()
    {
        byte[] valid = ValidCheckpoint();
        int headerLength = (int)BitConverter.ToUInt64(valid, 0);
        using var net = new CheckpointConvNet(BatchSize, seed: 5, threads: 1);
        var random = new Random(20240601);
        int loaded = 0, rejected = 0;
        for (int i = 0; i < 12_000; i++)
        {
            byte[] file = Mutate(valid, headerLength, random);
            if (random.Next(4) == 0)
            {
                file = Mutate(file, headerLength, random);
            }

            long[] before = Snapshot(net);
            Stream stream = i % 8 == 0 ? new ForwardOnlyStream(file) : new MemoryStream(file);
            try
            {
                net.Load(stream);
            }
            catch (CheckpointException)
            {
                Assert.Equal(before, Snapshot(net));
                rejected++;
                continue;
            }

            // It loaded, so the file is valid safetensors: the reader must agree, and every value must be the file's.
            Dictionary<string, SafeTensor> tensors = SafeTensors.Read(new MemoryStream(file), "mutated").Tensors.ToDictionary(t => t.Name);
            long[] fromFile = [.. net.Parameters.SelectMany(p => Bits(tensors[p.Name].ToFloat32Array())), .. net.BatchCounters.Select(c => tensors[c.Name].ToInt64Array().Single())];
            Assert.Equal(fromFile, Snapshot(net));
            loaded++;
        }

        // Both outcomes must be common, or the mutations are not exercising what they should.
        Assert.True(loaded > 500 && rejected > 5_000, $"{loaded} loaded, {rejected} rejected");
    }

    private static CompiledNetwork Create(string name, int seed) => name switch
    {
        "conv" => new CheckpointConvNet(BatchSize, seed, threads: 1),
        _ => new CheckpointGroupedNet(BatchSize, seed, threads: 1),
    };

    /// <summary>A few SGD steps on random data, so the running statistics and counters move away from their defaults.</summary>
    private static void Train(CompiledNetwork net, int steps)
    {
        var random = new Random(6);
        var sgd = new Sgd(learningRate: 0.05f, momentum: 0.9f);
        for (int step = 0; step < steps; step++)
        {
            int[] labels = [.. Enumerable.Range(0, BatchSize).Select(i => i % 3)];
            _ = net switch
            {
                CheckpointConvNet conv => conv.TrainStep(RandomImages(random, BatchSize * CheckpointConvNet.InputLength), labels, sgd),
                CheckpointGroupedNet grouped => grouped.TrainStep(RandomImages(random, BatchSize * CheckpointGroupedNet.InputLength), labels, sgd),
                _ => throw new ArgumentException(net.GetType().Name, nameof(net)),
            };
        }
    }

    /// <summary>
    /// With <see cref="ExportVariable"/> set, writes the saved checkpoint and the fixture's input with NetCompiler's
    /// scores, for `/usr/bin/python3 make_fixtures.py verify DIR` to check in PyTorch.
    /// </summary>
    private static void Export(string name, CompiledNetwork net, byte[] checkpoint)
    {
        string? directory = Environment.GetEnvironmentVariable(ExportVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, name + ".safetensors"), checkpoint);
        SafeTensor input = ReadFile(Fixture(name + ".io.safetensors"))["input"];
        float[] scores = net.Forward(input.ToFloat32Array()).ToArray();
        using var io = File.Create(Path.Combine(directory, name + ".io.safetensors"));
        SafeTensors.Write(io, [input, SafeTensor.Float32("output", [BatchSize, scores.Length / BatchSize], scores)]);
    }

    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", file);

    private static Dictionary<string, SafeTensor> ReadFile(string path) => SafeTensors.Read(path).Tensors.ToDictionary(t => t.Name);

    /// <summary>The checkpoint of a seeded CheckpointConvNet: what the bad cases and the fuzzer start from.</summary>
    private static byte[] ValidCheckpoint()
    {
        using var net = new CheckpointConvNet(BatchSize, seed: 2, threads: 1);
        var file = new MemoryStream();
        net.Save(file);
        return file.ToArray();
    }

    /// <summary>A bad checkpoint of the given kind, the tensor its error must name (null: the file as a whole) and a phrase of the message.</summary>
    private static (byte[] Bytes, string? Tensor, string Problem) BadCheckpoint(string kind)
    {
        byte[] valid = ValidCheckpoint();
        int length = (int)BitConverter.ToUInt64(valid, 0);
        string header = Encoding.UTF8.GetString(valid, 8, length);
        string json = header.TrimEnd(); // without the padding, so it ends with its closing brace
        byte[] data = valid[(8 + length)..];
        List<SafeTensor> tensors = [.. SafeTensors.Read(new MemoryStream(valid), "valid").Tensors];
        string last = SafeTensors.ReadHeader(new MemoryStream(valid), "valid").Tensors[^1].Name;
        const string weight = "features.0.weight", bias = "features.0.bias", counter = "features.1.num_batches_tracked";

        byte[] WithHeader(string text) => Assemble(Encoding.UTF8.GetBytes(text), data);
        byte[] WithLength(ulong value) => [.. BitConverter.GetBytes(value), .. valid[8..]];
        byte[] EditEntry(string name, Action<JsonObject> edit)
        {
            JsonObject root = JsonNode.Parse(header)!.AsObject();
            edit(root[name]!.AsObject());
            return WithHeader(root.ToJsonString());
        }

        byte[] Replace(string name, Func<SafeTensor, SafeTensor?> replace) =>
            Write([.. tensors.Select(t => t.Name == name ? replace(t) : t).OfType<SafeTensor>()]);
        JsonArray Offsets(string name) => JsonNode.Parse(header)![name]!["data_offsets"]!.AsArray();
        long Start(string name) => (long)Offsets(name)[0]!;
        long End(string name) => (long)Offsets(name)[1]!;

        return kind switch
        {
            "truncated-length" => (valid[..5], null, "too short for the 8-byte header length"),
            "truncated-header" => (valid[..(8 + (length / 2))], null, "runs past the end of the file"),
            "truncated-data" => (valid[..^10], last, "run past the end of the data section"),
            "header-length-past-end" => (WithLength((ulong)valid.Length), null, "runs past the end of the file"),
            "header-length-over-limit" => (WithLength(ulong.MaxValue), null, "exceeds the safetensors limit of 100000000 bytes"),
            "header-length-too-short" => (WithLength(10), null, "the header is not valid JSON"),
            "malformed-json" => (WithHeader(header.Replace("\"shape\":", "\"shape\" ")), null, "the header is not valid JSON"),
            "json-not-an-object" => (WithHeader("[1, 2]"), null, "the header is a JSON Array, not an object"),
            "json-too-deep" => (WithHeader("{\"__metadata__\":" + new string('[', 1000) + new string(']', 1000) + "}"), null, "the header is not valid JSON"),
            "invalid-utf8" => (Assemble([.. Encoding.UTF8.GetBytes(json[..^1]), .. ",\""u8, 0xFF, .. "\":{}}"u8], data), null, "not valid UTF-8"),
            "lone-surrogate-name" => (WithHeader(json[..^1] + ",\"\\ud800\":{}}"), null, "the header is not valid JSON"),
            "unknown-dtype" => (EditEntry(weight, e => e["dtype"] = "Q32"), weight, "unknown dtype 'Q32'"),
            "dtype-not-a-string" => (EditEntry(weight, e => e["dtype"] = 32), weight, "dtype is a JSON Number, not a string"),
            "unsupported-dtype" => (Replace(weight, t => new SafeTensor(t.Name, SafeTensorsDType.F16, t.Shape, new byte[t.Data.Length / 2])), weight, "F16 not supported; expected F32"),
            "counter-as-float" => (Replace(counter, t => SafeTensor.Float32(t.Name, [], [3f])), counter, "F32 not supported; expected I64"),
            "wrong-shape" => (Replace(weight, t => new SafeTensor(t.Name, t.DType, [4, 9], t.Data)), weight, "has shape [4, 9] in the file, but the network's is [4, 1, 3, 3]"),
            "counter-not-a-scalar" => (Replace(counter, t => new SafeTensor(t.Name, t.DType, [1], t.Data)), counter, "has shape [1] in the file, but the network's is []"),
            "negative-dimension" => (EditEntry(weight, e => e["shape"] = new JsonArray(-4, 1, 3, 3)), weight, "shape[0] is -4, not a non-negative integer"),
            "shape-overflow" => (EditEntry(weight, e => e["shape"] = new JsonArray(1L << 40, 1L << 40, 1, 1)), weight, "is too large to exist"),
            "extra-tensor" => (Write([.. tensors, SafeTensor.Float32("features.9.weight", [2], [1f, 2f])]), "features.9.weight", "is in the file but not in this network"),
            "missing-tensor" => (Replace("classifier.4.bias", _ => null), "classifier.4.bias", "is missing from the file"),
            "missing-counter" => (Replace(counter, _ => null), counter, "PyTorch's batch norm saves num_batches_tracked"),
            "duplicate-tensor" => (WithHeader(header.Replace($"\"{bias}\":", $"\"{bias}\":{{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}},\"{bias}\":")), bias, "appears twice in the header"),
            "entry-not-an-object" => (WithHeader(json[..^1] + ",\"features.0.bias2\":7}"), "features.0.bias2", "the header entry is a JSON Number"),
            "repeated-field" => (WithHeader(header.Replace($"\"{weight}\":{{", $"\"{weight}\":{{\"dtype\":\"F16\",")), weight, "has 'dtype' twice"),
            "missing-field" => (EditEntry(weight, e => e.Remove("shape")), weight, "has no 'shape'"),
            "metadata-not-strings" => (WithHeader(header.Replace("\"format\":\"pt\"", "\"format\":1")), null, "__metadata__ entry 'format' is a JSON Number, not a string"),
            "overlapping-offsets" => (EditEntry(bias, e => e["data_offsets"] = new JsonArray(End(weight) - 16, End(weight))), bias, $"overlap those of '{weight}'"),
            "gap-between-tensors" => (Assemble(Encoding.UTF8.GetBytes(ShiftLast(header, last, 4)), [.. data, 0, 0, 0, 0]), last, "unused"),
            "offsets-past-end" => (EditEntry(last, e => (e["shape"], e["data_offsets"]) = (new JsonArray(1000), new JsonArray(Start(last), Start(last) + 4000))), last, "run past the end of the data section"),
            "offsets-size-mismatch" => (EditEntry(bias, e => e["data_offsets"] = new JsonArray(Start(bias), End(bias) + 4)), bias, "span 20 bytes, but a F32 tensor of shape [4] has 16"),
            "offsets-reversed" => (EditEntry(bias, e => e["data_offsets"] = new JsonArray(End(bias), Start(bias))), bias, "is not a [start, end] pair"),
            "trailing-bytes" => ([.. valid, 1, 2, 3, 4], null, "safetensors data sections are fully indexed"),
            "nan-weight" => (Replace(weight, t => SafeTensor.Float32(t.Name, t.Shape, [.. t.ToFloat32Array().Select((v, i) => i == 3 ? float.NaN : v)])), weight, "element 3 is NaN"),
            "negative-counter" => (Replace(counter, t => SafeTensor.Int64(t.Name, [], [-1])), counter, "is -1; a count of batches cannot be negative"),
            _ => throw new ArgumentException(kind, nameof(kind)),
        };

        byte[] Write(List<SafeTensor> list)
        {
            var file = new MemoryStream();
            SafeTensors.Write(file, list, new Dictionary<string, string> { ["format"] = "pt" });
            return file.ToArray();
        }
    }

    /// <summary>The header with the last tensor's data moved <paramref name="by"/> bytes later.</summary>
    private static string ShiftLast(string header, string last, long by)
    {
        JsonObject root = JsonNode.Parse(header)!.AsObject();
        JsonArray offsets = root[last]!["data_offsets"]!.AsArray();
        root[last]!["data_offsets"] = new JsonArray((long)offsets[0]! + by, (long)offsets[1]! + by);
        return root.ToJsonString();
    }

    private static byte[] Assemble(byte[] header, byte[] data) => [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. data];

    private static byte[] Mutate(byte[] file, int headerLength, Random random)
    {
        byte[] bytes = (byte[])file.Clone();
        int headerEnd = Math.Min(bytes.Length, 8 + headerLength);
        switch (random.Next(8))
        {
            case 0: // bit flips anywhere
                for (int flips = 1 + random.Next(3); flips > 0 && bytes.Length > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1: // a bit flip in the header, where most of the checks are
                if (headerEnd > 8)
                {
                    bytes[8 + random.Next(headerEnd - 8)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 2: // truncation
                return bytes[..random.Next(bytes.Length)];
            case 3: // a new header length: near the real one, anywhere in the file, or absurd
                ulong length = random.Next(3) switch
                {
                    0 => (ulong)(headerLength + random.Next(-16, 17)),
                    1 => (ulong)random.Next(bytes.Length + 64),
                    _ => (ulong)random.NextInt64(long.MaxValue) * 2,
                };
                if (bytes.Length >= 8)
                {
                    BitConverter.GetBytes(length).CopyTo(bytes, 0);
                }

                return bytes;
            case 4: // inserted bytes
                int at = random.Next(bytes.Length + 1);
                byte[] inserted = new byte[1 + random.Next(8)];
                random.NextBytes(inserted);
                return [.. bytes[..at], .. inserted, .. bytes[at..]];
            case 5: // deleted bytes
                int from = random.Next(bytes.Length);
                return [.. bytes[..from], .. bytes[Math.Min(bytes.Length, from + 1 + random.Next(8))..]];
            case 6: // a JSON-significant character or digit written into the header
                if (headerEnd > 8)
                {
                    const string tokens = "{}[]\":,0123456789-.eE ";
                    bytes[8 + random.Next(headerEnd - 8)] = (byte)tokens[random.Next(tokens.Length)];
                }

                return bytes;
            default: // a header token swapped for another, the length fixed up so the edit reaches the JSON checks
                if (headerEnd <= 8)
                {
                    return bytes;
                }

                string header = Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
                string[] swaps = ["F32", "F16", "I64", "BF16", "F64", "U8", "[]", "[1]", "[4]", "[0,0]", "\"x\"", "0", "16", "24"];
                string token = swaps[random.Next(swaps.Length)];
                int index = header.IndexOf(token, random.Next(Math.Max(1, header.Length)), StringComparison.Ordinal);
                if (index < 0)
                {
                    return bytes;
                }

                string edited = header[..index] + swaps[random.Next(swaps.Length)] + header[(index + token.Length)..];
                return Assemble(Encoding.UTF8.GetBytes(edited), bytes[headerEnd..]);
        }
    }

    /// <summary>Every parameter's bits and every counter: equal snapshots mean a bit-identical network.</summary>
    private static long[] Snapshot(CompiledNetwork net) =>
        [.. net.Parameters.SelectMany(p => Bits(p.Value)), .. net.BatchCounters.Select(c => c.Count)];

    private static IEnumerable<long> Bits(float[] values) => values.Select(v => (long)BitConverter.SingleToInt32Bits(v));

    private static double MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        return a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
    }

    private static float[] RandomImages(Random random, int length) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1))];

    /// <summary>A stream that cannot seek and hands out at most 7 bytes per read, like a pipe or a decompressor.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
