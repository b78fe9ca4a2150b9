using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Parsing;

internal enum ArgumentType
{
    Int,
    Float,
    Bool,
}

/// <summary>How a layer was written: the two notations differ in one default, Conv's padding.</summary>
internal enum Notation
{
    Attributes,
    Blueprint,
}

/// <summary>One argument as written, in either notation, under its attribute property name.</summary>
internal sealed record WrittenArgument(string Name, object Value, SourceSpan Span);

/// <summary>
/// The arguments of one layer as written, with typed lookups that fall back to defaults. Both notations fill
/// one of these, so each op's defaults and construction are written once, in <see cref="LayerCatalog"/>.
/// </summary>
internal sealed class LayerArguments(Notation notation, string? name, SourceSpan span, IReadOnlyList<WrittenArgument> written)
{
    public Notation Notation { get; } = notation;

    public string? Name { get; } = name;

    public SourceSpan Span { get; } = span;

    public EquatableArray<ArgumentSpan> Spans { get; } =
        written.Select(argument => new ArgumentSpan(argument.Name, argument.Span)).ToEquatableArray();

    public bool Has(string argument) => written.Any(a => a.Name == argument);

    public int Int(string argument, int fallback) => (int)(Find(argument) ?? fallback);

    public float Float(string argument, float fallback) => Convert.ToSingle(Find(argument) ?? fallback, System.Globalization.CultureInfo.InvariantCulture);

    public bool Bool(string argument, bool fallback) => (bool)(Find(argument) ?? fallback);

    private object? Find(string argument) => written.LastOrDefault(a => a.Name == argument)?.Value;
}

/// <summary>
/// A layer kind as the parsers see it: its attribute class, its blueprint keywords, its positional arguments
/// (the attribute's constructor parameters, in order) and named options, how its spec is built, and whether
/// the blueprint may mark it optional with '?' (its attribute's Optional property).
/// </summary>
internal sealed record LayerKind(
    string AttributeName,
    string[] Keywords,
    (string Name, ArgumentType Type, bool Required)[] Positional,
    (string Key, string Name, ArgumentType Type)[] Options,
    Func<LayerArguments, LayerSpec> Build,
    bool CanBeOptional = false)
{
    /// <summary>The blueprint example shown when its arguments are malformed, e.g. "CONV 32 3x3".</summary>
    public string Usage => Keywords[0] + string.Concat(Positional.Select(p => " " + p.Name.ToLowerInvariant()))
        + string.Concat(Options.Select(o => " [" + o.Key + "=..]"));
}

/// <summary>The one place each op's parsing lives: its notation in both forms, its defaults, its spec.</summary>
internal static class LayerCatalog
{
    private static readonly (string, string, ArgumentType)[] ConvOptions =
    [
        ("stride", "Stride", ArgumentType.Int), ("pad", "Pad", ArgumentType.Int), ("dilation", "Dilation", ArgumentType.Int),
        ("groups", "Groups", ArgumentType.Int), ("bias", "Bias", ArgumentType.Bool),
    ];

    private static readonly (string, string, ArgumentType)[] PoolOptions =
    [
        ("stride", "Stride", ArgumentType.Int), ("pad", "Pad", ArgumentType.Int),
    ];

