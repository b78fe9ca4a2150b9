using System;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Emitting;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;

namespace NetCompiler.Generator;

/// <summary>
/// Compiles every class marked [Network] at build time: parse (attributes or blueprint to a spec), check
/// (shapes and diagnostics), plan (fusion groups and buffers), emit (the partial class). Each stage is a pure function cached on value-equal
/// models, so an edit elsewhere in the project re-runs nothing. The generator never throws: a failure in a
/// stage becomes diagnostic NC9999 on the network.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    internal const string NetworkAttributeName = "NetCompiler.NetworkAttribute";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(NetworkAttributeName, static (node, _) => node is TypeDeclarationSyntax, Parse)
            .WithTrackingName(TrackingNames.Parse);
        IncrementalValuesProvider<GenerationResult> generated = parsed
            .Select(static (result, _) => CheckAndEmit(result))
            .WithTrackingName(TrackingNames.CheckAndEmit);
        context.RegisterSourceOutput(generated, static (output, result) =>
        {
            foreach (DiagnosticInfo diagnostic in result.Diagnostics)
            {
                output.ReportDiagnostic(ToDiagnostic(diagnostic));
            }

            if (result.Source is { } source)
            {
                output.AddSource(source.HintName, SourceText.From(source.Text, System.Text.Encoding.UTF8));
            }
        });
    }

    private static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        try
        {
            return NetworkParser.Parse(context, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            SourceSpan span = NetworkParser.ToSpan(((TypeDeclarationSyntax)context.TargetNode).Identifier.GetLocation());
            return new ParseResult(null, EquatableArray.Create(InternalError(context.TargetSymbol.Name, span, exception)));
        }
    }

    private static GenerationResult CheckAndEmit(ParseResult parsed)
    {
        if (parsed.Spec is not { } spec || parsed.Diagnostics.Any(NetworkChecker.IsError))
        {
            return new GenerationResult(null, parsed.Diagnostics);
        }

        try
        {
            CheckResult checkedResult = NetworkChecker.Check(spec);
            var diagnostics = parsed.Diagnostics.Concat(checkedResult.Diagnostics).ToList();
            if (checkedResult.Network is not { } network)
            {
                return new GenerationResult(null, diagnostics.ToEquatableArray());
            }

            return new GenerationResult(NetworkEmitter.Emit(Planner.Plan(network)), diagnostics.ToEquatableArray());
        }
        catch (Exception exception)
        {
            return new GenerationResult(null, EquatableArray.Create(InternalError(spec.Declaration.Name, spec.AttributeSpan, exception)));
        }
    }

    private static DiagnosticInfo InternalError(string network, SourceSpan span, Exception exception) =>
        DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, span, network, exception.GetType().Name + ": " + exception.Message);

    private static Diagnostic ToDiagnostic(DiagnosticInfo info)
    {
        SourceSpan span = info.Span;
        var location = Location.Create(span.FilePath, new TextSpan(span.Start, span.Length),
            new LinePositionSpan(new LinePosition(span.StartLine, span.StartColumn), new LinePosition(span.EndLine, span.EndColumn)));
        return Diagnostic.Create(DiagnosticDescriptors.Find(info.Id), location, info.MessageArguments.Cast<object>().ToArray());
    }
}

/// <summary>What one network yields: its source when it compiled, and every diagnostic.</summary>
internal sealed record GenerationResult(GeneratedSource? Source, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The names tests use to watch the pipeline's steps.</summary>
internal static class TrackingNames
{
    public const string Parse = "NetCompiler.Parse";
    public const string CheckAndEmit = "NetCompiler.CheckAndEmit";
}
