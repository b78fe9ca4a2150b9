using System.Linq;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// Named skips: Save keeps the current tensor under a name (no computation), Concat joins it along channels
/// (torch.cat([current, saved], dim=1)) and Add adds it. The saved buffer stays alive until its last join reads it
/// (memory is planned by liveness), and its gradient sums both uses (DeriveBackward sums fan-out).
/// </summary>
internal abstract class Skip(SkipAction action, string keyword) : Op<SkipSpec>
{
    public override string Name => action.ToString();

    public override LayerKind Syntax { get; } = new(action + "Attribute", [keyword], [(SkipSpec.SkipArgument, ArgumentType.Word, true)], [],
        a => new SkipSpec(a.Name, a.Span, a.Spans, action, a.Word(SkipSpec.SkipArgument, "")));

    protected override LayerOutcome Check(SkipSpec skip, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        string description = action == SkipAction.Save ? $"Save('{skip.Skip}')" : $"{action}('{skip.Skip}')";
        if (input.IsFlat)
        {
            rules.Report(DiagnosticDescriptors.SkipAfterFlatten, skip.Span, ShapeRules.Label(skip), input.Channels);
            return LayerOutcome.Failed(description);
        }

        if (action == SkipAction.Save)
        {
            if (!rules.Skips.Save(skip.Skip, input, field))
            {
                rules.Report(DiagnosticDescriptors.SkipSavedTwice, skip.SpanOf(SkipSpec.SkipArgument), ShapeRules.Label(skip), skip.Skip);
            }

            return new LayerOutcome(input, description, LayerOutcome.NoTensors, 0);
        }

        if (rules.Skips.Find(skip.Skip) is not (Shape saved, ReceptiveField savedField))
        {
            SourceSpan name = skip.SpanOf(SkipSpec.SkipArgument);
            if (rules.Skips.SavedSomewhere(skip.Skip))
            {
                rules.Report(DiagnosticDescriptors.SkipUsedBeforeSaved, name, ShapeRules.Label(skip), skip.Skip);
            }
            else
            {
                string known = rules.Skips.Names.Any() ? "saved so far: " + string.Join(", ", rules.Skips.Names.Select(n => "'" + n + "'")) : "nothing is saved before it";
                rules.Report(DiagnosticDescriptors.UnknownSkip, name, ShapeRules.Label(skip), skip.Skip, known);
            }

            return LayerOutcome.Failed(description);
        }

        bool fits = action == SkipAction.Add ? saved == input : saved.Height == input.Height && saved.Width == input.Width;
        if (!fits)
        {
            rules.Report(DiagnosticDescriptors.SkipShapeMismatch, skip.Span, ShapeRules.Label(skip), input, skip.Skip, saved,
                action == SkipAction.Add ? "Add needs the same shape" : "Concat needs the same height and width");
            return LayerOutcome.Failed(description);
        }

        field = field.Join(savedField);
        Shape output = action == SkipAction.Add ? input : Shape.Image(input.Channels + saved.Channels, input.Height, input.Width);
        return new LayerOutcome(output, description, LayerOutcome.NoTensors, 0);
    }

    protected override BufferOperand Lower(SkipSpec skip, LayerLowering lowering)
    {
        if (action == SkipAction.Save)
        {
            lowering.Skips.Add(skip.Skip, lowering.Input);
            return lowering.Input;
        }

        BufferOperand saved = lowering.Skips[skip.Skip];
        BufferOperand y = lowering.Activation("output");
        lowering.Emit(action == SkipAction.Add ? new AddScaled(lowering.Input, 1f, saved, y) : new ConcatChannels(lowering.Input, saved, y));
        return y;
    }
}

internal sealed class Save() : Skip(SkipAction.Save, "SAVE")
{
    public static readonly Save Instance = new();
}

internal sealed class Concat() : Skip(SkipAction.Concat, "CONCAT")
{
    public static readonly Concat Instance = new();
}

internal sealed class AddSkip() : Skip(SkipAction.Add, "ADD")
{
    public static readonly AddSkip Instance = new();
}
