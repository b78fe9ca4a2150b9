using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// The generated source of representative networks, kept as files under Baselines/ and compared byte for byte.
/// After an intended change to the emitter, regenerate them with
/// <c>NETCOMPILER_UPDATE_BASELINES=1 dotnet test tests/NetCompiler.Generator.Tests</c> and read the diff.
/// Each network's generated code must also compile with no warning at all.
/// </summary>
public sealed class BaselineTests
{
    public static TheoryData<string, string, string> Networks => new()
    {
        {
            "FashionNet",
            "Samples.FashionNet",
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
            "CifarVgg",
            """
            [Network("3x32x32", Blueprint = "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 128 -> RELU]*2 -> FC 10")]
            public partial class CifarVgg;
            """
        },
        {
            "QTipsImex",
            "Segmentation.QTipsImex",
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
            "Segmentation.QTipsResNet",
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
            "SmallResNet",
            "Models.SmallResNet",
            """
            namespace Models;

            // torchvision's ResNet layout, narrow: an identity BasicBlock stage, a strided one with the downsample
            // shortcut, a Bottleneck stage.
            [Network("3x16x16")]
            [Conv(8, 3, Pad = 1, Bias = false, Name = "conv1"), BatchNorm(Name = "bn1"), Relu(Name = "relu")]
            [BasicBlock(8, Blocks = 2, Name = "layer1"), BasicBlock(16, Stride = 2, Name = "layer2"), Bottleneck(4, Stride = 2, Name = "layer3")]
            [GlobalAvgPool(Name = "avgpool"), Dense(10, Name = "fc")]
            public partial class SmallResNet;
            """
        },
        {
            "SmallGoogLeNet",
            "Models.SmallGoogLeNet",
            """
            namespace Models;

            // torchvision's GoogLeNet layout, narrow: a BasicConv2d stem, a ceil-mode max pool, two Inception modules.
            [Network("3x15x15")]
            [Conv(8, 3, Pad = 1, Bias = false, Name = "conv1.conv"), BatchNorm(Eps = 0.001f, Name = "conv1.bn"), Relu]
            [MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool1")]
            [Inception(4, 4, 8, 2, 4, 4, Name = "inception3a"), Inception(8, 4, 8, 2, 4, 4, Name = "inception3b")]
            [GlobalAvgPool(Name = "avgpool"), Dense(10, Name = "fc")]
            public partial class SmallGoogLeNet;
            """
        },
        {
            "NestedSegmenter",
            "Models.Vision.Zoo.Family.Segmenter",
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
            "DepthNet",
            "Depth.DepthNet",
            """
            namespace Depth;

            // Per-pixel regression: a non-negative depth map, trained on float targets.
            [Network("1x12x12", Loss = Loss.MeanSquaredError)]
            [Conv(4, 3, Pad = 1), BatchNorm, Relu]
            [Conv(1, 3, Pad = 1), Relu]
            public partial class DepthNet;
            """
        },
        {
            "Activations",
            "Activations",
            """
            // Every activation: fused in training where its output gives its derivative, SiLU in inference only.
            [Network("3x16x16", Blueprint = "CONV 8 3x3 -> LEAKYRELU 0.1 -> CONV 8 3x3 -> BN -> SILU -> POOL 2 -> ELU -> CONV 8 3x3 -> RELU6 -> FC 16 -> SIGMOID -> FC 16 -> BN -> TANH -> FC 4")]
            public partial class Activations;
            """
        },
        {
            "UNet",
            "Segmentation.UNet",
            """
            namespace Segmentation;

            // A small U-Net: a nearest upsample joined to the encoder by concatenation, a bilinear one by addition.
            [Network("1x32x32", Loss = Loss.PixelCrossEntropy)]
            [Conv(8, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc1")]
            [MaxPool(2), Conv(16, 3, Pad = 1, Bias = false), BatchNorm, Relu, Save("enc2")]
            [MaxPool(2), Conv(16, 3, Pad = 1, Bias = false), BatchNorm, Relu]
            [Upsample(2, Mode = UpsampleMode.Bilinear), Add("enc2")]
            [Upsample(2), Concat("enc1"), Conv(8, 3, Pad = 1), Relu]
            [Conv(3, 1)]
            public partial class UNet;
            """
        },
        {
            "AlexNetLike",
            "AlexNetLike",
            """
            [Network("3x224x224", Blueprint = "CONV 64 11x11 stride=4 pad=2 -> RELU -> POOL 3 stride=2 -> CONV 192 5x5 -> RELU -> POOL 3 stride=2 -> [CONV 256 3x3 -> RELU]*2 -> POOL 3 stride=2 -> GAP -> DROPOUT 0.5 -> FC 4096 -> RELU -> FC 1000")]
            public partial class AlexNetLike;
            """
        },
    };

