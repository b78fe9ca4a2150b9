using System;

namespace NetCompiler.Kernels.Tests;

/// <summary>The shape constants in plain form, for the references.</summary>
internal readonly record struct ImplicitDims(int Channels, int Height, int Width, int Kernel, int Groups)
{
    public static ImplicitDims Of<S>() where S : IImplicitShape => new(S.Channels, S.Height, S.Width, S.Kernel, S.Groups);

    public int GroupSize => Channels / Groups;
    public int ImageSize => Channels * Height * Width;
    public int WeightSize => Channels * GroupSize * Kernel * Kernel;
}

internal interface IImplicitCase
{
    void Run<S>() where S : struct, IImplicitShape;
}

public class ImplicitSolveTests
{
    private const float Step = 0.7f;

    // (I + h C^T C) Y - R in double, relative to |R| + max |R| (Check.Close). The solve's own error is FFT rounding,
    // ~log2(H W) * 6e-8 of the scale, not amplified since ||A^-1|| <= 1; applying A multiplies it by up to ||A||, which
    // the weight scale below keeps under ~10. Measured: at most 4e-7 (32 x 32, groups of 4). A wrong sign, flip or
    // index misses by O(1).
    private const double ResidualTolerance = 3e-6;

    // Y against the double-precision conjugate-gradient solution, same reasoning without the ||A|| factor; measured 3e-7.
    private const double SolutionTolerance = 3e-6;

    // Gradients against central differences in double (step 1e-4: truncation ~1e-8 relative; the CG solves reach 1e-14,
    // so rounding over the step is ~1e-10), and drhs against the CG solve of A x = G: the float kernel's error dominates.
    // dweight sums products of float spectra over images and frequencies; measured at most 3e-7.
    private const double GradientTolerance = 3e-6;

    public static TheoryData<string> Shapes => new()
    {
        nameof(ImplicitDepthwise1), nameof(ImplicitDepthwise3), nameof(ImplicitDepthwise5), nameof(ImplicitGroups2),
        nameof(ImplicitGroups4), nameof(ImplicitDepthwiseWide), nameof(ImplicitGroups4Wide),
    };

