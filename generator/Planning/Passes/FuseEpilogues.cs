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
/// <para>
/// First, a skip add right after the producer of one of its terms, s = r + p (scale 1, p read by the add alone),
/// becomes that producer's residual operand: the producer writes s = p + r from its epilogue, and an activation of s
/// then fuses as above, so a ResNet block ends in one kernel, act(bn(conv(x)) + r) (with a projection shortcut, the
/// shortcut's batch norm is the one right before the add, and the main path is its residual). Only buffers inside a
/// layer fuse this way: a layer's output stays readable. Not into a transposed convolution, whose epilogue runs after
/// a scatter.
/// </para>
/// </summary>
internal static class FuseEpilogues
{
    public static LoweredNetwork Run(LoweredNetwork network)
    {
        var views = network.Layers.ToList();
        List<Call> calls = Residuals(network.Forward, views);
        for (int i = 1; i < calls.Count; i++)
        {
            if (calls[i] is not ActivationForward { X: BufferOperand x } activation || activation.Activation.BackwardReadsInput
                || network.Scores == x.Id || calls.Count(c => c.Inputs.Contains(x)) != 1 || Fused(calls[i - 1], x, activation) is not { } fused)
            {
                continue;
            }

            int producer = views.FindIndex(v => v.Output == x.Id), layer = views.FindIndex(v => v.Output == activation.Y.Id);
            if (producer < 0 && layer >= 0 && network.Network.Spec.Keep.Contains(views[layer].Layer))
            {
                continue; // a kept block's output gradient would be masked in place: it stays a call of its own
            }

            calls[i - 1] = fused;
            calls.RemoveAt(i);
            if (producer >= 0)
            {
                views[producer] = views[producer] with { Output = null, OutputKeptBy = views[layer].Layer, GradientOf = activation.Y.Id };
                views[layer] = views[layer] with { GradientOf = null, GradientKeptBy = views[producer].Layer };
            }
        }

        return network with { Forward = calls.ToEquatableArray(), Layers = views.ToEquatableArray() };
    }

    /// <summary>
    /// Each add(a, 1, b) -> s right after the producer of one of its terms p (b, or a: the sum is the same), p read by
    /// nothing else and neither p nor s a layer's output, becomes that producer with the other term as residual, writing s.
    /// </summary>
    private static List<Call> Residuals(IEnumerable<Call> forward, IReadOnlyList<LayerView> views)
    {
        var calls = forward.ToList();
        var layerOutputs = new HashSet<int>(views.Select(v => v.Output).OfType<int>());
        for (int i = 1; i < calls.Count; i++)
        {
            if (calls[i] is not AddScaled { Scale: 1f, A: BufferOperand a, B: BufferOperand b, Y: BufferOperand sum } || a == b || layerOutputs.Contains(sum.Id))
            {
                continue;
            }

            Call? fused = null;
            foreach ((BufferOperand p, BufferOperand residual) in new[] { (b, a), (a, b) })
            {
                if (fused is null && !layerOutputs.Contains(p.Id) && calls.Count(c => c.Inputs.Contains(p)) == 1)
                {
                    fused = WithResidual(calls[i - 1], p, residual, sum);
                }
            }

            if (fused is not null)
            {
                calls[i - 1] = fused;
                calls.RemoveAt(i);
            }
        }

        return calls;
    }

    /// <summary>The call before with the residual in its epilogue, when it writes p and has neither a residual nor an activation yet.</summary>
    private static Call? WithResidual(Call producer, BufferOperand p, BufferOperand residual, BufferOperand sum) => producer switch
    {
        LinearForward { Kind: LinearOp.Conv2d or LinearOp.Dense, Activation.IsNone: true, Residual: NoOperand } linear when linear.Y == p =>
            linear with { Y = sum, Residual = residual },
        BatchNormTraining { Activation.IsNone: true, Residual: NoOperand } norm when norm.Y == p => norm with { Y = sum, Residual = residual },
        BatchNormInference { Activation.IsNone: true, Residual: NoOperand } norm when norm.Y == p => norm with { Y = sum, Residual = residual },
        _ => null,
    };

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