    /// <summary>
    /// Networks printed for devices too (the compilation references NetCompiler.Ilgpu), kept under Baselines/Device/:
    /// batch-norm folding, dropout and max pooling; IMEX and residual steps under the pixel loss; a float-target loss.
    /// </summary>
    public static TheoryData<string, string, string> DeviceNetworks => new()
    {
        { "FashionNet", "Samples.FashionNet", Declaration("FashionNet") },
        {
            "ImexSegmenter",
            "Segmentation.ImexSegmenter",
            """
            namespace Segmentation;

            [Network("2x8x8", Loss = Loss.PixelCrossEntropy)]
            [Conv(4, 3, Pad = 1, Bias = false), BatchNorm, Relu]
            [Residual(Steps = 1, H = 0.5f)]
            [Imex(Steps = 1, H = 1f)]
            [Conv(3, 1)]
            public partial class ImexSegmenter;
            """
        },
        { "DepthNet", "Depth.DepthNet", Declaration("DepthNet") },
    };

    /// <summary>
    /// The framework compares the generated source with the baseline, under its hint name (the network's full type
    /// name), and compiles it; under NETCOMPILER_UPDATE_BASELINES=1 it skips the comparison and the baseline is
    /// rewritten with what was generated.
    /// </summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public Task GeneratedSourceMatchesBaselineAndCompilesWithoutWarnings(string name, string typeName, string declaration) =>
        MatchesBaselineAndCompiles(Path.Combine(BaselineDirectory(), name + ".g.cs"), typeName, declaration, device: false);

    /// <summary>The same against NetCompiler.Ilgpu and ILGPU: the CPU code with its device hooks, then OnDevice.</summary>
    [Theory]
    [MemberData(nameof(DeviceNetworks))]
    public Task DeviceSourceMatchesBaselineAndCompilesWithoutWarnings(string name, string typeName, string declaration) =>
        MatchesBaselineAndCompiles(Path.Combine(BaselineDirectory(), "Device", name + ".g.cs"), typeName, declaration, device: true);

    private static async Task MatchesBaselineAndCompiles(string path, string typeName, string declaration, bool device)
    {
        bool update = Environment.GetEnvironmentVariable("NETCOMPILER_UPDATE_BASELINES") == "1";
        var test = new NetworkGeneratorTest(declaration, device);
        if (update)
        {
            test.TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck;
        }
        else
        {
            Assert.True(File.Exists(path), $"No baseline {path}: run with NETCOMPILER_UPDATE_BASELINES=1 to create it.");
            test.TestState.GeneratedSources.Add((typeof(NetworkGenerator), typeName + ".g.cs", SourceText.From(File.ReadAllText(path), Encoding.UTF8)));
        }

        await test.RunAsync();
        if (update)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, test.GeneratedSource);
        }
    }

    [Fact]
    public async Task OutputIsDeterministic()
    {
        string declaration = Networks.First()[2].ToString()!;
        Assert.Equal(await Generate(declaration), await Generate(declaration));

        static async Task<string> Generate(string declaration)
        {
            var test = new NetworkGeneratorTest(declaration) { TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck };
            await test.RunAsync();
            return test.GeneratedSource;
        }
    }

    private static string Declaration(string name) => Networks.Single(row => (string)row[0] == name)[2].ToString()!;

    private static string BaselineDirectory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Baselines");
}
