using System;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels.Tests;

/// <summary>
/// The residual add in the epilogues of GEMM (conv, dense) and batch norm: y = act(producer(x) + r). Each fused kernel
/// is checked against the kernels it replaces (the producer, Elementwise.AddScaled, the activation), which round
/// once per add just as the epilogue does, so the two agree bit for bit; the GEMM and the normalise loop are also
/// checked at every instruction set against the exact double-precision sum.
/// </summary>
public class ResidualEpilogueTests
{
    // As GemmTests: float32 sums of up to ~600 products round within ~K * 2^-24 of the terms' magnitude.
    private const double Tolerance = 1e-4;

    private static readonly (Activation Activation, Func<double, double> F)[] Activations =
    [
        (Activation.None, v => v),
        (Activation.Relu, v => Math.Max(v, 0)),
        (Activation.Tanh, Math.Tanh),
    ];

    /// <summary>
    /// Full and edge tiles, one depth slice and several (K above the 256-deep slice: the residual goes in on the last
    /// only), at every instruction set the machine has, against act(A B^T + bias + r) in double.
    /// </summary>
    [Theory]
    [InlineData(17, 33, 5)]
    [InlineData(13, 70, 300)]
    [InlineData(12, 64, 600)]
    public unsafe void GemmAddsTheResidualAtEveryInstructionSet(int m, int n, int k)
    {
        float[] a = TestData.Random(m * k, 1), b = TestData.Random(k * n, 2), bias = TestData.Random(n, 3), residual = TestData.Random(m * n, 4, 3f);
        double[] product = Reference.Gemm(a, false, b, true, m, n, k);
        var workspace = new float[Gemm.WorkspaceLength(m, n, k) + 4096];
        foreach ((Activation activation, Func<double, double> f) in Activations)
        {
            double[] expected = new double[product.Length];
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] = f(product[i] + bias[i % n] + residual[i]);
            }

