using System;
using System.Collections.Generic;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Checking;

/// <summary>What a layer's shape rule decided: its output (null when the layer cannot be built) and its figures.</summary>
internal sealed record LayerOutcome(Shape? Output, string Description, IReadOnlyList<(string Suffix, int[] Dimensions, bool Trainable)> Tensors, long MultiplyAccumulates);

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

    public long? Pixels => Global ? null : (long)Math.Ceiling(Size - 1e-9);
}

/// <summary>
/// The one place each op's shape rule lives: argument ranges, output shape, stored tensors, multiply-accumulates
/// and receptive field. Diagnostics go on the argument at fault.
/// </summary>
internal sealed class LayerRules(List<DiagnosticInfo> diagnostics)
{
    private static readonly (string, int[], bool)[] NoTensors = [];

    public LayerOutcome Apply(LayerSpec spec, Shape input, ref ReceptiveField field) => spec switch
    {
        ConvSpec conv => Conv(conv, input, ref field),
        ConvTransposeSpec convT => ConvTranspose(convT, input, ref field),
        BatchNormSpec bn => BatchNorm(bn, input),
        ReluSpec => new LayerOutcome(input, "ReLU", NoTensors, 0),
        PoolSpec pool => Pool(pool, input, ref field),
        GlobalAvgPoolSpec gap => GlobalAvgPool(gap, input, ref field),
        DenseSpec dense => Dense(dense, input, ref field),
        DropoutSpec dropout => Dropout(dropout, input),
        ResidualSpec residual => Residual(residual, input, ref field),
        ImexSpec imex => Imex(imex, input, ref field),
        _ => throw new InvalidOperationException("No shape rule for " + spec.GetType().Name),
    };

    private LayerOutcome Conv(ConvSpec conv, Shape input, ref ReceptiveField field)
    {
        string description = $"Conv2d({input.Channels}, {conv.OutChannels}, kernel_size={conv.Kernel}"
            + Option("stride", conv.Stride, 1) + Option("padding", conv.Pad, 0) + Option("dilation", conv.Dilation, 1)
            + Option("groups", conv.Groups, 1) + (conv.Bias ? "" : ", bias=False") + ")";
        bool valid = Spatial(conv, input)
            & AtLeast(conv, "OutChannels", conv.OutChannels, 1) & AtLeast(conv, "Kernel", conv.Kernel, 1)
            & AtLeast(conv, "Stride", conv.Stride, 1) & AtLeast(conv, "Pad", conv.Pad, 0)
            & AtLeast(conv, "Dilation", conv.Dilation, 1) & AtLeast(conv, "Groups", conv.Groups, 1);
        if (!valid || !GroupsDivide(conv, conv.Groups, input.Channels, conv.OutChannels))
        {
            return Failed(description);
        }

        int extent = (conv.Dilation * (conv.Kernel - 1)) + 1;
        if (Slide(conv, input, extent, conv.Stride, conv.Pad) is not (int height, int width))
        {
            return Failed(description);
        }

        field = field.Window(extent, conv.Stride);
        var tensors = new List<(string, int[], bool)> { ("weight", [conv.OutChannels, input.Channels / conv.Groups, conv.Kernel, conv.Kernel], true) };
        if (conv.Bias)
        {
            tensors.Add(("bias", [conv.OutChannels], true));
        }

        long macs = (long)conv.OutChannels * height * width * (input.Channels / conv.Groups) * conv.Kernel * conv.Kernel;
        return new LayerOutcome(Shape.Image(conv.OutChannels, height, width), description, tensors, macs);
    }

