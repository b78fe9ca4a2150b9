using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>
/// An activation right after a convolution, transposed convolution, dense layer or batch norm runs in that kernel's
/// epilogue: the producer writes the activation's output.
/// <para>
/// In training (<see cref="Run"/>) that is every activation whose derivative is a function of its output, which is
/// then all the backward needs: ReLU (its sign), LeakyReLU (slope at least 0), sigmoid y (1 - y), tanh 1 - y^2, ELU
/// (y &gt; 0 ? 1 : y + alpha) and ReLU6 (0 &lt; y &lt; 6). The producer's own output is then not kept (LayerOutput
/// names the activation instead), and the activation's gradient is not either (its backward is applied in place,
/// leaving the producer's). SiLU stays a call of its own there: its derivative needs its input, the producer's output.
/// </para>
/// <para>
/// The inference routines keep nothing for a backward, so <see cref="Inference"/> fuses SiLU there too. Not in the
/// routine the input-gradient entry points run before the evaluation backward, whose SiLU adjoint reads that input;
/// the planner keeps an unfused copy of it for them.
/// </para>
/// </summary>
internal static class FuseEpilogues
{
    public static LoweredNetwork Run(LoweredNetwork network)
    {
        var calls = network.Forward.ToList();
        var views = network.Layers.ToList();
        for (int i = 1; i < calls.Count; i++)
        {
            if (calls[i] is not ActivationForward { X: BufferOperand x } activation || activation.Activation.BackwardReadsInput
                || network.Scores == x.Id || calls.Count(c => c.Inputs.Contains(x)) != 1 || Fused(calls[i - 1], x, activation) is not { } fused)
            {
                continue;
            }

            calls[i - 1] = fused;
            calls.RemoveAt(i);
            int producer = views.FindIndex(v => v.Output == x.Id), layer = views.FindIndex(v => v.Output == activation.Y.Id);
            views[producer] = views[producer] with { Output = null, OutputKeptBy = views[layer].Layer, GradientOf = activation.Y.Id };
            views[layer] = views[layer] with { GradientOf = null, GradientKeptBy = views[producer].Layer };
        }

        return network with { Forward = calls.ToEquatableArray(), Layers = views.ToEquatableArray() };
    }

    /// <summary>
    /// Fuses the activations left as calls of their own (SiLU) into the kernel before them in an inference routine,
    /// unless the producer's output is a kept layer's, which LayerOutput must be able to read after a Forward.
    /// </summary>
    public static EquatableArray<Call> Inference(EquatableArray<Call> inference, ISet<int> kept)
    {
        var calls = inference.ToList();
        for (int i = 1; i < calls.Count; i++)
        {
            if (calls[i] is ActivationForward { X: BufferOperand x } activation && !kept.Contains(x.Id)
                && calls.Count(c => c.Inputs.Contains(x)) == 1 && Fused(calls[i - 1], x, activation) is { } fused)
            {
                calls[i - 1] = fused;
                calls.RemoveAt(i);
            }
        }

        return calls.ToEquatableArray();
    }

    /// <summary>The call before with the activation in its epilogue, when it writes the activation's input and has none yet.</summary>
    private static Call? Fused(Call producer, BufferOperand x, ActivationForward activation) => producer switch
    {
        LinearForward { Activation.IsNone: true } linear when linear.Y == x => linear with { Y = activation.Y, Activation = activation.Activation },
        BatchNormTraining { Activation.IsNone: true } norm when norm.Y == x => norm with { Y = activation.Y, Activation = activation.Activation },
        BatchNormInference { Activation.IsNone: true } norm when norm.Y == x => norm with { Y = activation.Y, Activation = activation.Activation },
        _ => null,
    };
}
