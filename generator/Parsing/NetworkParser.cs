using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Parsing;

/// <summary>What parsing one [Network] class yields: a spec when the declaration could be read, and diagnostics.</summary>
internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// The one stage that touches Roslyn: reads a [Network] class, its layer attributes or blueprint, into a
/// <see cref="NetworkSpec"/> of plain values. Everything after it is a pure function of that spec.
/// </summary>
internal static class NetworkParser
{
    private const string LayerAttributeName = "NetCompiler.LayerAttribute";

    private static readonly Regex InputShapePattern = new(@"^\s*(\d+)\s*[xX]\s*(\d+)\s*[xX]\s*(\d+)\s*$", RegexOptions.CultureInvariant);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        AttributeData network = context.Attributes[0];

        TypeDeclaration? typeDeclaration = ReadDeclaration(type, declaration, diagnostics);
        var attributeSyntax = (AttributeSyntax?)network.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
        if (attributeSyntax is null || network.AttributeConstructor is null || network.ConstructorArguments.Length != 1)
        {
            return Result(null, diagnostics); // the compiler reports the malformed attribute itself
        }

        SourceSpan attributeSpan = ToSpan(attributeSyntax.GetLocation());
        ArgumentLocator networkArguments = new(attributeSyntax, network);
        InputSpec? input = ReadInput(network.ConstructorArguments[0].Value as string, networkArguments.Span("input"), diagnostics);

