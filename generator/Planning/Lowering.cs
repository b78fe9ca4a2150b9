using System.Collections.Generic;
using System.Linq;
using System.Text;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Ops;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning;

/// <summary>
/// A network lowered to primitives: the forward calls in training mode, the buffers they touch, the tensors and
/// shapes, and what each layer exposes. The passes take one of these and return another.
/// </summary>
internal sealed record LoweredNetwork(
    CheckedNetwork Network,
    EquatableArray<SizeConstant> Sizes,
    EquatableArray<ProgramBuffer> Buffers,
    EquatableArray<ProgramTensor> Tensors,
    EquatableArray<ShapeStruct> Shapes,
    EquatableArray<Call> Forward,
    EquatableArray<LayerView> Layers,
    int Scores);

/// <summary>Buffers by id and their named sizes, growing as passes add some: the one way a pass makes a buffer.</summary>
internal sealed class BufferTable(IEnumerable<ProgramBuffer> buffers, IEnumerable<SizeConstant> sizes)
{
    private readonly List<ProgramBuffer> _buffers = [.. buffers];
    private readonly List<SizeConstant> _sizes = [.. sizes];

    public EquatableArray<SizeConstant> Sizes => _sizes.ToEquatableArray();

    /// <summary>The size constant of that name, declared on first use.</summary>
    public SizeConstant Size(string name, long elements, string description)
    {
        SizeConstant? size = _sizes.FirstOrDefault(s => s.Name == name);
        if (size is null)
        {
            size = new SizeConstant(name, elements, description);
            _sizes.Add(size);
        }
        else if (size.Elements != elements)
        {
            throw new System.InvalidOperationException($"Size {name} is {size.Elements}, not {elements}.");
        }

        return size;
    }

    /// <summary>
    /// The size of a tensor, named after its layer (shared by the layer's time steps) and its place in the layer:
    /// "Features_0WeightElements", "Features_3ConvWeightElements".
    /// </summary>
    public SizeConstant TensorSize(TensorKey key, string layer, long elements)
    {
        // The module within its time step or block: "conv1" of "layer1.0.conv1", "downsample.0" of "layer2.0.downsample.0".
        string[] path = key.Module.Length > layer.Length ? key.Module.Substring(layer.Length + 1).Split('.') : [];
        string module = string.Join(".", path.Skip(path.Length > 1 && char.IsDigit(path[0][0]) ? 1 : 0));
        string name = Lowering.Identifier(layer) + Pascal(module.Replace('.', '_')) + Pascal(key.RoleName) + "Elements";
        if (Conflicts(name, elements))
        {
            // The blocks of a stage differ in shape (the first one's input): their tensors are named by full path.
            module = key.Module.Substring(layer.Length + 1);
            name = Lowering.Identifier(layer) + "_" + Pascal(module.Replace('.', '_')) + Pascal(key.RoleName) + "Elements";
        }

        return Size(name, elements, "elements of " + layer + (module.Length == 0 ? "" : "'s " + module) + " " + key.RoleName);
    }

    /// <summary>
    /// The per-channel size of a layer: "Features_3Channels"; inside a block whose width varies (a bottleneck) the
    /// other widths carry their count: "Layer1Channels_64".
    /// </summary>
    public SizeConstant ChannelSize(string layer, int channels)
    {
        string name = Lowering.Identifier(layer) + "Channels";
        return Size(Conflicts(name, channels) ? name + "_" + Format.Invariant(channels) : name, channels, "channels");
    }

    private bool Conflicts(string name, long elements) => _sizes.Any(s => s.Name == name && s.Elements != elements);

    private static string Pascal(string name) =>
        string.Concat(name.Split('_').Where(part => part.Length > 0).Select(part => char.ToUpperInvariant(part[0]) + part.Substring(1)));

    public ProgramBuffer this[int id] => _buffers[id];

    public BufferOperand Add(string name, ElementType type, SizeConstant size, bool perImage, BufferRole role)
    {
        int id = _buffers.Count;
        _buffers.Add(new ProgramBuffer(id, name, type, size, perImage, role, perImage ? BufferLayout.Nchw : BufferLayout.Vector));
        return new BufferOperand(id);
    }

    public EquatableArray<ProgramBuffer> ToEquatableArray() => _buffers.ToEquatableArray();
}

