using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.ReLU; after a convolution, dense layer or batch norm it runs in that kernel's epilogue (FuseEpilogues).</summary>
internal sealed class Relu : Op<ReluSpec>
{
    public static readonly Relu Instance = new();

    public override string Name => "Relu";

    public override LayerKind Syntax { get; } = new("ReluAttribute", ["RELU"], [], [], a => new ReluSpec(a.Name, a.Span, a.Spans));

    protected override LayerOutcome Check(ReluSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field) =>
        new(input, "ReLU", LayerOutcome.NoTensors, 0);

    protected override BufferOperand Lower(ReluSpec spec, LayerLowering lowering)
    {
        BufferOperand output = lowering.Activation("output");
        lowering.Emit(new ReluForward(lowering.Input, output));
        return output;
    }
}
