using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels.Tests;

/// <summary>
/// Each activation, forward and backward, against a double reference at every width the kernels run (AVX-512, AVX2
/// and the one-lane path of machines without either, whatever this machine picks for itself), and fused into the
/// conv, transposed conv, dense and batch norm kernels against the same activation applied afterwards.
/// </summary>
public class ActivationTests
{
    /// <summary>
    /// Forward: within this many ulp of the exact value. Measured at most 2.8 (tanh), 2.4 (sigmoid), 2.2 (ELU) and 1.9
    /// (SiLU); .NET's vector exp alone is up to 1.8. A wrong formula or branch is off by far more.
    /// </summary>
    private const double ForwardUlps = 4;

    /// <summary>
    /// Where e^-x overflows (x below -88.7) sigmoid and SiLU are 0, as in PyTorch's float kernels: 1 / (1 + e^89) is
    /// 2e-39 and -89 / (1 + e^89) is -2e-37, both below this.
    /// </summary>
    private const double Underflow = 1e-36;

    /// <summary>
    /// Backward, relative to |dy|: the derivative comes from the float output (the input for SiLU), whose rounding
    /// (6e-8 at 1) it inherits, e.g. 1 - y for a sigmoid output near 1, so it is compared in absolute terms, per unit
    /// of max(1, |x|) for SiLU's s (1 + x (1 - s)), which multiplies s's rounding by x. Measured below 2e-7.
    /// </summary>
    private const double BackwardTolerance = 1e-6;

    public static TheoryData<string> Activations => new() { "Relu", "LeakyRelu(0.1)", "LeakyRelu(0)", "LeakyRelu(3)", "Sigmoid", "Tanh", "Elu(1)", "Elu(0.3)", "Relu6", "Silu" };

    /// <summary>The widths to run: 16 and 8 lanes where this machine has them, and the one-lane path everywhere.</summary>
    private static readonly int[] Widths = [.. new[] { 16, 8, 1 }.Where(w => w switch { 16 => Vector512.IsHardwareAccelerated, 8 => Vector256.IsHardwareAccelerated, _ => true })];

    [Theory]
    [MemberData(nameof(Activations))]
    public void ForwardIsWithinAFewUlpOfTheExactValueAtEveryWidth(string name)
    {
        Activation activation = Parse(name);
        float[] x = Inputs();
        float[] scalar = Run(activation, 1, x, null);
        var failures = new List<string>();
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Exact(activation, x[i]), error = Math.Abs(scalar[i] - exact);
            double ulp = MathF.BitIncrement((float)Math.Abs(exact)) - (float)Math.Abs(exact);
            if (!(error <= ForwardUlps * ulp || (Math.Abs(exact) < Underflow && Math.Abs(scalar[i]) < Underflow)))
            {
                failures.Add($"f({x[i]:R}) = {scalar[i]:R}, exact {exact:R} ({error / ulp:F1} ulp)");
            }
        }

        Assert.True(failures.Count == 0, $"{name}: {failures.Count} values off:\n" + string.Join("\n", failures.Take(20)));

        // Every width gives the one-lane path's values bit for bit: a vector body and its scalar tail agree.
        foreach (int width in Widths)
        {
            Assert.Equal(scalar, Run(activation, width, x, null));
        }

        var y = new float[x.Length];
        activation.Forward(x, y);
        Assert.Equal(scalar, y);
        activation.Forward(y.AsSpan(), y); // in place: y = f(f(x))
        Assert.Equal(Run(activation, 1, scalar, null), y);
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void BackwardMatchesTheExactDerivativeFromWhatItKeepsAtEveryWidth(string name)
    {
        Activation activation = Parse(name);
        float[] x = Inputs();
        float[] y = Run(activation, 1, x, null);
        float[] dy = TestData.Random(x.Length, 11, 2f);
        float[] saved = activation.BackwardReadsInput ? x : y;
        float[] scalar = Run(activation, 1, saved, dy);
        var failures = new List<string>();
        for (int i = 0; i < x.Length; i++)
        {
            // Where the derivative jumps (ReLU's 0, ReLU6's 0 and 6) it takes PyTorch's side: 0 at the kink for
            // ReLU and ReLU6, the slope for LeakyReLU and alpha for ELU (x = 0 is not "x > 0").
            double exact = dy[i] * Derivative(activation, x[i]);
            double error = Math.Abs(scalar[i] - exact);
            if (!(error <= BackwardTolerance * Math.Abs(dy[i]) * Math.Max(1, Math.Abs(x[i]))))
            {
                failures.Add($"x {x[i]:R}, y {y[i]:R}: dy f' = {scalar[i]:R}, exact {exact:R}");
            }
        }

        Assert.True(failures.Count == 0, $"{name}: {failures.Count} values off:\n" + string.Join("\n", failures.Take(20)));
        foreach (int width in Widths)
        {
            Assert.Equal(scalar, Run(activation, width, saved, dy));
        }

        float[] inPlace = (float[])dy.Clone();
        activation.Backward(saved, inPlace);
        Assert.Equal(scalar, inPlace);
    }

