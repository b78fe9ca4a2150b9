using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NetCompiler.Ilgpu;

/// <summary>What kind of accelerator an <see cref="IlgpuDevice"/> drives.</summary>
public enum DeviceKind
{
    Cuda,
    OpenCL,

    /// <summary>ILGPU's CPU accelerator: a GPU simulator that runs one OS thread per GPU thread. For tests, not speed.</summary>
    Simulator,
}

/// <summary>
/// An ILGPU accelerator that networks run on: <c>new FashionNet(batchSize: 64, seed: 1, device: gpu)</c>. Kernels run on
/// its default stream, so a network's calls are ordered without synchronising. One device may serve several networks;
/// dispose it after them.
/// </summary>
public sealed partial class IlgpuDevice : IDisposable
{
    /// <summary>The simulator's largest group: the device kernels use groups of up to 256 threads, as on a GPU.</summary>
    public const int SimulatorThreadsPerGroup = 256;

    private readonly Context _context;
    private MemoryBuffer1D<float, Stride1D.Dense>? _unused;

    private IlgpuDevice(Context context, Accelerator accelerator, DeviceKind kind, string description)
    {
        _context = context;
        Accelerator = accelerator;
        Kind = kind;
        Description = description;
    }

    public Accelerator Accelerator { get; }

    public DeviceKind Kind { get; }

    /// <summary>What was found, e.g. "CUDA: NVIDIA H200 (sm_90, 140 GB)"; for <see cref="Best"/>, also what was tried first.</summary>
    public string Description { get; }

    /// <summary>The first (or <paramref name="index"/>th) CUDA GPU.</summary>
    /// <exception cref="InvalidOperationException">There is no such CUDA device (no NVIDIA GPU or driver).</exception>
    public static IlgpuDevice Cuda(int index = 0) =>
        Create(DeviceKind.Cuda, index, out string? missing) ?? throw new InvalidOperationException(missing);

    /// <summary>The first (or <paramref name="index"/>th) OpenCL device ILGPU supports (it needs the generic address space; PoCL 3.1 lacks it).</summary>
    /// <exception cref="InvalidOperationException">There is no such OpenCL device.</exception>
    public static IlgpuDevice OpenCL(int index = 0) =>
        Create(DeviceKind.OpenCL, index, out string? missing) ?? throw new InvalidOperationException(missing);

    /// <summary>ILGPU's CPU accelerator, simulating groups of up to <see cref="SimulatorThreadsPerGroup"/> threads. Slow: for tests at tiny shapes.</summary>
    public static IlgpuDevice Simulator() => Create(DeviceKind.Simulator, 0, out _)!;

    /// <summary>CUDA if there is a GPU, else OpenCL, else the simulator; <see cref="Description"/> says what it found and what it tried.</summary>
    public static IlgpuDevice Best()
    {
        var tried = new List<string>();
        foreach (DeviceKind kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL })
        {
            if (Create(kind, 0, out string? missing) is { } device)
            {
                return device;
            }

            tried.Add(missing!);
        }

        return Create(DeviceKind.Simulator, 0, out _, tried: string.Join(" ", tried))!;
    }

    /// <summary>A device by name, as the samples' --device option takes it: cuda, opencl, simulator or best.</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    /// <exception cref="InvalidOperationException">No such device here.</exception>
    public static IlgpuDevice Create(string name) => name.ToLowerInvariant() switch
    {
        "cuda" => Cuda(),
        "opencl" => OpenCL(),
        "simulator" => Simulator(),
        "best" => Best(),
        _ => throw new ArgumentException($"'{name}' is not a device: cuda, opencl, simulator or best (or cpu, for no device).", nameof(name)),
    };

    /// <summary>
    /// Device memory for <paramref name="elements"/> values of <paramref name="what"/>; running out is an exception naming
    /// it and the size, not a crash.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The device has not that much free memory.</exception>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(string what, long elements)
        where T : unmanaged
    {
        long bytes = elements * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        try
        {
            return Accelerator.Allocate1D<T>(Math.Max(elements, 1));
        }
        catch (Exception exception) when (exception is OutOfMemoryException or AcceleratorException or CudaException)
        {
            throw new InsufficientMemoryException(
                $"The device ({Accelerator.Name}) has no room for {what}: {bytes:N0} bytes; use a smaller batch size.", exception);
        }
    }

    /// <summary>
    /// A one-element view passed where a call has no operand (no bias, no residual): kernels are told by a flag not to
    /// touch it. An empty view would crash ILGPU's OpenCL launcher.
    /// </summary>
    public ArrayView<float> Unused => (_unused ??= Allocate<float>("an unused operand", 1)).View;

    /// <summary>Waits for every kernel launched so far.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    public override string ToString() => Description;

    public void Dispose()
    {
        _unused?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }

    /// <param name="tried">What Best tried before, said after the description.</param>
    private static IlgpuDevice? Create(DeviceKind kind, int index, out string? missing, string? tried = null)
    {
        Context context = kind switch
        {
            DeviceKind.Cuda => Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2)),
            DeviceKind.OpenCL => Context.Create(builder => builder.OpenCL().EnableAlgorithms().Optimize(OptimizationLevel.O2)),
            _ => Context.Create(builder => builder.CPU(new CPUDevice(32, SimulatorThreadsPerGroup / 32, 1)).EnableAlgorithms().Optimize(OptimizationLevel.O1)),
        };
        AcceleratorType type = kind switch
        {
            DeviceKind.Cuda => AcceleratorType.Cuda,
            DeviceKind.OpenCL => AcceleratorType.OpenCL,
            _ => AcceleratorType.CPU,
        };
        var devices = new List<Device>();
        foreach (Device device in context)
        {
            if (device.AcceleratorType == type)
            {
                devices.Add(device);
            }
        }

        if (index < 0 || index >= devices.Count)
        {
            context.Dispose();
            missing = kind switch
            {
                DeviceKind.Cuda => $"CUDA: no device {index} ({devices.Count} found: no NVIDIA GPU or driver).",
                _ => $"OpenCL: no device {index} ({devices.Count} found that ILGPU supports; it needs the generic address space, which PoCL 3.1 lacks).",
            };
            return null;
        }

        Accelerator accelerator = devices[index].CreateAccelerator(context);
        missing = null;
        string description = kind switch
        {
            DeviceKind.Cuda => $"CUDA: {accelerator.Name} ({((CudaAccelerator)accelerator).Architecture}, {accelerator.MemorySize / 1e9:0} GB)",
            DeviceKind.OpenCL => $"OpenCL: {accelerator.Name} ({accelerator.MemorySize / 1e9:0} GB)",
            _ => $"Simulator: ILGPU's CPU accelerator, groups of up to {accelerator.MaxNumThreadsPerGroup} threads",
        } + (tried is null ? "" : " (" + tried + ")");
        return new IlgpuDevice(context, accelerator, kind, description);
    }
}
