using System;
using System.Linq;
using NetCompiler;
using ScottPlot;

namespace NetCompiler.Samples;

/// <summary>Training curves as a PNG: the training and validation loss per epoch on the left axis, the validation metrics on the right.</summary>
public static class TrainingCurves
{
    private const int Width = 900, Height = 520;

    /// <summary>Writes <paramref name="history"/>'s curves to <paramref name="path"/>, titled <paramref name="title"/>.</summary>
    public static void Write(TrainingHistory history, string path, string title)
    {
        ArgumentNullException.ThrowIfNull(history);
        double[] epochs = [.. history.Epochs.Select(e => (double)e.Epoch)];
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        AddLine(plot, epochs, [.. history.Epochs.Select(e => e.TrainLoss)], "training loss", Colors.C0, onRight: false);
        if (history.Epochs.Count > 0 && !double.IsNaN(history.Epochs[0].ValidationLoss))
        {
            AddLine(plot, epochs, [.. history.Epochs.Select(e => e.ValidationLoss)], "validation loss", Colors.C1, onRight: false);
            string[] metrics = [.. history.Epochs[0].Metrics.Select(m => m.Key)];
            for (int i = 0; i < metrics.Length; i++)
            {
                AddLine(plot, epochs, [.. history.Epochs.Select(e => e.Validation(metrics[i]))], $"validation {metrics[i]}", Colors.Category10[(i + 2) % 10], onRight: true);
            }

            plot.Axes.Right.Label.Text = string.Join(", ", metrics);
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.UpperCenter);
        plot.SavePng(path, Width, Height);
    }

    private static void AddLine(Plot plot, double[] xs, double[] ys, string label, Color color, bool onRight)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.LegendText = label;
        line.LineWidth = 2;
        line.MarkerSize = 6;
        if (onRight)
        {
            line.Axes.YAxis = plot.Axes.Right;
        }
    }
}
