using System;
using System.Runtime.CompilerServices;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The activations on the device, the functions of the CPU's <see cref="Activation"/> (kernels/Activation.cs): every
/// backward but SiLU's from the forward's output, SiLU's from its input. Inlined into the kernels that call them, so
/// an epilogue applies its activation while the value is still in a register; the kind is a launch argument, uniform
/// over the grid, so its switch does not diverge.
/// </summary>
public static class DeviceActivation
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Forward(Activation activation, float x)
    {
        switch (activation.Kind)
        {
            case ActivationKind.Relu: return MathF.Max(x, 0f);
            case ActivationKind.LeakyRelu: return MathF.Max(x, 0f) + (activation.Alpha * MathF.Min(x, 0f));
            case ActivationKind.Sigmoid: return 1f / (1f + MathF.Exp(-x));
            case ActivationKind.Tanh: return MathF.Tanh(x);
            case ActivationKind.Elu: return x > 0f ? x : activation.Alpha * (MathF.Exp(x) - 1f);
            case ActivationKind.Relu6: return MathF.Min(MathF.Max(x, 0f), 6f);
            case ActivationKind.Silu: return x / (1f + MathF.Exp(-x));
            default: return x;
        }
    }

    /// <summary>dy * f'(.), from <paramref name="saved"/>: the forward's output, or its input for SiLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Backward(Activation activation, float saved, float dy)
    {
        switch (activation.Kind)
        {
            case ActivationKind.Relu: return saved > 0f ? dy : 0f;
            case ActivationKind.LeakyRelu: return saved > 0f ? dy : dy * activation.Alpha;
            case ActivationKind.Sigmoid: return dy * saved * (1f - saved);
            case ActivationKind.Tanh: return dy * (1f - (saved * saved));
            case ActivationKind.Elu: return saved > 0f ? dy : dy * (saved + activation.Alpha);
            case ActivationKind.Relu6: return saved * (saved - 6f) < 0f ? dy : 0f;
            case ActivationKind.Silu:
                float s = 1f / (1f + MathF.Exp(-saved));
                return dy * s * (1f + (saved * (1f - s)));
            default: return dy;
        }
    }
}
