using System.Collections.Generic;
using System.Text;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Planning;

/// <summary>
/// Groups a checked network into fused steps. Pure: checked network in, plan out.
/// Fusion: a ReLU right after a convolution, transposed convolution, dense layer or batch norm runs in that
/// kernel's epilogue (its backward needs only the step's own output as the mask). Batch norm stays its own
/// step in training, where it needs the batch statistics of the convolution's output; in inference a batch norm
/// right after a convolution or dense layer is folded into its weights. Residual and IMEX layers become one step
/// per time step, each with its own weights.
/// </summary>
internal static class Planner
{
    public static KernelPlan Plan(CheckedNetwork network)
    {
        var steps = new List<PlanStep>();
        var identifiers = new HashSet<string>();
        IReadOnlyList<CheckedLayer> layers = network.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            CheckedLayer layer = layers[i];
            StepKind kind = KindOf(layer.Spec);
            string? fusedRelu = null;
            if (kind is StepKind.Conv or StepKind.ConvTranspose or StepKind.Dense or StepKind.BatchNorm
                && i + 1 < layers.Count && layers[i + 1].Spec is ReluSpec)
            {
                fusedRelu = layers[++i].Name;
            }

            string layerIdentifier = Unique(identifiers, Identifier(layer.Name), steps.Count);
            int timeSteps = PlanStep.TimeSteps(layer.Spec);
            for (int t = 0; t < System.Math.Max(timeSteps, 1); t++)
            {
                string identifier = timeSteps == 0 ? layerIdentifier : Unique(identifiers, layerIdentifier + "_" + Format.Invariant(t), steps.Count);
                string? input = steps.Count == 0 ? null : steps[steps.Count - 1].Identifier;
                var step = new PlanStep(steps.Count, kind, layer, input, identifier, layerIdentifier)
                {
                    FusedRelu = fusedRelu,
                    TimeStep = timeSteps == 0 ? null : t,
                };
                if (kind == StepKind.BatchNorm && steps.Count > 0 && steps[steps.Count - 1] is { Kind: StepKind.Conv or StepKind.Dense, FusedRelu: null } producer)
                {
                    step = step with { IsFolded = true };
                    steps[steps.Count - 1] = producer with { FoldedBatchNorm = step };
                }

                steps.Add(step);
            }
        }

        return new KernelPlan(network, steps.ToEquatableArray());
    }

    private static StepKind KindOf(LayerSpec spec) => spec switch
    {
        ConvSpec => StepKind.Conv,
        ConvTransposeSpec => StepKind.ConvTranspose,
        BatchNormSpec => StepKind.BatchNorm,
        ReluSpec => StepKind.Relu,
        PoolSpec { Kind: PoolKind.Max } => StepKind.MaxPool,
        PoolSpec => StepKind.AvgPool,
        GlobalAvgPoolSpec => StepKind.GlobalAvgPool,
        DenseSpec => StepKind.Dense,
        DropoutSpec => StepKind.Dropout,
        ResidualSpec => StepKind.ResidualStep,
        ImexSpec => StepKind.ImexStep,
        _ => throw new System.InvalidOperationException($"No kernels plan {spec.GetType().Name}."),
    };

    /// <summary>Two layer names can map to one identifier ("a.b" and "a_b"): the later one gets the step index appended.</summary>
    private static string Unique(HashSet<string> identifiers, string identifier, int index)
    {
        if (!identifiers.Add(identifier))
        {
            identifier += "_" + Format.Invariant(index);
            identifiers.Add(identifier);
        }

        return identifier;
    }

    /// <summary>A C# identifier from a layer name: "features.10" -> "Features_10".</summary>
    private static string Identifier(string layerName)
    {
        var text = new StringBuilder();
        foreach (char c in layerName)
        {
            text.Append(char.IsLetterOrDigit(c) ? c : '_');
        }

        text[0] = char.ToUpperInvariant(text[0]);
        return text.ToString();
    }
}
