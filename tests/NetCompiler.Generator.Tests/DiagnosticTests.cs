using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// At least one test per diagnostic ID: each asserts the ID and the exact span, marked in the source as
/// {|ID:text|} for the testing framework, and the severity. The marked text is what a user sees underlined.
/// </summary>
public sealed class DiagnosticTests
{
    [Fact]
    public Task NC0001_NetworkNotPartial() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(2)]
        public class {|NC0001:Plain|};
        """);

    [Fact]
    public Task NC0002_GenericNetwork() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(2)]
        public partial class {|NC0002:Generic|}<T>;
        """);

    [Fact]
    public Task NC0002_NestedInNonPartialType() => Expect(DiagnosticSeverity.Error,
        """
        public class Outer
        {
            [Network("1x8x8")]
            [Dense(2)]
            public partial class {|NC0002:Inner|};
        }
        """);

    [Fact]
    public Task NC0003_InputNotCxHxW() => Expect(DiagnosticSeverity.Error,
        """
        [Network({|NC0003:"28x28"|})]
        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0004_EmptyNetwork() => Expect(DiagnosticSeverity.Error,
        """
        [{|NC0004:Network("1x8x8")|}]
        public partial class Net;
        """);

    [Fact]
    public Task NC0005_LayersGivenTwice() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|NC0005:Blueprint = "FC 2"|})]
        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0006_UnknownBlueprintToken() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 -> {|NC0006:RELUU|} -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public Task NC0006_UnknownBlueprintOption() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 {|NC0006:strid|}=2 -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public Task NC0007_UnclosedGroup() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "[CONV 4 3x3 -> RELU -> FC 2")]
        public partial class Net;
        """,
        // Markup cannot mark a lone '[' (the framework reads "[|" as the start of a span), so its span is spelled out:
        // the '[' opening the blueprint, on line 3 after the two lines of usings.
        new DiagnosticResult("NC0007", DiagnosticSeverity.Error).WithSpan(3, 32, 3, 33));

    [Fact]
    public Task NC0007_MissingArrow() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 {|NC0007:RELU|} -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public Task NC0007_SpanOnSecondLineOfVerbatimString() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = @"CONV 4 3x3 -> RELU ->
            {|NC0007:FC|}")]
        public partial class Net;
        """);

    [Fact]
    public Task NC0008_RepetitionBelowOne() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "[CONV 4 3x3 -> RELU]*{|NC0008:0|} -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public async Task NC0009_WindowDoesNotTile_AlexNetPoolingStillBuilds()
    {
        // AlexNet's 3x3 stride-2 pooling of 56 drops one row and column and floors to 27, as PyTorch does.
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Warning,
            """
            [Network("8x56x56")]
            [MaxPool(3, {|NC0009:Stride = 2|}), Dense(2)]
            public partial class Net;
            """);
        string message = run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("1 input row(s) and 1 column(s) are never covered", message);
        Assert.Contains("27x27", message);
        Assert.Contains("TensorShape.Image(8, 27, 27)", run.GeneratedSource);
    }

    [Fact]
    public Task NC0010_KernelLargerThanPaddedInput() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x4x4")]
        [Conv(4, {|NC0010:7|}, Pad = 1), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0011_TransposedConvLeavesNoOutput() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x2x2", Loss = Loss.PixelCrossEntropy)]
        [ConvTranspose(2, 1, {|NC0011:Pad = 3|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0012_GroupsDoNotDivideChannels() => Expect(DiagnosticSeverity.Error,
        """
        [Network("6x8x8")]
        [Conv(8, 3, {|NC0012:Groups = 4|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0012_ImexGroupsDoNotDivideTheWidth() => Expect(DiagnosticSeverity.Error,
        """
        [Network("6x8x8", Loss = Loss.PixelCrossEntropy)]
        [Imex(Steps = 2, {|NC0012:Groups = 4|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_NonPositiveResidualSteps() => Expect(DiagnosticSeverity.Error,
        """
        [Network("4x8x8", Loss = Loss.PixelCrossEntropy)]
        [Residual({|NC0013:Steps = 0|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_MaxPoolWindowPastWhatAByteSwitchHolds() => Expect(DiagnosticSeverity.Error,
        """
        [Network("4x32x32")]
        [MaxPool({|NC0013:17|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public async Task NC0012_MessageNamesTheLayerKindAsItsAttribute()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Error,
            """
            [Network("6x8x8", Loss = Loss.PixelCrossEntropy)]
            [ConvTranspose(4, 2, Stride = 2, {|NC0012:Groups = 4|})]
            public partial class Net;
            """);
        Assert.StartsWith("ConvTranspose: groups = 4", run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task NC0013_ArgumentOutOfRange() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dropout({|NC0013:1.5f|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_NegativeLeakyReluSlope() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Conv(2, 3), LeakyRelu({|NC0013:-0.1f|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_InitializationNotAMember() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|NC0013:Init = (Initialization)9|})]
        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_NonFiniteLeakyReluSlope() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(4), LeakyRelu({|NC0013:float.NaN|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public async Task NC0013_NonPositiveEluAlphaInABlueprint()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Error,
            """
            [Network("1x8x8", Blueprint = "CONV 2 3x3 -> ELU {|NC0013:0|} -> FC 2")]
            public partial class Net;
            """);
        Assert.Equal("Elu: Alpha = 0 is out of range: alpha must be a finite positive number", run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task NC0013_NonPositiveImexStep() => Expect(DiagnosticSeverity.Error,
        """
        [Network("4x16x16", Loss = Loss.PixelCrossEntropy)]
        [Imex(Steps = 2, {|NC0013:H = -1f|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0014_DenseInputSizeMismatch() => Expect(DiagnosticSeverity.Error,
        """
        [Network("3x8x8")]
        [Conv(4, 3), Dense(10, {|NC0014:InFeatures = 256|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0015_PixelLossOnFlatOutput() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|NC0015:Loss = Loss.PixelCrossEntropy|})]
        [Dense(3)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0015_ClassLossOnSpatialOutput() => Expect(DiagnosticSeverity.Error,
        """
        [{|NC0015:Network("1x8x8")|}]
        [Conv(3, 3)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0016_ConvAfterDense() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(16), {|NC0016:Conv(4, 3)|}]
        public partial class Net;
        """);

    [Fact]
    public Task NC0016_BasicBlockAfterDense() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(16), {|NC0016:BasicBlock(8)|}]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_NoBasicBlocks() => Expect(DiagnosticSeverity.Error,
        """
        [Network("3x8x8")]
        [BasicBlock(8, {|NC0013:Blocks = 0|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_BottleneckStrideZero() => Expect(DiagnosticSeverity.Error,
        """
        [Network("3x8x8")]
        [Bottleneck(4, Blocks = 2, {|NC0013:Stride = 0|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_BottleneckWithoutWidth() => Expect(DiagnosticSeverity.Error,
        """
        [Network("3x8x8")]
        [Bottleneck({|NC0013:0|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0016_InceptionAfterDense() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(16), {|NC0016:Inception(4, 4, 8, 2, 4, 4)|}]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_InceptionBranchWithoutChannels() => Expect(DiagnosticSeverity.Error,
        """
        [Network("3x8x8")]
        [Inception(4, 4, 8, {|NC0013:0|}, 4, 4), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public async Task NC0013_InceptionPoolProjectionBelowOneInABlueprint()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Error,
            """
            [Network("3x8x8", Blueprint = "INCEPTION 4 4 8 2 4 {|NC0013:-1|} -> FC 2")]
            public partial class Net;
            """);
        Assert.Equal("Inception: PoolProj = -1 is out of range: it must be at least 1", run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task NC0007_InceptionMissingBranchWidths()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Error,
            """
            [Network("3x8x8", Blueprint = "{|NC0007:INCEPTION 4 4 8|} -> FC 2")]
            public partial class Net;
            """);
        Assert.Contains("write INCEPTION ch1x1 ch3x3reduce ch3x3 ch5x5reduce ch5x5 poolproj", run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task NC0006_CeilModeIsMaxPoolsAlone() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "AVGPOOL 3 stride=2 {|NC0006:ceil|}=true -> FC 2")]
        public partial class Net;
        """);

    [Fact]
    public async Task CeilModeCoversWhatFloorModeDrops()
    {
        // NC0009's AlexNet pooling of 56 in ceil mode: one more window, clipped, and nothing left over to warn about.
        var test = new NetworkGeneratorTest(
            """
            [Network("8x56x56")]
            [MaxPool(3, Stride = 2, CeilMode = true), Dense(2)]
            public partial class Net;
            """) { TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck };
        await test.RunAsync();
        Assert.Empty(test.GeneratorDiagnostics);
        Assert.Contains("TensorShape.Image(8, 28, 28)", test.GeneratedSource);
        Assert.Contains("MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)", test.GeneratedSource);
    }

    [Fact]
    public Task NC0017_DuplicateLayerName() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(16, Name = "head"), Relu, Dense(2, {|NC0017:Name = "head"|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0018_PoolPaddingTooLarge() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [MaxPool(2, {|NC0018:Pad = 2|}), Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0019_ImexOnNonPowerOfTwoSize() => Expect(DiagnosticSeverity.Error,
        """
        [Network("4x24x24", Loss = Loss.PixelCrossEntropy)]
        [{|NC0019:Imex(Steps = 2)|}]
        public partial class Net;
        """);

    [Fact]
    public Task NC0019_ImexOnASinglePixelRow() => Expect(DiagnosticSeverity.Error,
        """
        [Network("4x1x8", Loss = Loss.PixelCrossEntropy)]
        [{|NC0019:Imex|}]
        public partial class Net;
        """);

    [Fact]
    public Task NC0020_NetworkEndsInRelu() => Expect(DiagnosticSeverity.Warning,
        """
        [Network("1x8x8")]
        [Dense(10), {|NC0020:Relu|}]
        public partial class Net;
        """);

    [Fact]
    public async Task NC0020_ClassifierEndsInSigmoid()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Warning,
            """
            [Network("1x8x8")]
            [Dense(10), {|NC0020:Sigmoid|}]
            public partial class Net;
            """);
        Assert.Equal("The network ends in Sigmoid: the scores are squashed into (0, 1), which cripples the softmax of CrossEntropy; end in Dense or Conv",
            run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task NC0020_SegmenterEndsInTanh() => Expect(DiagnosticSeverity.Warning,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
        [Conv(3, 1), {|NC0020:Tanh|}]
        public partial class Net;
        """);

    [Fact]
    public async Task NC0020_BinaryCrossEntropyOnSigmoid()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Warning,
            """
            [Network("1x8x8", Loss = Loss.BinaryCrossEntropy)]
            [Dense(5), {|NC0020:Sigmoid|}]
            public partial class Net;
            """);
        Assert.Equal("The network ends in Sigmoid: BinaryCrossEntropy applies the sigmoid itself, so it would be applied twice; end in Dense or Conv",
            run.GeneratorDiagnostics.Single().GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task NC0020_BinaryCrossEntropyOnRelu() => Expect(DiagnosticSeverity.Warning,
        """
        [Network("1x8x8", Loss = Loss.BinaryCrossEntropy)]
        [Dense(5), {|NC0020:Relu|}]
        public partial class Net;
        """);

    /// <summary>
    /// The float-target losses take any output, one channel or more, flat or spatial, and a ReLU, Tanh or Sigmoid last is
    /// fine for the regression losses (depth is non-negative, targets may lie in a range): nothing is reported, where
    /// cross-entropy reports NC0015 or NC0020.
    /// </summary>
    [Theory]
    [InlineData("MeanSquaredError", "[Conv(1, 3, Pad = 1), Relu]")]
    [InlineData("L1", "[Conv(3, 3)]")]
    [InlineData("SmoothL1", "[Dense(1), Relu]")]
    [InlineData("MeanSquaredError", "[Dense(2), Tanh]")]
    [InlineData("L1", "[Conv(1, 3, Pad = 1), Sigmoid]")]
    [InlineData("BinaryCrossEntropy", "[Conv(1, 1)]")]
    [InlineData("BinaryCrossEntropy", "[Dense(1)]")]
    public async Task FloatTargetLossesFitAnyOutput(string loss, string layers)
    {
        var test = new NetworkGeneratorTest($$"""
            [Network("2x8x8", Loss = Loss.{{loss}})]
            {{layers}}
            public partial class Net;
            """)
        {
            TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck,
        };
        await test.RunAsync();
        Assert.Empty(test.GeneratorDiagnostics);
    }

    [Fact]
    public async Task NC0021_OptionalPoolSkippedWhereTooSmall()
    {
        NetworkGeneratorTest run = await Expect(DiagnosticSeverity.Info,
            """
            [Network("1x4x4", Blueprint = "[CONV 2 3x3 -> {|NC0021:POOL 2?|}]*3 -> FC 2")]
            public partial class Net;
            """);
        // 4 -> 2 -> 1, then the third pool does not fit and is left out: two pools in the network.
        Assert.Equal(2, run.GeneratedSource.Split("\"MaxPool2d(").Length - 1);
    }

    [Fact]
    public Task NC0022_LayersOnTwoPartialDeclarations() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Dense(4)]
        public partial class {|NC0022:Net|};

        [Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0023_BlueprintExpandsTooFar() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", {|NC0023:Blueprint = "[[[RELU]*100]*100]*100 -> FC 2"|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0024_KeptLayerNotInTheNetwork() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Blueprint = "CONV 4 3x3 -> RELU -> FC 2", {|NC0024:Keep = "features.1, features.7"|})]
        public partial class Net;
        """);

    [Fact]
    public Task NC0034_ConcatOfAnotherSize() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
        [Conv(4, 3, Pad = 1), Save("enc1"), MaxPool(2), {|NC0034:Concat("enc1")|}, Conv(2, 1)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0034_AddOfOtherChannelsInTheBlueprint() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy, Blueprint = "CONV 4 3 -> SAVE a -> CONV 6 3 -> {|NC0034:ADD a|} -> CONV 2 1")]
        public partial class Net;
        """);

    [Fact]
    public Task NC0035_UnknownSkip() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy, Blueprint = "CONV 4 3 -> SAVE enc1 -> CONCAT {|NC0035:enc2|} -> CONV 2 1")]
        public partial class Net;
        """);

    [Fact]
    public Task NC0036_SkipJoinedBeforeItIsSaved() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
        [Conv(4, 3, Pad = 1), Add({|NC0036:"late"|}), Save("late"), Conv(2, 1)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0037_SkipSavedTwice() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
        [Conv(4, 3, Pad = 1), Save("enc1"), Conv(4, 3, Pad = 1), Save({|NC0037:"enc1"|}), Conv(2, 1)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0038_JoinAfterFlatten() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8")]
        [Conv(4, 3, Pad = 1), Save("enc1"), Dense(8), {|NC0038:Add("enc1")|}, Dense(2)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_UpsampleScaleBelowOne() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy)]
        [Conv(4, 3, Pad = 1), Upsample({|NC0013:0|}), Conv(2, 1)]
        public partial class Net;
        """);

    [Fact]
    public Task NC0013_UnknownUpsampleMode() => Expect(DiagnosticSeverity.Error,
        """
        [Network("1x8x8", Loss = Loss.PixelCrossEntropy, Blueprint = "CONV 4 3 -> UPSAMPLE 2 {|NC0013:mode=bicubic|} -> CONV 2 1")]
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
    /// Runs the framework's generator test over <paramref name="marked"/>: it verifies that the generator reports
    /// exactly the diagnostics marked {|ID:text|}, each on its text, and that whatever is generated compiles
    /// without warning. The framework's markup does not check severity, so that is asserted here.
    /// <paramref name="unmarked"/> are expected diagnostics that markup cannot express.
    /// </summary>
    private static async Task<NetworkGeneratorTest> Expect(DiagnosticSeverity severity, string marked, params DiagnosticResult[] unmarked)
    {
        var test = new NetworkGeneratorTest(marked)
        {
            // What networks generate is the baselines' business; these tests are about what is reported.
            TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck,
        };
        test.ExpectedDiagnostics.AddRange(unmarked);
        await test.RunAsync();
        Assert.Equal(severity, Assert.Single(test.GeneratorDiagnostics).Severity);
        return test;
    }
}
