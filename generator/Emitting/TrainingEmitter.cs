using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Planning;

namespace NetCompiler.Generator.Emitting;

/// <summary>
/// Emits the compiled network from its plan: shape structs for the kernel templates, parameter and buffer
/// fields, the constructor, Forward, TrainStep and the input gradients. Each step kind's forward and backward
/// code is written in one place, <see cref="EmitForward"/> and <see cref="EmitBackward"/>.
/// </summary>
internal static class TrainingEmitter
{
    private const string Kernels = "global::NetCompiler.Kernels.";
    private const string Runtime = "global::NetCompiler.";
    private const string Span = "global::System.Span<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";

    public static void Emit(SourceWriter writer, KernelPlan plan)
    {
        CheckedNetwork network = plan.Network;
        string name = network.Spec.Declaration.Name;
        bool pixel = network.Spec.Loss == LossKind.PixelCrossEntropy;
        PlanStep last = plan.Steps[plan.Steps.Count - 1];

        writer.Line("/// <summary>Labels per image: " + (pixel ? "one per output pixel" : "one class") + ".</summary>")
            .Line($"public const int LabelsPerImage = {(pixel ? Format.Invariant(network.Output.Height * network.Output.Width) : "1")};")
            .Line();
        EmitShapeStructs(writer, plan);
        EmitFields(writer, plan);
        EmitConstructor(writer, plan, name);

        writer.Line("/// <summary>Scores for up to BatchSize images (n*C*H*W floats), in evaluation mode: batch norm uses its running")
            .Line("/// statistics and dropout is off. The span is valid until the next call on this network.</summary>")
            .Open($"public override {ReadOnlySpan} Forward({ReadOnlySpan} images)")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line("RunForward(images, n, training: false);")
            .Line($"return {Output(last)};")
            .Close().Line();

        writer.Line("/// <summary>One training step on up to BatchSize images: forward in training mode, " + (pixel ? "per-pixel " : "") + "softmax cross-entropy,")
            .Line("/// backward, and the optimiser's update. Returns the batch's mean loss.</summary>")
            .Open($"public float TrainStep({ReadOnlySpan} images, global::System.ReadOnlySpan<int> labels, {Runtime}Optimizer optimizer)")
            .Line("global::System.ArgumentNullException.ThrowIfNull(optimizer);")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line("CheckLabels(labels, n * LabelsPerImage, ClassCount, nameof(labels));")
            .Line("RunForward(images, n, training: true);")
            .Line("float loss = CheckLoss(LossAndGradient(labels, n));")
            .Line("RunBackward(images, n, training: true, inputGradient: false);")
            .Line("optimizer.Step(Parameters);")
            .Line("return loss;")
            .Close().Line();

        writer.Line("/// <summary>The scores of the last Forward or TrainStep (in training mode for TrainStep), one row per image.</summary>")
            .Line($"public {ReadOnlySpan} LastScores => Slice({Field(last, "output")}, _lastCount * OutputLength);")
            .Line();

        EmitLayerAccess(writer, plan);

        writer.Line("/// <summary>d(loss)/d(images) in evaluation mode, for saliency maps and adversarial examples. Leaves the weights")
            .Line("/// and their gradients untouched. The span is valid until the next call on this network.</summary>")
            .Open($"public override {ReadOnlySpan} InputGradient({ReadOnlySpan} images, global::System.ReadOnlySpan<int> labels)")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line("CheckLabels(labels, n * LabelsPerImage, ClassCount, nameof(labels));")
            .Line("RunForward(images, n, training: false);")
            .Line("LossAndGradient(labels, n);")
            .Line("RunBackward(images, n, training: false, inputGradient: true);")
            .Line("return Slice(_inputGradient, n * InputLength);")
            .Close().Line();

        writer.Line("/// <summary>d(score of <paramref name=\"classIndex\"/>" + (pixel ? ", summed over pixels" : "") + ")/d(images) in evaluation mode (Simonyan et al.'s saliency).</summary>")
            .Open($"public override {ReadOnlySpan} ScoreGradient({ReadOnlySpan} images, int classIndex)")
            .Line("global::System.ArgumentOutOfRangeException.ThrowIfNegative(classIndex);")
            .Line("global::System.ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, ClassCount);")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line("RunForward(images, n, training: false);")
            .Line($"{Span} seed = {Gradient(last)};")
            .Line("seed.Clear();")
            .Line("const int plane = OutputLength / ClassCount;")
            .Open("for (int image = 0; image < n; image++)")
            .Line("seed.Slice((image * OutputLength) + (classIndex * plane), plane).Fill(1f);")
            .Close()
            .Line("RunBackward(images, n, training: false, inputGradient: true);")
            .Line("return Slice(_inputGradient, n * InputLength);")
            .Close().Line();

        writer.Open("private float LossAndGradient(global::System.ReadOnlySpan<int> labels, int n)")
            .Line(pixel
                ? $"return {Kernels}SoftmaxCrossEntropy.ForwardPixels({Output(last)}, labels, default, {Gradient(last)}, n, ClassCount, OutputLength / ClassCount);"
                : $"return {Kernels}SoftmaxCrossEntropy.Forward({Output(last)}, labels, {Gradient(last)}, n, ClassCount);")
            .Close().Line();

        writer.Open($"private void RunForward({ReadOnlySpan} images, int n, bool training)")
            .Line($"{Kernels}KernelContext context = Context;")
            .Line("_lastCount = n;");
        foreach (PlanStep step in plan.Steps)
        {
            writer.Line($"// {Describe(step)}");
            EmitForward(writer, step);
        }

        writer.Close().Line();

        writer.Line("/// <summary>Backward from the last step's output gradient: parameter gradients in training, and d(loss)/d(images) when asked.</summary>")
            .Open($"private void RunBackward({ReadOnlySpan} images, int n, bool training, bool inputGradient)")
            .Line($"{Kernels}KernelContext context = Context;");
        foreach (PlanStep step in plan.Steps.Reverse())
        {
            writer.Line($"// {Describe(step)}");
            EmitBackward(writer, step);
        }

        writer.Close();
    }

