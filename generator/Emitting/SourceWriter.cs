using System.Text;

namespace NetCompiler.Generator.Emitting;

/// <summary>Writes C# source line by line with indentation and braces, LF line endings.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _indent * 4).Append(line);
        }

        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="line"/> when <paramref name="condition"/> holds.</summary>
    public SourceWriter LineIf(bool condition, string line) => condition ? Line(line) : this;

    /// <summary>
    /// A statement of one call, its arguments wrapped onto continuation lines when it would pass
    /// <paramref name="width"/> columns, so generated code stays readable; an argument too long for the opening line
    /// (a constructor call in a launcher's Own(...)) starts the first continuation line.
    /// </summary>
    public SourceWriter Statement(string statement, int width = 120)
    {
        int open = statement.IndexOf('(');
        if ((_indent * 4) + statement.Length <= width || open < 0)
        {
            return Line(statement);
        }

        var arguments = new System.Collections.Generic.List<string>();
        int depth = 0, start = open + 1, close = -1;
        for (int i = start; i < statement.Length && close < 0; i++)
        {
            switch (statement[i])
            {
                case '(' or '[' or '<':
                    depth++;
                    break;
                case ')' when depth == 0:
                    arguments.Add(statement.Substring(start, i - start).Trim());
                    close = i;
                    break;
                case ')' or ']' or '>':
                    depth--;
                    break;
                case ',' when depth == 0:
                    arguments.Add(statement.Substring(start, i - start).Trim());
                    start = i + 1;
                    break;
            }
        }

        if (close < 0)
        {
            return Line(statement);
        }

        var line = new StringBuilder(statement.Substring(0, open + 1));
        bool fresh = true;
        for (int i = 0; i < arguments.Count; i++)
        {
            string argument = arguments[i] + (i + 1 < arguments.Count ? "," : statement.Substring(close));
            if ((!fresh || i == 0) && (_indent * 4) + line.Length + (fresh ? 0 : 1) + argument.Length > width)
            {
                Line(line.ToString());
                line.Clear().Append(' ', statement.Length - statement.TrimStart().Length + 4);
                fresh = true;
            }

            line.Append(fresh ? "" : " ").Append(argument);
            fresh = false;
        }

        return Line(line.ToString());
    }

    /// <summary>A "// " comment, its words wrapped onto lines of about 110 characters, each at the current indentation.</summary>
    public SourceWriter Comment(string text)
    {
        var line = new StringBuilder();
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > 110)
            {
                Line("// " + line);
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : "").Append(word);
        }

        return Line("// " + line);
    }

    public SourceWriter Open(string header)
    {
        Line(header).Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    public override string ToString() => _text.ToString();
}
