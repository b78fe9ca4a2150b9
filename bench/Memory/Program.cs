using System;
using NetCompiler;

// Memory of a training instance: every byte the constructor allocates (parameters, gradients, planned storage),
// counted on all threads, for the sample networks at their usual batch sizes.
Console.WriteLine($"{"Network",-12} {"batch",5} {"allocated MB",13}");
Report("FashionNet", 64, () => new FashionNet(64, seed: 1, threads: 2));
Report("CifarVgg", 64, () => new CifarVgg(64, seed: 1, threads: 2));
Report("QTipsImex", 8, () => new QTipsImex(8, seed: 1, threads: 2));
Report("QTipsResNet", 8, () => new QTipsResNet(8, seed: 1, threads: 2));
return 0;

static void Report(string name, int batch, Func<CompiledNetwork> create)
{
    create().Dispose(); // warm-up: type loading and JIT allocate too
    long before = GC.GetTotalAllocatedBytes(precise: true);
    using CompiledNetwork network = create();
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
    Console.WriteLine($"{name,-12} {batch,5} {allocated / 1048576.0,13:F2}");
}

[Network("1x28x28", Keep = "features.7")] // as samples/FashionMnist
[Conv(32, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Conv(64, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(128), Relu, Dropout(0.25f)]
[Dense(10)]
public partial class FashionNet;

[Network("3x32x32", Blueprint = "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 128 -> RELU]*2 -> FC 10")]
public partial class CifarVgg;

[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Imex(Steps = 4, H = 1f)]
[ConvTranspose(4, 2, Stride = 2)]
public partial class QTipsImex;

[Network("1x64x64", Loss = Loss.PixelCrossEntropy)]
[Conv(16, 3, Stride = 2, Pad = 1), BatchNorm, Relu]
[Residual(Steps = 4, H = 1f, Symmetric = true)]
[ConvTranspose(4, 2, Stride = 2)]
public partial class QTipsResNet;
