using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler.Kernels;

namespace NetCompiler.Tests;

// The cases of Fixtures/make_googlenet_fixtures.py's MAXPOOL_CASES, as networks (for the shape rule) and as kernel shapes
// whose output sizes are PyTorch's (for the kernels). A per-element loss lets a spatial map be the output.
[Network("2x7x8", Loss = Loss.MeanSquaredError)]
[MaxPool(3, Stride = 2, CeilMode = true)]
public partial class CeilPoolK3S2;

[Network("2x8x6", Loss = Loss.MeanSquaredError)]
[MaxPool(3, Stride = 2, Pad = 1, CeilMode = true)]
public partial class CeilPoolK3S2P1;

[Network("3x5x5", Loss = Loss.MeanSquaredError)]
[MaxPool(2, Stride = 2, CeilMode = true)]
public partial class CeilPoolK2S2;

[Network("1x5x8", Loss = Loss.MeanSquaredError)]
[MaxPool(2, Stride = 2, Pad = 1, CeilMode = true)]
public partial class CeilPoolK2S2P1;

/// <summary>nn.MaxPool2d(ceil_mode=True): output sizes, forward and input gradients against PyTorch.</summary>
public sealed class MaxPoolCeilModeTests
{
    public static TheoryData<string> Cases => new() { "k3s2", "k3s2p1", "k2s2", "k2s2p1" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputShapeIsPyTorchs(string name)
    {
        TensorShape output = name switch
        {
            "k3s2" => CeilPoolK3S2.Summary.Layers[^1].Output,
            "k3s2p1" => CeilPoolK3S2P1.Summary.Layers[^1].Output,
            "k2s2" => CeilPoolK2S2.Summary.Layers[^1].Output,
            _ => CeilPoolK2S2P1.Summary.Layers[^1].Output,
        };
        IReadOnlyList<long> expected = Torch()[name + ".y"].Shape;
        Assert.Equal(expected.Skip(1).Select(d => (int)d), new[] { output.Channels, output.Height, output.Width });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void KernelsMatchPyTorch(string name)
    {
        switch (name)
        {
            case "k3s2": Run<K3S2>(name); break;
            case "k3s2p1": Run<K3S2P1>(name); break;
            case "k2s2": Run<K2S2>(name); break;
            default: Run<K2S2P1>(name); break;
        }
    }

    [Fact]
    public void NetworkForwardMatchesPyTorch()
    {
        Dictionary<string, SafeTensor> torch = Torch();
        using var net = new CeilPoolK3S2(batchSize: 1, seed: 1, threads: 1);
        // A max is one of its inputs: exact.
        Assert.Equal(torch["k3s2.y"].ToFloat32Array(), net.Forward(torch["k3s2.x"].ToFloat32Array()).ToArray());
    }

    private static void Run<S>(string name)
        where S : struct, IPoolShape
    {
        Dictionary<string, SafeTensor> torch = Torch();
        float[] x = torch[name + ".x"].ToFloat32Array(), r = torch[name + ".r"].ToFloat32Array();
        Assert.Equal(torch[name + ".y"].Shape.Skip(2).Select(d => (int)d), new[] { S.OutHeight, S.OutWidth });
        var y = new float[r.Length];
        var switches = new byte[r.Length];
        var dx = new float[x.Length];
        using var context = new KernelContext(2);
        MaxPool2d.Forward<S>(context, x, y, switches, 1);
        MaxPool2d.Backward<S>(context, r, switches, dx, 1);
        // The maximum is one of the inputs and each input gradient a sum of at most 4 upstream values (windows overlap
        // at most 2 x 2 here), all float32 from float64: exact for y, rounding only for dx.
        Assert.Equal(torch[name + ".y"].ToFloat32Array(), y);
        float[] expected = torch[name + ".dx"].ToFloat32Array();
        for (int i = 0; i < dx.Length; i++)
        {
            Assert.True(Math.Abs(dx[i] - expected[i]) <= 1e-6 * (1 + Math.Abs(expected[i])), $"{name} dx[{i}] = {dx[i]}, PyTorch {expected[i]}");
        }
    }

    private static Dictionary<string, SafeTensor> Torch() =>
        SafeTensors.Read(TrainingFixtureTests.Fixture("maxpool_ceil.safetensors")).Tensors.ToDictionary(t => t.Name);

    // Output sizes as PyTorch gives them (make_googlenet_fixtures.py prints them); floor mode would give one less.
    private struct K3S2 : IPoolShape
    {
        public static int Channels => 2; public static int InHeight => 7; public static int InWidth => 8; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 0;
        public static int OutHeight => 3; public static int OutWidth => 4;
    }

    private struct K3S2P1 : IPoolShape
    {
        public static int Channels => 2; public static int InHeight => 8; public static int InWidth => 6; public static int Kernel => 3; public static int Stride => 2; public static int Pad => 1;
        public static int OutHeight => 5; public static int OutWidth => 4;
    }

    private struct K2S2 : IPoolShape
    {
        public static int Channels => 3; public static int InHeight => 5; public static int InWidth => 5; public static int Kernel => 2; public static int Stride => 2; public static int Pad => 0;
        public static int OutHeight => 3; public static int OutWidth => 3;
    }

    private struct K2S2P1 : IPoolShape
    {
        public static int Channels => 1; public static int InHeight => 5; public static int InWidth => 8; public static int Kernel => 2; public static int Stride => 2; public static int Pad => 1;
        public static int OutHeight => 3; public static int OutWidth => 5;
    }
}