    private LayerOutcome ConvTranspose(ConvTransposeSpec conv, Shape input, ref ReceptiveField field)
    {
        string description = $"ConvTranspose2d({input.Channels}, {conv.OutChannels}, kernel_size={conv.Kernel}"
            + Option("stride", conv.Stride, 1) + Option("padding", conv.Pad, 0) + Option("output_padding", conv.OutputPad, 0)
            + Option("dilation", conv.Dilation, 1) + Option("groups", conv.Groups, 1) + (conv.Bias ? "" : ", bias=False") + ")";
        bool valid = Spatial(conv, input)
            & AtLeast(conv, "OutChannels", conv.OutChannels, 1) & AtLeast(conv, "Kernel", conv.Kernel, 1)
            & AtLeast(conv, "Stride", conv.Stride, 1) & AtLeast(conv, "Pad", conv.Pad, 0)
            & AtLeast(conv, "Dilation", conv.Dilation, 1) & AtLeast(conv, "Groups", conv.Groups, 1);
        if (valid && (conv.OutputPad < 0 || conv.OutputPad >= Math.Max(conv.Stride, conv.Dilation)))
        {
            OutOfRange(conv, "OutputPad", conv.OutputPad, "it must be at least 0 and smaller than the stride or the dilation, as in PyTorch");
            valid = false;
        }

        if (!valid || !GroupsDivide(conv, conv.Groups, input.Channels, conv.OutChannels))
        {
            return Failed(description);
        }

        int extent = (conv.Dilation * (conv.Kernel - 1)) + 1;
        long height = ((long)(input.Height - 1) * conv.Stride) - (2L * conv.Pad) + extent + conv.OutputPad;
        long width = ((long)(input.Width - 1) * conv.Stride) - (2L * conv.Pad) + extent + conv.OutputPad;
        if (height < 1 || width < 1 || height > int.MaxValue || width > int.MaxValue)
        {
            Report(DiagnosticDescriptors.NoOutput, conv.SpanOf("Pad"), Label(conv), height, width);
            return Failed(description);
        }

        // Each output sees ceil(extent / stride) inputs per side; outputs sit 1/stride input pixels apart.
        field = field.Window((extent + conv.Stride - 1) / conv.Stride, 1.0 / conv.Stride);
        var tensors = new List<(string, int[], bool)> { ("weight", [input.Channels, conv.OutChannels / conv.Groups, conv.Kernel, conv.Kernel], true) };
        if (conv.Bias)
        {
            tensors.Add(("bias", [conv.OutChannels], true));
        }

        long macs = (long)input.Channels * input.Height * input.Width * (conv.OutChannels / conv.Groups) * conv.Kernel * conv.Kernel;
        return new LayerOutcome(Shape.Image(conv.OutChannels, (int)height, (int)width), description, tensors, macs);
    }

    private LayerOutcome BatchNorm(BatchNormSpec bn, Shape input)
    {
        string description = $"BatchNorm{(input.IsFlat ? 1 : 2)}d({input.Channels}"
            + (bn.Eps == 1e-5f ? "" : ", eps=" + Format.Invariant(bn.Eps))
            + (bn.Momentum == 0.1f ? "" : ", momentum=" + Format.Invariant(bn.Momentum)) + ")";
        bool valid = true;
        if (!(bn.Eps > 0) || float.IsInfinity(bn.Eps))
        {
            OutOfRange(bn, "Eps", bn.Eps, "it must be a positive number");
            valid = false;
        }

        if (!(bn.Momentum >= 0 && bn.Momentum <= 1))
        {
            OutOfRange(bn, "Momentum", bn.Momentum, "it must be from 0 to 1");
            valid = false;
        }

        return valid ? new LayerOutcome(input, description, NormTensors("", input.Channels), 0) : Failed(description);
    }

