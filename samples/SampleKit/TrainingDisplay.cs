using System;
using System.Globalization;
using NetCompiler;
using Spectre.Console;

namespace NetCompiler.Samples;

/// <summary>
/// Shows a Fit's progress: on an interactive console a live Spectre.Console progress bar (epoch, batch, loss,
/// images/s, time left) above one line per finished epoch; when the output is redirected (CI, a log, tee) only the
/// epoch lines, so the log stays readable.
/// </summary>
public static class TrainingDisplay
{
    /// <summary>Runs <paramref name="train"/> (a Fit) with a display of its progress named <paramref name="name"/>.</summary>
    public static T Run<T>(string name, Func<IProgress<TrainingProgress>, T> train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (Console.IsOutputRedirected)
        {
            return train(new EpochLines(name, null));
        }

        return AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .Start(context => train(new EpochLines(name, context.AddTask(Markup.Escape(name), maxValue: 1))));
    }

    /// <summary>One epoch's line: training loss, the validation figures, speed and time left (invariant culture).</summary>
    public static string EpochLine(string name, TrainingProgress progress, EpochRecord record)
    {
        string validation = double.IsNaN(record.ValidationLoss) ? ""
            : $"  validation loss {record.ValidationLoss:F4}" + string.Concat(System.Linq.Enumerable.Select(record.Metrics, m => $"  {m.Key} {m.Value:F4}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{name} epoch {record.Epoch,2}/{progress.Epochs}  loss {record.TrainLoss:F4}{validation}  {record.ImagesPerSecond,6:F0} images/s  time left {progress.Remaining:mm\\:ss}");
    }

    private sealed class EpochLines(string name, ProgressTask? bar) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.EpochEnd is { } record)
            {
                string line = EpochLine(name, value, record);
                if (bar is null)
                {
                    Console.WriteLine(line);
                }
                else
                {
                    AnsiConsole.WriteLine(line);
                }
            }

            if (bar is not null)
            {
                bar.Value = (value.Epoch - 1 + ((double)value.Batch / value.Batches)) / value.Epochs;
                bar.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"{name} epoch {value.Epoch}/{value.Epochs}  batch {value.Batch}/{value.Batches}  loss {value.Loss:F4}  {value.ImagesPerSecond:F0} images/s  ETA {value.Remaining:mm\\:ss}"));
            }
        }
    }
}
