using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using NetCompiler;

namespace NetCompiler.Tests;

/// <summary>
/// The schedules against torch.optim.lr_scheduler's StepLR, MultiStepLR, SequentialLR(LinearLR, CosineAnnealingLR)
/// and OneCycleLR (Fixtures/make_optim_fixtures.py): the learning rate of every optimiser step.
/// </summary>
public sealed class ScheduleTests
{
    // The schedules compute in double and return float: rounding to float is 6e-8 relative. torch's chainable forms
    // (each step's rate from the previous one) drift from the closed forms by about 1e-15.
    private const double Tolerance = 1e-6;

    public static TheoryData<int> Cases => [.. Enumerable.Range(0, ReadCases().GetArrayLength())];

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorch(int index)
    {
        JsonElement fixture = ReadCases()[index];
        LearningRateSchedule schedule = Create(fixture);
        int epochs = fixture.GetProperty("epochs").GetInt32();
        int batches = fixture.GetProperty("batches_per_epoch").GetInt32();
        double[] expected = [.. fixture.GetProperty("lrs").EnumerateArray().Select(v => v.GetDouble())];
        Assert.Equal(epochs * batches, expected.Length);
        var optimizer = new Sgd(1f);
        for (int epoch = 0, step = 0; epoch < epochs; epoch++)
        {
            for (int batch = 0; batch < batches; batch++, step++)
            {
                schedule.Apply(optimizer, epoch, batch, batches);
                double relative = Math.Abs(optimizer.LearningRate - expected[step]) / expected[step];
                Assert.True(relative <= Tolerance, $"{fixture.GetProperty("kind")} case {index}, epoch {epoch}, batch {batch}: {optimizer.LearningRate} vs torch's {expected[step]}");
            }
        }
    }

    [Fact]
    public void ParameterGroupsFollowTheScheduleAsFactorsOfTheLearningRate()
    {
        // Plain SGD moves w by lr * g exactly enough to read the rate back: g = 1, w = 0.
        var bias = new Parameter("head.bias", [1], trainable: true);
        var weight = new Parameter("head.weight", [1, 1], trainable: true);
        var sgd = new Sgd(1f);
        sgd.Groups.Add(new ParameterGroup(p => p.Shape.Length == 1) { LearningRateScale = 0.1f });
        var schedule = new StepSchedule(0.5f, stepEpochs: 1, gamma: 0.5f);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            bias.Value[0] = weight.Value[0] = 0f;
            bias.Gradient[0] = weight.Gradient[0] = 1f;
            schedule.Apply(sgd, epoch, 0, 1);
            sgd.Step([weight, bias]);
            double rate = 0.5 * Math.Pow(0.5, epoch);
            Assert.Equal(-rate, weight.Value[0], 1e-7);
            Assert.Equal(-rate * 0.1, bias.Value[0], 1e-7);
        }
    }

    [Fact]
    public void OneCyclePastItsLastEpochIsAnErrorAndCosineHoldsItsMinimum()
    {
        Assert.Equal("epoch", Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1f, epochs: 2).LearningRate(2, 0, 10)).ParamName);
        Assert.Equal(1e-3f, new CosineSchedule(0.1f, epochs: 2, warmupEpochs: 1, minLearningRate: 1e-3f).LearningRate(5, 3, 10));
    }

    [Fact]
    public void BadArgumentsAreRejectedByName()
    {
        Assert.Equal("baseLearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0f, 1)).ParamName);
        Assert.Equal("stepEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 0)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 1, 1.5f)).ParamName);
        Assert.Equal("milestones", Assert.Throws<ArgumentException>(() => new MultiStepSchedule(0.1f, [3, 3])).ParamName);
        Assert.Equal("warmupEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 3, warmupEpochs: 3)).ParamName);
        Assert.Equal("minLearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 3, minLearningRate: 0.2f)).ParamName);
        Assert.Equal("warmupStartFactor", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineSchedule(0.1f, 3, 1, 0f, 0f)).ParamName);
        Assert.Equal("pctStart", Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleSchedule(0.1f, 3, pctStart: 1)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => new StepSchedule(0.1f, 1).LearningRate(0, 4, 4)).ParamName);
    }

    private static LearningRateSchedule Create(JsonElement fixture)
    {
        float F(string name) => fixture.GetProperty(name).GetSingle();
        int I(string name) => fixture.GetProperty(name).GetInt32();
        double D(string name) => fixture.GetProperty(name).GetDouble();
        return fixture.GetProperty("kind").GetString() switch
        {
            "step" => new StepSchedule(F("base_lr"), I("step_epochs"), F("gamma")),
            "multi_step" => new MultiStepSchedule(F("base_lr"), [.. fixture.GetProperty("milestones").EnumerateArray().Select(m => m.GetInt32())], F("gamma")),
            "cosine" => new CosineSchedule(F("base_lr"), I("epochs"), I("warmup_epochs"), F("min_lr"), F("warmup_start_factor")),
            "one_cycle" => new OneCycleSchedule(F("max_lr"), I("epochs"), D("pct_start"), D("div_factor"), D("final_div_factor")),
            var other => throw new InvalidDataException($"The fixture names a schedule this test does not know: {other}."),
        };
    }

    private static JsonElement ReadCases()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "schedules.json")));
        return document.RootElement.Clone();
    }
}
