using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace NetCompiler.Tests;

// Every op ONNX export has to write, in one network: a strided conv, a non-symmetric residual step, padded average
// pooling, a transposed conv with output padding, a dilated conv, global pooling and a dense layer without bias.
[Network("2x16x16")]
[Conv(6, 3, Stride = 2, Pad = 1), Relu, Residual(Steps = 1, H = 0.5f), AvgPool(3, Stride = 2, Pad = 1)]
[ConvTranspose(4, 3, Stride = 2, Pad = 1, OutputPad = 1), Conv(4, 3, Pad = 2, Dilation = 2), Relu]
[GlobalAvgPool, Dense(5, Bias = false)]
public partial class OnnxOpsNet;

// Every activation as ONNX writes it, after each kernel that fuses one and as a node of its own. Without a batch norm to
// fold, the export is the fused inference routine, so SiLU comes as a convolution's epilogue too.
[Network("2x8x8")]
[Conv(4, 3, Pad = 1), LeakyRelu(0.1f), Sigmoid, Conv(4, 3, Pad = 1), Silu, Tanh]
[ConvTranspose(4, 3, Pad = 1), Relu6, Elu(0.5f), Conv(4, 3, Pad = 1), Elu, Relu6]
[Dense(10), Tanh, Dense(8), Silu, Dense(6), Relu6, Dense(3)]
public partial class OnnxActivationsNet;

// With batch norms (exported unfolded, the activations then after BatchNormalization nodes).
[Network("2x8x8")]
[Conv(4, 3, Pad = 1), BatchNorm, Silu, Conv(4, 3, Pad = 1), BatchNorm, Relu6]
[Dense(8), BatchNorm, LeakyRelu(0.2f), Dense(6), BatchNorm, Sigmoid, Dense(3)]
public partial class OnnxNormActivationsNet;

/// <summary>
/// ExportOnnx checked by ONNX Runtime: after some training (so batch norm's running statistics and every weight are
/// off their initial values), the exported model scores a batch as Forward does. Tolerance 1e-4 of the largest score:
/// the same float32 function evaluated by other kernels, in another summation order. With NETCOMPILER_ONNX_DIR set the
/// exports stay in that folder, for onnx.checker (Fixtures/make_fixtures.py onnx DIR).
/// </summary>
public sealed class OnnxExportTests
{
    [Fact]
    public void FashionNetExportsAndOnnxRuntimeReproducesItsScores() => ExportAndCompare(new RecordedFashionNet(8, seed: 2, threads: 2), RecordedFashionNet.ClassCount, RecordedFashionNet.LabelsPerImage);

    [Fact]
    public void CifarVggExportsAndOnnxRuntimeReproducesItsScores() => ExportAndCompare(new RecordedCifarVgg(8, seed: 2, threads: 2), RecordedCifarVgg.ClassCount, RecordedCifarVgg.LabelsPerImage);

    [Fact]
    public void QTipsResNetExportsAndOnnxRuntimeReproducesItsScoreMaps() => ExportAndCompare(new RecordedQTipsResNet(4, seed: 2, threads: 2), RecordedQTipsResNet.ClassCount, RecordedQTipsResNet.LabelsPerImage);

    [Fact]
    public void FoldingNetExportsItsBatchNormsUnfolded() => ExportAndCompare(new FoldingNet(8, seed: 2, threads: 2), FoldingNet.ClassCount, FoldingNet.LabelsPerImage);

    [Fact]
    public void EveryOpExportsAndOnnxRuntimeReproducesTheScores() => ExportAndCompare(new OnnxOpsNet(8, seed: 2, threads: 2), OnnxOpsNet.ClassCount, OnnxOpsNet.LabelsPerImage);

    [Fact]
    public void EveryActivationExportsAndOnnxRuntimeReproducesTheScores() => ExportAndCompare(new OnnxActivationsNet(8, seed: 2, threads: 2), OnnxActivationsNet.ClassCount, OnnxActivationsNet.LabelsPerImage);

