using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// Random and mutated networks through the real driver: the generator must never throw (no CS8785, no NC9999),
/// every error must sit on the network's own source, and a network either compiles or gets an error.
/// Seeded, so a failure reproduces; the failing source is in the assertion message.
/// </summary>
public sealed class FuzzTests
{
    private static readonly string[] BlueprintVocabulary =
    [
        "CONV", "conv", "CONVT", "BN", "RELU", "POOL", "AVGPOOL", "GAP", "FC", "DROPOUT", "RESIDUAL", "IMEX", "SOFTMAX",
        "1", "2", "3", "8", "16", "0", "-1", "100000000000", "0.5", "1e-5", "3x3", "1x1", "3x5", "0x0", "7x7",
        "stride=2", "pad=1", "pad=-3", "dilation=2", "groups=2", "groups=0", "in=64", "bias=false", "bias=maybe",
        "eps=0", "h=-1", "steps=0", "kernel=2", "released=true", "outpad=1", "stride=",
        "->", "->", "->", "[", "]", "*", "*2", "*0", "?", "=", "#", "@", "é", "\\\"", "\\\\", "  ", "\t",
    ];

    private static readonly string[] ValidBlueprints =
    [
        "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> [FC 128 -> RELU]*2 -> FC 10",
        "CONV 6 5x5 pad=0 -> RELU -> POOL 2 -> CONV 16 5x5 pad=0 -> RELU -> POOL 2 -> FC 120 -> RELU -> FC 84 -> RELU -> FC 10",
        "[CONV 8 3x3 -> RELU -> POOL 2?]*5 -> GAP -> DROPOUT 0.5 -> FC 10",
        "CONV 16 3x3 -> RESIDUAL steps=2 -> IMEX steps=2 h=0.5 groups=4 -> AVGPOOL 2 stride=2 -> FC 10",
    ];

    private static readonly string[] LayerAttributes =
    [
        "Conv({0}, {1})", "Conv({0}, {1}, Stride = {2}, Pad = {3})", "Conv({0}, {1}, Groups = {2}, Dilation = {3})",
        "ConvTranspose({0}, {1}, Stride = {2}, Pad = {3}, OutputPad = {2})", "BatchNorm", "BatchNorm(Eps = -{0}f)", "Relu",
        "MaxPool({1})", "MaxPool({1}, Stride = {2}, Pad = {3})", "AvgPool({1}, Optional = true)", "GlobalAvgPool",
        "Dense({0})", "Dense({0}, InFeatures = {2})", "Dropout(0.{1}f)", "Dropout({1}f)", "Residual(Steps = {1}, H = {3}f)",
        "Imex(Steps = {1}, Groups = {2}, Kernel = {3})", "Relu(Name = \"features.0\")", "Dense({0}, Name = \"bad name\")",
    ];

    private static readonly string[] Inputs = ["1x28x28", "3x32x32", "4x16x16", "2x7x9", "1x1x1", "28x28", "0x4x4", "3x64x64", "x"];

    [Fact]
    public void RandomAndMutatedBlueprintsNeverBreakTheGenerator()
    {
        var random = new Random(20261122);
        int generated = 0;
        for (int i = 0; i < 1000; i++)
        {
            string valid = ValidBlueprints[random.Next(ValidBlueprints.Length)];
            string blueprint = (i % 4) switch
            {
                0 => RandomBlueprint(random),
                3 => valid, // on a random input: checking, not parsing, decides
                _ => Mutate(random, valid),
            };
            string input = Inputs[random.Next(Inputs.Length)];
            string loss = random.Next(4) == 0 ? ", Loss = Loss.PixelCrossEntropy" : "";
            generated += AssertGeneratorSurvives($"[Network(\"{input}\", Blueprint = \"{blueprint}\"{loss})]\npublic partial class Net;") ? 1 : 0;
        }

        // Both outcomes must be exercised, or the fuzzer tests nothing.
        Assert.InRange(generated, 20, 980);
    }