/// <summary>Lowers each layer through its op module into primitive calls (the first pass: composites become primitives).</summary>
internal static class Lowering
{
    public static LoweredNetwork Lower(CheckedNetwork network, Backend backend, List<DiagnosticInfo> diagnostics)
    {
        var buffers = new BufferTable([], []);
        SizeConstant inputSize = buffers.Size("InputLength", network.Input.Elements, network.Input + " per image");
        BufferOperand current = buffers.Add("images", ElementType.Float32, inputSize, perImage: true, BufferRole.Input);
        var shapes = new List<ShapeStruct>();
        var calls = new List<Call>();
        var views = new List<LayerView>();
        var tensors = new List<ProgramTensor>();
        var identifiers = new HashSet<string>();
        var skips = new Dictionary<string, BufferOperand>();
        IReadOnlyList<CheckedLayer> layers = network.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            CheckedLayer layer = layers[i];
            Op op = OpCatalog.Of(layer.Spec);
            string identifier = Unique(identifiers, Identifier(layer.Name), i);
            var lowering = new LayerLowering(layer, identifier, current, backend, buffers, shapes, calls, diagnostics) { Skips = skips };
            current = op.Lower(lowering);
            views.Add(new LayerView(layer.Name, layer.Output.Elements, current.Id, null, null, current.Id, null));

            // The activation the weights feed, directly (in the epilogue) or through a batch norm, picks He or Xavier.
            LayerSpec? following = Next(layers, i, 1) is BatchNormSpec ? Next(layers, i, 2) : op.TakesActivationEpilogue ? Next(layers, i, 1) : null;
            Activation activation = following is ActivationSpec spec ? ActivationOp.Descriptor(spec) : Activation.None;
            tensors.AddRange(Initialisation.Apply(network.Spec.Init, [.. layer.Tensors.Select(t => new ProgramTensor(t.Key, t.Dimensions, t.Trainable, op.Initialise(t, activation)))]));
        }

        return new LoweredNetwork(network, buffers.Sizes, buffers.ToEquatableArray(), tensors.ToEquatableArray(),
            shapes.ToEquatableArray(), calls.ToEquatableArray(), views.ToEquatableArray(), current.Id);
    }

    private static LayerSpec? Next(IReadOnlyList<CheckedLayer> layers, int index, int ahead) =>
        index + ahead < layers.Count ? layers[index + ahead].Spec : null;

    /// <summary>Two layer names can map to one identifier ("a.b" and "a_b"): the later one gets its index appended.</summary>
    private static string Unique(HashSet<string> identifiers, string identifier, int index)
    {
        if (!identifiers.Add(identifier))
        {
            identifier += "_" + Format.Invariant(index);
            identifiers.Add(identifier);
        }

        return identifier;
    }

    /// <summary>A C# identifier from a layer name: "features.10" -> "Features_10".</summary>
    public static string Identifier(string layerName)
    {
        var text = new StringBuilder();
        foreach (char c in layerName)
        {
            text.Append(char.IsLetterOrDigit(c) ? c : '_');
        }

        text[0] = char.ToUpperInvariant(text[0]);
        return text.ToString();
    }
}