    // Finite differences need a double-precision solve per perturbed entry: the small shapes only.
    public static TheoryData<string> SmallShapes => new()
    {
        nameof(ImplicitDepthwise1), nameof(ImplicitDepthwise3), nameof(ImplicitGroups2), nameof(ImplicitGroups4),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardSolvesTheSystem(string shape) => Run(shape, new ForwardCase());

    [Theory]
    [MemberData(nameof(SmallShapes))]
    public void GradientsMatchFiniteDifferences(string shape) => Run(shape, new GradientCase());

    [Fact]
    public void WrongLengthsThrow()
    {
        ImplicitDims d = ImplicitDims.Of<ImplicitGroups2>();
        using var context = new KernelContext(1);
        var x = new float[2 * d.ImageSize];
        var w = new float[d.WeightSize];
        void Expect(string name, Action call) => Assert.Equal(name, Assert.Throws<ArgumentException>(call).ParamName);
        Expect("rhs", () => ImplicitSolve.Forward<ImplicitGroups2>(context, new float[x.Length - 1], w, Step, x, 2));
        Expect("weight", () => ImplicitSolve.Forward<ImplicitGroups2>(context, x, new float[w.Length + 1], Step, x, 2));
        Expect("y", () => ImplicitSolve.Forward<ImplicitGroups2>(context, x, w, Step, new float[x.Length + 1], 2));
        Expect("dy", () => ImplicitSolve.Backward<ImplicitGroups2>(context, new float[1], x, w, Step, x, w, 2));
        Expect("y", () => ImplicitSolve.Backward<ImplicitGroups2>(context, x, new float[1], w, Step, x, w, 2));
        Expect("weight", () => ImplicitSolve.Backward<ImplicitGroups2>(context, x, x, new float[1], Step, x, w, 2));
        Expect("drhs", () => ImplicitSolve.Backward<ImplicitGroups2>(context, x, x, w, Step, new float[1], w, 2));
        Expect("dweight", () => ImplicitSolve.Backward<ImplicitGroups2>(context, x, x, w, Step, x, new float[1], 2));
        Expect("S", () => ImplicitSolve.Forward<EvenKernel>(context, new float[64], new float[4], Step, new float[64], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImplicitSolve.Forward<ImplicitGroups2>(context, x, w, -1f, x, 2));
    }

    [Fact]
    public void NoImagesGiveAZeroWeightGradient()
    {
        using var context = new KernelContext(2);
        float[] dweight = TestData.Random(ImplicitDims.Of<ImplicitGroups2>().WeightSize, 5);
        ImplicitSolve.Backward<ImplicitGroups2>(context, [], [], new float[dweight.Length], Step, [], dweight, 0);
        Assert.All(dweight, value => Assert.Equal(0f, value));
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        ImplicitDims depthwise = ImplicitDims.Of<ImplicitDepthwise3>(), grouped = ImplicitDims.Of<ImplicitGroups2>();
        const int N = 2;
        using var context = new KernelContext(2);
        float[] x1 = TestData.Random(N * depthwise.ImageSize, 1), w1 = TestData.Random(depthwise.WeightSize, 2, 0.1f);
        float[] x2 = TestData.Random(N * grouped.ImageSize, 1), w2 = TestData.Random(grouped.WeightSize, 2, 0.1f);
        float[] y1 = new float[x1.Length], dx1 = new float[x1.Length], dw1 = new float[w1.Length];
        float[] y2 = new float[x2.Length], dx2 = new float[x2.Length], dw2 = new float[w2.Length];
        void Call()
        {
            ImplicitSolve.Forward<ImplicitDepthwise3>(context, x1, w1, Step, y1, N);
            ImplicitSolve.Backward<ImplicitDepthwise3>(context, x1, y1, w1, Step, dx1, dw1, N);
            ImplicitSolve.Forward<ImplicitGroups2>(context, x2, w2, Step, y2, N);
            ImplicitSolve.Backward<ImplicitGroups2>(context, x2, y2, w2, Step, dx2, dw2, N);
        }

        // Warm up past the tier-1 call count (30) and first-use scratch growth; then several tries, so unrelated runtime
        // activity cannot fail the test, while a kernel that allocates does so on every call.
        for (int i = 0; i < 40; i++)
        {
            Call();
        }

        long allocated = 0;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            Call();
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            if (allocated == 0)
            {
                break;
            }

            // On a loaded machine the runtime's background tier-up of these generic kernels can still be running
            // (and allocating) after the warm-up; give it time rather than retrying at once.
            System.Threading.Thread.Sleep(50);
        }

        Assert.True(allocated == 0, $"allocated {allocated} bytes");
    }

    private static void Run(string shape, IImplicitCase test)
    {
        switch (shape)
        {
            case nameof(ImplicitDepthwise1): test.Run<ImplicitDepthwise1>(); break;
            case nameof(ImplicitDepthwise3): test.Run<ImplicitDepthwise3>(); break;
            case nameof(ImplicitDepthwise5): test.Run<ImplicitDepthwise5>(); break;
            case nameof(ImplicitGroups2): test.Run<ImplicitGroups2>(); break;
            case nameof(ImplicitGroups4): test.Run<ImplicitGroups4>(); break;
            case nameof(ImplicitDepthwiseWide): test.Run<ImplicitDepthwiseWide>(); break;
            case nameof(ImplicitGroups4Wide): test.Run<ImplicitGroups4Wide>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    /// <summary>Weights of about 1 / sqrt(g K^2) each, so |C^| and hence ||A|| stay moderate (see the tolerances).</summary>
    private static float[] Weights(ImplicitDims d, int seed) => TestData.Random(d.WeightSize, seed, 1.5f / MathF.Sqrt(d.GroupSize * d.Kernel * d.Kernel));

    private sealed class ForwardCase : IImplicitCase
    {
        public void Run<S>() where S : struct, IImplicitShape
        {
            ImplicitDims d = ImplicitDims.Of<S>();
            const int N = 2;
            float[] rhs = TestData.Random(N * d.ImageSize, 21), w = Weights(d, 22);
            double[] rd = TestData.ToDouble(rhs), wd = TestData.ToDouble(w);
            double[] expected = Reference.SolveImplicit(rd, wd, Step, N, d);
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                var y = new float[rhs.Length];
                ImplicitSolve.Forward<S>(context, rhs, w, Step, y, N);
                double[] residualFree = Reference.ApplyImplicit(TestData.ToDouble(y), wd, Step, N, d);
                Check.Close(rd, residualFree, ResidualTolerance, $"{typeof(S).Name} (I + hC^TC) y threads {threads}");
                Check.Close(expected, y, SolutionTolerance, $"{typeof(S).Name} y threads {threads}");
            }
        }
    }

    private sealed class GradientCase : IImplicitCase
    {
        public void Run<S>() where S : struct, IImplicitShape
        {
            ImplicitDims d = ImplicitDims.Of<S>();
            const int N = 2;
            float[] rhs = TestData.Random(N * d.ImageSize, 31), w = Weights(d, 32), g = TestData.Random(N * d.ImageSize, 33);
            double[] rd = TestData.ToDouble(rhs), wd = TestData.ToDouble(w), gd = TestData.ToDouble(g);

            // loss = sum(G * y): dL/drhs = A^-1 G exactly (y is linear in rhs), and central differences on a sample.
            double Loss(double[] r, double[] weight) => Reference.Dot(gd, Reference.SolveImplicit(r, weight, Step, N, d));
            double[] expectedDrhs = Reference.SolveImplicit(gd, wd, Step, N, d);
            int[] rhsSample = Reference.Sample(rd.Length, 6), weightSample = Reference.Sample(wd.Length, 12);
            double[] fdRhs = Reference.CentralDifferences(rd, rhsSample, r => Loss(r, wd));
            double[] fdWeight = Reference.CentralDifferences(wd, weightSample, weight => Loss(rd, weight));

            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                var y = new float[rhs.Length];
                var drhs = new float[rhs.Length];
                float[] dweight = TestData.Random(w.Length, 34);
                ImplicitSolve.Forward<S>(context, rhs, w, Step, y, N);
                ImplicitSolve.Backward<S>(context, g, y, w, Step, drhs, dweight, N);
                string what = $"{typeof(S).Name} threads {threads}";
                Check.Close(expectedDrhs, drhs, GradientTolerance, $"{what} drhs");
                Check.Close(fdRhs, Reference.Pick(drhs, rhsSample), GradientTolerance, $"{what} drhs (finite differences)");
                Check.Close(fdWeight, Reference.Pick(dweight, weightSample), GradientTolerance, $"{what} dweight (finite differences)");

                // Without a weight gradient (empty dweight) the data gradient is the same computation.
                var drhsAlone = new float[rhs.Length];
                ImplicitSolve.Backward<S>(context, g, y, w, Step, drhsAlone, [], N);
                Assert.Equal(drhs, drhsAlone);
            }
        }
    }

    private struct EvenKernel : IImplicitShape
    {
        public static int Channels => 1; public static int Height => 8; public static int Width => 8; public static int Kernel => 2; public static int Groups => 1;
    }
}

internal static partial class Reference
{
    /// <summary>
    /// The periodic grouped convolution, PyTorch's conv2d of the circularly padded image:
    /// y[i, o, p] = sum over c &lt; g, a, b of w[o, c, a, b] x[i, (o / g) g + c, p + (a - K/2, b - K/2) wrapped].
    /// </summary>
    public static double[] PeriodicConv(double[] x, double[] w, int n, ImplicitDims d) => PeriodicTaps(x, w, n, d, adjoint: false);

