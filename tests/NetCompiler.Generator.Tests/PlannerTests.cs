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
        Assert.Null(plan.NotCompiled);
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
                ["output float 2048/image", "gradient float 2048/image"],
                ["output float 2048/image", "gradient float 2048/image", "savedMean float 8", "savedInvStd float 8"],
                ["output float 512/image", "gradient float 512/image", "switches int 512/image"],
                ["output float 32/image", "gradient float 32/image"],
                ["output float 32/image", "gradient float 32/image", "mask float 32/image"],
                ["output float 10/image", "gradient float 10/image"],
            ],
            plan.Steps.Select(s => s.Buffers.Select(b => $"{b.Role} {b.ElementType} {b.Elements}{(b.PerImage ? "/image" : "")}").ToArray()));
    }

    [Fact]
    public void LayersWithoutKernelsYetAreReportedNotPlanned()
    {
        KernelPlan plan = Plan("CONV 8 3x3 -> RESIDUAL -> GAP -> FC 10");
        Assert.Empty(plan.Steps);
        Assert.Contains("features.1 (Residual(8", plan.NotCompiled);
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
