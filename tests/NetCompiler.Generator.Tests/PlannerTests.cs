using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;

namespace NetCompiler.Generator.Tests;

/// <summary>The planning stage on its own: checked network in, fusion groups out.</summary>
public sealed class PlannerTests
{
    private static readonly SourceSpan Nowhere = new("Net.cs", 0, 0, 0, 0, 0, 0);

    [Fact]
    public void ReluFusesIntoTheConvDenseOrBatchNormBeforeIt()
    {
        KernelPlan plan = Plan("CONV 32 3x3 -> BN -> RELU -> POOL 2 -> CONV 64 3x3 -> RELU -> POOL 2 -> RELU -> FC 128 -> RELU -> DROPOUT 0.25 -> FC 10");
        Assert.Equal(
            [
                (StepKind.Conv, (string?)null), (StepKind.BatchNorm, "features.2"), (StepKind.MaxPool, null), (StepKind.Conv, "features.5"),
                (StepKind.MaxPool, null), (StepKind.Relu, null), (StepKind.Dense, "classifier.1"), (StepKind.Dropout, null), (StepKind.Dense, null),
            ],
            plan.Steps.Select(s => (s.Kind, s.FusedRelu)));
    }

    [Fact]
    public void EachStepReadsThePreviousStepsOutput()
    {
        KernelPlan plan = Plan("CONV 8 3x3 -> BN -> RELU -> GAP -> FC 10");
        Assert.Null(plan.Steps[0].Input);
        Assert.Equal(plan.Steps.Take(plan.Steps.Count - 1).Select(s => s.Identifier), plan.Steps.Skip(1).Select(s => s.Input));
        Assert.Equal(["Features_0", "Features_1", "Features_3", "Classifier_0"], plan.Steps.Select(s => s.Identifier));
        Assert.Equal(plan.Steps.Count, plan.Steps.Select(s => s.Identifier).Distinct().Count());
    }

    [Fact]
    public void TheBufferPlanHoldsWhatEachBackwardNeeds()
    {
        KernelPlan plan = Plan("CONV 8 3x3 -> BN -> RELU -> POOL 2 -> FC 32 -> DROPOUT 0.5 -> FC 10");
        Assert.Equal(
            [
                ["output float 2048/image", "gradient float 2048/image", "foldedWeight float 72", "foldedBias float 8"],
                ["output float 2048/image", "gradient float 2048/image", "savedMean float 8", "savedInvStd float 8"],
                ["output float 512/image", "gradient float 512/image", "switches int 512/image"],
                ["output float 32/image", "gradient float 32/image"],
                ["output float 32/image", "gradient float 32/image", "mask float 32/image"],
                ["output float 10/image", "gradient float 10/image"],
            ],
            plan.Steps.Select(s => s.Buffers.Select(b => $"{b.Role} {b.ElementType} {b.Elements}{(b.PerImage ? "/image" : "")}").ToArray()));
    }

    [Fact]
    public void BatchNormFoldsIntoAConvOrDenseLayerRightBeforeIt()
    {
        // Folded: conv -> BN and dense -> BN. Not folded: a BN after a ReLU (the ReLU is in the conv's epilogue),
        // after a pooling layer, or after a transposed conv (its weight rows are input channels).
        KernelPlan plan = Plan("CONV 8 3x3 -> BN -> RELU -> CONV 8 3x3 -> RELU -> BN -> POOL 2 -> BN -> CONVT 4 2x2 stride=2 -> BN -> GAP -> FC 16 -> BN -> FC 2");
        Assert.Equal(
            [
                ("features.0", "features.1"), ("features.1", null), ("features.3", null), ("features.5", null), ("features.6", null), ("features.7", null),
                ("features.8", null), ("features.9", null), ("features.10", null), ("classifier.0", "classifier.1"), ("classifier.1", null), ("classifier.2", null),
            ],
            plan.Steps.Select(s => (s.Layer.Name, s.FoldedBatchNorm?.Layer.Name)));
        Assert.Equal(["features.1", "classifier.1"], plan.Steps.Where(s => s.IsFolded).Select(s => s.Layer.Name));
    }

    [Fact]
    public void ResidualAndImexLayersBecomeOneStepPerTimeStepWithItsOwnTensors()
    {
        KernelPlan plan = Plan("CONV 4 3x3 -> RESIDUAL steps=2 -> IMEX steps=3 -> GAP -> FC 2");
        Assert.Equal(
            [
                ("Features_0", (int?)null, "Features_0"), ("Features_1_0", 0, "Features_1"), ("Features_1_1", 1, "Features_1"),
                ("Features_2_0", 0, "Features_2"), ("Features_2_1", 1, "Features_2"), ("Features_2_2", 2, "Features_2"), ("Features_3", null, "Features_3"), ("Classifier_0", null, "Classifier_0"),
            ],
            plan.Steps.Select(s => (s.Identifier, s.TimeStep, s.LayerIdentifier)));
        Assert.Equal([true, false, true, false, false, true, true, true], plan.Steps.Select(s => s.EndsLayer));
        Assert.Equal(
            ["features.1.1.conv1.weight", "features.1.1.bn.weight", "features.1.1.bn.bias", "features.1.1.bn.running_mean", "features.1.1.bn.running_var", "features.1.1.conv2.weight"],
            plan.Steps[2].Tensors.Select(t => t.Key));
        Assert.Equal(
            ["features.2.2.conv.weight", "features.2.2.bn.weight", "features.2.2.bn.bias", "features.2.2.bn.running_mean", "features.2.2.bn.running_var", "features.2.2.implicit.weight"],
            plan.Steps[5].Tensors.Select(t => t.Key));

        // Every tensor of the network belongs to exactly one step.
        Assert.Equal(plan.Network.Layers.SelectMany(l => l.Tensors).Select(t => t.Key), plan.Steps.SelectMany(s => s.Tensors).Select(t => t.Key));
    }

    private static KernelPlan Plan(string blueprint)
    {
        var diagnostics = new List<DiagnosticInfo>();
        List<LayerSpec> layers = BlueprintParser.Parse(new BlueprintText(blueprint, Nowhere, EquatableArray<SourcePoint>.Empty), diagnostics);
        var spec = new NetworkSpec(new TypeDeclaration(null, EquatableArray<ContainingType>.Empty, "Net"), Nowhere,
            new InputSpec(1, 16, 16, Nowhere), LossKind.CrossEntropy, Nowhere, layers.ToEquatableArray());
        CheckResult checkedResult = NetworkChecker.Check(spec);
        Assert.Empty(diagnostics.Concat(checkedResult.Diagnostics));
        return Planner.Plan(checkedResult.Network!);
    }
}