    /// <summary>The adjoint of <see cref="PeriodicConv"/>, each tap scattered back: &lt;C x, z&gt; = &lt;x, C^T z&gt;.</summary>
    public static double[] PeriodicConvAdjoint(double[] z, double[] w, int n, ImplicitDims d) => PeriodicTaps(z, w, n, d, adjoint: true);

    /// <summary>(I + h C^T C) y.</summary>
    public static double[] ApplyImplicit(double[] y, double[] w, double h, int n, ImplicitDims d)
    {
        double[] ctc = PeriodicConvAdjoint(PeriodicConv(y, w, n, d), w, n, d);
        var result = new double[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            result[i] = y[i] + (h * ctc[i]);
        }

        return result;
    }

    /// <summary>(I + h C^T C)^-1 b by conjugate gradients (the operator is symmetric positive definite) to 1e-14 relative.</summary>
    public static double[] SolveImplicit(double[] b, double[] w, double h, int n, ImplicitDims d)
    {
        var x = new double[b.Length];
        double[] r = (double[])b.Clone(), p = (double[])b.Clone();
        double rr = Dot(r, r), target = 1e-28 * rr;
        for (int iteration = 0; rr > target; iteration++)
        {
            Assert.True(iteration < 10000, "Conjugate gradients did not converge.");
            double[] ap = ApplyImplicit(p, w, h, n, d);
            double alpha = rr / Dot(p, ap);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += alpha * p[i];
                r[i] -= alpha * ap[i];
            }

            double next = Dot(r, r);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = r[i] + (next / rr * p[i]);
            }

