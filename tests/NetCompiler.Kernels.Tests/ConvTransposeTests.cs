namespace NetCompiler.Kernels.Tests;

public class ConvTransposeTests
{
    public static TheoryData<string> Shapes => new()
    {
        nameof(ConvTStride2), nameof(ConvTGroups2), nameof(ConvTDilated), nameof(ConvTPointwise), nameof(ConvTWinograd),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardMatchesReference(string shape) => ConvCases.Run(shape, new ForwardCase());

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientsMatchFiniteDifferences(string shape) => ConvCases.Run(shape, new GradientCase());

    private static int WeightLength(ConvDims d) => d.InChannels * (d.OutChannels / d.Groups) * d.Kernel * d.Kernel;

    private sealed class ForwardCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            foreach (int n in new[] { 1, 3 })
            {
                float[] x = TestData.Random(n * d.InputSize, 1), w = TestData.Random(WeightLength(d), 2), bias = TestData.Random(d.OutChannels, 3);
                double[] plain = Reference.ConvTranspose(TestData.ToDouble(x), TestData.ToDouble(w), null, n, d);
                double[] biased = Reference.ConvTranspose(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), n, d);
                foreach (int threads in new[] { 1, 2 })
                {
                    using var context = new KernelContext(threads);
                    var y = new float[n * d.OutputSize];
                    ConvTranspose2d.Forward<S>(context, x, w, [], y, n, Activation.None);
                    Check.Close(plain, y, ConvCases.ForwardTolerance, $"n {n} threads {threads}");
                    ConvTranspose2d.Forward<S>(context, x, w, bias, y, n, Activation.Relu);
                    Check.Close(ConvCases.Relu(biased), y, ConvCases.ForwardTolerance, $"bias+relu n {n} threads {threads}");
                }
            }
        }
    }

    private sealed class GradientCase : IConvCase
    {
        public void Run<S>() where S : struct, IConvShape
        {
            ConvDims d = ConvDims.Of<S>();
            const int N = 2;
            float[] x = TestData.Random(N * d.InputSize, 4), w = TestData.Random(WeightLength(d), 5);
            float[] bias = TestData.Random(d.OutChannels, 6), r = TestData.Random(N * d.OutputSize, 7);
            double[] xd = TestData.ToDouble(x), wd = TestData.ToDouble(w), bd = TestData.ToDouble(bias), rd = TestData.ToDouble(r);
            double[] expectedDx = Reference.NumericGradient(xd, t => Reference.Dot(rd, Reference.ConvTranspose(t, wd, bd, N, d)));
            double[] expectedDw = Reference.NumericGradient(wd, t => Reference.Dot(rd, Reference.ConvTranspose(xd, t, bd, N, d)));
            double[] expectedDb = Reference.NumericGradient(bd, t => Reference.Dot(rd, Reference.ConvTranspose(xd, wd, t, N, d)));
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new KernelContext(threads);
                var dx = new float[x.Length];
                var dw = new float[w.Length];
                var db = new float[bias.Length];
                ConvTranspose2d.BackwardData<S>(context, r, w, dx, N);
                ConvTranspose2d.BackwardWeight<S>(context, x, r, dw, db, N);
                Check.Close(expectedDx, dx, ConvCases.GradientTolerance, $"dx threads {threads}");
                Check.Close(expectedDw, dw, ConvCases.GradientTolerance, $"dw threads {threads}");
                Check.Close(expectedDb, db, ConvCases.GradientTolerance, $"dbias threads {threads}");
            }
        }
    }
}
