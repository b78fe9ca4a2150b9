using System.Linq;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// The activations, one op for the family: nn.ReLU, nn.LeakyReLU(negative_slope), nn.Sigmoid, nn.Tanh, nn.ELU(alpha),
/// nn.ReLU6 and nn.SiLU. Each instance is one kind's syntax (its attribute, blueprint keyword and parameter); the shape
/// rule, the checks and the lowering to one <see cref="ActivationForward"/> are shared. After a convolution, transposed
/// convolution, dense layer or batch norm, an activation whose derivative follows from its output runs in that
/// kernel's epilogue (FuseEpilogues; SiLU only in the inference routines).
/// </summary>
internal sealed class ActivationOp : Op<ActivationSpec>
{
    public static readonly ActivationOp Relu = new(ActivationKind.Relu, "Relu", "RELU", "ReLU");
    public static readonly ActivationOp LeakyRelu = new(ActivationKind.LeakyRelu, "LeakyRelu", "LEAKYRELU", "LeakyReLU", ("Slope", 0.01f));
    public static readonly ActivationOp Sigmoid = new(ActivationKind.Sigmoid, "Sigmoid", "SIGMOID", "Sigmoid");
    public static readonly ActivationOp Tanh = new(ActivationKind.Tanh, "Tanh", "TANH", "Tanh");
    public static readonly ActivationOp Elu = new(ActivationKind.Elu, "Elu", "ELU", "ELU", ("Alpha", 1f));
    public static readonly ActivationOp Relu6 = new(ActivationKind.Relu6, "Relu6", "RELU6", "ReLU6");
    public static readonly ActivationOp Silu = new(ActivationKind.Silu, "Silu", "SILU", "SiLU");

    public static readonly ActivationOp[] Family = [Relu, LeakyRelu, Sigmoid, Tanh, Elu, Relu6, Silu];

    private readonly string _module;
    private readonly string? _parameter;

    /// <param name="module">PyTorch's module name, as the summary describes the layer.</param>
    /// <param name="parameter">The parameter (attribute property and blueprint positional) and its default, if any.</param>
    private ActivationOp(ActivationKind kind, string name, string keyword, string module, (string Name, float Default)? parameter = null)
    {
        Kind = kind;
        Name = name;
        _module = module;
        _parameter = parameter?.Name;
        Syntax = new LayerKind(name + "Attribute", [keyword], parameter is { } p ? [(p.Name, ArgumentType.Float, false)] : [], [],
            a => new ActivationSpec(a.Name, a.Span, a.Spans, kind, parameter is { } p ? a.Float(p.Name, p.Default) : 0f));
    }

    public ActivationKind Kind { get; }

    public override string Name { get; }

    public override LayerKind Syntax { get; }

    public static ActivationOp Of(ActivationKind kind) => Family.First(op => op.Kind == kind);

    /// <summary>The activation a layer of this spec applies, as calls carry it.</summary>
    public static Activation Descriptor(ActivationSpec spec) => new(spec.Kind, spec.Alpha);

    protected override LayerOutcome Check(ActivationSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        // PyTorch's repr: LeakyReLU(negative_slope=0.01), ELU(alpha=1.0).
        string description = _parameter is null ? _module
            : _module + "(" + (spec.Kind == ActivationKind.LeakyRelu ? "negative_slope=" : "alpha=") + Format.Python(spec.Alpha) + ")";
        string? rule = spec.Kind switch
        {
            // A negative slope would make the output's sign no longer the input's, which the backward reads it from.
            ActivationKind.LeakyRelu when !(spec.Alpha >= 0) || float.IsInfinity(spec.Alpha) => "the negative slope must be a finite number of at least 0",
            ActivationKind.Elu when !(spec.Alpha > 0) || float.IsInfinity(spec.Alpha) => "alpha must be a finite positive number",
            _ => null,
        };
        if (rule is not null)
        {
            rules.OutOfRange(spec, _parameter!, spec.Alpha, rule);
            return LayerOutcome.Failed(description);
        }

        return new LayerOutcome(input, description, LayerOutcome.NoTensors, 0);
    }

    protected override BufferOperand Lower(ActivationSpec spec, LayerLowering lowering)
    {
        BufferOperand output = lowering.Activation("output");
        lowering.Emit(new ActivationForward(Descriptor(spec), lowering.Input, output));
        return output;
    }
}
