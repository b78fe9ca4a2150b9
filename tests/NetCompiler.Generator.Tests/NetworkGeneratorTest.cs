using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// The testing framework's generator test over one network source (the usual usings added), compiled the way a
/// consumer compiles it: against .NET 10 and the real NetCompiler runtime, nullable on. The framework verifies the
/// generator's diagnostics against the markup, the generated sources against <c>TestState.GeneratedSources</c>, and
/// that input plus generated code compile with no warning. It also keeps what the run produced, for assertions the
/// framework has no words for.
/// </summary>
internal sealed class NetworkGeneratorTest : CSharpSourceGeneratorTest<NetworkGenerator, DefaultVerifier>
{
    /// <summary>
    /// The runtime is built for net10.0, so the test needs .NET 10's reference assemblies: against Net80 it fails with
    /// CS1705 (System.Runtime 10 over 8). The framework's own Net90 and Net100 ask for packs the feed does not serve
    /// (9.0.0, 10.0.1), so the pack is named here: the version this SDK ships.
    /// </summary>
    private static readonly ReferenceAssemblies Net100 = new(
        "net10.0", new PackageIdentity("Microsoft.NETCore.App.Ref", "10.0.12"), Path.Combine("ref", "net10.0"));

    public NetworkGeneratorTest(string declaration)
    {
        TestCode = GeneratorHarness.Network(declaration);
        ReferenceAssemblies = Net100;
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(NetworkAttribute).Assembly.Location));
        TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(NetCompiler.Kernels.KernelContext).Assembly.Location));
        SolutionTransforms.Add((solution, projectId) =>
        {
            Project project = solution.GetProject(projectId)!;
            // The framework diagnoses documentation comments (CS1591 and the like), as GenerateDocumentationFile
            // would; no project here sets it, so parse them as the consumers do.
            return solution
                .WithProjectCompilationOptions(projectId, ((CSharpCompilationOptions)project.CompilationOptions!).WithNullableContextOptions(NullableContextOptions.Enable))
                .WithProjectParseOptions(projectId, project.ParseOptions!.WithDocumentationMode(DocumentationMode.Parse));
        });
    }

    /// <summary>The generator's diagnostics, as the framework's last run reported them.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; private set; }

    /// <summary>The one source the generator added in the framework's last run.</summary>
    public string GeneratedSource { get; private set; } = "";

    protected override async Task<(Compilation compilation, ImmutableArray<Diagnostic> generatorDiagnostics)> GetProjectCompilationAsync(
        Project project, IVerifier verifier, CancellationToken cancellationToken)
    {
        (Compilation compilation, ImmutableArray<Diagnostic> generatorDiagnostics) = await base.GetProjectCompilationAsync(project, verifier, cancellationToken);
        GeneratorDiagnostics = generatorDiagnostics;
        GeneratedSource = compilation.SyntaxTrees.SingleOrDefault(tree => tree.FilePath.EndsWith(".g.cs", System.StringComparison.Ordinal))?.ToString() ?? "";
        return (compilation, generatorDiagnostics);
    }
}