            rr = next;
        }

        return x;
    }

    /// <summary>About <paramref name="count"/> indices spread over [0, length), all of them when there are fewer.</summary>
    public static int[] Sample(int length, int count)
    {
        int taken = Math.Min(length, count);
        var indices = new int[taken];
        for (int i = 0; i < taken; i++)
        {
            indices[i] = (int)((long)i * length / taken) + (length / taken / 2);
        }

        return indices;
    }

    public static double[] Pick(float[] values, int[] indices)
    {
        var picked = new double[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            picked[i] = values[indices[i]];
        }

        return picked;
    }

    /// <summary>d loss / d theta[index] for the sampled indices by central differences in double, step 1e-4.</summary>
    public static double[] CentralDifferences(double[] theta, int[] indices, Func<double[], double> loss)
    {
        const double H = 1e-4;
        var gradient = new double[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            double saved = theta[indices[i]];
            theta[indices[i]] = saved + H;
            double up = loss(theta);
            theta[indices[i]] = saved - H;
            double down = loss(theta);
            theta[indices[i]] = saved;
            gradient[i] = (up - down) / (2 * H);
        }

        return gradient;
    }

    private static double[] PeriodicTaps(double[] source, double[] w, int n, ImplicitDims d, bool adjoint)
    {
        int g = d.GroupSize, r = d.Kernel / 2, plane = d.Height * d.Width;
        var result = new double[n * d.ImageSize];
        for (int image = 0; image < n; image++)
        {
            for (int o = 0; o < d.Channels; o++)
            {
                for (int c = 0; c < g; c++)
                {
                    int output = ((image * d.Channels) + o) * plane, input = ((image * d.Channels) + ((o / g) * g) + c) * plane;
                    for (int a = 0; a < d.Kernel; a++)
                    {
                        for (int b = 0; b < d.Kernel; b++)
                        {
                            double tap = w[((((o * g) + c) * d.Kernel) + a) * d.Kernel + b];
                            for (int ph = 0; ph < d.Height; ph++)
                            {
                                int qh = (((ph + a - r) % d.Height) + d.Height) % d.Height;
                                for (int pw = 0; pw < d.Width; pw++)
                                {
                                    int p = (ph * d.Width) + pw, q = (qh * d.Width) + ((((pw + b - r) % d.Width) + d.Width) % d.Width);
                                    if (adjoint)
                                    {
                                        result[input + q] += tap * source[output + p];
                                    }
                                    else
                                    {
                                        result[output + p] += tap * source[input + q];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        return result;
    }
}
