using System.Linq;
using Microsoft.CodeAnalysis;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// One test per diagnostic ID: each asserts the ID, the severity and the exact span, marked in the source
/// between {| and |}. The marked text is what a user sees underlined.
/// </summary>
public sealed class DiagnosticTests
{
    [Fact]
    public void NC0001_NetworkNotPartial() => Expect("NC0001", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(2)]
        public class {|Plain|};
        """);

    [Fact]
    public void NC0002_GenericNetwork() => Expect("NC0002", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(2)]
        public partial class {|Generic|}<T>;
        """);

    [Fact]
    public void NC0002_NestedInNonPartialType() => Expect("NC0002", DiagnosticSeverity.Error,
        """
        public class Outer
        {
            [Network("1x8x8")]
            [Dense(2)]
            public partial class {|Inner|};
        }
        """);

    [Fact]
    public void NC0003_InputNotCxHxW() => Expect("NC0003", DiagnosticSeverity.Error,
        """
        [Network({|"28x28"|})]
        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0004_EmptyNetwork() => Expect("NC0004", DiagnosticSeverity.Error,
        """
        [{|Network("1x8x8")|}]
        public partial class Net;
        """);

    [Fact]
    public void NC0005_LayersGivenTwice() => Expect("NC0005", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|Blueprint = "FC 2"|})]
        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0006_UnknownBlueprintToken() => Expect("NC0006", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 -> {|RELUU|} -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public void NC0006_UnknownBlueprintOption() => Expect("NC0006", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 {|strid|}=2 -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public void NC0007_UnclosedGroup() => Expect("NC0007", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "{|[|}CONV 4 3x3 -> RELU -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public void NC0007_MissingArrow() => Expect("NC0007", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 {|RELU|} -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public void NC0007_SpanOnSecondLineOfVerbatimString() => Expect("NC0007", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = @"CONV 4 3x3 -> RELU ->
            {|FC|}")]
        public partial class Net;
        """);

    [Fact]
    public void NC0008_RepetitionBelowOne() => Expect("NC0008", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "[CONV 4 3x3 -> RELU]*{|0|} -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public void NC0009_WindowDoesNotTile_AlexNetPoolingStillBuilds()
    {
        // AlexNet's 3x3 stride-2 pooling of 56 drops one row and column and floors to 27, as PyTorch does.
        GeneratorRun run = Expect("NC0009", DiagnosticSeverity.Warning,
            """
            [Network("8x56x56")]
            [MaxPool(3, {|Stride = 2|}), Dense(2)]
            public partial class Net;
            """);
        Diagnostic warning = run.GeneratorDiagnostics.Single();
        Assert.Contains("1 input row(s) and 1 column(s) are never covered", warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("27x27", warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("TensorShape.Image(8, 27, 27)", run.SingleSource);
    }

    [Fact]
    public void NC0010_KernelLargerThanPaddedInput() => Expect("NC0010", DiagnosticSeverity.Error,
        """
        [Network("1x4x4")]
        [Conv(4, {|7|}, Pad = 1), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0011_TransposedConvLeavesNoOutput() => Expect("NC0011", DiagnosticSeverity.Error,
        """
        [Network("1x2x2", Loss = Loss.PixelCrossEntropy)]
        [ConvTranspose(2, 1, {|Pad = 3|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0012_GroupsDoNotDivideChannels() => Expect("NC0012", DiagnosticSeverity.Error,
        """
        [Network("6x8x8")]
        [Conv(8, 3, {|Groups = 4|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0012_ImexGroupsDoNotDivideTheWidth() => Expect("NC0012", DiagnosticSeverity.Error,
        """
        [Network("6x8x8", Loss = Loss.PixelCrossEntropy)]
        [Imex(Steps = 2, {|Groups = 4|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0013_NonPositiveResidualSteps() => Expect("NC0013", DiagnosticSeverity.Error,
        """
        [Network("4x8x8", Loss = Loss.PixelCrossEntropy)]
        [Residual({|Steps = 0|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0013_MaxPoolWindowPastWhatAByteSwitchHolds() => Expect("NC0013", DiagnosticSeverity.Error,
        """
        [Network("4x32x32")]
        [MaxPool({|17|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0012_MessageNamesTheLayerKindAsItsAttribute()
    {
        GeneratorRun run = Expect("NC0012", DiagnosticSeverity.Error,
            """
            [Network("6x8x8", Loss = Loss.PixelCrossEntropy)]
            [ConvTranspose(4, 2, Stride = 2, {|Groups = 4|})]
            public partial class Net;
            """);
        Assert.StartsWith("ConvTranspose: groups = 4", run.GeneratorDiagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void NC0013_ArgumentOutOfRange() => Expect("NC0013", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dropout({|1.5f|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0013_NonPositiveImexStep() => Expect("NC0013", DiagnosticSeverity.Error,
        """
        [Network("4x16x16", Loss = Loss.PixelCrossEntropy)]
        [Imex(Steps = 2, {|H = -1f|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0014_DenseInputSizeMismatch() => Expect("NC0014", DiagnosticSeverity.Error,
        """
        [Network("3x8x8")]
        [Conv(4, 3), Dense(10, {|InFeatures = 256|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0015_PixelLossOnFlatOutput() => Expect("NC0015", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|Loss = Loss.PixelCrossEntropy|})]
        [Dense(3)]
        public partial class Net;
        """);

    [Fact]
    public void NC0015_ClassLossOnSpatialOutput() => Expect("NC0015", DiagnosticSeverity.Error,
        """
        [{|Network("1x8x8")|}]
        [Conv(3, 3)]
        public partial class Net;
        """);

    [Fact]
    public void NC0016_ConvAfterDense() => Expect("NC0016", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(16), {|Conv(4, 3)|}]
        public partial class Net;
        """);

    [Fact]
    public void NC0017_DuplicateLayerName() => Expect("NC0017", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(16, Name = "head"), Relu, Dense(2, {|Name = "head"|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0018_PoolPaddingTooLarge() => Expect("NC0018", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [MaxPool(2, {|Pad = 2|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0019_ImexOnNonPowerOfTwoSize() => Expect("NC0019", DiagnosticSeverity.Error,
        """
        [Network("4x24x24", Loss = Loss.PixelCrossEntropy)]
        [{|Imex(Steps = 2)|}]
        public partial class Net;
        """);

    [Fact]
    public void NC0019_ImexOnASinglePixelRow() => Expect("NC0019", DiagnosticSeverity.Error,
        """
        [Network("4x1x8", Loss = Loss.PixelCrossEntropy)]
        [{|Imex|}]
        public partial class Net;
        """);

    [Fact]
    public void NC0020_NetworkEndsInRelu() => Expect("NC0020", DiagnosticSeverity.Warning,
        """
        [Network("1x8x8")]
        [Dense(10), {|Relu|}]
        public partial class Net;
        """);

    [Fact]
    public void NC0021_OptionalPoolSkippedWhereTooSmall()
    {
        GeneratorRun run = Expect("NC0021", DiagnosticSeverity.Info,
            """
            [Network("1x4x4", Blueprint = "[CONV 2 3x3 -> {|POOL 2?|}]*3 -> FC 2")]
            public partial class Net;
            """);
        // 4 -> 2 -> 1, then the third pool does not fit and is left out: two pools in the network.
        Assert.Equal(2, run.SingleSource.Split("\"MaxPool2d(").Length - 1);
    }

    [Fact]
    public void NC0022_LayersOnTwoPartialDeclarations() => Expect("NC0022", DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(4)]
        public partial class {|Net|};

        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public void NC0023_BlueprintExpandsTooFar() => Expect("NC0023", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|Blueprint = "[[[RELU]*100]*100]*100 -> FC 2"|})]
        public partial class Net;
        """);

    [Fact]
    public void NC0024_KeptLayerNotInTheNetwork() => Expect("NC0024", DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 -> RELU -> FC 2", {|Keep = "features.1, features.7"|})]
        public partial class Net;
        """);

    [Fact]
    public void EveryDescriptorHasATest()
    {
        var tested = typeof(DiagnosticTests).GetMethods()
            .Select(method => method.Name)
            .Where(name => name.StartsWith("NC", System.StringComparison.Ordinal))
            .Select(name => name[..6])
            .ToHashSet();
        var untested = DiagnosticDescriptors.All.Select(d => d.Id).Where(id => id != "NC9999" && !tested.Contains(id)).ToList();
        Assert.Empty(untested);
    }

    /// <summary>
    /// Runs the generator over <paramref name="marked"/> and asserts it reports exactly one diagnostic of
    /// <paramref name="id"/>, with that severity, spanning the {| |} text; no other error is reported.
    /// </summary>
    private static GeneratorRun Expect(string id, DiagnosticSeverity severity, string marked)
    {
        string source = GeneratorHarness.Network(marked);
        int start = source.IndexOf("{|", System.StringComparison.Ordinal);
        int end = source.IndexOf("|}", System.StringComparison.Ordinal) - 2;
        source = source.Replace("{|", "").Replace("|}", "");

        GeneratorRun run = GeneratorHarness.Run(source);
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics, d => d.Id == id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(GeneratorHarness.FileName, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(source[start..end], source[diagnostic.Location.SourceSpan.Start..diagnostic.Location.SourceSpan.End]);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id != id && d.Severity == DiagnosticSeverity.Error);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "NC9999");
        return run;
    }
}
