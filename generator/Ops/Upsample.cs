using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>nn.Upsample(scale_factor, mode) by an integer factor: nearest, or bilinear with align_corners=False.</summary>
internal sealed class Upsample : Op<UpsampleSpec>
{
    public static readonly Upsample Instance = new();

    /// <summary>The modes in NetCompiler.UpsampleMode's order (the attribute passes the enum's value).</summary>
    private static readonly string[] Modes = [UpsampleSpec.Nearest, UpsampleSpec.Bilinear];

    public override string Name => "Upsample";

    public override LayerKind Syntax { get; } = new("UpsampleAttribute", ["UPSAMPLE"], [("Scale", ArgumentType.Int, true)],
        [("mode", "Mode", ArgumentType.Word)],
        a => new UpsampleSpec(a.Name, a.Span, a.Spans, a.Int("Scale", 2), ModeOf(a)));

    private static string ModeOf(LayerArguments arguments)
    {
        if (arguments.Notation == Notation.Blueprint)
        {
            return arguments.Word("Mode", UpsampleSpec.Nearest).ToLowerInvariant();
        }

        int mode = arguments.Int("Mode", 0);
        return mode >= 0 && mode < Modes.Length ? Modes[mode] : Format.Invariant(mode);
    }

    protected override LayerOutcome Check(UpsampleSpec upsample, Shape input, ShapeRules rules, ref ReceptiveField field)
    {
        bool bilinear = upsample.Mode == UpsampleSpec.Bilinear;
        string description = $"Upsample(scale_factor={upsample.Scale}, mode='{upsample.Mode}')";
        bool valid = rules.Spatial(upsample, input) & rules.AtLeast(upsample, "Scale", upsample.Scale, 1);
        if (!bilinear && upsample.Mode != UpsampleSpec.Nearest)
        {
            rules.OutOfRange(upsample, "Mode", upsample.Mode, "the modes are nearest and bilinear");
            valid = false;
        }

        long height = (long)input.Height * upsample.Scale, width = (long)input.Width * upsample.Scale;
        if (valid && (height * width * input.Channels > int.MaxValue))
        {
            rules.OutOfRange(upsample, "Scale", upsample.Scale, $"a {input} input would grow past {int.MaxValue} elements per image");
            valid = false;
        }

        if (!valid)
        {
            return LayerOutcome.Failed(description);
        }

        // Outputs sit 1/scale input pixels apart; a nearest output sees one input pixel per axis, a bilinear one two.
        field = field.Window(bilinear ? 2 : 1, 1.0 / upsample.Scale);
        return new LayerOutcome(Shape.Image(input.Channels, (int)height, (int)width), description, LayerOutcome.NoTensors, 0);
    }

    protected override BufferOperand Lower(UpsampleSpec upsample, LayerLowering lowering)
    {
        Shape input = lowering.Layer.Input;
        string shape = lowering.Shape("Shape", "IUpsampleShape",
            ("Channels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width), ("Scale", upsample.Scale));
        BufferOperand y = lowering.Activation("output");
        lowering.Emit(new UpsampleForward(upsample.Mode == UpsampleSpec.Bilinear, shape, lowering.Input, y));
        return y;
    }
}