        LossKind loss = LossKind.CrossEntropy;
        SourceSpan lossSpan = networkArguments.Span("Loss");
        string? blueprint = null;
        string keep = "";
        InitKind init = InitKind.HeXavier;
        foreach (KeyValuePair<string, TypedConstant> named in network.NamedArguments)
        {
            if (named.Key == "Blueprint")
            {
                blueprint = named.Value.Value as string;
            }
            else if (named.Key == "Keep")
            {
                keep = named.Value.Value as string ?? "";
            }
            else if (named.Key == "Init" && named.Value.Value is int initValue)
            {
                if (System.Enum.IsDefined(typeof(InitKind), initValue))
                {
                    init = (InitKind)initValue;
                }
                else
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ArgumentOutOfRange, networkArguments.Span("Init"), "Network", "Init", initValue,
                        "use a member of NetCompiler.Initialization"));
                }
            }
            else if (named.Key == "Loss" && named.Value.Value is int lossValue)
            {
                if (System.Enum.IsDefined(typeof(LossKind), lossValue))
                {
                    loss = (LossKind)lossValue;
                }
                else
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ArgumentOutOfRange, lossSpan, "Network", "Loss", lossValue,
                        "use a member of NetCompiler.Loss"));
                }
            }
        }

        List<LayerSpec>? layers = ReadLayerAttributes(type, declaration, diagnostics, cancellationToken);
        if (blueprint is not null)
        {
            SourceSpan blueprintSpan = networkArguments.Span("Blueprint");
            if (layers is { Count: > 0 })
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersGivenTwice, blueprintSpan, type.Name));
            }
            else
            {
                ExpressionSyntax? expression = networkArguments.Expression("Blueprint");
                BlueprintText text = ReadBlueprintText(blueprint, expression, blueprintSpan);
                layers = BlueprintParser.Parse(text, diagnostics);
            }
        }

        if (layers is { Count: 0 } && !diagnostics.Any(d => DiagnosticDescriptors.Find(d.Id).DefaultSeverity == DiagnosticSeverity.Error))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmptyNetwork, attributeSpan, type.Name));
        }

        NetworkSpec? spec = typeDeclaration is null || input is null || layers is null
            ? null
            : new NetworkSpec(typeDeclaration, attributeSpan, input, loss, lossSpan, layers.ToEquatableArray())
            {
                Keep = keep.Split(',').Select(name => name.Trim()).Where(name => name.Length > 0).ToEquatableArray(),
                KeepSpan = networkArguments.Span("Keep"),
                Init = init,
            };
        return Result(spec, diagnostics);
    }

    private static ParseResult Result(NetworkSpec? spec, List<DiagnosticInfo> diagnostics) =>
        new(spec, diagnostics.Distinct().ToEquatableArray());

    /// <summary>Checks the class can take a generated part: partial, not generic or static, in partial non-generic types.</summary>
    private static TypeDeclaration? ReadDeclaration(INamedTypeSymbol type, TypeDeclarationSyntax declaration, List<DiagnosticInfo> diagnostics)
    {
        SourceSpan nameSpan = ToSpan(declaration.Identifier.GetLocation());
        int before = diagnostics.Count;
        if (declaration is not ClassDeclarationSyntax)
        {
            Unsupported("only classes can be networks");
        }
        else if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkNotPartial, nameSpan, type.Name));
        }

        if (type.IsGenericType)
        {
            Unsupported("generic networks are not supported; shapes must be known at build time");
        }

        if (type.IsStatic || type.IsAbstract)
        {
            Unsupported("a network is instantiated, so it cannot be static or abstract");
        }

        var containing = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            bool partial = outer.DeclaringSyntaxReferences
                .Select(reference => reference.GetSyntax())
                .OfType<TypeDeclarationSyntax>()
                .All(syntax => syntax.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (outer.IsGenericType || !partial || outer.DeclaringSyntaxReferences.Length == 0)
            {
                Unsupported($"it is nested in '{outer.Name}', which must be a partial, non-generic type");
                break;
            }

            var outerSyntax = (TypeDeclarationSyntax)outer.DeclaringSyntaxReferences[0].GetSyntax();
            string keyword = outerSyntax is RecordDeclarationSyntax record
                ? "record " + (record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "struct" : "class")
                : outerSyntax.Keyword.ValueText;
            containing.Insert(0, new ContainingType(keyword, outer.Name));
        }

        if (diagnostics.Count > before)
        {
            return null;
        }

        string? ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        return new TypeDeclaration(ns, containing.ToEquatableArray(), type.Name);

        void Unsupported(string reason) =>
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedNetworkDeclaration, nameSpan, type.Name, reason));
    }

    private static InputSpec? ReadInput(string? text, SourceSpan span, List<DiagnosticInfo> diagnostics)
    {
        Match match = InputShapePattern.Match(text ?? "");
        if (match.Success
            && int.TryParse(match.Groups[1].Value, out int channels) && channels > 0
            && int.TryParse(match.Groups[2].Value, out int height) && height > 0
            && int.TryParse(match.Groups[3].Value, out int width) && width > 0)
        {
            return new InputSpec(channels, height, width, span);
        }

        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidInputShape, span, text ?? "null"));
        return null;
    }

    /// <summary>
    /// Reads the layer attributes in source order. Returns null when one of them does not bind (the compiler
    /// reports that), so no network is built from a partial list.
    /// </summary>
    private static List<LayerSpec>? ReadLayerAttributes(
        INamedTypeSymbol type, TypeDeclarationSyntax declaration, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var layers = new List<LayerSpec>();
        var declarations = new HashSet<SyntaxNode>();
        bool bound = true;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (!IsLayerAttribute(attribute.AttributeClass))
            {
                continue;
            }

            var syntax = (AttributeSyntax?)attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
            LayerKind? kind = LayerCatalog.ByAttribute(attribute.AttributeClass!.Name);
            if (syntax is null || kind is null || attribute.AttributeConstructor is null)
            {
                bound = false;
                continue;
            }

            declarations.Add(syntax.Parent!.Parent!);
            var locator = new ArgumentLocator(syntax, attribute);
            var written = new List<WrittenArgument>();
            string? name = null;
            for (int i = 0; i < attribute.ConstructorArguments.Length && i < kind.Positional.Length; i++)
            {
                string parameter = attribute.AttributeConstructor.Parameters[i].Name;
                written.Add(new WrittenArgument(kind.Positional[i].Name, attribute.ConstructorArguments[i].Value!, locator.Span(parameter)));
            }

            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (named.Key == LayerCatalog.NameArgument)
                {
                    name = named.Value.Value as string;
                }

                if (named.Value.Value is not null)
                {
                    written.Add(new WrittenArgument(named.Key, named.Value.Value, locator.Span(named.Key)));
                }
            }

            layers.Add(kind.Build(new LayerArguments(Notation.Attributes, name, ToSpan(syntax.GetLocation()), written)));
        }

        if (declarations.Count > 1)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplitAcrossDeclarations,
                ToSpan(declaration.Identifier.GetLocation()), type.Name));
        }

        return bound ? layers : null;
    }

    private static bool IsLayerAttribute(INamedTypeSymbol? attributeClass)
    {
        for (INamedTypeSymbol? current = attributeClass; current is not null; current = current.BaseType)
        {
            if (current.ToDisplayString() == LayerAttributeName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Maps each character of the blueprint value to its place in the source when the argument is a plain
    /// regular, verbatim or single-line raw literal; anything else (a const, a concatenation, escapes) maps
    /// every span to the whole expression.
    /// </summary>
    private static BlueprintText ReadBlueprintText(string value, ExpressionSyntax? expression, SourceSpan expressionSpan)
    {
        var fallback = new BlueprintText(value, expressionSpan, EquatableArray<SourcePoint>.Empty);
        if (expression is not LiteralExpressionSyntax literal || !literal.Token.IsKind(SyntaxKind.StringLiteralToken) && !literal.Token.IsKind(SyntaxKind.SingleLineRawStringLiteralToken))
        {
            return fallback;
        }

        string source = literal.Token.Text;
        int tokenStart = literal.Token.SpanStart;
        var offsets = new List<int>(value.Length + 1);
        if (literal.Token.IsKind(SyntaxKind.SingleLineRawStringLiteralToken))
        {
            int quotes = source.TakeWhile(c => c == '"').Count();
            offsets.AddRange(Enumerable.Range(quotes, source.Length - (2 * quotes) + 1));
        }
        else if (source.StartsWith("@", System.StringComparison.Ordinal))
        {
            for (int i = 2; i < source.Length - 1; i++)
            {
                offsets.Add(i);
                if (source[i] == '"')
                {
                    i++; // "" stands for one quote
                }
            }

            offsets.Add(source.Length - 1);
        }
        else if (source.IndexOf('\\') < 0)
        {
            offsets.AddRange(Enumerable.Range(1, source.Length - 1));
        }

        if (offsets.Count != value.Length + 1)
        {
            return fallback;
        }

        SourceText text = literal.SyntaxTree.GetText();
        EquatableArray<SourcePoint> points = offsets.Select(offset =>
        {
            LinePosition position = text.Lines.GetLinePosition(tokenStart + offset);
            return new SourcePoint(tokenStart + offset, position.Line, position.Character);
        }).ToEquatableArray();
        return new BlueprintText(value, expressionSpan, points);
    }

    public static SourceSpan ToSpan(Location location)
    {
        FileLinePositionSpan lines = location.GetLineSpan();
        return new SourceSpan(lines.Path ?? "", location.SourceSpan.Start, location.SourceSpan.Length,
            lines.StartLinePosition.Line, lines.StartLinePosition.Character, lines.EndLinePosition.Line, lines.EndLinePosition.Character);
    }

    /// <summary>Finds where each argument of an attribute was written: by position, by name: or by Name = value.</summary>
    private readonly struct ArgumentLocator(AttributeSyntax syntax, AttributeData attribute)
    {
        /// <summary>The argument as written: the value alone when positional, "Name = value" when named.</summary>
        public SourceSpan Span(string name) =>
            Argument(name) is { } argument ? ToSpan(argument.NameEquals is null ? argument.Expression.GetLocation() : argument.GetLocation()) : ToSpan(syntax.GetLocation());

        public ExpressionSyntax? Expression(string name) => Argument(name)?.Expression;

        private AttributeArgumentSyntax? Argument(string name)
        {
            SeparatedSyntaxList<AttributeArgumentSyntax> arguments = syntax.ArgumentList?.Arguments ?? default;
            ImmutableArray<IParameterSymbol> parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
            int positional = 0;
            foreach (AttributeArgumentSyntax argument in arguments)
            {
                string? argumentName = argument.NameEquals?.Name.Identifier.ValueText
                    ?? argument.NameColon?.Name.Identifier.ValueText
                    ?? (positional < parameters.Length ? parameters[positional++].Name : null);
                if (argumentName == name)
                {
                    return argument;
                }
            }

            return null;
        }
    }
}
