using System.Globalization;

namespace NetCompiler.Generator.Model;

/// <summary>Every number the generator writes, in a message or in code, goes through here: invariant culture.</summary>
internal static class Format
{
    public static string Invariant(object? value) => value switch
    {
        null => "",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        System.IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A float as a C# literal that round-trips, e.g. 1E-05f.</summary>
    public static string FloatLiteral(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

    /// <summary>A float as Python's repr writes it, as PyTorch's module descriptions show it: 1.0, 0.01, 1e-05.</summary>
    public static string Python(float value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        return text.IndexOfAny(['.', 'e', 'N', 'I']) >= 0 ? text : text + ".0";
    }
}
