using System;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Runs a linear layer's three calls (forward, data gradient, weight gradient) on the device and on its CPU twin with
/// the same operands. Operands are sized for a batch of <see cref="Batch"/> images and each call is given the first
/// <see cref="N"/> (as a network's last, smaller batch is): the outputs' images past n hold a sentinel that must survive.
/// Weight and bias gradients start as the sentinel too, so a gradient that is not overwritten shows.
/// </summary>
internal sealed class LinearCheck(SimulatorFixture simulator, int inputSize, int outputSize, int weightSize, int biasSize)
{
    public const int Batch = 3;
    public const int N = 2;

    // Float sums of at most a few hundred products, in another order than the CPU's (tiles of 16 against its
    // register blocks), and exp by another implementation: a few ulp of the output's scale; 1e-5 leaves margin while
    // a wrong index or tap is an O(1) error.
    public const float Tolerance = 1e-5f;

    private const float Sentinel = 12345f;

    private readonly float[] _x = DeviceAssert.Random(Batch * inputSize, 1);
    private readonly float[] _w = DeviceAssert.Random(weightSize, 2, scale: 0.5f);
    private readonly float[] _bias = DeviceAssert.Random(biasSize, 3);
    private readonly float[] _residual = DeviceAssert.Random(Batch * outputSize, 4);
    private readonly float[] _dy = DeviceAssert.Random(Batch * outputSize, 5);

    public delegate void CpuForward(float[] x, float[] w, float[] bias, float[] y, float[] residual);

    public delegate void DeviceForward(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ArrayView<float> residual);

    public delegate void CpuBackwardData(float[] dy, float[] w, float[] dx);

    public delegate void DeviceBackwardData(ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx);

    public delegate void CpuBackwardWeight(float[] x, float[] dy, float[] dw, float[] dbias);

    public delegate void DeviceBackwardWeight(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ArrayView<float> dbias);

    /// <summary>The forward, with or without bias and residual (an empty array on the CPU, a default view on the device).</summary>
    public void Forward(bool bias, bool residual, CpuForward cpu, DeviceForward device, string what)
    {
        var expected = new float[N * outputSize];
        cpu(_x[..(N * inputSize)], _w, bias ? _bias : [], expected, residual ? _residual[..(N * outputSize)] : []);
        using var x = simulator.Upload(_x);
        using var w = simulator.Upload(_w);
        using var b = simulator.Upload(_bias);
        using var r = simulator.Upload(_residual);
        using var y = Filled(Batch * outputSize);
        device(Head(x, N * inputSize), w.View, bias ? b.View : default, Head(y, N * outputSize), residual ? Head(r, N * outputSize) : default);
        ExpectHead(y, expected, what + " forward");
    }

    public void BackwardData(CpuBackwardData cpu, DeviceBackwardData device, string what)
    {
        var expected = new float[N * inputSize];
        cpu(_dy[..(N * outputSize)], _w, expected);
        using var dy = simulator.Upload(_dy);
        using var w = simulator.Upload(_w);
        using var dx = Filled(Batch * inputSize);
        device(Head(dy, N * outputSize), w.View, Head(dx, N * inputSize));
        ExpectHead(dx, expected, what + " backward data");
    }

    public void BackwardWeight(bool bias, CpuBackwardWeight cpu, DeviceBackwardWeight device, string what)
    {
        var expectedDw = new float[weightSize];
        var expectedDbias = new float[biasSize];
        cpu(_x[..(N * inputSize)], _dy[..(N * outputSize)], expectedDw, bias ? expectedDbias : []);
        using var x = simulator.Upload(_x);
        using var dy = simulator.Upload(_dy);
        using var dw = Filled(weightSize);
        using var dbias = Filled(biasSize);
        device(Head(x, N * inputSize), Head(dy, N * outputSize), dw.View, bias ? dbias.View : default);
        DeviceAssert.Close(expectedDw, simulator.Download(dw.View.AsContiguous()), Tolerance, what + " dw");
        float[] actualDbias = simulator.Download(dbias.View.AsContiguous());
        if (bias)
        {
            DeviceAssert.Close(expectedDbias, actualDbias, Tolerance, what + " dbias");
        }
        else
        {
            Assert.All(actualDbias, value => Assert.Equal(Sentinel, value));
        }
    }

    private static ArrayView<float> Head(MemoryBuffer1D<float, Stride1D.Dense> buffer, int length) => buffer.View.AsContiguous().SubView(0, length);

    private MemoryBuffer1D<float, Stride1D.Dense> Filled(int length)
    {
        var values = new float[length];
        Array.Fill(values, Sentinel);
        return simulator.Upload(values);
    }

    private void ExpectHead(MemoryBuffer1D<float, Stride1D.Dense> buffer, float[] expected, string what)
    {
        float[] actual = simulator.Download(buffer.View.AsContiguous());
        DeviceAssert.Close(expected, actual.AsSpan(0, expected.Length), Tolerance, what);
        Assert.All(actual[expected.Length..], value => Assert.Equal(Sentinel, value));
    }
}
