using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// The generated source of representative networks, kept as files under Baselines/ and compared byte for byte.
/// After an intended change to the emitter, regenerate them with
/// <c>NETCOMPILER_UPDATE_BASELINES=1 dotnet test tests/NetCompiler.Generator.Tests</c> and read the diff.
/// Each network's generated code must also compile with no warning at all.
/// </summary>
public sealed class BaselineTests
{
    public static TheoryData<string, string> Networks => new()
    {
        {
            "FashionNet",
            """
            namespace Samples;

            [Network("1x28x28")]
            [Conv(32, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
            [Conv(64, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
            [Dense(128), Relu, Dropout(0.25f)]
            [Dense(10)]
            public partial class FashionNet;
            """
        },
        {
            "CifarVgg",
            """
            [Network("3x32x32", Blueprint = "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 128 -> RELU]*2 -> FC 10")]
            public partial class CifarVgg;
            """
        },
        {
            "QTipsImex",
            """
            namespace Segmentation;

            [Network("3x64x64", Loss = Loss.PixelCrossEntropy)]
            [Conv(32, 3, Pad = 1), BatchNorm, Relu]
            [Imex(Steps = 8, H = 1f)]
            [Conv(4, 1)]
            public partial class QTipsImex;
            """
        },
        {
            "QTipsResNet",
            """
            namespace Segmentation;

            // samples/QTips: IMEXnet's forward Euler twin, symmetric residual steps.
            [Network("1x64x64", Loss = Loss.PixelCrossEntropy, Keep = "features.3")]
            [Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
            [Residual(Steps = 4, H = 1f, Symmetric = true)]
            [ConvTranspose(4, 2, Stride = 2)]
            public partial class QTipsResNet;
            """
        },
        {
            "NestedSegmenter",
            """
            namespace Models.Vision;

            public static partial class Zoo
            {
                internal partial record class Family
                {
                    [Network("3x32x32", Loss = Loss.PixelCrossEntropy)]
                    [Conv(16, 3, Stride = 2, Pad = 1, Name = "stem"), BatchNorm, Relu]
                    [Conv(16, 3, Pad = 1, Groups = 16, Bias = false), Conv(32, 1), Relu]
                    [Residual(Steps = 2), AvgPool(2)]
                    [Imex(Steps = 1, Groups = 8, ReleasedVariant = true)]
                    [ConvTranspose(8, 4, Stride = 4), Relu, Conv(3, 3, Pad = 2, Dilation = 2)]
                    internal partial class Segmenter;
                }
            }
            """
        },
        {
            "AlexNetLike",
            """
            [Network("3x224x224", Blueprint = "CONV 64 11x11 stride=4 pad=2 -> RELU -> POOL 3 stride=2 -> CONV 192 5x5 -> RELU -> POOL 3 stride=2 -> [CONV 256 3x3 -> RELU]*2 -> POOL 3 stride=2 -> GAP -> DROPOUT 0.5 -> FC 4096 -> RELU -> FC 1000")]
            public partial class AlexNetLike;
            """
        },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void GeneratedSourceMatchesBaselineAndCompilesWithoutWarnings(string name, string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run(GeneratorHarness.Network(declaration));

        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        string generated = run.SingleSource;

        string path = Path.Combine(BaselineDirectory(), name + ".g.cs");
        if (Environment.GetEnvironmentVariable("NETCOMPILER_UPDATE_BASELINES") == "1")
        {
            File.WriteAllText(path, generated);
        }

        Assert.True(File.Exists(path), $"No baseline {path}: run with NETCOMPILER_UPDATE_BASELINES=1 to create it.");
        Assert.Equal(File.ReadAllText(path), generated);
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        string declaration = Networks.First()[1].ToString()!;
        string first = GeneratorHarness.Run(GeneratorHarness.Network(declaration)).SingleSource;
        string second = GeneratorHarness.Run(GeneratorHarness.Network(declaration)).SingleSource;
        Assert.Equal(first, second);
    }

    private static string BaselineDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Baselines");
}
