using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Ilgpu;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>
/// One simulator for the whole test assembly: ILGPU's CPU accelerator runs one OS thread per GPU thread, so every
/// device test keeps its shapes tiny. Its collection runs the tests one at a time.
/// </summary>
public sealed class SimulatorFixture : IDisposable
{
    public IlgpuDevice Device { get; } = IlgpuDevice.Simulator();

    /// <summary>A device buffer holding <paramref name="values"/>.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] values)
    {
        MemoryBuffer1D<float, Stride1D.Dense> buffer = Device.Allocate<float>("a test operand", values.Length);
        buffer.CopyFromCPU(values);
        return buffer;
    }

    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] values)
        where T : unmanaged
    {
        MemoryBuffer1D<T, Stride1D.Dense> buffer = Device.Allocate<T>("a test operand", values.Length);
        buffer.CopyFromCPU(values);
        return buffer;
    }

    /// <summary>The values of a device view, after every launch so far has finished.</summary>
    public T[] Download<T>(ArrayView<T> view)
        where T : unmanaged
    {
        Device.Synchronize();
        var values = new T[view.Length];
        view.CopyToCPU(values);
        return values;
    }

    public void Dispose() => Device.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SimulatorCollection : ICollectionFixture<SimulatorFixture>
{
    public const string Name = "ILGPU simulator";
}

/// <summary>Deterministic test data and the comparison every device test makes against its CPU twin.</summary>
public static class DeviceAssert
{
    public static float[] Random(int length, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }

    /// <summary>
    /// Every element of <paramref name="actual"/> within <paramref name="tolerance"/> of <paramref name="expected"/>'s
    /// scale (its largest magnitude, at least 1e-6): the device and the CPU sum in different orders and round apart.
    /// </summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1e-6f;
        foreach (float value in expected)
        {
            scale = MathF.Max(scale, MathF.Abs(value));
        }

        for (int i = 0; i < expected.Length; i++)
        {
            float error = MathF.Abs(expected[i] - actual[i]);
            Assert.True(error <= tolerance * scale, $"{what}[{i}]: device {actual[i]}, CPU {expected[i]}, error {error} > {tolerance} x scale {scale}");
        }
    }

    /// <summary>
    /// Lowers each kernel loaded on <paramref name="device"/> for sm_90; the PTX has the kernel's entry. ILGPU 1.5.3 writes
    /// ".target sm_80" even when asked for sm_90 (its newest PTX target); the driver JIT-compiles that for the H200.
    /// </summary>
    public static void LowersToPtx(IlgpuDevice device, int expectedAtLeast)
    {
        Assert.True(device.Kernels.Count >= expectedAtLeast, $"only {device.Kernels.Count} kernels were loaded");
        using PtxLowering lowering = PtxLowering.Sm90();
        foreach (LoadedKernel kernel in device.Kernels)
        {
            string ptx = lowering.Lower(kernel);
            Assert.Contains(".target sm_80", ptx);
            Assert.Contains(".entry", ptx);
        }
    }
}
