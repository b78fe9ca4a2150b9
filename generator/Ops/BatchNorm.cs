using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.BatchNorm2d (nn.BatchNorm1d after a dense layer); residual and IMEX steps use PyTorch's defaults for theirs.</summary>
internal sealed class BatchNorm : Op<BatchNormSpec>
{
    public static readonly BatchNorm Instance = new();

    public override string Name => "BatchNorm";

    public override bool TakesActivationEpilogue => true;

    public override LayerKind Syntax { get; } = new("BatchNormAttribute", ["BN", "BATCHNORM"], [],
        [("eps", "Eps", ArgumentType.Float), ("momentum", "Momentum", ArgumentType.Float)],
        a => new BatchNormSpec(a.Name, a.Span, a.Spans, a.Float("Eps", BatchNormSpec.DefaultEps), a.Float("Momentum", BatchNormSpec.DefaultMomentum)));

    protected override LayerOutcome Check(BatchNormSpec bn, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        string description = $"BatchNorm{(input.IsFlat ? 1 : 2)}d({input.Channels}"
            + (bn.Eps == 1e-5f ? "" : ", eps=" + Format.Invariant(bn.Eps))
            + (bn.Momentum == 0.1f ? "" : ", momentum=" + Format.Invariant(bn.Momentum)) + ")";
        bool valid = true;
        if (!(bn.Eps > 0) || float.IsInfinity(bn.Eps))
        {
            rules.OutOfRange(bn, "Eps", bn.Eps, "it must be a positive number");
            valid = false;
        }

        if (!(bn.Momentum >= 0 && bn.Momentum <= 1))
        {
            rules.OutOfRange(bn, "Momentum", bn.Momentum, "it must be from 0 to 1");
            valid = false;
        }

        return valid ? new LayerOutcome(input, description, [.. OpCatalog.NormTensors("", input.Channels)], 0) : LayerOutcome.Failed(description);
    }

    public override Initialiser Initialise(TensorSpec tensor, Activation activation) => OpCatalog.NormInitialiser(tensor);

    protected override BufferOperand Lower(BatchNormSpec bn, LayerLowering lowering) =>
        lowering.BatchNorm(lowering.Norm("", bn.Eps, bn.Momentum), lowering.Input, "output");
}
