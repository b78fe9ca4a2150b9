using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;

namespace NetCompiler.Generator.Tests;

/// <summary>The pure stages on their own, without Roslyn: blueprint text to specs, specs to a checked network.</summary>
public sealed class StageTests
{
    private static readonly SourceSpan Nowhere = new("Net.cs", 0, 0, 0, 0, 0, 0);

    [Fact]
    public void BlueprintRepetitionExpandsInOrder()
    {
        List<LayerSpec> layers = ParseClean("[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 128 -> RELU]*2 -> FC 10");
        Assert.Equal(3 * 7 + 4 + 1, layers.Count);
        Assert.Equal(
            ["ConvSpec", "BatchNormSpec", "ActivationSpec", "ConvSpec", "BatchNormSpec", "ActivationSpec", "PoolSpec"],
            layers.Take(7).Select(l => l.GetType().Name));
        Assert.Equal(10, Assert.IsType<DenseSpec>(layers[^1]).OutFeatures);
    }

    [Fact]
    public void BlueprintConvDefaultsToSamePaddingAndTakesOptions()
    {
        var conv = Assert.IsType<ConvSpec>(ParseClean("CONV 16 5x5 dilation=2 -> FC 2")[0]);
        Assert.Equal((16, 5, 1, 4, 2), (conv.OutChannels, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation));

        var explicitPad = Assert.IsType<ConvSpec>(ParseClean("conv 8 3 stride=2 pad=0 groups=2 bias=false")[0]);
        Assert.Equal((8, 3, 2, 0, 2, false), (explicitPad.OutChannels, explicitPad.Kernel, explicitPad.Stride, explicitPad.Pad, explicitPad.Groups, explicitPad.Bias));
    }

    [Fact]
    public void BlueprintPoolDefaultsAndOptionalMarker()
    {
        List<LayerSpec> layers = ParseClean("POOL -> AVGPOOL 3 stride=2 pad=1? -> GAP");
        var max = Assert.IsType<PoolSpec>(layers[0]);
        Assert.Equal((PoolKind.Max, 2, 2, 0, false), (max.Kind, max.Kernel, max.Stride, max.Pad, max.Optional));
        var average = Assert.IsType<PoolSpec>(layers[1]);
        Assert.Equal((PoolKind.Average, 3, 2, 1, true), (average.Kind, average.Kernel, average.Stride, average.Pad, average.Optional));
        Assert.IsType<GlobalAvgPoolSpec>(layers[2]);
    }

    [Fact]
    public void BlueprintActivationsTakeTheirParameterOrPyTorchsDefault()
    {
        List<LayerSpec> layers = ParseClean("RELU -> LEAKYRELU -> leakyrelu 0.2 -> SIGMOID -> TANH -> ELU -> ELU 0.5 -> RELU6 -> SILU");
        Assert.Equal(
            [(ActivationKind.Relu, 0f), (ActivationKind.LeakyRelu, 0.01f), (ActivationKind.LeakyRelu, 0.2f), (ActivationKind.Sigmoid, 0f), (ActivationKind.Tanh, 0f),
             (ActivationKind.Elu, 1f), (ActivationKind.Elu, 0.5f), (ActivationKind.Relu6, 0f), (ActivationKind.Silu, 0f)],
            layers.Cast<ActivationSpec>().Select(a => (a.Kind, a.Alpha)));

        // The summary describes them as PyTorch prints its modules.
        CheckResult result = NetworkChecker.Check(Network(1, 4, 4, [.. layers, .. ParseClean("FC 2")]));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(
            ["ReLU", "LeakyReLU(negative_slope=0.01)", "LeakyReLU(negative_slope=0.2)", "Sigmoid", "Tanh", "ELU(alpha=1.0)", "ELU(alpha=0.5)", "ReLU6", "SiLU", "Linear(16, 2)"],
            result.Network!.Layers.Select(l => l.Description));
    }

    [Theory]
    [InlineData("LEAKYRELU -0.1", "LeakyRelu", "Slope", "-0.1", "the negative slope must be a finite number of at least 0")]
    [InlineData("ELU 0", "Elu", "Alpha", "0", "alpha must be a finite positive number")]
    [InlineData("ELU -2", "Elu", "Alpha", "-2", "alpha must be a finite positive number")]
    public void ActivationParametersOutOfRangeAreErrors(string activation, string layer, string argument, string value, string rule)
    {
        CheckResult result = NetworkChecker.Check(Network(1, 4, 4, ParseClean("CONV 2 3x3 -> " + activation + " -> FC 2")));
        Assert.Null(result.Network);
        DiagnosticInfo diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("NC0013", diagnostic.Id);
        Assert.Equal([layer, argument, value, rule], diagnostic.MessageArguments);
    }

    [Theory]
    [InlineData("RELU", "the scores cannot go negative")]
    [InlineData("LEAKYRELU 0", "the scores cannot go negative")]
    [InlineData("RELU6", "the scores are clipped to [0, 6]")]
    [InlineData("SIGMOID", "the scores are squashed into (0, 1)")]
    [InlineData("TANH", "the scores are squashed into (-1, 1)")]
    [InlineData("ELU 2", "the scores cannot go below -2")]
    [InlineData("SILU", "the scores cannot go below -0.28")]
    [InlineData("LEAKYRELU 0.1", null)]
    public void AClassifierEndingInABoundedActivationIsWarnedOf(string activation, string? problem)
    {
        CheckResult result = NetworkChecker.Check(Network(1, 4, 4, ParseClean("FC 4 -> " + activation)));
        Assert.NotNull(result.Network);
        if (problem is null)
        {
            Assert.Empty(result.Diagnostics);
            return;
        }

        DiagnosticInfo diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("NC0020", diagnostic.Id);
        Assert.StartsWith(problem + ", which cripples the softmax of CrossEntropy", diagnostic.MessageArguments[1]);
    }

