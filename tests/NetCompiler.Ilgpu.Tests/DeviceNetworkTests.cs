using System;
using System.IO;
using NetCompiler;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// Whole networks on the simulator against the same networks on the CPU, from the same seed: scores, three Adam steps
/// and checkpoints both ways. Tolerances: scores within 1e-4 of their scale and losses within 1e-3 relative, the
/// issue's; the two sum in different orders, and three steps of Adam (whose first steps move every weight by about
/// the learning rate whatever the gradient's size) let that rounding grow a little.
/// </summary>
[Collection(SimulatorCollection.Name)]
public sealed class DeviceNetworkTests(SimulatorFixture simulator)
{
    private const int Batch = 2;
    private const int Seed = 7;

    [Fact]
    public void ClassifierTrainsAsOnTheCpu()
    {
        using var cpu = new DeviceClassifier(Batch, Seed, threads: 1);
        using var device = new DeviceClassifier(Batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(Batch * DeviceClassifier.InputLength, 1);
        int[] labels = [1, 3];
        AgreeOnScores(cpu, device, images);
        var cpuAdam = new Adam(1e-2f);
        var deviceAdam = new Adam(1e-2f);
        for (int step = 0; step < 3; step++)
        {
            float expected = cpu.TrainStep(images, labels, cpuAdam);
            float actual = device.TrainStep(images, labels, deviceAdam);
            AssertLoss(expected, actual, step);
        }

        AgreeOnScores(cpu, device, images);
        AgreeOnParameters(cpu, device);
        Assert.Equal(cpu.StepCount, device.StepCount);
    }

    [Fact]
    public void SegmenterTrainsAsOnTheCpu()
    {
        using var cpu = new DeviceSegmenter(Batch, Seed, threads: 1);
        using var device = new DeviceSegmenter(Batch, Seed, simulator.Device);
        cpu.ClassWeights = device.ClassWeights = [1f, 2f, 0.5f];
        float[] images = DeviceAssert.Random(Batch * DeviceSegmenter.InputLength, 2);
        int[] labels = new int[Batch * DeviceSegmenter.LabelsPerImage];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = (i * 7 / 5) % DeviceSegmenter.ClassCount;
        }

        AgreeOnScores(cpu, device, images);
        var cpuAdam = new Adam(1e-2f);
        var deviceAdam = new Adam(1e-2f);
        for (int step = 0; step < 3; step++)
        {
            AssertLoss(cpu.TrainStep(images, labels, cpuAdam), device.TrainStep(images, labels, deviceAdam), step);
        }

        AgreeOnScores(cpu, device, images);
        AgreeOnParameters(cpu, device);
        DeviceAssert.Close(cpu.InputGradient(images, labels), device.InputGradient(images, labels), 1e-3f, "input gradient");
    }

