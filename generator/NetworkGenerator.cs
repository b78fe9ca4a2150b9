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
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator;

/// <summary>
/// Compiles every class marked [Network] at build time: parse (attributes or blueprint to a spec), check
/// (shapes and diagnostics), plan (the kernel program, through its passes), emit (the partial class). Each stage is a
/// pure function cached on its own value-equal model, so an edit elsewhere in the project re-runs nothing. The generator never throws: a failure in a
/// stage becomes diagnostic NC9999 on the network.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    internal const string NetworkAttributeName = "NetCompiler.NetworkAttribute";

    /// <summary>The device package: when a compilation references it, every network is printed for ILGPU devices too.</summary>
    internal const string IlgpuAssemblyName = "NetCompiler.Ilgpu";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(NetworkAttributeName, static (node, _) => node is TypeDeclarationSyntax, Parse)
            .WithTrackingName(TrackingNames.Parse);
        IncrementalValuesProvider<CheckStage> checkedNetworks = parsed
            .Select(static (result, _) => Check(result))
            .WithTrackingName(TrackingNames.Check);
        IncrementalValuesProvider<PlanStage> planned = checkedNetworks
            .Select(static (result, _) => Plan(result))
            .WithTrackingName(TrackingNames.Plan);
        // A reference to the device package (a bool, so the emit stage stays cached across unrelated edits).
        IncrementalValueProvider<bool> device = context.CompilationProvider
            .Select(static (compilation, _) => compilation.ReferencedAssemblyNames.Any(a => a.Name == IlgpuAssemblyName));
        IncrementalValuesProvider<GenerationResult> generated = planned
            .Combine(device)
            .Select(static (pair, _) => Emit(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Emit);
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

    private static CheckStage Check(ParseResult parsed)
    {
        if (parsed.Spec is not { } spec || parsed.Diagnostics.Any(NetworkChecker.IsError))
        {
            return new CheckStage(null, null, parsed.Diagnostics);
        }

        try
        {
            CheckResult result = NetworkChecker.Check(spec);
            return new CheckStage(result.Network, spec, parsed.Diagnostics.Concat(result.Diagnostics).ToEquatableArray());
        }
        catch (Exception exception)
        {
            return new CheckStage(null, spec, EquatableArray.Create(InternalError(spec.Declaration.Name, spec.AttributeSpan, exception)));
        }
    }

    private static PlanStage Plan(CheckStage stage)
    {
        if (stage.Network is not { } network)
        {
            return new PlanStage(null, stage.Diagnostics);
        }

        try
        {
            PlanResult result = Planner.Plan(network, Backend.Cpu);
            return new PlanStage(result.Program, stage.Diagnostics.Concat(result.Diagnostics).ToEquatableArray());
        }
        catch (Exception exception)
        {
            return new PlanStage(null, EquatableArray.Create(InternalError(network.Spec.Declaration.Name, network.Spec.AttributeSpan, exception)));
        }
    }

    private static GenerationResult Emit(PlanStage stage, bool device)
    {
        if (stage.Program is not { } program)
        {
            return new GenerationResult(null, stage.Diagnostics);
        }

        try
        {
            return new GenerationResult(NetworkEmitter.Emit(program, device), stage.Diagnostics);
        }
        catch (Exception exception)
        {
            return new GenerationResult(null, EquatableArray.Create(InternalError(program.Network.Spec.Declaration.Name, program.Network.Spec.AttributeSpan, exception)));
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

/// <summary>The checked network (null when checking found an error) and the diagnostics so far.</summary>
internal sealed record CheckStage(CheckedNetwork? Network, NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The kernel program (null when it could not be planned) and the diagnostics so far.</summary>
internal sealed record PlanStage(KernelProgram? Program, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>What one network yields: its source when it compiled, and every diagnostic.</summary>
internal sealed record GenerationResult(GeneratedSource? Source, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The names tests use to watch the pipeline's steps.</summary>
internal static class TrackingNames
{
    public const string Parse = "NetCompiler.Parse";
    public const string Check = "NetCompiler.Check";
    public const string Plan = "NetCompiler.Plan";
    public const string Emit = "NetCompiler.Emit";
}
