namespace NetCompiler.Generator.Model;

/// <summary>
/// Where something is in the source: a file, a character range and its line/column range (all 0-based).
/// A plain value, so models that carry it stay free of Roslyn objects and compare by value.
/// </summary>
internal sealed record SourceSpan(
    string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public static SourceSpan Between(string filePath, SourcePoint start, SourcePoint end) =>
        new(filePath, start.Position, end.Position - start.Position, start.Line, start.Column, end.Line, end.Column);
}

/// <summary>One position in a source file.</summary>
internal readonly record struct SourcePoint(int Position, int Line, int Column);

/// <summary>
/// The value of a blueprint string together with where each of its characters sits in the source, so
/// a diagnostic lands on the exact token. Where the value is not a plain literal (a constant, a
/// concatenation) <see cref="Points"/> is empty and every span falls back to the whole expression.
/// </summary>
internal sealed record BlueprintText(string Text, SourceSpan Expression, EquatableArray<SourcePoint> Points)
{
    /// <summary>The source span of the value's characters [start, start + length).</summary>
    public SourceSpan Span(int start, int length)
    {
        if (Points.Count != Text.Length + 1)
        {
            return Expression;
        }

        SourcePoint first = Points[start];
        // An empty span (end of text) still covers one position so the diagnostic is visible.
        SourcePoint last = Points[start + length];
        return SourceSpan.Between(Expression.FilePath, first, last);
    }
}