    [Theory]
    [InlineData("CONV 32", "NC0007")]
    [InlineData("CONV 32 3x5", "NC0007")]
    [InlineData("FC 10 FC 2", "NC0007")]
    [InlineData("[FC 10", "NC0007")]
    [InlineData("FC 10]", "NC0007")]
    [InlineData("RELU?", "NC0007")]
    [InlineData("FC 99999999999", "NC0007")]
    [InlineData("SOFTMAX", "NC0006")]
    [InlineData("FC 10 # comment", "NC0006")]
    [InlineData("[RELU]*0", "NC0008")]
    [InlineData("[RELU]*1001", "NC0008")]
    public void BlueprintMistakesAreReported(string blueprint, string id)
    {
        var diagnostics = new List<DiagnosticInfo>();
        BlueprintParser.Parse(new BlueprintText(blueprint, Nowhere, EquatableArray<SourcePoint>.Empty), diagnostics);
        Assert.Contains(diagnostics, d => d.Id == id);
    }

    [Fact]
    public void IndependentBlueprintMistakesAreAllReportedInOnePass()
    {
        var diagnostics = new List<DiagnosticInfo>();
        BlueprintParser.Parse(new BlueprintText("CONV 8 3x3 -> RELUU -> POOL 2 -> SOFTMAX -> FC 10", Nowhere, EquatableArray<SourcePoint>.Empty), diagnostics);
        Assert.Equal(["RELUU", "SOFTMAX"], diagnostics.Select(d => d.MessageArguments[0]));
    }

    [Fact]
    public void CheckerInfersShapesFiguresAndNames()
    {
        CheckResult result = NetworkChecker.Check(Network(1, 28, 28, ParseClean("CONV 8 3x3 -> BN -> RELU -> POOL 2 -> DROPOUT 0.5 -> FC 10")));
        Assert.Empty(result.Diagnostics);
        CheckedNetwork network = Assert.IsType<CheckedNetwork>(result.Network);
        Assert.Equal(["8x28x28", "8x28x28", "8x28x28", "8x14x14", "8x14x14", "10"], network.Layers.Select(l => l.Output.ToString()));
        Assert.Equal(["features.0", "features.1", "features.2", "features.3", "classifier.0", "classifier.1"], network.Layers.Select(l => l.Name));
        Assert.Equal(
            ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "features.1.running_mean", "features.1.running_var",
             "classifier.1.weight", "classifier.1.bias"],
            network.Layers.SelectMany(l => l.Tensors).Select(t => t.Key.ToString()));
        Assert.Equal([10, 8 * 14 * 14], network.Layers[^1].Tensors[0].Dimensions);
        Assert.Equal(8L * 28 * 28 * 9, network.Layers[0].MultiplyAccumulates);
    }

    [Fact]
    public void ImexCountsTheMultiplyAccumulatesThatRunInBothForms()
    {
        // 4x16x16, 2 steps. Per step: K and K^T, 2 * 4 * 4 * 9 * 256 = 73,728; the FFTs of 4 right-hand-side and
        // 4 solution planes, 2 * 4 * 2 N log2 N with N = 256, = 32,768; the solve over H (W/2 + 1) = 144 frequencies:
        // depthwise a real scale of each complex value, 2 * 4 * 144 = 1,152; groups of 2, 8 g^2 per group, 8 * 4 * 2 * 144 = 9,216.
        long Macs(string imex) => NetworkChecker.Check(Network(4, 16, 16, ParseClean(imex + " -> GAP -> FC 2"))).Network!.Layers[0].MultiplyAccumulates;
        Assert.Equal(2 * (73_728 + 32_768 + 1_152L), Macs("IMEX steps=2"));
        Assert.Equal(Macs("IMEX steps=2"), Macs("IMEX steps=2 released=true"));
        Assert.Equal(2 * (73_728 + 32_768 + 9_216L), Macs("IMEX steps=2 groups=2"));
    }

    [Fact]
    public void CheckerStopsAtTheFirstLayerThatCannotBeBuilt()
    {
        CheckResult result = NetworkChecker.Check(Network(1, 4, 4, ParseClean("CONV 2 5x5 pad=0 -> CONV 2 9x9 pad=0 -> FC 2")));
        Assert.Null(result.Network);
        Assert.Equal("NC0010", Assert.Single(result.Diagnostics).Id);
    }

    private static List<LayerSpec> ParseClean(string blueprint)
    {
        var diagnostics = new List<DiagnosticInfo>();
        List<LayerSpec> layers = BlueprintParser.Parse(new BlueprintText(blueprint, Nowhere, EquatableArray<SourcePoint>.Empty), diagnostics);
        Assert.Empty(diagnostics);
        return layers;
    }

    private static NetworkSpec Network(int channels, int height, int width, List<LayerSpec> layers) => new(
        new TypeDeclaration(null, EquatableArray<ContainingType>.Empty, "Net"),
        Nowhere,
        new InputSpec(channels, height, width, Nowhere),
        LossKind.CrossEntropy,
        Nowhere,
        layers.ToEquatableArray());
}
