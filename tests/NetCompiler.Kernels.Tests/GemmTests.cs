using System;
namespace NetCompiler.Kernels.Tests;

public class GemmTests
{
    // Float32 sums of up to 2100 products: rounding error grows like sqrt(K) * 2^-24 of the terms for random signs
    // (~3e-6 at K 2100), well inside 1e-4 of the largest entry, which itself grows like sqrt(K) times a term.
    private const double Tolerance = 1e-4;

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 },
        { 17, 33, 5 },
        { 100, 3, 257 },
        { 6, 32, 256 },
        { 7, 31, 300 },
        { 64, 100, 576 },
        { 130, 70, 9 },
        { 3, 200, 1 },
        { 250, 130, 520 },
        { 5, 7, 0 },

        // Past every machine's blocks (GemmBlocking's Max*): several depth slices, row blocks and column blocks.
        { 9, 70, 2100 },
        { 4100, 20, 3 },
        { 2, 8200, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesNaiveProductForEveryTransposeAndThreadCount(int m, int n, int k)
    {
        float[] a = TestData.Random(m * k, 1);
        float[] b = TestData.Random(k * n, 2);
        float[] initial = TestData.Random(m * n, 3);
        foreach (int threads in new[] { 1, 2 })
        {
            using var context = new KernelContext(threads);
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    double[] expected = Reference.Gemm(a, transposeA, b, transposeB, m, n, k);
                    var c = new float[m * n];
                    Gemm.Multiply(context, a, transposeA, b, transposeB, c, m, n, k);
                    Check.Close(expected, c, Tolerance, $"threads {threads} tA {transposeA} tB {transposeB}");

                    initial.CopyTo(c, 0);
                    Gemm.Multiply(context, a, transposeA, b, transposeB, c, m, n, k, accumulate: true);
                    for (int i = 0; i < expected.Length; i++)
                    {
                        expected[i] += initial[i];
                    }

                    Check.Close(expected, c, Tolerance, $"accumulate threads {threads} tA {transposeA} tB {transposeB}");
                }
            }
        }
    }

    /// <summary>
    /// The machine running the tests picks one instruction set; the others are exercised directly, with each activation
    /// in the epilogue (full tiles and the edge tiles' scalar epilogue), against the activation of the exact product.
    /// </summary>
    [Theory]
    [InlineData(17, 33, 5)]
    [InlineData(100, 3, 257)]
    [InlineData(13, 70, 300)]
    public unsafe void EveryInstructionSetMatchesNaiveProduct(int m, int n, int k)
    {
        float[] a = TestData.Random(m * k, 1), b = TestData.Random(k * n, 2), bias = TestData.Random(n, 3);
        double[] product = Reference.Gemm(a, false, b, true, m, n, k);
        var workspace = new float[Gemm.WorkspaceLength(m, n, k) + 4096];
        foreach ((Activation activation, Func<double, double> f) in new (Activation, Func<double, double>)[]
        {
            (Activation.None, v => v),
            (Activation.Relu, v => Math.Max(v, 0)),
            (Activation.LeakyRelu(0.1f), v => v > 0 ? v : 0.1f * v),
            (Activation.Sigmoid, v => 1 / (1 + Math.Exp(-v))),
            (Activation.Tanh, Math.Tanh),
            (Activation.Elu(1f), v => v > 0 ? v : Math.Exp(v) - 1),
            (Activation.Relu6, v => Math.Min(Math.Max(v, 0), 6)),
            (Activation.Silu, v => v / (1 + Math.Exp(-v))),
        })
        {
            double[] expected = new double[product.Length];
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] = f(product[i] + bias[i % n]);
            }

            foreach (int isa in new[] { 512, 256, 1 })
            {
                var c = new float[m * n];
                fixed (float* pa = a, pb = b, pc = c, pbias = bias, pw = workspace)
                {
                    var problem = new GemmProblem
                    {
                        A = pa, Lda = k, B = pb, Ldb = k, TransposeB = true, C = pc, Ldc = n, M = m, N = n, K = k,
                        Bias = pbias, BiasMode = BiasMode.PerColumn, Activation = activation,
                    };
                    switch (isa)
                    {
                        case 512 when System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated:
                            Gemm.Compute<Simd512, System.Runtime.Intrinsics.Vector512<float>>(problem, 0, m, 0, n, pw);
                            break;
                        case 512:
                            continue;
                        case 256:
                            Gemm.Compute<Simd256, System.Runtime.Intrinsics.Vector256<float>>(problem, 0, m, 0, n, pw);
                            break;
                        default:
                            Gemm.Compute<SimdScalar, float>(problem, 0, m, 0, n, pw);
                            break;
                    }
                }

                Check.Close(expected, c, Tolerance, $"instruction set {isa}, {activation}");
            }
        }
    }

    [Fact]
    public void RejectsWrongLengths()
    {
        using var context = new KernelContext(1);
        var exception = Assert.Throws<ArgumentException>(() => Gemm.Multiply(context, new float[5], false, new float[6], false, new float[4], 2, 2, 3));
        Assert.Equal("a", exception.ParamName);
        Assert.Contains("6", exception.Message);
    }
}