    [Fact]
    public void ActivationsAfterBatchNormsExportAndOnnxRuntimeReproducesTheScores() => ExportAndCompare(new OnnxNormActivationsNet(8, seed: 2, threads: 2), OnnxNormActivationsNet.ClassCount, OnnxNormActivationsNet.LabelsPerImage);

    [Fact]
    public void TheUNetExportsItsUpsamplesAndJoinsAndOnnxRuntimeReproducesItsScoreMaps() => ExportAndCompare(new FixtureUNet(4, seed: 2, threads: 2), FixtureUNet.ClassCount, FixtureUNet.LabelsPerImage);

    [Fact]
    public void SkipsFromTheImagesWithSeveralJoinsExport() => ExportAndCompare(new FanOutSkipNet(4, seed: 2, threads: 2), FanOutSkipNet.ClassCount, FanOutSkipNet.LabelsPerImage);

    [Fact]
    public void ResNetBlocksExportAndOnnxRuntimeReproducesTheScores() => ExportAndCompare(new FixtureResNet50(4, seed: 2, threads: 2), FixtureResNet50.ClassCount, FixtureResNet50.LabelsPerImage);

    /// <summary>Inception modules (four branches, chained Concat nodes) and MaxPool nodes with ceil_mode = 1, at sizes where it matters.</summary>
    [Fact]
    public void GoogLeNetExportsItsInceptionsAndCeilModePoolsAndOnnxRuntimeReproducesTheScores() =>
        ExportAndCompare(new FixtureGoogLeNet(4, seed: 2, threads: 2), FixtureGoogLeNet.ClassCount, FixtureGoogLeNet.LabelsPerImage);

    [Fact]
    public void AnImexNetworkIsRefusedNamingTheLayerAndWritesNothing()
    {
        using var net = new RecordedQTipsImex(1, seed: 1);
        string path = Path.Combine(Path.GetTempPath(), $"imex-{Guid.NewGuid():N}.onnx");
        var refusal = Assert.Throws<NotSupportedException>(() => net.ExportOnnx(path));
        Assert.Contains("features.3", refusal.Message);
        Assert.Contains("implicit solve", refusal.Message);
        Assert.False(File.Exists(path));
    }

    private static void ExportAndCompare(CompiledNetwork net, int classes, int labelsPerImage)
    {
        using (net)
        {
            int length = (int)net.InputShape.Elements, batch = Math.Min(net.BatchSize, 3);
            var random = new Random(5);
            float[] images = Enumerable.Range(0, net.BatchSize * length).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
            int[] labels = Enumerable.Range(0, net.BatchSize * labelsPerImage).Select(i => i % classes).ToArray();
            var sgd = new Sgd(learningRate: 0.05f, momentum: 0.9f);
            for (int step = 0; step < 3; step++)
            {
                net.TrainStep(images, labels, sgd);
            }

            float[] expected = net.Forward(images.AsSpan(0, batch * length)).ToArray();
            string? keep = Environment.GetEnvironmentVariable("NETCOMPILER_ONNX_DIR");
            string path = keep is null ? Path.Combine(Path.GetTempPath(), $"{net.GetType().Name}-{Guid.NewGuid():N}.onnx") : Path.Combine(keep, net.GetType().Name + ".onnx");
            try
            {
                net.ExportOnnx(path);
                using var session = new InferenceSession(path);
                TensorShape shape = net.InputShape;
                var input = new DenseTensor<float>(images.AsMemory(0, batch * length), [batch, shape.Channels, shape.Height, shape.Width]);
                using var results = session.Run([NamedOnnxValue.CreateFromTensor("images", input)]);
                float[] actual = results.Single(r => r.Name == "scores").AsTensor<float>().ToArray();
                Assert.Equal(expected.Length, actual.Length);
                double scale = expected.Max(v => Math.Abs((double)v));
                double worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
                Assert.True(worst <= 1e-4 * scale, $"ONNX Runtime differs from Forward by {worst:G3} (scores up to {scale:G3})");
            }
            finally
            {
                if (keep is null)
                {
                    File.Delete(path);
                }
            }
        }
    }
}
