using System;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Lowers kernels to PTX without a GPU: ILGPU's PTX backend needs only a CUDA-configured context. CI has no GPU, so
/// this is how it knows every kernel of a network would compile for the H200 (sm_90).
/// </summary>
public sealed class PtxLowering : IDisposable
{
    private readonly Context _context = Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
    private readonly PTXBackend _backend;

    public PtxLowering(CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        Architecture = architecture;
        _backend = new PTXBackend(_context, new CudaCapabilityContext(architecture), architecture, instructionSet, nvvmAPI: null!);
    }

    /// <summary>The H200's architecture, with the PTX ISA that CUDA 12 drivers take.</summary>
    public static PtxLowering Sm90() => new(CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);

    public CudaArchitecture Architecture { get; }

    /// <summary>The PTX text of <paramref name="kernel"/>; ILGPU's compile errors propagate, naming the method.</summary>
    public string Lower(LoadedKernel kernel)
    {
        EntryPointDescription entry = kernel.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method);
        var specialization = KernelSpecialization.Empty;
        CompiledKernel compiled = _backend.Compile(entry, specialization);
        return ((PTXCompiledKernel)compiled).PTXAssembly;
    }

    public void Dispose()
    {
        _backend.Dispose();
        _context.Dispose();
    }
}
