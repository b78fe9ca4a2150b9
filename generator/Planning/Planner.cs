using System.Collections.Generic;
using System.Linq;
using System.Text;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Planning;

/// <summary>
/// Groups a checked network into fused steps. Pure: checked network in, plan out.
/// Fusion: a ReLU right after a convolution, transposed convolution, dense layer or batch norm runs in that
/// kernel's epilogue (its backward needs only the step's own output as the mask). Batch norm stays its own
/// step in training, where it needs the batch statistics of the convolution's output.
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
            StepKind? kind = KindOf(layer.Spec);
            if (kind is null)
            {
                return new KernelPlan(network, EquatableArray<PlanStep>.Empty,
                    $"{layer.Name} ({layer.Description}) is shape-checked, but its kernels are not compiled yet");
            }

            string? fusedRelu = null;
            if (kind is StepKind.Conv or StepKind.ConvTranspose or StepKind.Dense or StepKind.BatchNorm
                && i + 1 < layers.Count && layers[i + 1].Spec is ReluSpec)
            {
                fusedRelu = layers[++i].Name;
            }

            string identifier = Identifier(layer.Name);
            if (!identifiers.Add(identifier))
            {
                identifier += "_" + Format.Invariant(steps.Count);
                identifiers.Add(identifier);
            }

            steps.Add(new PlanStep(steps.Count, kind.Value, layer, fusedRelu, steps.Count == 0 ? null : steps[steps.Count - 1].Identifier, identifier));
        }

        return new KernelPlan(network, steps.ToEquatableArray(), null);
    }

    private static StepKind? KindOf(LayerSpec spec) => spec switch
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
        _ => null, // Residual and Imex: their kernels come with the IMEX work
    };

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
