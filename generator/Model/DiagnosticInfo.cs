using System.Linq;

namespace NetCompiler.Generator.Model;

/// <summary>
/// A diagnostic waiting to be reported: the descriptor's ID, where, and the message arguments already
/// formatted in the invariant culture. Roslyn-free and value-equatable so it can travel in cached models;
/// <see cref="DiagnosticDescriptors.Find"/> turns the ID back into the descriptor at report time.
/// </summary>
internal sealed record DiagnosticInfo(string Id, SourceSpan Span, EquatableArray<string> MessageArguments)
{
    public static DiagnosticInfo Create(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, SourceSpan span, params object[] arguments) =>
        new(descriptor.Id, span, arguments.Select(Format.Invariant).ToEquatableArray());
}
