using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>What folding yields: the folded inference calls, the calls that build the folded weights, the views.</summary>
internal sealed record FoldedInference(EquatableArray<Call> Inference, EquatableArray<Call> Fold, EquatableArray<LayerView> Layers);

/// <summary>
/// An inference-mode batch norm right after a convolution or dense layer without an activation or residual folds into that layer
/// (the norm's own residual and activation move with it):
/// w' = w g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) + beta, one kernel less per pair. (Not after a transposed
/// convolution: its weight rows are input channels.) The folded weights are derived buffers, rebuilt by the Fold routine.
/// </summary>
internal static class FoldBatchNorm
{
    public static FoldedInference Run(EquatableArray<Call> inference, IReadOnlyList<ProgramTensor> tensors, EquatableArray<LayerView> layers, BufferTable buffers)
    {
        var calls = inference.ToList();
        var fold = new List<Call>();
        var views = layers.ToList();
        for (int i = 0; i + 1 < calls.Count; i++)
        {
            if (calls[i] is not LinearForward { Kind: LinearOp.Conv2d or LinearOp.Dense, Activation.IsNone: true, Residual: NoOperand, Weight: TensorOperand weight } linear
                || calls[i + 1] is not BatchNormInference norm || norm.X != linear.Y || calls.Count(c => c.Inputs.Contains(linear.Y)) != 1)
            {
                continue;
            }

            ProgramBuffer output = buffers[linear.Y.Id];
            long weightElements = tensors.First(t => t.Key == weight.Key).Elements;
            string module = weight.Key.Module, layer = linear.Layer.Split(' ')[0];
            BufferOperand foldedWeight = buffers.Add(module + ".folded_weight", ElementType.Float32,
                buffers.TensorSize(weight.Key, layer, weightElements), perImage: false, BufferRole.Derived);
            BufferOperand foldedBias = buffers.Add(module + ".folded_bias", ElementType.Float32,
                buffers.ChannelSize(layer, norm.Norm.Channels), perImage: false, BufferRole.Derived);
            fold.Add(new BatchNormFold(norm.Norm, linear.Weight, linear.Bias, foldedWeight, foldedBias) { Layer = linear.Layer });
            calls[i] = linear with { Weight = foldedWeight, Bias = foldedBias, Y = norm.Y, Activation = norm.Activation, Residual = norm.Residual };
            calls.RemoveAt(i + 1);
            int producer = views.FindIndex(v => v.Output == output.Id);
            if (producer >= 0)
            {
                views[producer] = views[producer] with { FoldedInto = norm.Layer };
            }
        }

        return new FoldedInference(calls.ToEquatableArray(), fold.ToEquatableArray(), views.ToEquatableArray());
    }
}
