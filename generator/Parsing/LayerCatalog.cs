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

    /// <summary>An identifier: a skip's name, an upsampling mode. A string in attributes, a word in the blueprint.</summary>
    Word,
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

    public string Word(string argument, string fallback) => Find(argument) as string ?? fallback;

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

/// <summary>The layer kinds the parsers know: each op module's syntax entry (generator/Ops).</summary>
internal static class LayerCatalog
{
    public static readonly LayerKind[] Kinds = [.. Ops.OpCatalog.All.Select(op => op.Syntax)];

    /// <summary>The argument names that may be written but are not the op's own (the Name every layer takes).</summary>
    public const string NameArgument = "Name";

    /// <summary>What the blueprint accepts as a layer, for the unknown-token message.</summary>
    public static readonly string KeywordList = string.Join(", ", Kinds.Select(k => k.Keywords[0]));

    public static LayerKind? ByAttribute(string attributeName) =>
        Kinds.FirstOrDefault(kind => kind.AttributeName == attributeName);

    public static LayerKind? ByKeyword(string keyword) =>
        Kinds.FirstOrDefault(kind => kind.Keywords.Any(k => string.Equals(k, keyword, StringComparison.OrdinalIgnoreCase)));
}
