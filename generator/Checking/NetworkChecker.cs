using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Checking;

/// <summary>
/// Walks a parsed network through each op's shape rule, names the layers, and checks what concerns the
/// whole network: unique names, a loss that fits the output, a suspicious last layer. Pure: spec in, checked
/// network and diagnostics out.
/// </summary>
internal static class NetworkChecker
{
    private static readonly Regex LayerNamePattern = new(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$", RegexOptions.CultureInvariant);

    public static CheckResult Check(NetworkSpec spec)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var rules = new ShapeRules(diagnostics) { Skips = new SkipScope(spec.Layers) };
        var built = new List<(LayerSpec Spec, LayerOutcome Outcome, Shape Input, long? Field)>();
        Shape input = Shape.Image(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        Shape shape = input;
        ReceptiveField field = ReceptiveField.Pixel;
        bool complete = true;
        foreach (LayerSpec layer in spec.Layers)
        {
            LayerOutcome outcome = Ops.OpCatalog.Of(layer).Check(layer, shape, rules, ref field);
            if (outcome.Output is not Shape output)
            {
                complete = false;
                break; // later shapes would only repeat this error
            }

            if (outcome.Description.Length > 0) // else an optional layer that does not fit
            {
                built.Add((layer, outcome, shape, field.Pixels));
                shape = output;
            }
        }

        IReadOnlyList<string> names = LayerNames(built.Select(b => b.Spec).ToList());
        var layers = built.Select((b, i) => new CheckedLayer(
            b.Spec, names[i], b.Outcome.Description, b.Input, b.Outcome.Output!.Value,
            b.Outcome.Tensors.Select(t => new TensorSpec(new TensorKey(t.Module.Length == 0 ? names[i] : names[i] + "." + t.Module, t.Role), t.Dimensions.ToEquatableArray(), t.Trainable)).ToEquatableArray(),
            b.Outcome.MultiplyAccumulates, b.Field)).ToList();

        CheckNames(layers, diagnostics);
        CheckKept(spec, layers, diagnostics);
        if (complete && layers.Count > 0)
        {
            CheckLoss(spec, shape, diagnostics);
            CheckLastLayer(layers[layers.Count - 1], spec.Loss, diagnostics);
        }

        bool failed = !complete || layers.Count == 0 || diagnostics.Any(IsError);
        CheckedNetwork? network = failed
            ? null
            : new CheckedNetwork(spec, input, layers.ToEquatableArray());
        return new CheckResult(network, diagnostics.Distinct().ToEquatableArray());
    }

    public static bool IsError(DiagnosticInfo diagnostic) =>
        DiagnosticDescriptors.Find(diagnostic.Id).DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error;

    private static void CheckNames(List<CheckedLayer> layers, List<DiagnosticInfo> diagnostics)
    {
        var seen = new HashSet<string>();
        foreach (CheckedLayer layer in layers)
        {
            SourceSpan span = layer.Spec.SpanOf("Name");
            if (layer.Spec.Name is not null && !LayerNamePattern.IsMatch(layer.Spec.Name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ArgumentOutOfRange, span, "Layer", "Name", "'" + layer.Spec.Name + "'",
                    "a name is a dotted identifier such as 'stem' or 'features.0'"));
            }
            else if (!seen.Add(layer.Name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateLayerName, span, layer.Name));
            }
        }
    }

    private static void CheckKept(NetworkSpec spec, List<CheckedLayer> layers, List<DiagnosticInfo> diagnostics)
    {
        foreach (string name in spec.Keep.Where(name => !layers.Any(layer => layer.Name == name)))
        {
            string known = string.Join(", ", layers.Take(6).Select(layer => layer.Name)) + (layers.Count > 6 ? ", ..." : "");
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownKeptLayer, spec.KeepSpan, name, spec.Declaration.Name, known));
        }
    }

    /// <summary>Cross-entropy needs class scores of the right kind; the float-target losses take any output, element by element.</summary>
    private static void CheckLoss(NetworkSpec spec, Shape output, List<DiagnosticInfo> diagnostics)
    {
        if (spec.Loss.TakesFloatTargets())
        {
            return;
        }

        bool pixel = spec.Loss == LossKind.PixelCrossEntropy;
        bool perImage = output.IsFlat || (output.Height == 1 && output.Width == 1);
        string? problem = pixel && output.IsFlat ? "a per-pixel loss needs a KxHxW score map, but the output is flat"
            : !pixel && !perImage ? "a class loss needs one score per class, but the output is a spatial map; add GlobalAvgPool or Dense, or use Loss.PixelCrossEntropy"
            : output.Channels < 2 ? "cross-entropy needs at least 2 classes"
            : null;
        if (problem is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossDoesNotFitOutput, spec.LossSpan, spec.Loss, output, problem));
        }
    }

    /// <summary>
    /// A last layer that distorts what the loss reads. An activation is fine before a regression loss (depth is
    /// non-negative, a final Tanh suits targets in [-1, 1]); not before the scores of a softmax or the logits of binary
    /// cross-entropy when it bounds them (all but LeakyReLU with a positive slope do). Binary cross-entropy applies the
    /// sigmoid itself, so a Sigmoid last would apply it twice.
    /// </summary>
    private static void CheckLastLayer(CheckedLayer last, LossKind loss, List<DiagnosticInfo> diagnostics)
    {
        string? problem = last.Spec switch
        {
            ActivationSpec activation => ActivationProblem(activation, loss),
            DropoutSpec => "the scores are randomly zeroed during training; put Dropout before the last Dense",
            _ => null,
        };
        if (problem is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ScoresClipped, last.Spec.Span, last.Description, problem));
        }
    }

    private static string? ActivationProblem(ActivationSpec activation, LossKind loss)
    {
        bool nonNegative = activation.Kind is ActivationKind.Relu or ActivationKind.Relu6 || activation is { Kind: ActivationKind.LeakyRelu, Alpha: 0 };
        string? bounds = nonNegative && activation.Kind != ActivationKind.Relu6 ? "cannot go negative" : activation.Kind switch
        {
            ActivationKind.Relu6 => "are clipped to [0, 6]",
            ActivationKind.Sigmoid => "are squashed into (0, 1)",
            ActivationKind.Tanh => "are squashed into (-1, 1)",
            ActivationKind.Elu => "cannot go below -" + Format.Invariant(activation.Alpha),
            ActivationKind.Silu => "cannot go below -0.28",
            _ => null,
        };
        return loss switch
        {
            _ when bounds is null => null,
            LossKind.BinaryCrossEntropy when activation.Kind == ActivationKind.Sigmoid =>
                "BinaryCrossEntropy applies the sigmoid itself, so it would be applied twice; end in Dense or Conv",
            LossKind.BinaryCrossEntropy when nonNegative =>
                "the logits cannot go negative, so no probability of BinaryCrossEntropy falls below 0.5; end in Dense or Conv",
            LossKind.BinaryCrossEntropy => "the logits " + bounds + ", which keeps the probabilities of BinaryCrossEntropy from 0 and 1; end in Dense or Conv",
            _ when loss.TakesFloatTargets() => null,
            _ => "the scores " + bounds + ", which cripples the softmax of " + loss + "; end in Dense or Conv",
        };
    }

    /// <summary>
    /// torchvision-style names, so checkpoints line up with torchvision's state_dict keys: the layers before the
    /// classifier are "features.{i}", the rest "classifier.{i}", counting every layer of its segment (a given
    /// Name replaces only its own). The classifier starts at the first dense layer, together with any dropout
    /// right before it, as in torchvision's AlexNet.
    /// </summary>
    private static IReadOnlyList<string> LayerNames(IReadOnlyList<LayerSpec> layers)
    {
        int classifier = layers.Count;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is DenseSpec)
            {
                classifier = i;
                break;
            }
        }

        while (classifier > 0 && classifier < layers.Count && layers[classifier - 1] is DropoutSpec)
        {
            classifier--;
        }

        return layers.Select((layer, i) => layer.Name
            ?? (i < classifier ? "features." + Format.Invariant(i) : "classifier." + Format.Invariant(i - classifier))).ToList();
    }
}
