using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetCompiler.Generator;

namespace NetCompiler.Generator.Tests;

/// <summary>What one generator run produced.</summary>
internal sealed record GeneratorRun(
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilationDiagnostics,
    ImmutableArray<GeneratedSourceResult> Sources,
    GeneratorDriver Driver,
    CSharpCompilation Input)
{
    public string SingleSource => Assert.Single(Sources).SourceText.ToString();
}

/// <summary>
/// Runs the generator the way the compiler does, through CSharpGeneratorDriver, over source that references
/// the real NetCompiler runtime (the attributes and the summary types). For the tests that need the driver itself
/// (tracked steps, a second run on an edited compilation, thousands of fuzzed runs); diagnostics and baselines go
/// through the testing framework (<see cref="NetworkGeneratorTest"/>).
/// </summary>
internal static class GeneratorHarness
{
    public const string FileName = "Network.cs";

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview);

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return platform
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(path) is "netstandard.dll" or "mscorlib.dll")
            .Append(typeof(NetworkAttribute).Assembly.Location)
            .Append(typeof(NetCompiler.Kernels.KernelContext).Assembly.Location)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray();
    });

    /// <summary>The device package and ILGPU, whose types the device half of the generated code names.</summary>
    public static readonly string[] DeviceAssemblies =
    [
        typeof(NetCompiler.Ilgpu.IlgpuDevice).Assembly.Location,
        typeof(ILGPU.Context).Assembly.Location,
    ];

    private static CSharpCompilation Compile(params string[] sources) => CSharpCompilation.Create(
        "UserAssembly",
        sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: i == 0 ? FileName : $"Other{i}.cs")),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        [new NetworkGenerator().AsSourceGenerator()],
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(CreateDriver(), Compile(sources));

    /// <summary>A run over a compilation that references NetCompiler.Ilgpu, so networks are printed for devices too.</summary>
    public static GeneratorRun RunWithDevice(params string[] sources) => Run(CreateDriver(), WithDevice(Compile(sources)));

    /// <summary>The compilation with references to the device package and ILGPU added.</summary>
    public static CSharpCompilation WithDevice(CSharpCompilation input) =>
        input.AddReferences(DeviceAssemblies.Select(path => MetadataReference.CreateFromFile(path)));

    public static GeneratorRun Run(GeneratorDriver driver, CSharpCompilation input)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        return new GeneratorRun(generatorDiagnostics, output.GetDiagnostics(), result.GeneratedSources, driver, input);
    }

    /// <summary>Source with the usual usings, so tests show only the network.</summary>
    public static string Network(string declaration) => "using NetCompiler;\n\n" + declaration + "\n";
}