    [Fact]
    public void RandomAttributeCombinationsNeverBreakTheGenerator()
    {
        var random = new Random(7);
        int generated = 0;
        for (int i = 0; i < 600; i++)
        {
            var layers = Enumerable.Range(0, random.Next(0, 9)).Select(_ => string.Format(
                System.Globalization.CultureInfo.InvariantCulture,
                LayerAttributes[random.Next(LayerAttributes.Length)],
                Pick(random, 1, 2, 3, 4, 8, 16, 0, -2), Pick(random, 1, 2, 3, 5, 7, 0, -1), Pick(random, 1, 2, 3, 4, 0, -1), Pick(random, 0, 1, 2, 3, -1)));
            string input = Inputs[random.Next(Inputs.Length)];
            string loss = random.Next(4) == 0 ? ", Loss = Loss.PixelCrossEntropy" : random.Next(10) == 0 ? ", Loss = (Loss)7" : "";
            string partial = random.Next(20) == 0 ? "" : "partial ";
            generated += AssertGeneratorSurvives($"[Network(\"{input}\"{loss})]\n[{string.Join(", ", layers.DefaultIfEmpty("Relu"))}]\npublic {partial}class Net;") ? 1 : 0;
        }

        Assert.InRange(generated, 20, 580);
    }

    /// <summary>Asserts the generator's contract on one network; returns whether it generated source.</summary>
    private static bool AssertGeneratorSurvives(string declaration)
    {
        string source = GeneratorHarness.Network(declaration);
        GeneratorRun run = GeneratorHarness.Run(source);
        string context = "\nfor source:\n" + source;

        Assert.DoesNotContain(run.CompilationDiagnostics.Concat(run.GeneratorDiagnostics), d => d.Id is "CS8785" or "NC9999");
        foreach (Diagnostic diagnostic in run.GeneratorDiagnostics)
        {
            FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
            Assert.True(span.Path == GeneratorHarness.FileName, $"{diagnostic} is not located in the network's file{context}");
            Assert.True(diagnostic.Location.SourceSpan.End <= source.Length && diagnostic.Location.SourceSpan.Start >= source.IndexOf("[Network", StringComparison.Ordinal),
                $"{diagnostic} lies outside the network declaration{context}");
        }

        bool errors = run.GeneratorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)
            || run.Input.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
        Assert.True(errors || run.Sources.Length == 1, $"no error, yet no source was generated{context}");
        Assert.True(!errors || run.Sources.Length == 0, $"source generated despite an error{context}");
        if (!errors)
        {
            Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
        }

        return !errors;
    }

    private static string RandomBlueprint(Random random)
    {
        var text = new StringBuilder();
        int tokens = random.Next(0, 16);
        for (int t = 0; t < tokens; t++)
        {
            text.Append(BlueprintVocabulary[random.Next(BlueprintVocabulary.Length)]).Append(random.Next(3) == 0 ? "" : " ");
        }

        return text.ToString();
    }

    /// <summary>Deletes, duplicates, swaps or replaces a few tokens or characters of a valid blueprint.</summary>
    private static string Mutate(Random random, string valid)
    {
        List<string> tokens = valid.Split(' ').ToList();
        int mutations = random.Next(1, 4);
        for (int m = 0; m < mutations && tokens.Count > 0; m++)
        {
            int at = random.Next(tokens.Count);
            switch (random.Next(5))
            {
                case 0: tokens.RemoveAt(at); break;
                case 1: tokens.Insert(at, tokens[at]); break;
                case 2: (tokens[at], tokens[^1]) = (tokens[^1], tokens[at]); break;
                case 3: tokens[at] = BlueprintVocabulary[random.Next(BlueprintVocabulary.Length)]; break;
                default:
                    string token = tokens[at];
                    tokens[at] = token.Length == 0 ? "?" : token.Remove(random.Next(token.Length), 1);
                    break;
            }
        }

        return string.Join(" ", tokens);
    }

    private static int Pick(Random random, params int[] values) => values[random.Next(values.Length)];
}
