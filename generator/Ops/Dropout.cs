using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.Dropout: a mask in training, the identity in inference (SimplifyInference).</summary>
internal sealed class Dropout : Op<DropoutSpec>
{
    public static readonly Dropout Instance = new();

    public override string Name => "Dropout";

    public override LayerKind Syntax { get; } = new("DropoutAttribute", ["DROPOUT"], [("P", ArgumentType.Float, true)], [],
        a => new DropoutSpec(a.Name, a.Span, a.Spans, a.Float("P", 0.5f)));

    protected override LayerOutcome Check(DropoutSpec dropout, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        string description = "Dropout(p=" + Format.Invariant(dropout.P) + ")";
        if (!(dropout.P >= 0 && dropout.P < 1))
        {
            rules.OutOfRange(dropout, "P", dropout.P, "the drop probability must be at least 0 and below 1");
            return LayerOutcome.Failed(description);
        }

        return new LayerOutcome(input, description, LayerOutcome.NoTensors, 0);
    }

    protected override BufferOperand Lower(DropoutSpec dropout, LayerLowering lowering)
    {
        BufferOperand output = lowering.Activation("output");
        BufferOperand mask = lowering.Saved("mask", ElementType.Float32, lowering.OutputSize, perImage: true);
        lowering.Emit(new DropoutForward(lowering.Input, output, mask, dropout.P));
        return output;
    }
}
