using System;
using System.Globalization;
using System.Linq;
using NetCompiler;
using NetCompiler.Ilgpu;
using NetCompiler.Samples;

// IMEXnet's depth experiment (Haber et al., ICML 2019, on NYU Depth v2) in miniature: per-pixel depth regression on
// seeded synthetic rooms with occluding boxes and exact depth maps (runtime/Data/SyntheticDepth.cs), IMEXnet against
// its ResNet twin of about equal size (Networks.cs), both trained with mean squared error on the same images and
// budget, and scored on the validation rooms as depth papers report: RMSE (metres), AbsRel and the delta < 1.25 share.
// Options: --epochs N (12), --batch N (16), --lr X (0.002), --seed N (1), --threads N (all), --train N (1024),
// --validation N (128), --device cpu|cuda|opencl|simulator|best (cpu: where the networks train; README: GPUs).
int epochs = Option("--epochs", 12);
int batchSize = Option("--batch", 16);
float learningRate = Option("--lr", 2e-3f);
int seed = Option("--seed", 1);
int threads = Option("--threads", 0);
int trainCount = Option("--train", 1024);
int validationCount = Option("--validation", 128);
string deviceName = Option("--device", "cpu");
using IlgpuDevice? device = deviceName is "cpu" ? null : IlgpuDevice.Create(deviceName);
const string OutputBias = "features.4.bias"; // both networks' last layer: the transposed convolution to one depth channel

(DataSet train, DataSet validation) = SyntheticDepth.Create(seed, trainCount, validationCount);
double meanDepth = train.Targets.ToArray().Average(d => (double)d);
Console.WriteLine($"synthetic depth: {train.Count:N0} training and {validation.Count:N0} validation rooms of {train.ImageShape}, depth 0.1 to {SyntheticDepth.MaxDepth} m per pixel");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"predicting every pixel at the training mean depth: validation RMSE {MeanDepthBaseline(meanDepth, validation):F3} m"));
Console.WriteLine();
Console.WriteLine(device is null ? "device: the CPU" : "device: " + device.Description);
Console.WriteLine(DepthImex.Summary);

Result imex = Train("IMEXnet", device is null ? new DepthImex(batchSize, seed, threads) : new DepthImex(batchSize, seed, device), DepthImex.Summary.ParameterCount);
Result resNet = Train("ResNet", device is null ? new DepthResNet(batchSize, seed, threads) : new DepthResNet(batchSize, seed, device), DepthResNet.Summary.ParameterCount);

Console.WriteLine();
Console.WriteLine($"validation, after {epochs} epochs each");
Console.WriteLine("network    parameters   RMSE (m)   AbsRel   delta<1.25   MSE loss   train time");
foreach (Result result in new[] { imex, resNet })
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{result.Name,-10} {result.Parameters,10:N0}   {result.Rmse,8:F3}   {result.AbsRel,6:F3}   {result.Delta1,10:F3}   {result.Loss,8:F4}   {result.Time:mm\\:ss}"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"IMEXnet RMSE - ResNet RMSE = {imex.Rmse - resNet.Rmse:+0.000;-0.000} m"));

Result Train(string name, CompiledNetwork net, long parameters)
{
    using (net)
    {
        // The output layer's bias starts at the mean depth, not 0: Adam moves it by about the learning rate per step, so
        // from 0 it would spend the whole budget climbing to ~4 m instead of learning the scene.
        net.Parameters.Single(p => p.Name == OutputBias).Value.AsSpan().Fill((float)meanDepth);
        net.MarkParametersChanged();
        var options = new FitOptions
        {
            Seed = seed,
            Schedule = new MultiStepSchedule(learningRate, [Math.Max(1, epochs * 4 / 5)], gamma: 0.1f), // a tenth for the last fifth
            Validation = validation,
            Metrics = [ValidationMetric.RootMeanSquaredError(), ValidationMetric.AbsoluteRelativeError(), ValidationMetric.Delta1()],
        };
        TrainingHistory history = TrainingDisplay.Run(name, progress => net.Fit(train, epochs, new Adam(learningRate), options with { Progress = progress }));
        TrainingCurves.Write(history, $"depth-{name.ToLowerInvariant()}-curves.png", $"{name} on synthetic depth");
        EpochRecord last = history.Epochs[^1];
        return new Result(name, parameters, last.Validation("RMSE"), last.Validation("AbsRel"), last.Validation("delta<1.25"), last.ValidationLoss,
            history.Epochs.Aggregate(TimeSpan.Zero, (sum, e) => sum + e.Time));
    }
}

// The floor any network must beat: one constant depth for every pixel, the training set's mean.
static double MeanDepthBaseline(double meanDepth, DataSet validation)
{
    var metrics = new RegressionMetrics();
    metrics.Add(Enumerable.Repeat((float)meanDepth, validation.Targets.Length).ToArray(), validation.Targets);
    return metrics.RootMeanSquaredError;
}

T Option<T>(string name, T fallback) where T : IParsable<T>
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? T.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

internal sealed record Result(string Name, long Parameters, double Rmse, double AbsRel, double Delta1, double Loss, TimeSpan Time);
