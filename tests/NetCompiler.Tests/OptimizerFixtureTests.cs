using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>
/// RMSprop, AdamW, Adagrad, parameter groups and gradient clipping against torch.optim and clip_grad_norm_
/// (Fixtures/make_optim_fixtures.py, Debian's torch 1.13): three steps on fixed tensors with fixed gradients.
/// </summary>
public sealed class OptimizerFixtureTests
{
    // Both sides run in float32 and order the operations differently (torch divides by sqrt(v) / sqrt(1 - beta2^t),
    // Adam here multiplies by its inverse), so three steps of weights of order 1 differ by a few ulps, about 1e-7 per
    // step; measured at most 2.5e-7 (RMSprop with weight decay). A wrong term (a missed decay, a bias correction off by a step, the group's
    // settings ignored) moves a weight by lr * 1e-1 or more, above 1e-4.
    private const double Tolerance = 2e-6;

    // clip_grad_norm_ sums in float32 per tensor; the norm here is summed in double.
    private const double NormTolerance = 1e-6;

    public static TheoryData<string> Cases => [.. ReadCases().Select(c => Label(c))];

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorch(string label)
    {
        JsonElement fixture = ReadCases().Single(c => Label(c) == label);
        Optimizer optimizer = Create(fixture);
        var shapes = fixture.GetProperty("shapes");
        Parameter[] parameters =
        [
            .. shapes.EnumerateObject().Select(shape => new Parameter(shape.Name, [.. shape.Value.EnumerateArray().Select(d => d.GetInt32())], trainable: true)),
        ];
        foreach (Parameter parameter in parameters)
        {
            Floats(fixture.GetProperty("start").GetProperty(parameter.Name)).CopyTo(parameter.Value, 0);
        }

        if (fixture.GetProperty("groups") is { ValueKind: JsonValueKind.Object } groups)
        {
            foreach (JsonProperty group in groups.EnumerateObject())
            {
                string name = group.Name;
                optimizer.Groups.Add(new ParameterGroup(p => p.Name == name)
                {
                    WeightDecay = group.Value.GetProperty("weight_decay").GetSingle(),
                    LearningRateScale = group.Value.GetProperty("lr_scale").GetSingle(),
                });
            }
        }

        if (fixture.GetProperty("max_norm") is { ValueKind: JsonValueKind.Number } maxNorm)
        {
            optimizer.MaxGradientNorm = maxNorm.GetSingle();
        }

        int stepNumber = 0;
        foreach (JsonElement step in fixture.GetProperty("steps").EnumerateArray())
        {
            stepNumber++;
            foreach (Parameter parameter in parameters)
            {
                Floats(step.GetProperty("gradients").GetProperty(parameter.Name)).CopyTo(parameter.Gradient, 0);
            }

            optimizer.Step(parameters);
            foreach (Parameter parameter in parameters)
            {
                float[] expected = Floats(step.GetProperty("after").GetProperty(parameter.Name));
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(
                        Math.Abs(parameter.Value[i] - expected[i]) <= Tolerance * (1 + Math.Abs(expected[i])),
                        $"{label}, step {stepNumber}, {parameter.Name}[{i}]: {parameter.Value[i]} vs torch's {expected[i]}");
                }
            }

            if (step.GetProperty("norm") is { ValueKind: JsonValueKind.Number } norm)
            {
                Assert.NotNull(optimizer.LastGradientNorm);
                double relative = Math.Abs(optimizer.LastGradientNorm.Value - norm.GetDouble()) / norm.GetDouble();
                Assert.True(relative <= NormTolerance, $"{label}, step {stepNumber}: norm {optimizer.LastGradientNorm} vs clip_grad_norm_'s {norm.GetDouble()}");
            }
            else
            {
                Assert.Null(optimizer.LastGradientNorm);
            }
        }
    }

    private static Optimizer Create(JsonElement fixture)
    {
        JsonElement arguments = fixture.GetProperty("arguments");
        float Get(string name, float fallback) => arguments.TryGetProperty(name, out JsonElement value) ? value.GetSingle() : fallback;
        float Beta(int which, float fallback) => arguments.TryGetProperty("betas", out JsonElement betas) ? betas[which].GetSingle() : fallback;
        return fixture.GetProperty("optimizer").GetString() switch
        {
            "RMSprop" => new RMSprop(
                Get("lr", 0.01f), Get("alpha", 0.99f), Get("eps", 1e-8f), Get("weight_decay", 0f), Get("momentum", 0f),
                arguments.TryGetProperty("centered", out JsonElement centered) && centered.GetBoolean()),
            "AdamW" => new AdamW(Get("lr", 1e-3f), Beta(0, 0.9f), Beta(1, 0.999f), Get("eps", 1e-8f), Get("weight_decay", 1e-2f)),
            "Adam" => new Adam(Get("lr", 1e-3f), Beta(0, 0.9f), Beta(1, 0.999f), Get("eps", 1e-8f), Get("weight_decay", 0f)),
            "Adagrad" => new Adagrad(Get("lr", 0.01f), Get("lr_decay", 0f), Get("weight_decay", 0f), Get("initial_accumulator_value", 0f), Get("eps", 1e-10f)),
            "SGD" => new Sgd(Get("lr", 0.1f), Get("momentum", 0f), Get("weight_decay", 0f)),
            var other => throw new InvalidDataException($"The fixture names an optimiser this test does not know: {other}."),
        };
    }

    private static float[] Floats(JsonElement values) => [.. values.EnumerateArray().Select(v => v.GetSingle())];

    private static string Label(JsonElement fixture) => $"{fixture.GetProperty("optimizer").GetString()}.{fixture.GetProperty("name").GetString()}";

    private static List<JsonElement> ReadCases()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "optimizers.json")));
        return [.. document.RootElement.EnumerateArray().Select(c => c.Clone())];
    }
}
