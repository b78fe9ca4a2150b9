using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Tests;

/// <summary>
/// The models the pipeline caches hold plain values only: a Roslyn symbol, compilation or syntax node in them
/// would keep compilations alive and defeat value equality, so the generator would re-run on every keystroke.
/// </summary>
public sealed class SpecModelTests
{
    [Fact]
    public void CachedModelsHoldNoRoslynTypes()
    {
        Assembly generator = typeof(NetworkSpec).Assembly;
        var roots = new[] { typeof(NetworkSpec), typeof(CheckResult), typeof(Parsing.ParseResult), typeof(GenerationResult) };
        var offenders = new List<string>();
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(roots.Concat(generator.GetTypes().Where(t => typeof(LayerSpec).IsAssignableFrom(t))));
        while (pending.Count > 0)
        {
            Type type = pending.Dequeue();
            if (!seen.Add(type))
            {
                continue;
            }

            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                foreach (Type involved in Flatten(field.FieldType))
                {
                    if (involved.Assembly.GetName().Name!.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal))
                    {
                        offenders.Add($"{type.Name}.{field.Name}: {involved.FullName}");
                    }
                    else if (involved.Assembly == generator)
                    {
                        pending.Enqueue(involved);
                    }
                }
            }
        }

        Assert.True(seen.Count > 15, "the walk should reach every model type");
        Assert.Empty(offenders);
    }

    [Fact]
    public void ParsingTheSameSourceTwiceGivesEqualModels()
    {
        const string source = """
            using NetCompiler;
            [Network("3x32x32", Blueprint = "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> FC 10")]
            public partial class Net;
            """;
        // Every stage's model: the checked network, the kernel program and the generated source.
        foreach (string stage in new[] { TrackingNames.Check, TrackingNames.Plan, TrackingNames.Emit })
        {
            object first = GeneratorHarness.Run(source).Driver.GetRunResult().Results.Single().TrackedSteps[stage].Single().Outputs.Single().Value;
            object second = GeneratorHarness.Run(source).Driver.GetRunResult().Results.Single().TrackedSteps[stage].Single().Outputs.Single().Value;
            Assert.Equal(first, second);
            Assert.Equal(first.GetHashCode(), second.GetHashCode());
            Assert.NotSame(first, second);
        }
    }

    private static IEnumerable<Type> Flatten(Type type)
    {
        yield return type;
        if (type.IsArray)
        {
            foreach (Type inner in Flatten(type.GetElementType()!))
            {
                yield return inner;
            }
        }

        foreach (Type argument in type.GetGenericArguments())
        {
            foreach (Type inner in Flatten(argument))
            {
                yield return inner;
            }
        }
    }
}