    public static readonly LayerKind[] Kinds =
    [
        new("ConvAttribute", ["CONV"],
            [("OutChannels", ArgumentType.Int, true), ("Kernel", ArgumentType.Int, true)], ConvOptions,
            a =>
            {
                int kernel = a.Int("Kernel", 1), dilation = a.Int("Dilation", 1);
                // cs231n's blueprint convention: CONV keeps the spatial size unless told otherwise ("same" padding);
                // the attribute follows nn.Conv2d, whose padding defaults to 0.
                int defaultPad = a.Notation == Notation.Blueprint ? dilation * (kernel - 1) / 2 : 0;
                return new ConvSpec(a.Name, a.Span, a.Spans, a.Int("OutChannels", 1), kernel, a.Int("Stride", 1),
                    a.Int("Pad", defaultPad), dilation, a.Int("Groups", 1), a.Bool("Bias", true));
            }),
        new("ConvTransposeAttribute", ["CONVT", "DECONV", "UPCONV"],
            [("OutChannels", ArgumentType.Int, true), ("Kernel", ArgumentType.Int, true)],
            [.. ConvOptions, ("outpad", "OutputPad", ArgumentType.Int)],
            a => new ConvTransposeSpec(a.Name, a.Span, a.Spans, a.Int("OutChannels", 1), a.Int("Kernel", 1),
                a.Int("Stride", 1), a.Int("Pad", 0), a.Int("OutputPad", 0), a.Int("Dilation", 1), a.Int("Groups", 1),
                a.Bool("Bias", true))),
        new("BatchNormAttribute", ["BN", "BATCHNORM"], [],
            [("eps", "Eps", ArgumentType.Float), ("momentum", "Momentum", ArgumentType.Float)],
            a => new BatchNormSpec(a.Name, a.Span, a.Spans, a.Float("Eps", BatchNormSpec.DefaultEps), a.Float("Momentum", BatchNormSpec.DefaultMomentum))),
        new("ReluAttribute", ["RELU"], [], [],
            a => new ReluSpec(a.Name, a.Span, a.Spans)),
        new("MaxPoolAttribute", ["POOL", "MAXPOOL"], [("Kernel", ArgumentType.Int, false)], PoolOptions,
            a => Pool(a, PoolKind.Max), CanBeOptional: true),
        new("AvgPoolAttribute", ["AVGPOOL"], [("Kernel", ArgumentType.Int, false)], PoolOptions,
            a => Pool(a, PoolKind.Average), CanBeOptional: true),
        new("GlobalAvgPoolAttribute", ["GAP", "GLOBALAVGPOOL"], [], [],
            a => new GlobalAvgPoolSpec(a.Name, a.Span, a.Spans)),
        new("DenseAttribute", ["FC", "DENSE"], [("OutFeatures", ArgumentType.Int, true)],
            [("in", "InFeatures", ArgumentType.Int), ("bias", "Bias", ArgumentType.Bool)],
            a => new DenseSpec(a.Name, a.Span, a.Spans, a.Int("OutFeatures", 1), a.Int("InFeatures", 0), a.Bool("Bias", true))),
        new("DropoutAttribute", ["DROPOUT"], [("P", ArgumentType.Float, true)], [],
            a => new DropoutSpec(a.Name, a.Span, a.Spans, a.Float("P", 0.5f))),
        new("ResidualAttribute", ["RESIDUAL"], [],
            [("steps", "Steps", ArgumentType.Int), ("h", "H", ArgumentType.Float), ("kernel", "Kernel", ArgumentType.Int),
             ("symmetric", "Symmetric", ArgumentType.Bool)],
            a => new ResidualSpec(a.Name, a.Span, a.Spans, a.Int("Steps", 1), a.Float("H", 1f), a.Int("Kernel", 3),
                a.Bool("Symmetric", false))),
        new("ImexAttribute", ["IMEX"], [],
            [("steps", "Steps", ArgumentType.Int), ("h", "H", ArgumentType.Float), ("kernel", "Kernel", ArgumentType.Int),
             ("ckernel", "ImplicitKernel", ArgumentType.Int), ("groups", "Groups", ArgumentType.Int),
             ("released", "ReleasedVariant", ArgumentType.Bool)],
            a => new ImexSpec(a.Name, a.Span, a.Spans, a.Int("Steps", 1), a.Float("H", 1f), a.Int("Kernel", 3),
                a.Int("ImplicitKernel", 3), a.Int("Groups", 0), a.Bool("ReleasedVariant", false))),
    ];

    /// <summary>The argument names that may be written but are not the op's own (the Name every layer takes).</summary>
    public const string NameArgument = "Name";

    /// <summary>What the blueprint accepts as a layer, for the unknown-token message.</summary>
    public static readonly string KeywordList = string.Join(", ", Kinds.Select(k => k.Keywords[0]));

    public static LayerKind? ByAttribute(string attributeName) =>
        Kinds.FirstOrDefault(kind => kind.AttributeName == attributeName);

    public static LayerKind? ByKeyword(string keyword) =>
        Kinds.FirstOrDefault(kind => kind.Keywords.Any(k => string.Equals(k, keyword, StringComparison.OrdinalIgnoreCase)));

    private static PoolSpec Pool(LayerArguments a, PoolKind kind)
    {
        int kernel = a.Int("Kernel", 2);
        int stride = a.Int("Stride", 0);
        // PyTorch: a stride of None (here 0) means the kernel size.
        return new PoolSpec(a.Name, a.Span, a.Spans, kind, kernel, stride == 0 ? kernel : stride, a.Int("Pad", 0),
            a.Bool("Optional", false));
    }
}