    [Fact]
    public void RegressorTrainsAsOnTheCpuWithSgdAndClipping()
    {
        using var cpu = new DeviceRegressor(Batch, Seed, threads: 1);
        using var device = new DeviceRegressor(Batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(Batch * DeviceRegressor.InputLength, 3);
        float[] targets = DeviceAssert.Random(Batch * DeviceRegressor.OutputLength, 4);
        var cpuSgd = new Sgd(0.1f, momentum: 0.9f) { MaxGradientNorm = 0.05f };
        var deviceSgd = new Sgd(0.1f, momentum: 0.9f) { MaxGradientNorm = 0.05f };
        for (int step = 0; step < 3; step++)
        {
            AssertLoss(cpu.TrainStep(images, targets, cpuSgd), device.TrainStep(images, targets, deviceSgd), step);
        }

        Assert.NotNull(deviceSgd.LastGradientNorm);
        Assert.Equal(cpuSgd.LastGradientNorm!.Value, deviceSgd.LastGradientNorm!.Value, 1e-4 * cpuSgd.LastGradientNorm.Value);
        AgreeOnScores(cpu, device, images);
        AgreeOnParameters(cpu, device);
    }

    [Fact]
    public void UNetTrainsAsOnTheCpu()
    {
        using var cpu = new DeviceUNet(Batch, Seed, threads: 1);
        using var device = new DeviceUNet(Batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(Batch * DeviceUNet.InputLength, 8);
        int[] labels = PixelLabels(Batch * DeviceUNet.LabelsPerImage, DeviceUNet.ClassCount);
        TrainThreeAdamSteps(cpu, device, images, (net, optimizer) => net.TrainStep(images, labels, optimizer));
        DeviceAssert.Close(cpu.ScoreGradient(images, 1), device.ScoreGradient(images, 1), 1e-3f, "score gradient");
    }

    [Fact]
    public void ResNetAndInceptionBlocksTrainAsOnTheCpu()
    {
        using var cpu = new DeviceBlocks(Batch, Seed, threads: 1);
        using var device = new DeviceBlocks(Batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(Batch * DeviceBlocks.InputLength, 9);
        int[] labels = [4, 0];
        TrainThreeAdamSteps(cpu, device, images, (net, optimizer) => net.TrainStep(images, labels, optimizer));
        cpu.FoldBatchNorm = device.FoldBatchNorm = false; // the unfolded evaluation routine too
        AgreeOnScores(cpu, device, images);
    }

    [Fact]
    public void MultiLabelNetTrainsAsOnTheCpu()
    {
        // Batch 4, not 2: a BatchNorm1d over two samples maps each feature to +-1 whatever their gap, so its backward
        // divides by that gap and three steps would amplify rounding far past the tolerance in any two implementations.
        const int batch = 4;
        using var cpu = new DeviceMultiLabel(batch, Seed, threads: 1);
        using var device = new DeviceMultiLabel(batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(batch * DeviceMultiLabel.InputLength, 10);
        float[] targets = [1f, 0f, 0.5f, 0f, 1f, 1f, 0.25f, 1f, 0f, 0f, 0.75f, 1f];
        TrainThreeAdamSteps(cpu, device, images, (net, optimizer) => net.TrainStep(images, targets, optimizer));
        DeviceAssert.Close(cpu.InputGradient(images, targets), device.InputGradient(images, targets), 1e-3f, "input gradient");
    }

    /// <summary>A checkpoint saved on the device loads on the CPU, and one saved on the CPU loads on the device.</summary>
    [Fact]
    public void CheckpointsMoveBetweenTheDeviceAndTheCpu()
    {
        using var device = new DeviceClassifier(Batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(Batch * DeviceClassifier.InputLength, 5);
        device.TrainStep(images, [0, 2], new Adam(1e-2f)); // the device's weights move away from the seed's
        using var stream = new MemoryStream();
        device.Save(stream);

        using var cpu = new DeviceClassifier(Batch, seed: 99, threads: 1);
        stream.Position = 0;
        cpu.Load(stream);
        AgreeOnScores(cpu, device, images);

        cpu.TrainStep(images, [1, 1], new Sgd(0.1f)); // now the CPU moves on, and the device loads its weights
        using var back = new MemoryStream();
        cpu.Save(back);
        back.Position = 0;
        device.Load(back);
        AgreeOnScores(cpu, device, images);
        Assert.Equal(cpu.BatchCounters[0].Count, device.BatchCounters[0].Count);
    }

    [Fact]
    public void BadInputIsRefusedBeforeTheDeviceRuns()
    {
        using var device = new DeviceClassifier(Batch, Seed, simulator.Device);
        float[] images = DeviceAssert.Random(Batch * DeviceClassifier.InputLength, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.TrainStep(images, [0, 9], new Adam()));
        Assert.Throws<ArgumentException>(() => device.Forward(images.AsSpan(1)));
        Assert.Throws<ArgumentNullException>(() => new DeviceClassifier(Batch, Seed, (IlgpuDevice)null!));
        Assert.Same(simulator.Device, device.Device);
    }

    [Fact]
    public void EveryKernelOfTheTestNetworksLowersToPtx()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        using var classifier = new DeviceClassifier(1, Seed, device);
        using var segmenter = new DeviceSegmenter(1, Seed, device);
        using var regressor = new DeviceRegressor(1, Seed, device);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 20);
    }

    /// <summary>Scores before, three Adam steps' losses, and scores and every tensor after, device against CPU.</summary>
    private static void TrainThreeAdamSteps<TNet>(TNet cpu, TNet device, float[] images, Func<TNet, Optimizer, float> step)
        where TNet : CompiledNetwork
    {
        AgreeOnScores(cpu, device, images);
        var cpuAdam = new Adam(1e-2f);
        var deviceAdam = new Adam(1e-2f);
        for (int i = 0; i < 3; i++)
        {
            AssertLoss(step(cpu, cpuAdam), step(device, deviceAdam), i);
        }

        AgreeOnScores(cpu, device, images);
        AgreeOnParameters(cpu, device);
    }

    private static int[] PixelLabels(int count, int classes)
    {
        int[] labels = new int[count];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = (i * 7 / 5) % classes;
        }

        return labels;
    }

    private static void AgreeOnScores(CompiledNetwork cpu, CompiledNetwork device, float[] images)
    {
        float[] expected = cpu.Forward(images).ToArray();
        DeviceAssert.Close(expected, device.Forward(images), 1e-4f, "scores");
    }

    private static void AssertLoss(float expected, float actual, int step) =>
        Assert.True(MathF.Abs(expected - actual) <= 1e-3f * MathF.Abs(expected), $"step {step}: device loss {actual}, CPU {expected}");

    /// <summary>Every tensor, per tensor: the device's values (copied back through Parameters) against the CPU's.</summary>
    private static void AgreeOnParameters(CompiledNetwork cpu, CompiledNetwork device)
    {
        for (int i = 0; i < cpu.Parameters.Count; i++)
        {
            DeviceAssert.Close(cpu.Parameters[i].Value, device.Parameters[i].Value, 1e-3f, cpu.Parameters[i].Name);
        }
    }
}
