using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Emitting.Onnx;

/// <summary>
/// Prints the inference program (batch norm unfolded: BatchNormalization nodes on the checkpoint's tensors) as ONNX
/// nodes, opset 17, which the runtime's ExportOnnx writes with the parameters as initializers. One method per call
/// record (<see cref="Nodes"/>); a call ONNX cannot express makes the export a NotSupportedException naming it.
/// </summary>
internal sealed class OnnxPrinter
{
    private const string Onnx = "global::NetCompiler.Onnx.";

    private readonly KernelProgram _program;
    private readonly List<string> _nodes = [];
    private readonly List<string> _constants = [];

    private OnnxPrinter(KernelProgram program) => _program = program;

    public static void Print(SourceWriter writer, KernelProgram program)
    {
        var printer = new OnnxPrinter(program);
        EquatableArray<Call> inference = program.Routines.InferenceUnfolded.Count > 0 ? program.Routines.InferenceUnfolded : program.Routines.Inference;
        string? refusal = inference.Select(printer.Refusal).FirstOrDefault(r => r is not null);
        writer.Line("/// <summary>The inference program as ONNX nodes, for ExportOnnx.</summary>");
        if (refusal is not null)
        {
            writer.Line($"protected override {Onnx}OnnxGraph OnnxGraph =>")
                .Line($"    throw new global::System.NotSupportedException(\"{refusal}\");")
                .Line();
            return;
        }

        foreach (Call call in inference)
        {
            printer.Nodes(call);
        }

        printer._nodes.Add(Node("Identity", [Value(program, program.ScoresBuffer)], ["scores"]));
        Shape input = program.Network.Input, output = program.Network.Output;
        writer.Line($"protected override {Onnx}OnnxGraph OnnxGraph => s_onnxGraph;")
            .Line()
            .Line($"private static readonly {Onnx}OnnxGraph s_onnxGraph = new(")
            .Line($"    \"images\", [{Dimensions(input)}], \"scores\", [{Dimensions(output)}],")
            .Line("    [");
        foreach (string node in printer._nodes)
        {
            writer.Statement("        " + node + ",");
        }

        writer.Line("    ],")
            .Line("    [" + string.Join(", ", printer._constants) + "]);")
            .Line();
    }

    /// <summary>Why a call has no ONNX form, or null.</summary>
    private string? Refusal(Call call) => call is ImplicitSolve
        ? $"{call.Layer.Split(' ')[0]}: the IMEX implicit solve has no ONNX export yet (it would need ONNX's DFT operator and a per-frequency solve); export a network without Imex layers."
        : null;

