using System;
using System.Collections.Generic;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Ops;

namespace NetCompiler.Generator.Checking;

/// <summary>A tensor a layer stores: its module relative to the layer ("" for the layer's own, "0.bn"), role and shape.</summary>
internal sealed record LayerTensor(string Module, TensorRole Role, int[] Dimensions, bool Trainable);

/// <summary>What a layer's shape rule decided: its output (null when the layer cannot be built) and its figures.</summary>
internal sealed record LayerOutcome(Shape? Output, string Description, IReadOnlyList<LayerTensor> Tensors, long MultiplyAccumulates)
{
    public static readonly LayerTensor[] NoTensors = [];

    public static LayerOutcome Failed(string description) => new(null, description, NoTensors, 0);
}

/// <summary>
/// The receptive field walked through the network: its size in input pixels and the input-pixel distance
/// between neighbouring outputs (the product of strides; fractional after a transposed convolution).
/// </summary>
internal readonly record struct ReceptiveField(double Size, double Jump, bool Global)
{
    public static readonly ReceptiveField Pixel = new(1, 1, false);

    public ReceptiveField Window(int extent, double stride) =>
        Global ? this : new ReceptiveField(Size + ((extent - 1) * Jump), Jump * stride, false);

    public ReceptiveField Everything => new(Size, Jump, true);

    /// <summary>The field where two paths join: the larger of the two (global when either is).</summary>
    public ReceptiveField Join(ReceptiveField other) => new(Math.Max(Size, other.Size), Math.Max(Jump, other.Jump), Global || other.Global);

    public long? Pixels => Global ? null : (long)Math.Ceiling(Size - 1e-9);
}

/// <summary>
/// The checks the ops' shape rules share: argument ranges, windows sliding over an input, group divisibility.
/// Each diagnostic goes on the argument at fault.
/// </summary>
internal sealed class ShapeRules(List<DiagnosticInfo> diagnostics)
{
    /// <summary>The named skips saved so far (Ops/Skip.cs).</summary>
    public SkipScope Skips { get; init; } = SkipScope.None;

    /// <summary>
    /// Output size of a window sliding over the input, with NC0010 when nothing is left; floored as PyTorch does, with
    /// NC0009 when rows are dropped, or in PyTorch's <paramref name="ceilMode"/>: one more window where input remains,
    /// as long as it starts inside the input or its left padding.
    /// </summary>
    public (int Height, int Width)? Slide(LayerSpec spec, Shape input, int extent, int stride, int pad, bool ceilMode = false)
    {
        long paddedHeight = input.Height + (2L * pad), paddedWidth = input.Width + (2L * pad);
        if (paddedHeight < extent || paddedWidth < extent)
        {
            Report(DiagnosticDescriptors.WindowLargerThanInput, spec.SpanOf("Kernel"), Label(spec), extent, input.Height, input.Width, pad);
            return null;
        }

        if (ceilMode)
        {
            return (CeilOutputs(input.Height, extent, stride, pad), CeilOutputs(input.Width, extent, stride, pad));
        }

        // The last windows stop short of the padded edge by (padded - extent) % stride; only what of that is
        // real input, not padding, is lost (ResNet's 3x3 stride-2 pad-1 convolutions lose padding alone).
        long droppedRows = Math.Max(0, ((paddedHeight - extent) % stride) - pad);
        long droppedColumns = Math.Max(0, ((paddedWidth - extent) % stride) - pad);
        int height = (int)(((paddedHeight - extent) / stride) + 1), width = (int)(((paddedWidth - extent) / stride) + 1);
        if (droppedRows != 0 || droppedColumns != 0)
        {
            Report(DiagnosticDescriptors.WindowDoesNotTile, spec.SpanOf("Stride"), Label(spec), extent, stride, pad,
                input.Height, input.Width, droppedRows, droppedColumns, height, width);
        }

        return (height, width);
    }

    /// <summary>PyTorch's pooling_output_shape with ceil_mode: a last window starting in the right padding is dropped.</summary>
    private static int CeilOutputs(int size, int extent, int stride, int pad)
    {
        int outputs = ((size + (2 * pad) - extent + stride - 1) / stride) + 1;
        return (outputs - 1) * stride >= size + pad ? outputs - 1 : outputs;
    }

    public bool Spatial(LayerSpec spec, Shape input)
    {
        if (input.IsFlat)
        {
            Report(DiagnosticDescriptors.SpatialLayerAfterFlatten, spec.Span, Label(spec), input.Channels);
        }

        return !input.IsFlat;
    }

    public bool GroupsDivide(LayerSpec spec, int groups, int inChannels, int outChannels)
    {
        if (inChannels % groups == 0 && outChannels % groups == 0)
        {
            return true;
        }

        Report(DiagnosticDescriptors.GroupsMismatch, spec.SpanOf("Groups"), Label(spec), groups, inChannels, outChannels);
        return false;
    }

    public bool AtLeast(LayerSpec spec, string argument, int value, int minimum)
    {
        if (value >= minimum)
        {
            return true;
        }

        OutOfRange(spec, argument, value, $"it must be at least {minimum}");
        return false;
    }

    public bool PositiveStep(LayerSpec spec, float h)
    {
        if (h > 0 && !float.IsInfinity(h))
        {
            return true;
        }

        OutOfRange(spec, "H", h, "the step size must be a positive number");
        return false;
    }

    public bool OddKernel(LayerSpec spec, string argument, int kernel)
    {
        if (kernel >= 1 && kernel % 2 == 1)
        {
            return true;
        }

        OutOfRange(spec, argument, kernel, "it must be a positive odd number, so the step keeps the image size");
        return false;
    }

    public void OutOfRange(LayerSpec spec, string argument, object value, string rule) =>
        Report(DiagnosticDescriptors.ArgumentOutOfRange, spec.SpanOf(argument), Label(spec), argument, value, rule);

    public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, SourceSpan span, params object[] arguments) =>
        diagnostics.Add(DiagnosticInfo.Create(descriptor, span, arguments));

    /// <summary>How messages name a layer: its kind as the attribute spells it, and its given name when it has one.</summary>
    public static string Label(LayerSpec spec) => spec.Name is null ? OpCatalog.Of(spec).Name : $"{OpCatalog.Of(spec).Name} '{spec.Name}'";

    /// <summary>", name=value" for a PyTorch description, or nothing when the value is the default.</summary>
    public static string Option(string name, int value, int fallback) => value == fallback ? "" : ", " + name + "=" + Format.Invariant(value);
}
