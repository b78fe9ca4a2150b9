using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.CompilerServices;

namespace NetCompiler.Tests;

/// <summary>
/// A console project outside the solution that imports runtime/NetCompiler.props, as README.md tells users to:
/// the generator runs in its build, a mistake shows as file(line,col): error NCxxxx, and a correct network runs.
/// </summary>
public sealed class ConsumerProjectTests
{
    [Fact]
    public void AnOutsideProjectGetsTheGeneratorAndItsDiagnostics()
    {
        string directory = Path.Combine(Path.GetTempPath(), "netcompiler-consumer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <Import Project="{Path.Combine(RepositoryRoot(), "runtime", "NetCompiler.props")}" />
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                </Project>
                """);
            string program = """
                using NetCompiler;

                System.Console.WriteLine(Tiny.Summary.ParameterCount);

                [Network("1x4x4")]
                [Conv(2, 7), Relu, Dense(3)]
                public partial class Tiny;
                """;
            File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
            (int exitCode, string output) = Dotnet(directory, "build");
            Assert.True(exitCode != 0, output);
            // The kernel argument 7 is on line 6, column 10.
            Assert.Contains("Program.cs(6,10): error NC0010", output);

            File.WriteAllText(Path.Combine(directory, "Program.cs"), program.Replace("Conv(2, 7)", "Conv(2, 3)"));
            (exitCode, output) = Dotnet(directory, "run");
            Assert.True(exitCode == 0, output);
            // Conv: 2 * 1 * 3 * 3 + 2 = 20 on a 2x2x2 output; Dense: 8 * 3 + 3 = 27.
            Assert.EndsWith("47", output.TrimEnd());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Dotnet(string directory, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments + " --nologo")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEndAsync().Result + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    private static string RepositoryRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", ".."));
}
