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
/// framework has no words for. With <c>device</c> the project also references NetCompiler.Ilgpu and ILGPU, as a
/// consumer that runs networks on GPUs does, so the generator prints each network for devices too.
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

    public NetworkGeneratorTest(string declaration, bool device = false)
    {
        TestCode = GeneratorHarness.Network(declaration);
        ReferenceAssemblies = Net100;
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(NetworkAttribute).Assembly.Location));
        TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(NetCompiler.Kernels.KernelContext).Assembly.Location));
        if (device)
        {
            TestState.AdditionalReferences.AddRange(GeneratorHarness.DeviceAssemblies.Select(path => MetadataReference.CreateFromFile(path)));
        }

        SolutionTransforms.Add((solution, projectId) =>
        {
            Project project = solution.GetProject(projectId)!;
            // The framework diagnoses documentation comments (CS1591 and the like), as GenerateDocumentationFile
            // would; no project here sets it, so parse them as the consumers do. ILGPU is built against
            // System.Runtime 7: the SDK's default NoWarn (1701;1702) silences the unification notes a consumer would
            // otherwise get, so the test does too.
            var options = (CSharpCompilationOptions)project.CompilationOptions!;
            return solution
                .WithProjectCompilationOptions(projectId, options
                    .WithNullableContextOptions(NullableContextOptions.Enable)
                    .WithSpecificDiagnosticOptions(options.SpecificDiagnosticOptions.SetItems(
                        [new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)])))
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
