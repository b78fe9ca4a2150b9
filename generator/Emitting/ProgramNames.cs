using System.Collections.Generic;
using System.Linq;
using System.Text;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Emitting;

/// <summary>
/// The C# names a kernel program prints with, shared by every printer so the CPU and device code of one network read
/// alike: a local per buffer ("features0Output"), a field per tensor and per storage slot, the slices of a batch.
/// </summary>
internal sealed class ProgramNames
{
    private const string Kernels = "global::NetCompiler.Kernels.";

    private readonly KernelProgram _program;
    private readonly Dictionary<int, string> _locals = [];
    private readonly Dictionary<TensorKey, string> _tensorFields = [];

    public ProgramNames(KernelProgram program)
    {
        _program = program;
        var used = new HashSet<string>();
        foreach (ProgramBuffer buffer in program.Buffers)
        {
            _locals[buffer.Id] = buffer.Role == BufferRole.Input ? "images" : Unique(used, LocalName(buffer.Name), buffer.Id);
        }

        foreach (ProgramTensor tensor in program.Tensors)
        {
            _tensorFields[tensor.Key] = "_" + Unique(used, LocalName(tensor.Key.ToString()), used.Count);
        }
    }

    /// <summary>The loss is per pixel (labels per output pixel, class weights).</summary>
    public bool Pixel => _program.Network.Spec.Loss == LossKind.PixelCrossEntropy;

    /// <summary>The loss takes one float target per output element rather than labels.</summary>
    public bool FloatTargets => _program.Network.Spec.Loss.TakesFloatTargets();

    /// <summary>The entry points' parameter the loss reads: "targets" or "labels".</summary>
    public string Targets => FloatTargets ? "targets" : "labels";

    /// <summary>That parameter's type.</summary>
    public string TargetType => FloatTargets ? "global::System.ReadOnlySpan<float>" : "global::System.ReadOnlySpan<int>";

    /// <summary>Batch norm folds for inference (a fold routine, folded weights kept by ParameterVersion).</summary>
    public bool Folds => _program.Routines.Fold.Count > 0;

    /// <summary>A kept layer's output is folded away in inference, so LayerOutput depends on the last routine.</summary>
    public bool FoldedViews => _program.Layers.Any(v => v.Kept && v.Output is not null && v.FoldedInto is not null);

    /// <summary>Training draws dropout masks (the generator's state is committed with the step).</summary>
    public bool Dropout => _program.Routines.Training.Any(c => c is DropoutForward);

    /// <summary>The gradient entry points run their own evaluation forward (a SiLU fused in inference).</summary>
    public bool GradientInference => _program.Routines.InferenceForGradients.Count > 0;

    /// <summary>The local a routine holds buffer <paramref name="id"/>'s view in ("images" for the input).</summary>
    public string Local(int id) => _locals[id];

    /// <summary>The network's field for a tensor ("_features0Weight").</summary>
    public string TensorField(TensorKey key) => _tensorFields[key];

    /// <summary>The buffer's first <paramref name="count"/> images (or all of it when not per image), as Slice(slot, length).</summary>
    public string Slice(int id, string count)
    {
        ProgramBuffer buffer = _program.Buffer(id);
        return $"Slice({FieldOf(id)}, {(buffer.PerImage ? count + " * " : "")}{buffer.Size.Name})";
    }

    /// <summary>The field of the storage slot buffer <paramref name="id"/> lives in.</summary>
    public string FieldOf(int id) => SlotField(_program.Memory.Slots[_program.Memory.SlotOf[id]]);

    /// <summary>The buffers sharing a slot, largest first.</summary>
    public IEnumerable<ProgramBuffer> Members(StorageSlot slot) =>
        _program.Buffers.Where(b => b.Role != BufferRole.Input && _program.Memory.SlotOf[b.Id] == slot.Index).OrderByDescending(b => b.Elements).ThenBy(b => b.Id);

    /// <summary>A routine's comment for a layer: "features.0: Conv 32 3x3, 1x28x28 -> 32x28x28".</summary>
    public string Describe(string label)
    {
        string name = label.Split(' ')[0];
        CheckedLayer? layer = _program.Network.Layers.FirstOrDefault(l => l.Name == name);
        return layer is null ? label : $"{label}: {layer.Description}, {layer.Input} -> {layer.Output}";
    }

    public static string SlotField(StorageSlot slot) => "_" + (slot.Type == ElementType.Float32 ? "floats" : "bytes") + Format.Invariant(slot.Index);

    public static string TypeName(ElementType type) => type == ElementType.Float32 ? "float" : "byte";

    public static string Bool(bool value) => value ? "true" : "false";

    /// <summary>The kernels' descriptor of an activation: Activation.Relu, Activation.LeakyRelu(0.1f), Activation.None ...</summary>
    public static string Activation(Activation activation) => Kernels + "Activation." + activation.Kind switch
    {
        ActivationKind.LeakyRelu or ActivationKind.Elu => $"{activation.Kind}({Format.FloatLiteral(activation.Alpha)})",
        _ => activation.Kind.ToString(),
    };

    /// <summary>A C# identifier from a dotted name: "features.3.0.bn.saved_mean" -> "features3_0BnSavedMean".</summary>
    public static string LocalName(string name)
    {
        var text = new StringBuilder();
        bool previousDigits = false;
        foreach (string part in name.Split('.', '_'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            bool digits = part.All(char.IsDigit);
            string cleaned = new(part.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
            text.Append(text.Length == 0 ? char.ToLowerInvariant(cleaned[0]) + cleaned.Substring(1)
                : digits && previousDigits ? "_" + cleaned
                : char.ToUpperInvariant(cleaned[0]) + cleaned.Substring(1));
            previousDigits = digits;
        }

        return char.IsDigit(text[0]) ? "_" + text : text.ToString();
    }

    private static string Unique(HashSet<string> used, string name, int index)
    {
        string unique = used.Contains(name) ? name + "_" + Format.Invariant(index) : name;
        used.Add(unique);
        return unique;
    }
}
