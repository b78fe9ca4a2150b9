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
    public void UnrelatedEditLeavesEveryStepCachedOrUnchanged()
    {
        GeneratorRun first = GeneratorHarness.Run(Network, "public class Other { public int A; }");
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(
            first.Input.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("public class Other { public int A; public int B; }", (CSharpParseOptions)first.Input.SyntaxTrees.First().Options, path: "Other1.cs"));

        GeneratorRun second = GeneratorHarness.Run(first.Driver, edited);

        GeneratorRunResult result = second.Driver.GetRunResult().Results.Single();
        foreach (string step in new[] { TrackingNames.Parse, TrackingNames.Check, TrackingNames.Plan, TrackingNames.Emit })
        {
            var reasons = result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {reason}"));
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, output.Reason.ToString()));
    }

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