            foreach (int isa in new[] { 512, 256, 1 })
            {
                if (isa == 512 && !Vector512.IsHardwareAccelerated)
                {
                    continue;
                }

                var c = new float[m * n];
                fixed (float* pa = a, pb = b, pc = c, pbias = bias, pr = residual, pw = workspace)
                {
                    var problem = new GemmProblem
                    {
                        A = pa, Lda = k, B = pb, Ldb = k, TransposeB = true, C = pc, Ldc = n, M = m, N = n, K = k,
                        Bias = pbias, BiasMode = BiasMode.PerColumn, Residual = pr, Activation = activation,
                    };
                    switch (isa)
                    {
                        case 512: Gemm.Compute<Simd512, Vector512<float>>(problem, 0, m, 0, n, pw); break;
                        case 256: Gemm.Compute<Simd256, Vector256<float>>(problem, 0, m, 0, n, pw); break;
                        default: Gemm.Compute<SimdScalar, float>(problem, 0, m, 0, n, pw); break;
                    }
                }

                Check.Close(expected, c, Tolerance, $"instruction set {isa}, {activation}");
            }
        }
    }

    /// <summary>The batch norm's normalise loop with a residual, at every width, against (x - c) s + shift + r in double.</summary>
    [Fact]
    public void NormalizeAddsTheResidualAtEveryWidth()
    {
        const int Length = 53; // three 16-wide vectors and a tail, six 8-wide and a tail
        const float Center = 0.25f, Scale = 1.5f, Shift = -0.125f;
        float[] x = TestData.Random(Length, 5), residual = TestData.Random(Length, 6);
        foreach ((Activation activation, Func<double, double> f) in Activations)
        {
            var expected = new double[Length];
            for (int i = 0; i < Length; i++)
            {
                expected[i] = f(((x[i] - (double)Center) * Scale) + Shift + residual[i]);
            }

            foreach (int width in Vector512.IsHardwareAccelerated ? new[] { 16, 8, 1 } : [8, 1])
            {
                var y = new float[Length];
                var loop = new Normalize(x, Center, Scale, Shift, activation.Alpha, y, residual, width);
                activation.Run(loop);
                // Single roundings of a float FMA and add: a few ulp of values of order 1, far inside 1e-5.
                Check.Close(expected, y, 1e-5, $"width {width}, {activation}");
            }
        }
    }

    /// <summary>Conv2d (im2col and pointwise, one and two threads) with the residual fused equals conv, then add, then ReLU.</summary>
    [Theory]
    [InlineData(nameof(ConvStride2))]
    [InlineData(nameof(ConvPointwise))]
    [InlineData(nameof(ConvLarge))]
    public void ConvFusedEqualsUnfused(string shape) => ConvCases.Run(shape, new ConvCase());

    [Fact]
    public void DenseFusedEqualsUnfused()
    {
        const int N = 5;
        int inFeatures = Dense70x130.InFeatures, outFeatures = Dense70x130.OutFeatures;
        float[] x = TestData.Random(N * inFeatures, 7), w = TestData.Random(outFeatures * inFeatures, 8), bias = TestData.Random(outFeatures, 9);
        float[] residual = TestData.Random(N * outFeatures, 10);
        using var context = new KernelContext(2);
        float[] unfused = Unfused(residual, y => Dense.Forward<Dense70x130>(context, x, w, bias, y, N, Activation.None));
        var fused = new float[unfused.Length];
        Dense.Forward<Dense70x130>(context, x, w, bias, fused, N, Activation.Relu, residual);
        Assert.Equal(unfused, fused);
    }

    /// <summary>Training (batch statistics) and inference (running statistics) batch norm, planes with a vector tail.</summary>
    [Fact]
    public void BatchNormFusedEqualsUnfused()
    {
        const int N = 3, Channels = 4, Plane = 37;
        const float Eps = 1e-5f;
        float[] x = TestData.Random(N * Channels * Plane, 11, 2f), residual = TestData.Random(x.Length, 12);
        float[] gamma = TestData.Random(Channels, 13), beta = TestData.Random(Channels, 14);
        float[] runningMean = TestData.Random(Channels, 15), runningVar = Array.ConvertAll(TestData.Random(Channels, 16), v => 1f + v * v);
        using var context = new KernelContext(2);
        float[] mean = new float[Channels], invStd = new float[Channels], variance = new float[Channels];

        float[] unfused = Unfused(residual, y => BatchNorm.ForwardTraining(context, x, y, gamma, beta, mean, invStd, variance, N, Channels, Plane, Eps, Activation.None));
        var fused = new float[x.Length];
        BatchNorm.ForwardTraining(context, x, fused, gamma, beta, mean, invStd, variance, N, Channels, Plane, Eps, Activation.Relu, residual);
        Assert.Equal(unfused, fused);

        unfused = Unfused(residual, y => BatchNorm.ForwardInference(context, x, y, gamma, beta, runningMean, runningVar, N, Channels, Plane, Eps, Activation.None));
        BatchNorm.ForwardInference(context, x, fused, gamma, beta, runningMean, runningVar, N, Channels, Plane, Eps, Activation.Relu, residual);
        Assert.Equal(unfused, fused);
    }

    [Fact]
    public void RejectsAResidualOfTheWrongLengthOrOverlappingTheOutput()
    {
        using var context = new KernelContext(1);
        ConvDims d = ConvDims.Of<ConvBasic>();
        float[] x = new float[2 * d.InputSize], w = new float[d.OutChannels * d.InChannels * 9], y = new float[2 * d.OutputSize];
        var exception = Assert.Throws<ArgumentException>(() => Conv2d.Forward<ConvBasic>(context, x, w, [], y, 2, Activation.Relu, new float[y.Length - 1]));
        Assert.Equal("residual", exception.ParamName);

        var storage = new float[y.Length + 1];
        exception = Assert.Throws<ArgumentException>(() => Conv2d.Forward<ConvBasic>(context, x, w, [], storage.AsSpan(1), 2, Activation.Relu, storage.AsSpan(0, y.Length)));
        Assert.Equal("residual", exception.ParamName);
        Assert.Contains("overlap", exception.Message);

        exception = Assert.Throws<ArgumentException>(() => BatchNorm.ForwardInference(context, y, storage.AsSpan(0, y.Length), new float[d.OutChannels], new float[d.OutChannels],
            new float[d.OutChannels], new float[d.OutChannels], 2, d.OutChannels, d.OutHeight * d.OutWidth, 1e-5f, Activation.None, storage.AsSpan(1)));
        Assert.Equal("residual", exception.ParamName);
    }

    /// <summary>What the program ran before the fusion: the producer into y, then s = r + 1 * y, then relu(s).</summary>
    private static float[] Unfused(float[] residual, Action<float[]> producer)
    {
        var y = new float[residual.Length];
        producer(y);
        var sum = new float[y.Length];
        Elementwise.AddScaled(residual, 1f, y, sum);
        var output = new float[y.Length];
        Activation.Relu.Forward(sum, output);
        return output;
    }

    private sealed class ConvCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            const int N = 3;
            float[] x = TestData.Random(N * d.InputSize, 17), w = TestData.Random(d.OutChannels * (d.InChannels / d.Groups) * d.Kernel * d.Kernel, 18);
            float[] bias = TestData.Random(d.OutChannels, 19), residual = TestData.Random(N * d.OutputSize, 20);
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                float[] unfused = Unfused(residual, y => Conv2d.Forward<S>(context, x, w, bias, y, N, Activation.None));
                var fused = new float[unfused.Length];
                Conv2d.Forward<S>(context, x, w, bias, fused, N, Activation.Relu, residual);
                Assert.Equal(unfused, fused);
            }
        }
    }

    /// <summary>VectorMath's normalise loop at one width, chosen by the test rather than by the machine.</summary>
    private readonly struct Normalize(float[] x, float center, float scale, float shift, float alpha, float[] y, float[] residual, int width) : IActivationLoop
    {
        public void Run<TSimd, TVector, TFunction>()
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction
        {
            switch (width)
            {
                case 16: VectorMath.Normalize<Simd512, Vector512<float>, TFunction>(x, center, scale, shift, alpha, y, residual); break;
                case 8: VectorMath.Normalize<Simd256, Vector256<float>, TFunction>(x, center, scale, shift, alpha, y, residual); break;
                default: VectorMath.Normalize<SimdScalar, float, TFunction>(x, center, scale, shift, alpha, y, residual); break;
            }
        }
    }
}
