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
}
