using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>
/// A ReLU right after a convolution, transposed convolution, dense layer or batch norm runs in that kernel's epilogue:
/// the producer writes the ReLU's output, and its backward needs only that output as the mask. The producer's own
/// output is then not kept (LayerOutput names the ReLU instead), and the ReLU's gradient is not either (the mask is
/// applied in place, leaving the producer's).
/// </summary>
internal static class FuseEpilogues
{
    public static LoweredNetwork Run(LoweredNetwork network)
    {
        var calls = network.Forward.ToList();
        var views = network.Layers.ToList();
        for (int i = 1; i < calls.Count; i++)
        {
            if (calls[i] is not ReluForward { X: BufferOperand x } relu || network.Scores == x.Id
                || calls.Count(c => c.Inputs.Contains(x)) != 1)
            {
                continue;
            }

            Call? fused = calls[i - 1] switch
            {
                LinearForward { Epilogue: Epilogue.None } linear when linear.Y == x => linear with { Y = relu.Y, Epilogue = Epilogue.Relu },
                BatchNormTraining { Epilogue: Epilogue.None } norm when norm.Y == x => norm with { Y = relu.Y, Epilogue = Epilogue.Relu },
                _ => null,
            };
            if (fused is null)
            {
                continue;
            }

            calls[i - 1] = fused;
            calls.RemoveAt(i);
            int producer = views.FindIndex(v => v.Output == x.Id), activation = views.FindIndex(v => v.Output == relu.Y.Id);
            views[producer] = views[producer] with { Output = null, OutputKeptBy = views[activation].Layer, GradientOf = relu.Y.Id };
            views[activation] = views[activation] with { GradientOf = null, GradientKeptBy = views[producer].Layer };
        }

        return network with { Forward = calls.ToEquatableArray(), Layers = views.ToEquatableArray() };
    }
}
