using System;
using System.Collections.Generic;
using System.Reflection;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu;

/// <summary>A kernel a launcher loaded: its method (a generic one instantiated with a layer's shape) and how it is grouped.</summary>
public sealed record LoadedKernel(MethodInfo Method, bool ExplicitlyGrouped);

// Every launcher loads its kernels through these, so the device knows each kernel a network uses: the PTX check
// (PtxLowering) lowers exactly those for sm_90. Load: implicitly grouped (one thread per element, groups chosen by
// ILGPU); LoadGrouped: explicitly grouped (the launcher passes grid and group sizes, for shared-memory tiles).
public sealed partial class IlgpuDevice
{
    private readonly List<LoadedKernel> _kernels = [];

    /// <summary>The kernels loaded on this device so far, in load order, each once.</summary>
    public IReadOnlyList<LoadedKernel> Kernels => _kernels;

    public Action<Index1D, T1> Load<T1>(Action<Index1D, T1> kernel)
        where T1 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2> Load<T1, T2>(Action<Index1D, T1, T2> kernel)
        where T1 : struct where T2 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3> Load<T1, T2, T3>(Action<Index1D, T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4> Load<T1, T2, T3, T4>(Action<Index1D, T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5> Load<T1, T2, T3, T4, T5>(Action<Index1D, T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6> Load<T1, T2, T3, T4, T5, T6>(Action<Index1D, T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6, T7> Load<T1, T2, T3, T4, T5, T6, T7>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> Load<T1, T2, T3, T4, T5, T6, T7, T8>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct => Record(kernel.Method, grouped: false, Accelerator.LoadAutoGroupedStreamKernel(kernel));

    public Action<KernelConfig, T1> LoadGrouped<T1>(Action<T1> kernel)
        where T1 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2> LoadGrouped<T1, T2>(Action<T1, T2> kernel)
        where T1 : struct where T2 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3> LoadGrouped<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4> LoadGrouped<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5> LoadGrouped<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6> LoadGrouped<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> LoadGrouped<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> LoadGrouped<T1, T2, T3, T4, T5, T6, T7, T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9> LoadGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> LoadGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> LoadGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    public Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> LoadGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct => Record(kernel.Method, grouped: true, Accelerator.LoadStreamKernel(kernel));

    private TDelegate Record<TDelegate>(MethodInfo method, bool grouped, TDelegate loaded)
    {
        var kernel = new LoadedKernel(method, grouped);
        if (!_kernels.Contains(kernel))
        {
            _kernels.Add(kernel);
        }

        return loaded;
    }
}
