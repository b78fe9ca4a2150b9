using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Parsing;

/// <summary>
/// Parses the cs231n blueprint notation into layer specs, expanding repetition:
/// <code>
/// sequence := item ('->' item)*
/// item     := ('[' sequence ']' | layer '?'?) ('*' count)?
/// layer    := KEYWORD positional* (key '=' value)*      e.g. CONV 32 3x3 stride=2, POOL 2?, FC 10, SAVE enc1
/// </code>
/// Every problem becomes a diagnostic on the exact span in the string; parsing recovers at the next '->'
/// so one pass reports every independent mistake. Pure: text in, specs and diagnostics out.
/// </summary>
internal sealed class BlueprintParser
{
    public const int MaxRepetition = 1000;
    public const int MaxLayers = 4096;

    private readonly BlueprintText _text;
    private readonly List<Token> _tokens;
    private readonly List<DiagnosticInfo> _diagnostics;
    private int _position;
    private int _expandedCount;

    private BlueprintParser(BlueprintText text, List<DiagnosticInfo> diagnostics)
    {
        _text = text;
        _tokens = BlueprintLexer.Tokenize(text.Text);
        _diagnostics = diagnostics;
    }

    private Token Current => _tokens[_position];

    /// <summary>Parses <paramref name="text"/>; the layers are meaningful only when no error was added.</summary>
    public static List<LayerSpec> Parse(BlueprintText text, List<DiagnosticInfo> diagnostics)
    {
        var parser = new BlueprintParser(text, diagnostics);
        List<LayerSpec> layers = parser.ParseSequence(topLevel: true);
        if (parser._expandedCount > MaxLayers)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, text.Expression, MaxLayers));
            return [];
        }

        return layers;
    }

    private List<LayerSpec> ParseSequence(bool topLevel)
    {
        var layers = new List<LayerSpec>();
        if (Current.Kind == TokenKind.End && topLevel)
        {
            return layers; // an empty blueprint is reported as an empty network
        }

        while (true)
        {
            layers.AddRange(ParseItem());
            if (_expandedCount > MaxLayers)
            {
                return layers;
            }

            if (Current.Kind == TokenKind.Arrow)
            {
                _position++;
                continue;
            }

            if (Current.Kind == TokenKind.End || (Current.Kind == TokenKind.CloseBracket && !topLevel))
            {
                return layers;
            }

            Report(DiagnosticDescriptors.MalformedBlueprint, Current, Current.Kind == TokenKind.CloseBracket
                ? "']' has no matching '['"
                : $"expected '->' before '{Current.Text}'");
            SkipToArrow();
            if (Current.Kind == TokenKind.Arrow)
            {
                _position++;
            }
            else if (Current.Kind == TokenKind.End || !topLevel)
            {
                return layers;
            }
            else
            {
                _position++; // a stray ']' at top level
            }
        }
    }

    private List<LayerSpec> ParseItem()
    {
        List<LayerSpec> body;
        Token first = Current;
        if (Current.Kind == TokenKind.OpenBracket)
        {
            _position++;
            if (Current.Kind == TokenKind.CloseBracket)
            {
                Report(DiagnosticDescriptors.MalformedBlueprint, first, Current, "a group '[ ]' needs at least one layer");
                _position++;
                body = [];
            }
            else
            {
                body = ParseSequence(topLevel: false);
                if (Current.Kind == TokenKind.CloseBracket)
                {
                    _position++;
                }
                else
                {
                    Report(DiagnosticDescriptors.MalformedBlueprint, first, "'[' is never closed by ']'");
                }
            }
        }
        else
        {
            body = ParseLayer();
        }

        if (Current.Kind != TokenKind.Star)
        {
            _expandedCount += body.Count;
            return body;
        }

        Token star = Current;
        _position++;
        Token count = Current;
        if (count.Kind != TokenKind.Integer && count.Kind != TokenKind.Real)
        {
            Report(DiagnosticDescriptors.MalformedBlueprint, star, "'*' must be followed by a repetition count, e.g. *2");
            _expandedCount += body.Count;
            return body;
        }

        _position++;
        if (count.Kind == TokenKind.Real || !int.TryParse(count.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int times)
            || times < 1 || times > MaxRepetition)
        {
            Report(DiagnosticDescriptors.InvalidRepetition, count, count.Text, MaxRepetition);
            _expandedCount += body.Count;
            return body;
        }

        _expandedCount += body.Count * times;
        if (_expandedCount > MaxLayers)
        {
            return body; // reported once by Parse; do not build the huge list
        }

        var repeated = new List<LayerSpec>(body.Count * times);
        for (int i = 0; i < times; i++)
        {
            repeated.AddRange(body);
        }

        return repeated;
    }

    private List<LayerSpec> ParseLayer()
    {
        Token keyword = Current;
        if (keyword.Kind != TokenKind.Word)
        {
            Report(keyword.Kind == TokenKind.Unknown ? DiagnosticDescriptors.UnknownBlueprintToken : DiagnosticDescriptors.MalformedBlueprint,
                keyword, keyword.Kind switch
                {
                    TokenKind.Unknown => [keyword.Text, "a layer (" + LayerCatalog.KeywordList + ")"],
                    TokenKind.End => ["expected a layer at the end of the blueprint"],
                    _ => [$"expected a layer, found '{keyword.Text}'"],
                });
            SkipToArrow();
            return [];
        }

        LayerKind? kind = LayerCatalog.ByKeyword(keyword.Text);
        if (kind is null)
        {
            Report(DiagnosticDescriptors.UnknownBlueprintToken, keyword, keyword.Text, "a layer (" + LayerCatalog.KeywordList + ")");
            SkipToArrow();
            return [];
        }

        _position++;
        var written = new List<WrittenArgument>();
        int positional = 0;
        bool ok = true;
        Token last = keyword;
        while (ok && Current.Kind is TokenKind.Integer or TokenKind.Real or TokenKind.Size or TokenKind.Word or TokenKind.Unknown or TokenKind.Equals)
        {
            Token token = Current;
            bool wordArgument = positional < kind.Positional.Length && kind.Positional[positional].Type == ArgumentType.Word;
            if (token.Kind == TokenKind.Word && !wordArgument)
            {
                ok = ParseOption(kind, written, ref last);
            }
            else if (token.Kind is TokenKind.Unknown)
            {
                Report(DiagnosticDescriptors.UnknownBlueprintToken, token, token.Text, kind.Usage);
                ok = false;
            }
            else if (positional >= kind.Positional.Length || token.Kind == TokenKind.Equals)
            {
                Report(DiagnosticDescriptors.MalformedBlueprint, token, $"unexpected '{token.Text}'; {keyword.Text} is written {kind.Usage}");
                ok = false;
            }
            else
            {
                (string name, ArgumentType type, _) = kind.Positional[positional++];
                ok = TryReadValue(token, type, name == "Kernel", out object value);
                if (ok)
                {
                    written.Add(new WrittenArgument(name, value, Span(token)));
                    last = token;
                    _position++;
                }
            }
        }

        if (ok && positional < kind.Positional.Count(p => p.Required)) // required arguments come first
        {
            Report(DiagnosticDescriptors.MalformedBlueprint, keyword, last,
                $"{keyword.Text} needs {string.Join(" and ", kind.Positional.Where(p => p.Required).Select(p => p.Name))}; write {kind.Usage}");
            ok = false;
        }

        if (ok && Current.Kind == TokenKind.Question)
        {
            if (!kind.CanBeOptional)
            {
                Report(DiagnosticDescriptors.MalformedBlueprint, Current, $"only POOL and AVGPOOL can be optional, not {keyword.Text}");
                ok = false;
            }
            else
            {
                written.Add(new WrittenArgument("Optional", true, Span(Current)));
                last = Current;
                _position++;
            }
        }

        if (!ok)
        {
            SkipToArrow();
            return [];
        }

        var arguments = new LayerArguments(Notation.Blueprint, null, _text.Span(keyword.Start, last.Start + last.Length - keyword.Start), written);
        return [kind.Build(arguments)];
    }

    /// <summary>Reads key=value; a keyword where an option should be means a missing '->'.</summary>
    private bool ParseOption(LayerKind kind, List<WrittenArgument> written, ref Token last)
    {
        Token key = Current;
        (string Key, string Name, ArgumentType Type) option = kind.Options.FirstOrDefault(o => string.Equals(o.Key, key.Text, System.StringComparison.OrdinalIgnoreCase));
        if (option.Name is null)
        {
            if (LayerCatalog.ByKeyword(key.Text) is not null)
            {
                Report(DiagnosticDescriptors.MalformedBlueprint, key, $"expected '->' before '{key.Text}'");
            }
            else
            {
                Report(DiagnosticDescriptors.UnknownBlueprintToken, key, key.Text,
                    kind.Options.Length == 0 ? "'->' (this layer takes no options)" : "one of " + string.Join(", ", kind.Options.Select(o => o.Key + "=")));
            }

            return false;
        }

        if (_tokens[_position + 1].Kind != TokenKind.Equals)
        {
            Report(DiagnosticDescriptors.MalformedBlueprint, key, $"option '{key.Text}' needs a value: {option.Key}=...");
            return false;
        }

        Token value = _tokens[_position + 2];
        if (!TryReadValue(value, option.Type, isKernel: false, out object parsed))
        {
            return false;
        }

        written.Add(new WrittenArgument(option.Name, parsed, Span(key, value)));
        last = value;
        _position += 3;
        return true;
    }

    /// <summary>Reads an int, float or bool; a kernel may be written 3 or 3x3 (square kernels only).</summary>
    private bool TryReadValue(Token token, ArgumentType type, bool isKernel, out object value)
    {
        value = 0;
        string text = token.Text;
        if (type == ArgumentType.Int && token.Kind == TokenKind.Size && isKernel)
        {
            string[] sides = text.Split('x', 'X');
            if (sides[0] != sides[1])
            {
                Report(DiagnosticDescriptors.MalformedBlueprint, token, $"kernel {text} is not square; NetCompiler supports square kernels");
                return false;
            }

            text = sides[0];
        }
        else if (type == ArgumentType.Int && token.Kind == TokenKind.Size)
        {
            text = "";
        }

        switch (type)
        {
            case ArgumentType.Int when token.Kind is TokenKind.Integer or TokenKind.Size && text.Length > 0:
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int integer))
                {
                    Report(DiagnosticDescriptors.MalformedBlueprint, token, $"'{token.Text}' is too large");
                    return false;
                }

                value = integer;
                return true;
            case ArgumentType.Float when token.Kind is TokenKind.Integer or TokenKind.Real:
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float real) || float.IsInfinity(real))
                {
                    Report(DiagnosticDescriptors.MalformedBlueprint, token, $"'{token.Text}' is not a finite number");
                    return false;
                }

                value = real;
                return true;
            case ArgumentType.Bool when token.Kind == TokenKind.Word && bool.TryParse(text, out bool flag):
                value = flag;
                return true;
            case ArgumentType.Word when token.Kind == TokenKind.Word:
                value = text;
                return true;
        }

        string expected = type switch
        {
            ArgumentType.Int => isKernel ? "a kernel size such as 3 or 3x3" : "an integer",
            ArgumentType.Float => "a number",
            ArgumentType.Word => "a name",
            _ => "true or false",
        };
        Report(DiagnosticDescriptors.MalformedBlueprint, token,
            token.Kind == TokenKind.End ? $"expected {expected} at the end of the blueprint" : $"expected {expected}, found '{token.Text}'");
        return false;
    }

    private void SkipToArrow()
    {
        int depth = 0;
        while (Current.Kind != TokenKind.End)
        {
            if (Current.Kind == TokenKind.OpenBracket)
            {
                depth++;
            }
            else if (Current.Kind == TokenKind.CloseBracket)
            {
                if (depth == 0)
                {
                    return;
                }

                depth--;
            }
            else if (Current.Kind == TokenKind.Arrow && depth == 0)
            {
                return;
            }

            _position++;
        }
    }

    private SourceSpan Span(Token token) => Span(token, token);

    private SourceSpan Span(Token first, Token last) =>
        _text.Span(first.Start, System.Math.Max(last.Start + last.Length - first.Start, first.Kind == TokenKind.End ? 0 : 1));

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, Token token, params object[] arguments) =>
        Report(descriptor, token, token, arguments);

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, Token first, Token last, params object[] arguments) =>
        _diagnostics.Add(DiagnosticInfo.Create(descriptor, Span(first, last), arguments));
}