    private LayerOutcome Pool(PoolSpec pool, Shape input, ref ReceptiveField field)
    {
        string kind = KindName(pool);
        string description = $"{kind}2d(kernel_size={pool.Kernel}, stride={pool.Stride}" + Option("padding", pool.Pad, 0) + ")";
        bool valid = Spatial(pool, input)
            & AtLeast(pool, "Kernel", pool.Kernel, 1) & AtLeast(pool, "Stride", pool.Stride, 1) & AtLeast(pool, "Pad", pool.Pad, 0);
        if (valid && pool.Pad > pool.Kernel / 2)
        {
            Report(DiagnosticDescriptors.PoolPaddingTooLarge, pool.SpanOf("Pad"), Label(pool), pool.Pad, pool.Kernel);
            valid = false;
        }

        if (!valid)
        {
            return Failed(description);
        }

        if (pool.Optional && (input.Height + (2 * pool.Pad) < pool.Kernel || input.Width + (2 * pool.Pad) < pool.Kernel))
        {
            Report(DiagnosticDescriptors.OptionalLayerSkipped, pool.Span, kind, input.Height, input.Width, pool.Kernel);
            return new LayerOutcome(input, "", NoTensors, 0); // skipped: the checker drops a layer with an empty description
        }

        if (Slide(pool, input, pool.Kernel, pool.Stride, pool.Pad) is not (int height, int width))
        {
            return Failed(description);
        }

        field = field.Window(pool.Kernel, pool.Stride);
        return new LayerOutcome(Shape.Image(input.Channels, height, width), description, NoTensors, 0);
    }

    private LayerOutcome GlobalAvgPool(GlobalAvgPoolSpec gap, Shape input, ref ReceptiveField field)
    {
        if (!Spatial(gap, input))
        {
            return Failed("AdaptiveAvgPool2d(1)");
        }

        field = field.Everything;
        return new LayerOutcome(Shape.Image(input.Channels, 1, 1), "AdaptiveAvgPool2d(1)", NoTensors, 0);
    }

    private LayerOutcome Dense(DenseSpec dense, Shape input, ref ReceptiveField field)
    {
        long features = input.Elements;
        string description = $"Linear({features}, {dense.OutFeatures}" + (dense.Bias ? "" : ", bias=False") + ")";
        bool valid = AtLeast(dense, "OutFeatures", dense.OutFeatures, 1) & AtLeast(dense, "InFeatures", dense.InFeatures, 0);
        if (valid && dense.InFeatures != 0 && dense.InFeatures != features)
        {
            Report(DiagnosticDescriptors.DenseInputMismatch, dense.SpanOf("InFeatures"), Label(dense), dense.InFeatures, input, features);
            valid = false;
        }

        if (valid && features * dense.OutFeatures > int.MaxValue)
        {
            OutOfRange(dense, "OutFeatures", dense.OutFeatures, $"a {features} x {dense.OutFeatures} weight exceeds 2^31 elements");
            valid = false;
        }

        if (!valid)
        {
            return Failed(description);
        }

        // A spatial input is flattened first (nn.Flatten), so every output sees the whole image.
        field = input.IsFlat ? field : field.Everything;
        var tensors = new List<(string, int[], bool)> { ("weight", [dense.OutFeatures, (int)features], true) };
        if (dense.Bias)
        {
            tensors.Add(("bias", [dense.OutFeatures], true));
        }

        return new LayerOutcome(Shape.Flat(dense.OutFeatures), description, tensors, features * dense.OutFeatures);
    }

    private LayerOutcome Dropout(DropoutSpec dropout, Shape input)
    {
        string description = "Dropout(p=" + Format.Invariant(dropout.P) + ")";
        if (!(dropout.P >= 0 && dropout.P < 1))
        {
            OutOfRange(dropout, "P", dropout.P, "the drop probability must be at least 0 and below 1");
            return Failed(description);
        }

        return new LayerOutcome(input, description, NoTensors, 0);
    }