    /// <summary>
    /// LayerOutput and LayerGradient: a layer's activations and their gradient by layer name, for Grad-CAM and
    /// feature inspection. A fused step keeps one output (after its ReLU) and one gradient (before the ReLU, once
    /// the backward has applied the mask in place), so the layer and its ReLU each have only one of the two.
    /// </summary>
    private static void EmitLayerAccess(SourceWriter writer, KernelPlan plan)
    {
        writer.Line("/// <summary>The named layer's output in the last Forward, TrainStep or gradient call (n*C*H*W floats, shapes in Summary).</summary>")
            .Open($"public override {ReadOnlySpan} LayerOutput(string layerName) => layerName switch");
        foreach (PlanStep step in plan.Steps)
        {
            string output = $"Slice({Field(step, "output")}, _lastCount * {Format.Invariant(step.OutputShape.Elements)})";
            if (step.FusedRelu is null)
            {
                writer.Line($"\"{step.Layer.Name}\" => {output},");
            }
            else
            {
                writer.Line($"\"{step.FusedRelu}\" => {output},")
                    .Line($"\"{step.Layer.Name}\" => throw NotKept(layerName, \"output\", \"{step.FusedRelu}\"),");
            }
        }

        writer.Line("_ => throw UnknownLayer(layerName),")
            .Close(";").Line();

        writer.Line("/// <summary>d(loss or score)/d(the named layer's output) from the last TrainStep, InputGradient or ScoreGradient.</summary>")
            .Open($"public override {ReadOnlySpan} LayerGradient(string layerName) => layerName switch");
        foreach (PlanStep step in plan.Steps)
        {
            writer.Line($"\"{step.Layer.Name}\" => Slice({Field(step, "gradient")}, _lastCount * {Format.Invariant(step.OutputShape.Elements)}),");
            if (step.FusedRelu is not null)
            {
                writer.Line($"\"{step.FusedRelu}\" => throw NotKept(layerName, \"gradient\", \"{step.Layer.Name}\"),");
            }
        }

        writer.Line("_ => throw UnknownLayer(layerName),")
            .Close(";").Line();
    }

