using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

// Tiny shapes (the simulator runs a thread per GPU thread): depthwise square and tall planes, groups of 2, and groups of
// 4 with a 5 x 5 kernel wider than the 4-high plane, so taps wrap onto each other.
internal struct ImplicitDepthwise4x4 : IImplicitShape
{
    public static int Channels => 3; public static int Height => 4; public static int Width => 4; public static int Kernel => 3; public static int Groups => 3;
}

internal struct ImplicitDepthwise16x8 : IImplicitShape
{
    public static int Channels => 2; public static int Height => 16; public static int Width => 8; public static int Kernel => 3; public static int Groups => 2;
}

internal struct ImplicitGroupsOf2 : IImplicitShape
{
    public static int Channels => 4; public static int Height => 8; public static int Width => 8; public static int Kernel => 3; public static int Groups => 2;
}

internal struct ImplicitGroupsOf4Wrapped : IImplicitShape
{
    public static int Channels => 4; public static int Height => 4; public static int Width => 8; public static int Kernel => 5; public static int Groups => 1;
}

// QTipsImex's implicit layer (features.3): lowered to PTX only, too big for the simulator tests.
internal struct ImplicitQTips : IImplicitShape
{
    public static int Channels => 32; public static int Height => 64; public static int Width => 64; public static int Kernel => 3; public static int Groups => 32;
}

internal struct ImplicitNotPowerOfTwo : IImplicitShape
{
    public static int Channels => 2; public static int Height => 6; public static int Width => 8; public static int Kernel => 3; public static int Groups => 2;
}

[Collection(SimulatorCollection.Name)]
public sealed class DeviceImplicitSolveTests(SimulatorFixture simulator)
{
    // Scratch for 3 images, calls with 2: n smaller than the batch size.
    private const int BatchSize = 3;
    private const int Images = 2;

    // y and drhs: both sides are float FFTs (log2(H W) butterfly levels, ~1e-7 each) around a solve with ||A^-1|| <= 1,
    // in different orders (radix-2 here, radix-4 SIMD on the CPU). Measured at most 4e-7 of the scale; a wrong sign, conjugate
    // or index misses by O(1e-2) or more.
    private const float SolutionTolerance = 1e-5f;

    // dweight sums products of float spectra over images and all frequencies (tree order here, per-thread order there), so
    // its rounding grows with the plane and the batch; measured at most 4e-7 here, the margin is for larger shapes.
    private const float WeightGradientTolerance = 1e-4f;

    public static TheoryData<string, float> ShapesAndSteps
    {
        get
        {
            var data = new TheoryData<string, float>();
            foreach (string shape in new[] { nameof(ImplicitDepthwise4x4), nameof(ImplicitDepthwise16x8), nameof(ImplicitGroupsOf2), nameof(ImplicitGroupsOf4Wrapped) })
            {
                data.Add(shape, 0.5f);
                data.Add(shape, 2f);
            }

            return data;
        }
    }

    public static TheoryData<string> Shapes => new() { nameof(ImplicitDepthwise4x4), nameof(ImplicitGroupsOf2) };

    [Theory]
    [MemberData(nameof(ShapesAndSteps))]
    public void ForwardAndBackwardMatchTheCpu(string shape, float h) => Run(shape, new MatchCase(simulator, h, weightGradient: true));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BackwardWithoutWeightGradientMatchesTheCpu(string shape) => Run(shape, new MatchCase(simulator, 0.5f, weightGradient: false));

    [Fact]
    public void NoImagesGiveAZeroWeightGradient()
    {
        using var solver = new DeviceImplicitSolve<ImplicitGroupsOf2>(simulator.Device, BatchSize);
        int weights = 4 * 2 * 3 * 3;
        using var weight = simulator.Upload(DeviceAssert.Random(weights, 1));
        using var dweight = simulator.Upload(DeviceAssert.Random(weights, 2));
        solver.Backward(default, default, weight.View, 0.5f, default, dweight.View, 0);
        Assert.All(simulator.Download(dweight.View.AsContiguous()), value => Assert.Equal(0f, value));
    }