    private LayerOutcome Residual(ResidualSpec residual, Shape input, ref ReceptiveField field)
    {
        int channels = input.Channels;
        string description = $"Residual({channels}, steps={residual.Steps}, h={Format.Invariant(residual.H)}, kernel_size={residual.Kernel}"
            + (residual.Symmetric ? ", symmetric" : "") + ")";
        bool valid = Spatial(residual, input) & AtLeast(residual, "Steps", residual.Steps, 1)
            & PositiveStep(residual, residual.H) & OddKernel(residual, "Kernel", residual.Kernel);
        if (!valid || Slide(residual, input, residual.Kernel, 1, residual.Kernel / 2) is null)
        {
            return Failed(description);
        }

        var tensors = new List<(string, int[], bool)>();
        for (int step = 0; step < residual.Steps; step++)
        {
            tensors.Add(($"{step}.conv1.weight", [channels, channels, residual.Kernel, residual.Kernel], true));
            tensors.AddRange(NormTensors($"{step}.bn.", channels));
            if (!residual.Symmetric)
            {
                tensors.Add(($"{step}.conv2.weight", [channels, channels, residual.Kernel, residual.Kernel], true));
            }

            // Two convolutions per step, each widening the field by kernel - 1.
            field = field.Window(residual.Kernel, 1).Window(residual.Kernel, 1);
        }

        long convMacs = (long)channels * channels * residual.Kernel * residual.Kernel * input.Height * input.Width;
        return new LayerOutcome(input, description, tensors, 2 * convMacs * residual.Steps);
    }

    private LayerOutcome Imex(ImexSpec imex, Shape input, ref ReceptiveField field)
    {
        int channels = input.Channels;
        int groups = imex.Groups == 0 ? channels : imex.Groups;
        string description = $"Imex({channels}, steps={imex.Steps}, h={Format.Invariant(imex.H)}, kernel_size={imex.Kernel}, "
            + $"implicit_kernel_size={imex.ImplicitKernel}, groups={groups}" + (imex.ReleasedVariant ? ", released" : "") + ")";
        bool valid = Spatial(imex, input) & AtLeast(imex, "Steps", imex.Steps, 1) & PositiveStep(imex, imex.H)
            & OddKernel(imex, "Kernel", imex.Kernel) & OddKernel(imex, "ImplicitKernel", imex.ImplicitKernel)
            & AtLeast(imex, "Groups", imex.Groups, 0);
        if (!valid || !GroupsDivide(imex, groups, channels, channels))
        {
            return Failed(description);
        }

        if (!IsPlannableFftSize(input.Height) || !IsPlannableFftSize(input.Width))
        {
            Report(DiagnosticDescriptors.FftSizeNotPlannable, imex.Span, Label(imex), input.Height, input.Width);
            return Failed(description);
        }

        if (Slide(imex, input, Math.Max(imex.Kernel, imex.ImplicitKernel), 1, Math.Max(imex.Kernel, imex.ImplicitKernel) / 2) is null)
        {
            return Failed(description);
        }

        int groupSize = channels / groups;
        var tensors = new List<(string, int[], bool)>();
        for (int step = 0; step < imex.Steps; step++)
        {
            tensors.Add(($"{step}.conv.weight", [channels, channels, imex.Kernel, imex.Kernel], true));
            tensors.AddRange(NormTensors($"{step}.bn.", channels));
            tensors.Add(($"{step}.implicit.weight", [channels, groupSize, imex.ImplicitKernel, imex.ImplicitKernel], true));
            if (imex.ReleasedVariant)
            {
                tensors.AddRange(NormTensors($"{step}.norm.", channels));
            }
        }

        // The implicit solve couples every pixel with every other (periodic boundaries).
        field = field.Everything;
        long pixels = (long)input.Height * input.Width;
        long explicitMacs = 2L * channels * channels * imex.Kernel * imex.Kernel * pixels;
        long operatorMacs = imex.ReleasedVariant ? 0 : 2L * channels * groupSize * imex.ImplicitKernel * imex.ImplicitKernel * pixels;
        return new LayerOutcome(input, description, tensors, (explicitMacs + operatorMacs) * imex.Steps);
    }