    /// <summary>The nodes of one call.</summary>
    private void Nodes(Call call)
    {
        switch (call)
        {
            case LinearForward { Kind: LinearOp.Dense } dense:
                string features = Value(dense.X);
                if (!InputIsFlat(dense))
                {
                    _nodes.Add(Node("Flatten", [features], [features + ".flat"], Int("axis", 1)));
                    features += ".flat";
                }

                Activate(dense.Activation, dense.Residual, dense.Y, y => _nodes.Add(Node("Gemm", Operands(features, dense.Weight, dense.Bias), [y], Int("transB", 1))));
                break;
            case LinearForward linear:
                Dictionary<string, int> shape = Members(linear.Shape);
                int k = shape["Kernel"], s = shape["Stride"], p = shape["Pad"], d = shape["Dilation"];
                var attributes = new List<string> { Ints("kernel_shape", k, k), Ints("strides", s, s), Ints("pads", p, p, p, p), Ints("dilations", d, d), Int("group", shape["Groups"]) };
                if (linear.Kind == LinearOp.ConvTranspose2d)
                {
                    // PyTorch's output size (in - 1) s - 2p + d (k - 1) + 1 + output_padding, solved for output_padding.
                    int outputPad = shape["OutHeight"] - (((shape["InHeight"] - 1) * s) - (2 * p) + (d * (k - 1)) + 1);
                    attributes.Add(Ints("output_padding", outputPad, outputPad));
                }

                string op = linear.Kind == LinearOp.Conv2d ? "Conv" : "ConvTranspose";
                Activate(linear.Activation, linear.Residual, linear.Y, y => _nodes.Add(Node(op, Operands(Value(linear.X), linear.Weight, linear.Bias), [y], [.. attributes])));
                break;
            case BatchNormInference norm:
                Activate(norm.Activation, norm.Residual, norm.Y, y => _nodes.Add(Node("BatchNormalization",
                    [Value(norm.X), Key(norm.Norm.Gamma), Key(norm.Norm.Beta), Key(norm.Norm.RunningMean), Key(norm.Norm.RunningVar)], [y],
                    Real("epsilon", norm.Norm.Eps))));
                break;
            case ActivationForward activation:
                ActivationNodes(activation.Activation, Value(activation.X), Value(activation.Y));
                break;
            case PoolForward pool:
                Dictionary<string, int> window = Members(pool.Shape);
                int kernel = window["Kernel"], stride = window["Stride"], pad = window["Pad"];
                // Ceil mode shows as one more output than the floored count (the shape holds the output size).
                bool ceilMode = window["OutHeight"] != ((window["InHeight"] + (2 * pad) - kernel) / stride) + 1
                    || window["OutWidth"] != ((window["InWidth"] + (2 * pad) - kernel) / stride) + 1;
                string[] poolAttributes = pool.Kind == PoolOp.Max
                    ? [Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad), .. (ceilMode ? new[] { Int("ceil_mode", 1) } : System.Array.Empty<string>())]
                    : [Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad), Int("count_include_pad", 1)];
                _nodes.Add(Node(pool.Kind == PoolOp.Max ? "MaxPool" : "AveragePool", [Value(pool.X)], [Value(pool.Y)], poolAttributes));
                break;
            case GlobalAvgPoolForward pool:
                _nodes.Add(Node("GlobalAveragePool", [Value(pool.X)], [Value(pool.Y)]));
                break;
            case Copy copy:
                _nodes.Add(Node("Identity", [Value(copy.X)], [Value(copy.Y)]));
                break;
            case AddScaled add:
                string scaled = Value(add.B);
                if (add.Scale != 1f)
                {
                    string factor = Value(add.Y) + ".scale";
                    _constants.Add($"new(\"{factor}\", {Format.FloatLiteral(add.Scale)})");
                    _nodes.Add(Node("Mul", [scaled, factor], [scaled + ".scaled"]));
                    scaled += ".scaled";
                }