    [Fact]
    public void BadArgumentsThrowNamingThem()
    {
        using var solver = new DeviceImplicitSolve<ImplicitGroupsOf2>(simulator.Device, BatchSize);
        int image = 4 * 8 * 8, weights = 4 * 2 * 3 * 3;
        using var x = simulator.Device.Allocate<float>("x", Images * image);
        using var w = simulator.Device.Allocate<float>("w", weights);
        using var tooShort = simulator.Device.Allocate<float>("short", 5);
        ArrayView<float> v = x.View, wv = w.View, bad = tooShort.View;
        void Expect(string name, Action call) => Assert.Equal(name, Assert.ThrowsAny<ArgumentException>(call).ParamName);
        Expect("rhs", () => solver.Forward(bad, wv, 0.5f, v, Images));
        Expect("weight", () => solver.Forward(v, bad, 0.5f, v, Images));
        Expect("y", () => solver.Forward(v, wv, 0.5f, bad, Images));
        Expect("dy", () => solver.Backward(bad, v, wv, 0.5f, v, wv, Images));
        Expect("y", () => solver.Backward(v, bad, wv, 0.5f, v, wv, Images));
        Expect("weight", () => solver.Backward(v, v, bad, 0.5f, v, wv, Images));
        Expect("drhs", () => solver.Backward(v, v, wv, 0.5f, bad, wv, Images));
        Expect("dweight", () => solver.Backward(v, v, wv, 0.5f, v, bad, Images));
        Expect("h", () => solver.Forward(v, wv, -1f, v, Images));
        Expect("n", () => solver.Forward(v, wv, 0.5f, v, BatchSize + 1));
        Expect("S", () => new DeviceImplicitSolve<ImplicitNotPowerOfTwo>(simulator.Device, BatchSize));
    }

    [Fact]
    public void KernelsLowerToSm90()
    {
        using IlgpuDevice device = IlgpuDevice.Simulator();
        using var depthwise = new DeviceImplicitSolve<ImplicitDepthwise4x4>(device, BatchSize);
        using var grouped = new DeviceImplicitSolve<ImplicitGroupsOf2>(device, BatchSize);
        using var full = new DeviceImplicitSolve<ImplicitQTips>(device, BatchSize);
        DeviceAssert.LowersToPtx(device, expectedAtLeast: 21);
    }

    private static void Run(string shape, IImplicitCase test)
    {
        switch (shape)
        {
            case nameof(ImplicitDepthwise4x4): test.Run<ImplicitDepthwise4x4>(); break;
            case nameof(ImplicitDepthwise16x8): test.Run<ImplicitDepthwise16x8>(); break;
            case nameof(ImplicitGroupsOf2): test.Run<ImplicitGroupsOf2>(); break;
            case nameof(ImplicitGroupsOf4Wrapped): test.Run<ImplicitGroupsOf4Wrapped>(); break;
            default: throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }
    }

    private interface IImplicitCase
    {
        void Run<S>() where S : struct, IImplicitShape;
    }

    /// <summary>Forward, then backward (from the CPU's y, so both sides differentiate the same point), on the device and the CPU.</summary>
    private sealed class MatchCase(SimulatorFixture simulator, float h, bool weightGradient) : IImplicitCase
    {
        public void Run<S>()
            where S : struct, IImplicitShape
        {
            int size = Images * S.Channels * S.Height * S.Width, weights = S.Channels * (S.Channels / S.Groups) * S.Kernel * S.Kernel;
            float[] rhs = DeviceAssert.Random(size, 1), dy = DeviceAssert.Random(size, 2);
            float[] weight = DeviceAssert.Random(weights, 3, scale: 0.3f); // |C^| up to ~3: the solve is far from the identity
            float[] y = new float[size], drhs = new float[size], dweight = new float[weightGradient ? weights : 0];
            using (var context = new KernelContext(2))
            {
                ImplicitSolve.Forward<S>(context, rhs, weight, h, y, Images);
                ImplicitSolve.Backward<S>(context, dy, y, weight, h, drhs, dweight, Images);
            }

            using var solver = new DeviceImplicitSolve<S>(simulator.Device, BatchSize);
            using var deviceRhs = simulator.Upload(rhs);
            using var deviceWeight = simulator.Upload(weight);
            using var deviceY = simulator.Device.Allocate<float>("y", size);
            solver.Forward(deviceRhs.View, deviceWeight.View, h, deviceY.View, Images);
            string what = $"{typeof(S).Name} h={h}";
            DeviceAssert.Close(y, simulator.Download(deviceY.View.AsContiguous()), SolutionTolerance, what + " y");

            using var deviceDy = simulator.Upload(dy);
            using var cpuY = simulator.Upload(y);
            using var deviceDrhs = simulator.Device.Allocate<float>("drhs", size);
            using var deviceDweight = simulator.Device.Allocate<float>("dweight", weights);
            solver.Backward(deviceDy.View, cpuY.View, deviceWeight.View, h, deviceDrhs.View, weightGradient ? deviceDweight.View : default, Images);
            DeviceAssert.Close(drhs, simulator.Download(deviceDrhs.View.AsContiguous()), SolutionTolerance, what + " drhs");
            if (weightGradient)
            {
                DeviceAssert.Close(dweight, simulator.Download(deviceDweight.View.AsContiguous()), WeightGradientTolerance, what + " dweight");
            }
        }
    }
}