/// <summary>
/// What an op module lowers one layer with: its input, buffers named after the layer (and time step), shape
/// structs named after it, its tensors, and the calls it appends.
/// </summary>
internal sealed class LayerLowering(
    CheckedLayer layer,
    string identifier,
    BufferOperand input,
    Backend backend,
    BufferTable buffers,
    List<ShapeStruct> shapes,
    List<Call> calls,
    List<DiagnosticInfo> diagnostics)
{
    private string _prefix = layer.Name;
    private string _label = layer.Name;

    public CheckedLayer Layer { get; } = layer;

    public BufferOperand Input { get; } = input;

    public Backend Backend { get; } = backend;

    /// <summary>The buffers saved under a name so far (Ops/Skip.cs), shared by the network's layers.</summary>
    public Dictionary<string, BufferOperand> Skips { get; init; } = [];

    /// <summary>The elements of one image's output, named after the layer: "Features_3Elements = 32x64x64".</summary>
    public SizeConstant OutputSize => buffers.Size(identifier + "Elements", Layer.Output.Elements, Layer.Output + " per image");

    /// <summary>From here on, buffers and calls belong to time step (or block) <paramref name="step"/> ("features.3.0.conv").</summary>
    public void BeginTimeStep(int step, string unit = "step")
    {
        _prefix = Layer.Name + "." + Format.Invariant(step);
        _label = Layer.Name + " " + unit + " " + Format.Invariant(step);
    }

    /// <summary>The module path of a tensor of the current time step: "0.bn" for "features.3.0.bn".</summary>
    public string StepModule(string module) => _prefix.Substring(Layer.Name.Length).TrimStart('.') is { Length: > 0 } step ? step + "." + module : module;

    /// <summary>A per-image float buffer of the layer's output shape, or of <paramref name="shape"/> inside a block.</summary>
    public BufferOperand Activation(string name, Shape? shape = null) =>
        buffers.Add(_prefix + "." + name, ElementType.Float32, SizeOf(shape ?? Layer.Output), perImage: true, BufferRole.Activation);

    /// <summary>The elements of one image of <paramref name="shape"/>: the output's size, or "Layer2_64x56x56Elements" inside a block.</summary>
    public SizeConstant SizeOf(Shape shape) => shape == Layer.Output
        ? OutputSize
        : buffers.Size(identifier + "_" + shape.ToString() + "Elements", shape.Elements, shape + " per image");

    /// <summary>State the backward needs: switches, masks, batch statistics.</summary>
    public BufferOperand Saved(string name, ElementType type, SizeConstant size, bool perImage) =>
        buffers.Add(_prefix + "." + name, type, size, perImage, BufferRole.SavedForBackward);

    public SizeConstant Channels => buffers.ChannelSize(Layer.Name, Layer.Output.Channels);

    private SizeConstant ChannelsOf(BatchNormParameters norm) => buffers.ChannelSize(Layer.Name, norm.Channels);

    public void Emit(Call call) => calls.Add(call with { Layer = _label });

    public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, SourceSpan span, params object[] arguments) =>
        diagnostics.Add(DiagnosticInfo.Create(descriptor, span, arguments));

    /// <summary>The layer's compile-time shape struct <c>{Identifier}{suffix}</c>, declared once for all its time steps.</summary>
    public string Shape(string suffix, string kind, params (string Name, int Value)[] members)
    {
        string name = identifier + suffix;
        if (!shapes.Any(s => s.Name == name))
        {
            shapes.Add(new ShapeStruct(name, kind, $"{Layer.Name}: {Layer.Description}, {Layer.Input} -> {Layer.Output}.",
                members.Select(m => new ShapeMember(m.Name, m.Value)).ToEquatableArray()));
        }

        return name;
    }

    /// <summary>
    /// A shape struct of one module inside the layer (a block's convolution), described by <paramref name="comment"/>:
    /// the layer's struct with the same members when there is one (a stage's later blocks share the first's), else
    /// <c>{Identifier}{suffix}</c>.
    /// </summary>
    public string Shape(string suffix, string kind, string comment, params (string Name, int Value)[] members)
    {
        EquatableArray<ShapeMember> values = members.Select(m => new ShapeMember(m.Name, m.Value)).ToEquatableArray();
        ShapeStruct? same = shapes.FirstOrDefault(s => s.Name.StartsWith(identifier + "_", System.StringComparison.Ordinal) && s.Interface == kind && s.Members == values);
        if (same is not null)
        {
            return same.Name;
        }

        shapes.Add(new ShapeStruct(identifier + suffix, kind, comment, values));
        return identifier + suffix;
    }

    /// <summary>A tensor's value by module (relative to the layer) and role, or no operand where the layer has none (no bias).</summary>
    public Operand Value(string module, TensorRole role)
    {
        var key = new TensorKey(module.Length == 0 ? Layer.Name : Layer.Name + "." + module, role);
        return Layer.Tensors.Any(t => t.Key == key) ? new TensorOperand(key, Gradient: false) : NoOperand.Instance;
    }

    public BatchNormParameters Norm(string module, float eps, float momentum, Shape? over = null)
    {
        Shape shape = over ?? Layer.Output;
        return new BatchNormParameters(new TensorKey(module.Length == 0 ? Layer.Name : Layer.Name + "." + module, TensorRole.Weight),
            shape.Channels, shape.Height * shape.Width, eps, momentum);
    }

    /// <summary>A batch norm in training form into a buffer named <paramref name="outputName"/>, with the statistics it saves.</summary>
    public BufferOperand BatchNorm(BatchNormParameters norm, Operand x, string outputName, Activation activation = default, Shape? shape = null)
    {
        string module = norm.Weight.Module == Layer.Name ? "" : norm.Weight.Module.Substring(_prefix.Length + 1) + ".";
        BufferOperand y = Activation(outputName, shape);
        Emit(new BatchNormTraining(norm, x, y,
            Saved(module + "saved_mean", ElementType.Float32, ChannelsOf(norm), perImage: false),
            Saved(module + "saved_inv_std", ElementType.Float32, ChannelsOf(norm), perImage: false),
            Saved(module + "saved_variance", ElementType.Float32, ChannelsOf(norm), perImage: false), activation));
        return y;
    }
}