                _nodes.Add(Node("Add", [Value(add.A), scaled], [Value(add.Y)]));
                break;
            case UpsampleForward upsample:
                // PyTorch's own export: nearest as asymmetric + floor, bilinear (align_corners=False) as linear half_pixel.
                string scales = Value(upsample.Y) + ".scales";
                float scale = Members(upsample.Shape)["Scale"];
                _constants.Add($"{Onnx}OnnxConstant.Vector(\"{scales}\", 1f, 1f, {Format.FloatLiteral(scale)}, {Format.FloatLiteral(scale)})");
                _nodes.Add(Node("Resize", [Value(upsample.X), "", scales], [Value(upsample.Y)], upsample.Bilinear
                    ? [Text("mode", "linear"), Text("coordinate_transformation_mode", "half_pixel")]
                    : [Text("mode", "nearest"), Text("coordinate_transformation_mode", "asymmetric"), Text("nearest_mode", "floor")]));
                break;
            case ConcatChannels concat:
                _nodes.Add(Node("Concat", [Value(concat.A), Value(concat.B)], [Value(concat.Y)], Int("axis", 1)));
                break;
            default:
                throw new System.InvalidOperationException("No ONNX form for " + call.Op);
        }
    }

    /// <summary>A node writing <paramref name="y"/>, followed by the residual add and the activation the kernel fused in its epilogue.</summary>
    private void Activate(Activation activation, Operand residual, BufferOperand y, System.Action<string> node)
    {
        if (activation.IsNone && residual is NoOperand)
        {
            node(Value(y));
            return;
        }

        string linear = Value(y) + ".linear";
        node(linear);
        if (residual is not NoOperand)
        {
            // The residual add fused into the kernel's epilogue is an Add node of its own in ONNX.
            string sum = activation.IsNone ? Value(y) : Value(y) + ".sum";
            _nodes.Add(Node("Add", [linear, Value(residual)], [sum]));
            linear = sum;
        }

        if (!activation.IsNone)
        {
            ActivationNodes(activation, linear, Value(y));
        }
    }

    /// <summary>
    /// An activation as ONNX operators: Relu, LeakyRelu and Elu (alpha), Sigmoid, Tanh, Clip to [0, 6] for ReLU6 (its
    /// bounds are inputs since opset 11, scalar initializers here) and x * Sigmoid(x) for SiLU (opset 17 has no SiLU).
    /// </summary>
    private void ActivationNodes(Activation activation, string x, string y)
    {
        switch (activation.Kind)
        {
            case ActivationKind.Relu:
                _nodes.Add(Node("Relu", [x], [y]));
                break;
            case ActivationKind.LeakyRelu:
                _nodes.Add(Node("LeakyRelu", [x], [y], Real("alpha", activation.Alpha)));
                break;
            case ActivationKind.Sigmoid:
                _nodes.Add(Node("Sigmoid", [x], [y]));
                break;
            case ActivationKind.Tanh:
                _nodes.Add(Node("Tanh", [x], [y]));
                break;
            case ActivationKind.Elu:
                _nodes.Add(Node("Elu", [x], [y], Real("alpha", activation.Alpha)));
                break;
            case ActivationKind.Relu6:
                _constants.Add($"new(\"{y}.min\", 0f)");
                _constants.Add($"new(\"{y}.max\", 6f)");
                _nodes.Add(Node("Clip", [x, y + ".min", y + ".max"], [y]));
                break;
            case ActivationKind.Silu:
                _nodes.Add(Node("Sigmoid", [x], [y + ".sigmoid"]));
                _nodes.Add(Node("Mul", [x, y + ".sigmoid"], [y]));
                break;
            default:
                throw new System.InvalidOperationException("No ONNX form for " + activation.Name);
        }
    }

    private string[] Operands(string x, Operand weight, Operand bias) =>
        bias is TensorOperand b ? [x, Key(weight), b.Key.ToString()] : [x, Key(weight)];

    /// <summary>Whether a dense layer's input is already a vector (else ONNX's Gemm needs it flattened first).</summary>
    private bool InputIsFlat(Call dense) => _program.Network.Layers.First(l => l.Name == dense.Layer).Input.IsFlat;

    private Dictionary<string, int> Members(string shape) => _program.Shapes.First(s => s.Name == shape).Members.ToDictionary(m => m.Name, m => m.Value);

    private string Value(Operand operand) => Value(_program, ((BufferOperand)operand).Id);

    private static string Value(KernelProgram program, int id) => program.Buffer(id).Name;

    private static string Key(Operand operand) => ((TensorOperand)operand).Key.ToString();

    private static string Dimensions(Shape shape) => shape.IsFlat
        ? Format.Invariant(shape.Channels)
        : $"{Format.Invariant(shape.Channels)}, {Format.Invariant(shape.Height)}, {Format.Invariant(shape.Width)}";

    private static string Node(string op, string[] inputs, string[] outputs, params string[] attributes) =>
        $"new(\"{op}\", [{string.Join(", ", inputs.Select(i => "\"" + i + "\""))}], [{string.Join(", ", outputs.Select(o => "\"" + o + "\""))}]"
        + string.Concat(attributes.Select(a => ", " + a)) + ")";

    private static string Ints(string name, params int[] values) => $"{Onnx}OnnxAttribute.List(\"{name}\", {string.Join(", ", values.Select(v => Format.Invariant(v)))})";

    private static string Int(string name, int value) => $"{Onnx}OnnxAttribute.Integer(\"{name}\", {Format.Invariant(value)})";

    private static string Text(string name, string value) => $"{Onnx}OnnxAttribute.String(\"{name}\", \"{value}\")";

    private static string Real(string name, float value) => $"{Onnx}OnnxAttribute.Real(\"{name}\", {Format.FloatLiteral(value)})";
}
