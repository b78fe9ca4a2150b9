namespace NetCompiler.Onnx;

/// <summary>
/// A network's inference program as an ONNX graph, printed by the generator: the nodes in order, the scalar constants
/// they use, the input and output with their per-image shapes (the batch dimension is dynamic). Initializers are the
/// network's parameters, named by their checkpoint keys, with their values at export time.
/// </summary>
public sealed record OnnxGraph(string Input, long[] InputShape, string Output, long[] OutputShape, OnnxNode[] Nodes, OnnxConstant[] Constants);

/// <summary>One ONNX node: its operator (opset 17), input and output value names, and attributes.</summary>
public sealed record OnnxNode(string OpType, string[] Inputs, string[] Outputs, params OnnxAttribute[] Attributes);

/// <summary>An attribute: an integer, a list of integers, a float or a string.</summary>
public sealed record OnnxAttribute(string Name, long[]? Ints = null, long? Int = null, float? Float = null, string? Text = null)
{
    public static OnnxAttribute String(string name, string value) => new(name, Text: value);

    public static OnnxAttribute List(string name, params long[] values) => new(name, Ints: values);

    public static OnnxAttribute Integer(string name, long value) => new(name, Int: value);

    public static OnnxAttribute Real(string name, float value) => new(name, Float: value);
}

/// <summary>A float initializer: a scalar such as a residual step's h, or a vector (<paramref name="Values"/>) such as Resize's scales.</summary>
public sealed record OnnxConstant(string Name, float Value, float[]? Values = null)
{
    public static OnnxConstant Vector(string name, params float[] values) => new(name, 0f, values);
}
