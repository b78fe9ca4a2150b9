using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.Flatten + nn.Linear: a spatial input is flattened first.</summary>
internal sealed class Dense : Op<DenseSpec>
{
    public static readonly Dense Instance = new();

    public override string Name => "Dense";

    public override bool TakesActivationEpilogue => true;

    public override LayerKind Syntax { get; } = new("DenseAttribute", ["FC", "DENSE"], [("OutFeatures", ArgumentType.Int, true)],
        [("in", "InFeatures", ArgumentType.Int), ("bias", "Bias", ArgumentType.Bool)],
        a => new DenseSpec(a.Name, a.Span, a.Spans, a.Int("OutFeatures", 1), a.Int("InFeatures", 0), a.Bool("Bias", true)));

    protected override LayerOutcome Check(DenseSpec dense, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        long features = input.Elements;
        string description = $"Linear({features}, {dense.OutFeatures}" + (dense.Bias ? "" : ", bias=False") + ")";
        bool valid = rules.AtLeast(dense, "OutFeatures", dense.OutFeatures, 1) & rules.AtLeast(dense, "InFeatures", dense.InFeatures, 0);
        if (valid && dense.InFeatures != 0 && dense.InFeatures != features)
        {
            rules.Report(DiagnosticDescriptors.DenseInputMismatch, dense.SpanOf("InFeatures"), ShapeRules.Label(dense), dense.InFeatures, input, features);
            valid = false;
        }

        if (valid && features * dense.OutFeatures > int.MaxValue)
        {
            rules.OutOfRange(dense, "OutFeatures", dense.OutFeatures, $"a {features} x {dense.OutFeatures} weight exceeds 2^31 elements");
            valid = false;
        }

        if (!valid)
        {
            return LayerOutcome.Failed(description);
        }

        // A spatial input is flattened first (nn.Flatten), so every output sees the whole image.
        field = input.IsFlat ? field : field.Everything;
        return new LayerOutcome(Shape.Flat(dense.OutFeatures), description,
            Conv.WeightAndBias([dense.OutFeatures, (int)features], dense.OutFeatures, dense.Bias), features * dense.OutFeatures);
    }

    protected override BufferOperand Lower(DenseSpec dense, LayerLowering lowering)
    {
        string shape = lowering.Shape("Shape", "IDenseShape", ("InFeatures", (int)lowering.Layer.Input.Elements), ("OutFeatures", lowering.Layer.Output.Channels));
        return Conv.LowerLinear(lowering, LinearOp.Dense, shape);
    }
}