    [Fact]
    public void ParametersOutsideTheirRangeAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu(-0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu(float.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.Elu(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.Elu(float.NaN));
        Assert.Equal(Activation.LeakyRelu(0.25f), Activation.LeakyRelu(0.25f));
        Assert.NotEqual(Activation.LeakyRelu(0.25f), Activation.LeakyRelu(0.5f));
        Assert.Equal(ActivationKind.None, default(Activation).Kind);
        Assert.Throws<ArgumentException>(() => Activation.Sigmoid.Forward(new float[3], new float[4]));
    }

    /// <summary>
    /// The epilogues run the same vector code on the same pre-activation values as the standalone call, so fused and
    /// unfused agree bit for bit: in full GEMM tiles, edge tiles and (transposed convolution, batch norm) plane tails.
    /// </summary>
    [Theory]
    [MemberData(nameof(Activations))]
    public void FusedEpiloguesEqualTheActivationAppliedAfterwards(string name)
    {
        Activation activation = Parse(name);
        using var context = new KernelContext(2);
        const int N = 3;

        ConvDims conv = ConvDims.Of<ConvLarge>();
        float[] x = TestData.Random(N * conv.InChannels * conv.InHeight * conv.InWidth, 1, 2f), w = TestData.Random(conv.OutChannels * conv.InChannels * 9, 2, 0.2f);
        float[] bias = TestData.Random(conv.OutChannels, 3);
        int convOut = N * conv.OutChannels * conv.OutHeight * conv.OutWidth;
        Same("conv", convOut, activation,
            a => { var y = new float[convOut]; Conv2d.Forward<ConvLarge>(context, x, w, bias, y, N, a); return y; });

        foreach ((string what, ConvDims t, Func<Activation, float[]> run) in new (string, ConvDims, Func<Activation, float[]>)[]
        {
            ("conv transpose", ConvDims.Of<ConvTStride2>(), a => TransposeForward<ConvTStride2>(context, N, a)),
            ("pointwise conv transpose", ConvDims.Of<ConvTPointwise>(), a => TransposeForward<ConvTPointwise>(context, N, a)),
        })
        {
            Same(what, N * t.OutChannels * t.OutHeight * t.OutWidth, activation, run);
        }

        float[] features = TestData.Random(N * Dense70x130.InFeatures, 4), weight = TestData.Random(Dense70x130.OutFeatures * Dense70x130.InFeatures, 5, 0.3f);
        float[] denseBias = TestData.Random(Dense70x130.OutFeatures, 6);
        Same("dense", N * Dense70x130.OutFeatures, activation,
            a => { var y = new float[N * Dense70x130.OutFeatures]; Dense.Forward<Dense70x130>(context, features, weight, denseBias, y, N, a); return y; });

        // Planes of 37: vector bodies and scalar tails; gamma around 2 so the normalised values reach past ReLU6's 6.
        const int Channels = 4, Plane = 37;
        float[] input = TestData.Random(N * Channels * Plane, 7, 3f), gamma = Array.ConvertAll(TestData.Random(Channels, 8), g => 2f + g), beta = TestData.Random(Channels, 9);
        float[] runningMean = TestData.Random(Channels, 10), runningVar = Array.ConvertAll(TestData.Random(Channels, 11), v => 1.5f + v);
        Same("batch norm (training)", input.Length, activation, a =>
        {
            var y = new float[input.Length];
            BatchNorm.ForwardTraining(context, input, y, gamma, beta, new float[Channels], new float[Channels], new float[Channels], N, Channels, Plane, 1e-5f, a);
            return y;
        });
        Same("batch norm (inference)", input.Length, activation, a =>
        {
            var y = new float[input.Length];
            BatchNorm.ForwardInference(context, input, y, gamma, beta, runningMean, runningVar, N, Channels, Plane, 1e-5f, a);
            return y;
        });
    }

    private static float[] TransposeForward<S>(KernelContext context, int n, Activation activation)
        where S : struct, IConvShape
    {
        ConvDims d = ConvDims.Of<S>();
        float[] x = TestData.Random(n * d.InChannels * d.InHeight * d.InWidth, 12, 2f);
        float[] w = TestData.Random(d.InChannels * (d.OutChannels / d.Groups) * d.Kernel * d.Kernel, 13, 0.5f);
        float[] bias = TestData.Random(d.OutChannels, 14);
        var y = new float[n * d.OutChannels * d.OutHeight * d.OutWidth];
        ConvTranspose2d.Forward<S>(context, x, w, bias, y, n, activation);
        return y;
    }

    /// <summary>The kernel with the activation fused equals the kernel without it followed by the standalone activation.</summary>
    private static void Same(string what, int length, Activation activation, Func<Activation, float[]> kernel)
    {
        float[] linear = kernel(Activation.None);
        Assert.Equal(length, linear.Length);
        Assert.Contains(linear, v => v < 0); // both sides of every kink are reached
        Assert.Contains(linear, v => v > 0);
        var expected = new float[length];
        activation.Forward(linear, expected);
        float[] fused = kernel(activation);
        int different = Enumerable.Range(0, length).Count(i => BitConverter.SingleToInt32Bits(fused[i]) != BitConverter.SingleToInt32Bits(expected[i]));
        Assert.True(different == 0, $"{what} with {activation}: {different} of {length} values differ from the activation applied afterwards");
    }

    private static Activation Parse(string name) => name switch
    {
        "Relu" => Activation.Relu,
        "Sigmoid" => Activation.Sigmoid,
        "Tanh" => Activation.Tanh,
        "Relu6" => Activation.Relu6,
        "Silu" => Activation.Silu,
        _ when name.StartsWith("LeakyRelu(", StringComparison.Ordinal) => Activation.LeakyRelu(Parameter(name)),
        _ => Activation.Elu(Parameter(name)),
    };

    private static float Parameter(string name) =>
        float.Parse(name.AsSpan(name.IndexOf('(') + 1, name.Length - name.IndexOf('(') - 2), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// 1,003 values (whole vectors and a tail at every width): a spread over [-12, 12], a dense one over [-1, 1], and
    /// the places where a formula changes or a value saturates, each with its float neighbours.
    /// </summary>
    private static float[] Inputs()
    {
        var values = new List<float>();
        values.AddRange(TestData.Random(500, 21, 12f));
        values.AddRange(TestData.Random(300, 22, 1f));
        foreach (float edge in new[] { 0f, 1e-30f, 1e-8f, 1e-4f, 0.5f, 0.625f, 1f, 6f, 9f, 17f, 20f, 50f, 87f, 89f, 100f })
        {
            foreach (float value in new[] { edge, MathF.BitDecrement(edge), MathF.BitIncrement(edge) })
            {
                values.Add(value);
                values.Add(-value);
            }
        }

        while (values.Count < 1003)
        {
            values.Add(values.Count * 0.001f - 0.4f);
        }

        return [.. values.Take(1003)];
    }

    private static double Exact(Activation activation, double x) => activation.Kind switch
    {
        ActivationKind.Relu => Math.Max(x, 0),
        ActivationKind.LeakyRelu => x > 0 ? x : activation.Alpha * x,
        ActivationKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        ActivationKind.Tanh => Math.Tanh(x),
        ActivationKind.Elu => x > 0 ? x : activation.Alpha * ExpMinusOne(x),
        ActivationKind.Relu6 => Math.Min(Math.Max(x, 0), 6),
        ActivationKind.Silu => x / (1 + Math.Exp(-x)),
        _ => x,
    };

    /// <summary>e^x - 1 to double precision: the series where the subtraction would cancel.</summary>
    private static double ExpMinusOne(double x) => Math.Abs(x) < 1e-5 ? x + (x * x / 2) + (x * x * x / 6) : Math.Exp(x) - 1;

    private static double Derivative(Activation activation, double x)
    {
        double s = 1 / (1 + Math.Exp(-x));
        return activation.Kind switch
        {
            ActivationKind.Relu => x > 0 ? 1 : 0,
            ActivationKind.LeakyRelu => x > 0 ? 1 : activation.Alpha,
            ActivationKind.Sigmoid => s * (1 - s),
            ActivationKind.Tanh => 1 - (Math.Tanh(x) * Math.Tanh(x)),
            ActivationKind.Elu => x > 0 ? 1 : activation.Alpha * Math.Exp(x),
            ActivationKind.Relu6 => x > 0 && x < 6 ? 1 : 0,
            ActivationKind.Silu => s * (1 + (x * (1 - s))),
            _ => 1,
        };
    }

    /// <summary>Forward (no <paramref name="dy"/>) or backward of the activation at one width, on copies.</summary>
    private static float[] Run(Activation activation, int width, float[] values, float[]? dy)
    {
        var run = new AtWidth { Width = width, Values = values, Result = dy is null ? new float[values.Length] : (float[])dy.Clone(), Backward = dy is not null, Alpha = activation.Alpha };
        activation.Accept(ref run);
        return run.Result;
    }

    private struct AtWidth : IActivationVisitor
    {
        public int Width;
        public float[] Values;
        public float[] Result;
        public bool Backward;
        public float Alpha;

        public readonly void Visit<TFunction>()
            where TFunction : struct, IActivationFunction
        {
            switch (Width, Backward)
            {
                case (16, false): Activation.Forward<Simd512, Vector512<float>, TFunction>(Values, Result, Alpha); break;
                case (8, false): Activation.Forward<Simd256, Vector256<float>, TFunction>(Values, Result, Alpha); break;
                case (_, false): Activation.Forward<SimdScalar, float, TFunction>(Values, Result, Alpha); break;
                case (16, true): Activation.Backward<Simd512, Vector512<float>, TFunction>(Values, Result, Alpha); break;
                case (8, true): Activation.Backward<Simd256, Vector256<float>, TFunction>(Values, Result, Alpha); break;
                default: Activation.Backward<SimdScalar, float, TFunction>(Values, Result, Alpha); break;
            }
        }
    }
}
