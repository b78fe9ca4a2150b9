using System.Collections.Generic;

namespace NetCompiler.Generator.Parsing;

internal enum TokenKind
{
    Arrow,        // ->
    OpenBracket,  // [
    CloseBracket, // ]
    Star,         // *
    Question,     // ?
    Equals,       // =
    Integer,      // 32, -1
    Real,         // 0.25, 1e-5
    Size,         // 3x3
    Word,         // CONV, stride, true
    Unknown,      // anything else, one character
    End,
}

internal readonly record struct Token(TokenKind Kind, int Start, int Length, string Text);

/// <summary>Splits blueprint text into tokens; never fails: stray characters become Unknown tokens.</summary>
internal static class BlueprintLexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            int start = i;
            TokenKind kind;
            if (c == '-' && i + 1 < text.Length && text[i + 1] == '>')
            {
                i += 2;
                kind = TokenKind.Arrow;
            }
            else if (IsDigit(c) || ((c == '-' || c == '.') && i + 1 < text.Length && IsDigit(text[i + 1])))
            {
                kind = ScanNumber(text, ref i);
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                kind = TokenKind.Word;
            }
            else
            {
                i++;
                kind = c switch
                {
                    '[' => TokenKind.OpenBracket,
                    ']' => TokenKind.CloseBracket,
                    '*' => TokenKind.Star,
                    '?' => TokenKind.Question,
                    '=' => TokenKind.Equals,
                    _ => TokenKind.Unknown,
                };
            }

            tokens.Add(new Token(kind, start, i - start, text.Substring(start, i - start)));
        }

        tokens.Add(new Token(TokenKind.End, text.Length, 0, ""));
        return tokens;
    }

    /// <summary>Scans 32, -1, 0.25, 1e-5 or a size 3x3 (digits, 'x', digits).</summary>
    private static TokenKind ScanNumber(string text, ref int i)
    {
        bool real = false;
        if (text[i] == '-')
        {
            i++;
        }

        ScanDigits(text, ref i);
        if (i < text.Length && text[i] == '.')
        {
            real = true;
            i++;
            ScanDigits(text, ref i);
        }

        if (i + 1 < text.Length && (text[i] == 'e' || text[i] == 'E')
            && (IsDigit(text[i + 1]) || ((text[i + 1] == '-' || text[i + 1] == '+') && i + 2 < text.Length && IsDigit(text[i + 2]))))
        {
            real = true;
            i += 2;
            ScanDigits(text, ref i);
        }

        if (!real && i + 1 < text.Length && (text[i] == 'x' || text[i] == 'X') && IsDigit(text[i + 1]))
        {
            i++;
            ScanDigits(text, ref i);
            return TokenKind.Size;
        }

        return real ? TokenKind.Real : TokenKind.Integer;
    }

    private static void ScanDigits(string text, ref int i)
    {
        while (i < text.Length && IsDigit(text[i]))
        {
            i++;
        }
    }

    private static bool IsDigit(char c) => c >= '0' && c <= '9';
}
