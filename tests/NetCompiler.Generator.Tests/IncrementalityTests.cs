using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NetCompiler.Generator.Tests;

/// <summary>The pipeline caches on value-equal models: an edit that does not touch a network re-runs nothing.</summary>
public sealed class IncrementalityTests
{
    private const string Network = """
        using NetCompiler;

        [Network("1x28x28")]
        [Conv(8, 3, Pad = 1), Relu, MaxPool(2), Dense(10)]
        public partial class Net;
        """;

    [Fact]
    public void UnrelatedEditLeavesEveryStepCachedOrUnchanged() =>
        AssertUnrelatedEditReRunsNothing(GeneratorHarness.Run(Network, "public class Other { public int A; }"));

    /// <summary>The device flag is its own input, a bool: an edit elsewhere leaves it, and so the emit step, as it was.</summary>
    [Fact]
    public void UnrelatedEditWithTheDevicePackageLeavesEveryStepCachedOrUnchanged()
    {
        GeneratorRun first = GeneratorHarness.RunWithDevice(Network, "public class Other { public int A; }");
        Assert.Contains("class OnDevice", first.SingleSource);
        AssertUnrelatedEditReRunsNothing(first);
    }

    [Fact]
    public void AddingTheDevicePackageReRunsOnlyEmit()
    {
        GeneratorRun first = GeneratorHarness.Run(Network);
        Assert.DoesNotContain("OnDevice", first.SingleSource);

        GeneratorRun second = GeneratorHarness.Run(first.Driver, GeneratorHarness.WithDevice(first.Input));

        GeneratorRunResult result = second.Driver.GetRunResult().Results.Single();
        AssertCachedOrUnchanged(result, TrackingNames.Parse, TrackingNames.Check, TrackingNames.Plan);
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(result, TrackingNames.Emit));
        Assert.Contains("class OnDevice", second.SingleSource);
    }

    private static void AssertUnrelatedEditReRunsNothing(GeneratorRun first)
    {
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(
            first.Input.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("public class Other { public int A; public int B; }", (CSharpParseOptions)first.Input.SyntaxTrees.First().Options, path: "Other1.cs"));

        GeneratorRun second = GeneratorHarness.Run(first.Driver, edited);

        GeneratorRunResult result = second.Driver.GetRunResult().Results.Single();
        AssertCachedOrUnchanged(result, TrackingNames.Parse, TrackingNames.Check, TrackingNames.Plan, TrackingNames.Emit);
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, output.Reason.ToString()));
    }

    private static void AssertCachedOrUnchanged(GeneratorRunResult result, params string[] steps)
    {
        foreach (string step in steps)
        {
            List<IncrementalStepRunReason> reasons = Reasons(result, step);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}"));
        }
    }

    private static List<IncrementalStepRunReason> Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();

    [Fact]
    public void EditingTheNetworkRegenerates()
    {
        GeneratorRun first = GeneratorHarness.Run(Network);
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(
            first.Input.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Network.Replace("Dense(10)", "Dense(12)"), (CSharpParseOptions)first.Input.SyntaxTrees.Single().Options, path: GeneratorHarness.FileName));

        GeneratorRun second = GeneratorHarness.Run(first.Driver, edited);

        GeneratorRunResult result = second.Driver.GetRunResult().Results.Single();
        Assert.Contains(result.TrackedSteps[TrackingNames.Emit].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("ClassCount = 12", second.SingleSource);
    }
}