    /// <summary>Output size of a window sliding over the input, with NC0010 when nothing is left and NC0009 when rows are dropped.</summary>
    private (int Height, int Width)? Slide(LayerSpec spec, Shape input, int extent, int stride, int pad)
    {
        long paddedHeight = input.Height + (2L * pad), paddedWidth = input.Width + (2L * pad);
        if (paddedHeight < extent || paddedWidth < extent)
        {
            Report(DiagnosticDescriptors.WindowLargerThanInput, spec.SpanOf("Kernel"), Label(spec), extent, input.Height, input.Width, pad);
            return null;
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

    private bool Spatial(LayerSpec spec, Shape input)
    {
        if (input.IsFlat)
        {
            Report(DiagnosticDescriptors.SpatialLayerAfterFlatten, spec.Span, Label(spec), input.Channels);
        }

        return !input.IsFlat;
    }

    private bool GroupsDivide(LayerSpec spec, int groups, int inChannels, int outChannels)
    {
        if (inChannels % groups == 0 && outChannels % groups == 0)
        {
            return true;
        }

        Report(DiagnosticDescriptors.GroupsMismatch, spec.SpanOf("Groups"), Label(spec), groups, inChannels, outChannels);
        return false;
    }

    private bool AtLeast(LayerSpec spec, string argument, int value, int minimum)
    {
        if (value >= minimum)
        {
            return true;
        }

        OutOfRange(spec, argument, value, $"it must be at least {minimum}");
        return false;
    }

    private bool PositiveStep(LayerSpec spec, float h)
    {
        if (h > 0 && !float.IsInfinity(h))
        {
            return true;
        }

        OutOfRange(spec, "H", h, "the step size must be a positive number");
        return false;
    }

    private bool OddKernel(LayerSpec spec, string argument, int kernel)
    {
        if (kernel >= 1 && kernel % 2 == 1)
        {
            return true;
        }

        OutOfRange(spec, argument, kernel, "it must be a positive odd number, so the step keeps the image size");
        return false;
    }

    private void OutOfRange(LayerSpec spec, string argument, object value, string rule) =>
        Report(DiagnosticDescriptors.ArgumentOutOfRange, spec.SpanOf(argument), Label(spec), argument, value, rule);

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, SourceSpan span, params object[] arguments) =>
        diagnostics.Add(DiagnosticInfo.Create(descriptor, span, arguments));

    /// <summary>How messages name a layer: its kind as the attribute spells it, and its given name when it has one.</summary>
    private static string Label(LayerSpec spec) => spec.Name is null ? KindName(spec) : $"{KindName(spec)} '{spec.Name}'";

    private static string KindName(LayerSpec spec) => spec switch
    {
        ConvSpec => "Conv",
        ConvTransposeSpec => "ConvTranspose",
        BatchNormSpec => "BatchNorm",
        ReluSpec => "Relu",
        PoolSpec { Kind: PoolKind.Max } => "MaxPool",
        PoolSpec => "AvgPool",
        GlobalAvgPoolSpec => "GlobalAvgPool",
        DenseSpec => "Dense",
        DropoutSpec => "Dropout",
        ResidualSpec => "Residual",
        ImexSpec => "Imex",
        _ => spec.GetType().Name,
    };

    private static LayerOutcome Failed(string description) => new(null, description, NoTensors, 0);

    private static string Option(string name, int value, int fallback) => value == fallback ? "" : ", " + name + "=" + Format.Invariant(value);

    private static (string, int[], bool)[] NormTensors(string prefix, int channels) =>
    [
        (prefix + "weight", [channels], true), (prefix + "bias", [channels], true),
        (prefix + "running_mean", [channels], false), (prefix + "running_var", [channels], false),
    ];

    /// <summary>The FFT kernels take powers of two from 2 up.</summary>
    private static bool IsPlannableFftSize(int value) => value >= 2 && (value & (value - 1)) == 0;
}
