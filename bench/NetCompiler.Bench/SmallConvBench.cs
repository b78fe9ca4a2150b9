using System;
using System.Diagnostics;
using System.Linq;
using NetCompiler;
using NetCompiler.Kernels;

namespace NetCompiler.Bench;

/// <summary>
/// `--small-conv`: the convolutions with few channels (LeNet-5's two, the 16-channel 3x3 of the residual and IMEX
/// steps, VGG's 3->32 input layer) alone, forward, backward data and backward weight at batch 64 in GFLOP/s, then
/// LeNet-5's training and inference images/s, all on two threads in one process.
/// </summary>
internal static class SmallConvBench
{
    private const int Batch = 64;

    public static void Report()
    {
        // Processor time of one thread's forward: on a machine shared with other work, a steadier measure of the
        // work per call than wall time (it omits time spent waiting for a core, not cache misses).
        Console.WriteLine($"{"Forward, one thread",-28} {"CPU ms per batch of 64",24}");
        ForwardProcessorTime<LeNetConv1>("1->6 28x28 5x5 pad 2");
        ForwardProcessorTime<LeNetConv2>("6->16 14x14 5x5");
        ForwardProcessorTime<Imex16>("16->16 32x32 3x3 pad 1");
        ForwardProcessorTime<Vgg3To32>("3->32 32x32 3x3 pad 1");
        Console.WriteLine();

        using var context = new KernelContext(2);
        Console.WriteLine($"{"Conv (batch 64)",-28} {"forward",9} {"bwd data",9} {"bwd weight",11}   GFLOP/s");
        Conv<LeNetConv1>(context, "1->6 28x28 5x5 pad 2");
        Conv<LeNetConv2>(context, "6->16 14x14 5x5");
        Conv<Imex16>(context, "16->16 32x32 3x3 pad 1");
        Conv<Vgg3To32>(context, "3->32 32x32 3x3 pad 1");

        using var lenet = new LeNet5(Batch, seed: 1, threads: 2);
        var random = new Random(1);
        float[] images = Enumerable.Range(0, Batch * LeNet5.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(_ => random.Next(10)).ToArray();
        var adam = new Adam(1e-3f);
        double train = Batch / Timing.MedianSeconds(() => lenet.TrainStep(images, labels, adam), warmup: 5, minSeconds: 1.0);
        double inference = Batch / Timing.MedianSeconds(() => lenet.Forward(images), warmup: 5, minSeconds: 1.0);
        Console.WriteLine();
        Console.WriteLine($"LeNet-5 batch {Batch}: train {train:N0} images/s, inference {inference:N0} images/s");
    }

    private static void Conv<S>(KernelContext context, string name)
        where S : struct, IConvShape
    {
        int inputSize = S.InChannels * S.InHeight * S.InWidth, outputSize = S.OutChannels * S.OutHeight * S.OutWidth;
        var random = new Random(1);
        float[] x = Random(Batch * inputSize, random), w = Random(S.OutChannels * S.InChannels * S.Kernel * S.Kernel, random);
        float[] bias = new float[S.OutChannels], y = new float[Batch * outputSize], dx = new float[x.Length], dw = new float[w.Length];
        double gflop = 2.0 * Batch * outputSize * S.InChannels * S.Kernel * S.Kernel / 1e9;
        double forward = gflop / Time(() => Conv2d.Forward<S>(context, x, w, bias, y, Batch, Activation.Relu));
        double data = gflop / Time(() => Conv2d.BackwardData<S>(context, y, w, dx, Batch));
        double weight = gflop / Time(() => Conv2d.BackwardWeight<S>(context, x, y, dw, bias, Batch));
        Console.WriteLine($"{name,-28} {forward,9:F1} {data,9:F1} {weight,11:F1}");
    }

    /// <summary>The least process CPU time per call of 7 repeats of 20 calls, after a warm-up, on a one-thread context.</summary>
    private static void ForwardProcessorTime<S>(string name)
        where S : struct, IConvShape
    {
        using var context = new KernelContext(1);
        var random = new Random(1);
        float[] x = Random(Batch * S.InChannels * S.InHeight * S.InWidth, random), w = Random(S.OutChannels * S.InChannels * S.Kernel * S.Kernel, random);
        float[] bias = new float[S.OutChannels], y = new float[Batch * S.OutChannels * S.OutHeight * S.OutWidth];
        const int Calls = 20;
        double best = double.MaxValue;
        for (int repeat = -1; repeat < 7; repeat++)
        {
            TimeSpan start = Process.GetCurrentProcess().TotalProcessorTime;
            for (int call = 0; call < Calls; call++)
            {
                Conv2d.Forward<S>(context, x, w, bias, y, Batch, Activation.Relu);
            }

            double milliseconds = (Process.GetCurrentProcess().TotalProcessorTime - start).TotalMilliseconds / Calls;
            best = repeat < 0 ? best : Math.Min(best, milliseconds);
        }

        Console.WriteLine($"{name,-28} {best,24:F3}");
    }

    /// <summary>Median seconds per call over 7 repeats of at least 0.2 s each, after a warm-up call.</summary>
    private static double Time(Action action) => Timing.MedianSeconds(action, warmup: 1, minSeconds: 0.2);

    private static float[] Random(int length, Random random) => Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

    private readonly struct LeNetConv1 : IConvShape
    {
        public static int InChannels => 1; public static int InHeight => 28; public static int InWidth => 28;
        public static int OutChannels => 6; public static int OutHeight => 28; public static int OutWidth => 28;
        public static int Kernel => 5; public static int Stride => 1; public static int Pad => 2; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct LeNetConv2 : IConvShape
    {
        public static int InChannels => 6; public static int InHeight => 14; public static int InWidth => 14;
        public static int OutChannels => 16; public static int OutHeight => 10; public static int OutWidth => 10;
        public static int Kernel => 5; public static int Stride => 1; public static int Pad => 0; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Imex16 : IConvShape
    {
        public static int InChannels => 16; public static int InHeight => 32; public static int InWidth => 32;
        public static int OutChannels => 16; public static int OutHeight => 32; public static int OutWidth => 32;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }

    private readonly struct Vgg3To32 : IConvShape
    {
        public static int InChannels => 3; public static int InHeight => 32; public static int InWidth => 32;
        public static int OutChannels => 32; public static int OutHeight => 32; public static int OutWidth => 32;
        public static int Kernel => 3; public static int Stride => 1; public static int Pad => 1; public static int Dilation => 1; public static int Groups => 1;
    }
}
