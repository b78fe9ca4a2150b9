using System;
using System.Collections.Generic;
using NetCompiler.Ilgpu;

namespace NetCompiler.Bench;

/// <summary>One network at one batch size, as gpu_peer.py names it; labels are per image, or per pixel for a segmenter.</summary>
internal sealed record NetworkBenchmark(string Name, int Batch, int InputLength, int LabelsPerImage, int Classes, long Parameters,
    Func<int, IlgpuDevice, CompiledNetwork> Create)
{
    /// <summary>
    /// FashionNet (the FashionMnist sample's, at its batch), CifarVgg at 64 and 256, and QTipsImexFull (the QTips
    /// sample's --full, at its batch). --quick: each at batch 1, CifarVgg once, and the CPU-sized QTipsImex for the full
    /// one, which would take hours on the simulator.
    /// </summary>
    public static IReadOnlyList<NetworkBenchmark> All(bool quick) => quick
        ? [FashionNetAt(1), CifarVggAt(1), new("qtips_imex", 1, QTipsImex.InputLength, QTipsImex.OutputLength / QTipsImex.ClassCount, QTipsImex.ClassCount,
            QTipsImex.Summary.ParameterCount, (size, device) => new QTipsImex(size, seed: 1, device))]
        : [FashionNetAt(64), CifarVggAt(64), CifarVggAt(256), new("qtips_imex_full", 16, QTipsImexFull.InputLength, QTipsImexFull.OutputLength / QTipsImexFull.ClassCount,
            QTipsImexFull.ClassCount, QTipsImexFull.Summary.ParameterCount, (size, device) => new QTipsImexFull(size, seed: 1, device))];

    /// <summary>Images/s of TrainStep (Adam, learning rate 1e-3) and of Forward, on a fixed random batch.</summary>
    public (double Train, double Inference) Measure(IlgpuDevice device, Schedule schedule)
    {
        using CompiledNetwork network = Create(Batch, device);
        var random = new Random(1);
        var images = new float[Batch * InputLength];
        for (int i = 0; i < images.Length; i++)
        {
            images[i] = (float)random.NextDouble();
        }

        var labels = new int[Batch * LabelsPerImage];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = random.Next(Classes);
        }

        var adam = new Adam(1e-3f);
        double train = Batch / schedule.Seconds(() => network.TrainStep(images, labels, adam));
        double inference = Batch / schedule.Seconds(() => network.Forward(images));
        return (train, inference);
    }

    private static NetworkBenchmark FashionNetAt(int batch) => new("fashion_net", batch, FashionNet.InputLength, 1, FashionNet.ClassCount,
        FashionNet.Summary.ParameterCount, (size, device) => new FashionNet(size, seed: 1, device));

    private static NetworkBenchmark CifarVggAt(int batch) => new("cifar_vgg", batch, CifarVgg.InputLength, 1, CifarVgg.ClassCount,
        CifarVgg.Summary.ParameterCount, (size, device) => new CifarVgg(size, seed: 1, device));
}