    private static void EmitShapeStructs(SourceWriter writer, KernelPlan plan)
    {
        foreach (PlanStep step in plan.Steps)
        {
            Shape input = step.InputShape, output = step.OutputShape;
            (string Interface, (string, int)[] Members)? shape = step.Layer.Spec switch
            {
                ConvSpec conv => ("IConvShape", ConvMembers(input, output, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation, conv.Groups)),
                ConvTransposeSpec conv => ("IConvShape", ConvMembers(input, output, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation, conv.Groups)),
                PoolSpec pool =>
                ("IPoolShape", [("Channels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width),
                    ("OutHeight", output.Height), ("OutWidth", output.Width), ("Kernel", pool.Kernel), ("Stride", pool.Stride), ("Pad", pool.Pad)]),
                DenseSpec => ("IDenseShape", [("InFeatures", (int)input.Elements), ("OutFeatures", output.Channels)]),
                _ => null,
            };
            if (shape is not { } s)
            {
                continue;
            }

            writer.Line($"/// <summary>{step.Layer.Name}: {step.Layer.Description}, {input} -> {output}.</summary>")
                .Open($"private readonly struct {step.Identifier}Shape : {Kernels}{s.Interface}");
            foreach ((string member, int value) in s.Members)
            {
                writer.Line($"public static int {member} => {Format.Invariant(value)};");
            }

            writer.Close().Line();
        }
    }

    private static (string, int)[] ConvMembers(Shape input, Shape output, int kernel, int stride, int pad, int dilation, int groups) =>
    [
        ("InChannels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width),
        ("OutChannels", output.Channels), ("OutHeight", output.Height), ("OutWidth", output.Width),
        ("Kernel", kernel), ("Stride", stride), ("Pad", pad), ("Dilation", dilation), ("Groups", groups),
    ];

    private static void EmitFields(SourceWriter writer, KernelPlan plan)
    {
        foreach (PlanStep step in plan.Steps)
        {
            writer.Line($"// {Describe(step)}");
            foreach (TensorSpec tensor in step.Layer.Tensors)
            {
                writer.Line($"private readonly {Runtime}Parameter {TensorField(step, tensor)};");
            }

            foreach (PlanBuffer buffer in step.Buffers)
            {
                writer.Line($"private readonly {buffer.ElementType}[] {Field(step, buffer.Role)};");
            }
        }

        writer.Line("private readonly float[] _inputGradient;")
            .Line("private ulong _dropoutState;")
            .Line("private int _lastCount;")
            .Line();
    }

    private static void EmitConstructor(SourceWriter writer, KernelPlan plan, string name)
    {
        Shape input = plan.Network.Input;
        writer.Line("/// <summary>Creates the network with its parameters initialised (He for layers followed by ReLU, Xavier otherwise,")
            .Line("/// biases 0, batch norm 1 and 0) and every buffer allocated for <paramref name=\"batchSize\"/> images.</summary>")
            .Line("/// <param name=\"batchSize\">The most images one call takes.</param>")
            .Line("/// <param name=\"seed\">Seeds initialisation and dropout: same seed and threads, same results.</param>")
            .Line("/// <param name=\"threads\">Kernel worker threads; 0 means one per processor.</param>")
            .Line($"public {name}(int batchSize, int seed = 0, int threads = 0)")
            .Open($"    : base(batchSize, seed, threads, {Runtime}TensorShape.Image({Format.Invariant(input.Channels)}, {Format.Invariant(input.Height)}, {Format.Invariant(input.Width)}))");
        foreach (PlanStep step in plan.Steps)
        {
            bool he = step.FusedRelu is not null
                || (step.Index + 1 < plan.Steps.Count && plan.Steps[step.Index + 1] is { Kind: StepKind.BatchNorm, FusedRelu: not null });
            foreach (TensorSpec tensor in step.Layer.Tensors)
            {
                writer.Line($"{TensorField(step, tensor)} = {Initialiser(step, tensor, he)};");
                if (tensor.Key.EndsWith(".running_var", System.StringComparison.Ordinal))
                {
                    // state_dict order: a batch norm's num_batches_tracked follows its running variance.
                    writer.Line($"AddBatchCounter(\"{tensor.Key.Substring(0, tensor.Key.Length - "running_var".Length)}num_batches_tracked\");");
                }
            }

            foreach (PlanBuffer buffer in step.Buffers)
            {
                string length = (buffer.PerImage ? "batchSize * " : "") + Format.Invariant(buffer.Elements);
                writer.Line($"{Field(step, buffer.Role)} = new {buffer.ElementType}[{length}];");
            }
        }

        writer.Line("_inputGradient = new float[batchSize * InputLength];")
            .Line("_dropoutState = DropoutSeed;")
            .Close().Line();
    }

    private static string Initialiser(PlanStep step, TensorSpec tensor, bool he)
    {
        string key = $"\"{tensor.Key}\"";
        string dimensions = "[" + string.Join(", ", tensor.Dimensions.Select(d => Format.Invariant(d))) + "]";
        string suffix = tensor.Key.Substring(tensor.Key.LastIndexOf('.') + 1);
        int[] d = tensor.Dimensions.ToArray();
        return (step.Kind, suffix) switch
        {
            (StepKind.BatchNorm, "weight") or (StepKind.BatchNorm, "running_var") =>
                $"AddParameter({key}, {dimensions}, trainable: {(suffix == "weight" ? "true" : "false")}, fill: 1f)",
            (StepKind.BatchNorm, "running_mean") => $"AddParameter({key}, {dimensions}, trainable: false)",
            (_, "bias") => $"AddParameter({key}, {dimensions}, trainable: true)",
            // PyTorch's fans: weight [a, b, k, k] has fan_in b*k*k and fan_out a*k*k (so for a transposed
            // convolution, whose weight is [in, out/groups, k, k], they swap roles exactly as in PyTorch).
            _ when he => $"AddHeParameter({key}, {dimensions}, fanIn: {Format.Invariant(Fan(d, 1))})",
            _ => $"AddXavierParameter({key}, {dimensions}, fanIn: {Format.Invariant(Fan(d, 1))}, fanOut: {Format.Invariant(Fan(d, 0))})",
        };
    }

    private static int Fan(int[] dimensions, int axis)
    {
        int fan = dimensions[axis];
        for (int i = 2; i < dimensions.Length; i++)
        {
            fan *= dimensions[i];
        }

        return fan;
    }

    /// <summary>Each step kind's forward call: reads <see cref="Input"/>, writes its output buffer.</summary>
    private static void EmitForward(SourceWriter writer, PlanStep step)
    {
        string x = Input(step), y = Output(step);
        string relu = step.FusedRelu is null ? "false" : "true";
        Shape output = step.OutputShape;
        switch (step.Kind)
        {
            case StepKind.Conv:
                writer.Line($"{Kernels}Conv2d.Forward<{step.Identifier}Shape>(context, {x}, {Value(step, "weight")}, {Value(step, "bias")}, {y}, n, relu: {relu});");
                break;
            case StepKind.ConvTranspose:
                writer.Line($"{Kernels}ConvTranspose2d.Forward<{step.Identifier}Shape>(context, {x}, {Value(step, "weight")}, {Value(step, "bias")}, {y}, n, relu: {relu});");
                break;
            case StepKind.Dense:
                writer.Line($"{Kernels}Dense.Forward<{step.Identifier}Shape>(context, {x}, {Value(step, "weight")}, {Value(step, "bias")}, {y}, n, relu: {relu});");
                break;
            case StepKind.BatchNorm:
                var bn = (BatchNormSpec)step.Layer.Spec;
                string common = $"{Value(step, "weight")}, {Value(step, "bias")}, {Value(step, "running_mean")}, {Value(step, "running_var")}";
                writer.Open("if (training)")
                    .Line($"{Kernels}BatchNorm.ForwardTraining(context, {x}, {y}, {common}, {Field(step, "savedMean")}, {Field(step, "savedInvStd")}, "
                        + $"n, {Format.Invariant(output.Channels)}, {Format.Invariant(output.Height * output.Width)}, eps: {Format.FloatLiteral(bn.Eps)}, momentum: {Format.FloatLiteral(bn.Momentum)}, relu: {relu});")
                    .Close()
                    .Open("else")
                    .Line($"{Kernels}BatchNorm.ForwardInference(context, {x}, {y}, {common}, "
                        + $"n, {Format.Invariant(output.Channels)}, {Format.Invariant(output.Height * output.Width)}, eps: {Format.FloatLiteral(bn.Eps)}, relu: {relu});")
                    .Close();
                break;
            case StepKind.Relu:
                writer.Line($"{Kernels}Relu.Forward({x}, {y});");
                break;
            case StepKind.MaxPool:
                writer.Line($"{Kernels}MaxPool2d.Forward<{step.Identifier}Shape>(context, {x}, {y}, {Buffer(step, "switches")}, n);");
                break;
            case StepKind.AvgPool:
                writer.Line($"{Kernels}AvgPool2d.Forward<{step.Identifier}Shape>(context, {x}, {y}, n);");
                break;
            case StepKind.GlobalAvgPool:
                writer.Line($"{Kernels}GlobalAvgPool.Forward(context, {x}, {y}, n, {Format.Invariant(output.Channels)}, {Format.Invariant(step.InputShape.Height * step.InputShape.Width)});");
                break;
            case StepKind.Dropout:
                var dropout = (DropoutSpec)step.Layer.Spec;
                writer.Open("if (training)")
                    .Line($"{Kernels}Dropout.Forward({x}, {y}, {Buffer(step, "mask")}, {Format.FloatLiteral(dropout.P)}, ref _dropoutState);")
                    .Close()
                    .Open("else")
                    .Line($"{x}.CopyTo({y});")
                    .Close();
                break;
        }
    }

    /// <summary>
    /// Each step kind's backward: from its output gradient (the fused ReLU's mask applied first) to its parameter
    /// gradients (training only) and its input's gradient (skipped for the first step unless the input gradient is asked for).
    /// </summary>
    private static void EmitBackward(SourceWriter writer, PlanStep step)
    {
        string dy = Gradient(step), x = Input(step), dx = InputGradient(step);
        Shape output = step.OutputShape;
        if (step.FusedRelu is not null)
        {
            writer.Line($"{Kernels}Relu.Backward({Output(step)}, {dy});");
        }

        string needInput = step.Index == 0 ? "if (inputGradient)" : "";
        switch (step.Kind)
        {
            case StepKind.Conv or StepKind.ConvTranspose or StepKind.Dense:
                string kernel = step.Kind switch { StepKind.Conv => "Conv2d", StepKind.ConvTranspose => "ConvTranspose2d", _ => "Dense" };
                writer.Open("if (training)")
                    .Line($"{Kernels}{kernel}.BackwardWeight<{step.Identifier}Shape>(context, {x}, {dy}, {Grad(step, "weight")}, {Grad(step, "bias")}, n);")
                    .Close();
                if (step.Index == 0)
                {
                    writer.Open(needInput);
                }

                writer.Line($"{Kernels}{kernel}.BackwardData<{step.Identifier}Shape>(context, {dy}, {Value(step, "weight")}, {dx}, n);");
                if (step.Index == 0)
                {
                    writer.Close();
                }

                break;
            case StepKind.BatchNorm:
                var bn = (BatchNormSpec)step.Layer.Spec;
                string channels = Format.Invariant(output.Channels), plane = Format.Invariant(output.Height * output.Width);
                writer.Open("if (training)")
                    .Line($"{Kernels}BatchNorm.Backward(context, {dy}, {x}, {Value(step, "weight")}, {Field(step, "savedMean")}, {Field(step, "savedInvStd")}, {dx}, "
                        + $"{Grad(step, "weight")}, {Grad(step, "bias")}, n, {channels}, {plane});")
                    .Close()
                    .Open("else")
                    .Line($"{Kernels}BatchNorm.BackwardInference({dy}, {Value(step, "weight")}, {Value(step, "running_var")}, {dx}, n, {channels}, {plane}, eps: {Format.FloatLiteral(bn.Eps)});")
                    .Close();
                break;
            default:
                if (step.Index == 0)
                {
                    writer.Open(needInput);
                }

                writer.Line(step.Kind switch
                {
                    StepKind.Relu => $"{dy}.CopyTo({dx}); {Kernels}Relu.Backward({Output(step)}, {dx});",
                    StepKind.MaxPool => $"{Kernels}MaxPool2d.Backward<{step.Identifier}Shape>(context, {dy}, {Buffer(step, "switches")}, {dx}, n);",
                    StepKind.AvgPool => $"{Kernels}AvgPool2d.Backward<{step.Identifier}Shape>(context, {dy}, {dx}, n);",
                    StepKind.GlobalAvgPool => $"{Kernels}GlobalAvgPool.Backward(context, {dy}, {dx}, n, {Format.Invariant(output.Channels)}, {Format.Invariant(step.InputShape.Height * step.InputShape.Width)});",
                    _ => $"if (training) {{ {Kernels}Dropout.Backward({dy}, {Buffer(step, "mask")}, {dx}); }} else {{ {dy}.CopyTo({dx}); }}",
                });
                if (step.Index == 0)
                {
                    writer.Close();
                }

                break;
        }
    }

    private static string Describe(PlanStep step) =>
        $"{step.Layer.Name}: {step.Layer.Description}" + (step.FusedRelu is null ? "" : $" + ReLU ({step.FusedRelu})") + $", {step.InputShape} -> {step.OutputShape}";

    private static string Input(PlanStep step) => step.Input is null
        ? "images"
        : $"Slice(_{step.Input}_output, n * {Format.Invariant(step.InputShape.Elements)})";

    private static string InputGradient(PlanStep step) => step.Input is null
        ? "Slice(_inputGradient, n * InputLength)"
        : $"Slice(_{step.Input}_gradient, n * {Format.Invariant(step.InputShape.Elements)})";

    private static string Output(PlanStep step) => Buffer(step, "output");

    private static string Gradient(PlanStep step) => Buffer(step, "gradient");

    private static string Buffer(PlanStep step, string role) => $"Slice({Field(step, role)}, n * {Format.Invariant(step.OutputShape.Elements)})";

    private static string Field(PlanStep step, string role) => $"_{step.Identifier}_{role}";

    private static string TensorField(PlanStep step, TensorSpec tensor) =>
        $"_{step.Identifier}_{Camel(tensor.Key.Substring(step.Layer.Name.Length + 1))}";

    private static string Value(PlanStep step, string suffix) => Tensor(step, suffix, "Value");

    private static string Grad(PlanStep step, string suffix) => Tensor(step, suffix, "Gradient");

    /// <summary>A parameter's value or gradient, or an empty span where the layer has no such tensor (a conv without bias).</summary>
    private static string Tensor(PlanStep step, string suffix, string member) =>
        step.Layer.Tensors.Any(t => t.Key == step.Layer.Name + "." + suffix)
            ? $"_{step.Identifier}_{Camel(suffix)}.{member}"
            : "default";

    private static string Camel(string suffix)
    {
        string[] parts = suffix.Split('_', '.');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p.Substring(1)));
    }
}
