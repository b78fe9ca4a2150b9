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
            .Open($"public override float TrainStep({ReadOnlySpan} images, global::System.ReadOnlySpan<int> labels, {Runtime}Optimizer optimizer)")
            .Line("global::System.ArgumentNullException.ThrowIfNull(optimizer);")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line("CheckLabels(labels, n * LabelsPerImage, ClassCount, nameof(labels));")
            .Line("RunForward(images, n, training: true);")
            .Line("MarkParametersChanged(); // running statistics moved; the optimiser moves the weights below")
            .Line("float loss = CheckLoss(LossAndGradient(labels, n));")
            .Line("RunBackward(images, n, training: true, inputGradient: false);")
            .Line("optimizer.Step(Parameters);")
            .Line("return loss;")
            .Close().Line();

        writer.Line("/// <summary>The scores of the last Forward or TrainStep (in training mode for TrainStep), one row per image.</summary>")
            .Line($"public override {ReadOnlySpan} LastScores => Slice({Field(last, "output")}, _lastCount * OutputLength);")
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

        if (pixel)
        {
            writer.Line("private float[]? _classWeights;")
                .Line()
                .Line("/// <summary>Per-class weights of the pixel loss, as PyTorch's CrossEntropyLoss(weight=): the loss is")
                .Line("/// sum(w[label] * loss) / sum(w[label]). Null (the default) weighs every class 1. Setting copies the array.</summary>")
                .Open("public float[]? ClassWeights")
                .Line("get => (float[]?)_classWeights?.Clone();")
                .Line("set => _classWeights = CheckClassWeights(value, ClassCount, nameof(ClassWeights));")
                .Close().Line();
        }

        writer.Open("private float LossAndGradient(global::System.ReadOnlySpan<int> labels, int n)")
            .Line(pixel
                ? $"return {Kernels}SoftmaxCrossEntropy.ForwardPixels({Output(last)}, labels, _classWeights, {Gradient(last)}, n, ClassCount, OutputLength / ClassCount);"
                : $"return {Kernels}SoftmaxCrossEntropy.Forward({Output(last)}, labels, {Gradient(last)}, n, ClassCount);")
            .Close().Line();

        PlanStep[] folding = plan.Steps.Where(s => s.FoldedBatchNorm is not null).ToArray();
        if (folding.Length > 0)
        {
            writer.Line("/// <summary>Inference weights with each batch norm folded into the layer before it, rebuilt when ParameterVersion moves on.</summary>")
                .Open("private void FoldBatchNorms()");
            foreach (PlanStep step in folding)
            {
                PlanStep norm = step.FoldedBatchNorm!;
                writer.Line($"// {step.Layer.Name} absorbs {norm.Layer.Name}")
                    .Line($"{Kernels}BatchNorm.Fold({Value(step, "weight")}, {Value(step, "bias")}, {Value(norm, "weight")}, {Value(norm, "bias")}, "
                        + $"{Value(norm, "running_mean")}, {Value(norm, "running_var")}, eps: {Format.FloatLiteral(((BatchNormSpec)norm.Layer.Spec).Eps)}, "
                        + $"{Field(step, "foldedWeight")}, {Field(step, "foldedBias")});");
            }

            writer.Line("_foldedVersion = ParameterVersion;")
                .Close().Line();
        }

        writer.Open($"private void RunForward({ReadOnlySpan} images, int n, bool training)")
            .Line($"{Kernels}KernelContext context = Context;")
            .Line("_lastCount = n;");
        if (folding.Length > 0)
        {
            writer.Line("bool folded = _lastFolded = !training && FoldBatchNorm;")
                .Open("if (folded && _foldedVersion != ParameterVersion)")
                .Line("FoldBatchNorms();")
                .Close();
        }

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
        foreach (PlanStep step in plan.Steps.Where(s => s.EndsLayer))
        {
            string output = $"Slice({Field(step, "output")}, _lastCount * {Format.Invariant(step.OutputShape.Elements)})";
            if (step.FoldedBatchNorm is { } norm)
            {
                writer.Line($"\"{step.Layer.Name}\" => _lastFolded ? throw NotKept(layerName, \"output\", \"{norm.Layer.Name}\") : {output},");
            }
            else if (step.FusedRelu is null)
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
        foreach (PlanStep step in plan.Steps.Where(s => s.EndsLayer))
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

    /// <summary>The compile-time shapes the kernel templates are instantiated with: one set per layer, shared by its time steps.</summary>
    private static void EmitShapeStructs(SourceWriter writer, KernelPlan plan)
    {
        foreach (PlanStep step in plan.Steps.Where(s => s.TimeStep is null or 0))
        {
            Shape input = step.InputShape, output = step.OutputShape;
            (string Suffix, string Interface, (string, int)[] Members)[] shapes = step.Layer.Spec switch
            {
                ConvSpec conv => [("Shape", "IConvShape", ConvMembers(input, output, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation, conv.Groups))],
                ConvTransposeSpec conv => [("Shape", "IConvShape", ConvMembers(input, output, conv.Kernel, conv.Stride, conv.Pad, conv.Dilation, conv.Groups))],
                PoolSpec pool =>
                [("Shape", "IPoolShape", [("Channels", input.Channels), ("InHeight", input.Height), ("InWidth", input.Width),
                    ("OutHeight", output.Height), ("OutWidth", output.Width), ("Kernel", pool.Kernel), ("Stride", pool.Stride), ("Pad", pool.Pad)])],
                DenseSpec => [("Shape", "IDenseShape", [("InFeatures", (int)input.Elements), ("OutFeatures", output.Channels)])],
                // The branch convolutions keep the size: stride 1, "same" padding.
                ResidualSpec residual => [("Shape", "IConvShape", ConvMembers(input, output, residual.Kernel, 1, residual.Kernel / 2, 1, 1))],
                ImexSpec imex =>
                [
                    ("Shape", "IConvShape", ConvMembers(input, output, imex.Kernel, 1, imex.Kernel / 2, 1, 1)),
                    ("Implicit", "IImplicitShape", [("Channels", input.Channels), ("Height", input.Height), ("Width", input.Width),
                        ("Kernel", imex.ImplicitKernel), ("Groups", imex.Groups == 0 ? input.Channels : imex.Groups)]),
                ],
                _ => [],
            };
            foreach ((string suffix, string kind, (string, int)[] members) in shapes)
            {
                writer.Line($"/// <summary>{step.Layer.Name}: {step.Layer.Description}, {input} -> {output}.</summary>")
                    .Open($"private readonly struct {step.LayerIdentifier}{suffix} : {Kernels}{kind}");
                foreach ((string member, int value) in members)
                {
                    writer.Line($"public static int {member} => {Format.Invariant(value)};");
                }

                writer.Close().Line();
            }
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
            foreach (TensorSpec tensor in step.Tensors)
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
            .Line("private int _lastCount;");
        if (plan.Steps.Any(s => s.FoldedBatchNorm is not null))
        {
            writer.Line("private long _foldedVersion = -1;")
                .Line("private bool _lastFolded;");
        }

        writer.Line();
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
            foreach (TensorSpec tensor in step.Tensors)
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

    /// <summary>
    /// A tensor's registration and initialisation. Batch norms (a layer, or a residual or IMEX step's "bn." and
    /// "norm.") start as the identity. Weights followed by a ReLU, directly or through a batch norm, are He-initialised
    /// (a residual step's conv1 and an IMEX step's K too); the rest (a residual conv2, the implicit C) Xavier.
    /// </summary>
    private static string Initialiser(PlanStep step, TensorSpec tensor, bool he)
    {
        string key = $"\"{tensor.Key}\"";
        string dimensions = "[" + string.Join(", ", tensor.Dimensions.Select(d => Format.Invariant(d))) + "]";
        string local = tensor.Key.Substring(step.TensorPrefix.Length);
        int dot = local.LastIndexOf('.');
        string module = dot < 0 ? "" : local.Substring(0, dot), suffix = local.Substring(dot + 1);
        bool norm = step.Kind == StepKind.BatchNorm || module is "bn" or "norm";
        int[] d = tensor.Dimensions.ToArray();
        return (norm, suffix) switch
        {
            (true, "weight") => $"AddParameter({key}, {dimensions}, trainable: true, fill: 1f)",
            (true, "running_var") => $"AddParameter({key}, {dimensions}, trainable: false, fill: 1f)",
            (true, "running_mean") => $"AddParameter({key}, {dimensions}, trainable: false)",
            (_, "bias") => $"AddParameter({key}, {dimensions}, trainable: true)",
            // PyTorch's fans: weight [a, b, k, k] has fan_in b*k*k and fan_out a*k*k (so for a transposed
            // convolution, whose weight is [in, out/groups, k, k], they swap roles exactly as in PyTorch).
            _ when he || module is "conv1" or "conv" => $"AddHeParameter({key}, {dimensions}, fanIn: {Format.Invariant(Fan(d, 1))})",
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
            case StepKind.Conv or StepKind.ConvTranspose or StepKind.Dense:
                string call = $"{Kernels}{KernelClass(step.Kind)}.Forward<{step.LayerIdentifier}Shape>(context, {x}, ";
                if (step.FoldedBatchNorm is { } norm)
                {
                    writer.Open("if (folded)")
                        .Line($"{call}{Field(step, "foldedWeight")}, {Field(step, "foldedBias")}, {Output(norm)}, n, relu: {(norm.FusedRelu is null ? "false" : "true")});")
                        .Close()
                        .Open("else");
                }

                writer.Line($"{call}{Value(step, "weight")}, {Value(step, "bias")}, {y}, n, relu: {relu});");
                if (step.FoldedBatchNorm is not null)
                {
                    writer.Close();
                }

                break;
            case StepKind.BatchNorm:
                EmitBatchNormForward(writer, step, "", x, y, "savedMean", "savedInvStd", step.FusedRelu is not null);
                break;
            case StepKind.Relu:
                writer.Line($"{Kernels}Relu.Forward({x}, {y});");
                break;
            case StepKind.MaxPool:
                writer.Line($"{Kernels}MaxPool2d.Forward<{step.LayerIdentifier}Shape>(context, {x}, {y}, {Buffer(step, "switches")}, n);");
                break;
            case StepKind.AvgPool:
                writer.Line($"{Kernels}AvgPool2d.Forward<{step.LayerIdentifier}Shape>(context, {x}, {y}, n);");
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
            case StepKind.ResidualStep:
                EmitBranchForward(writer, step, y);
                writer.Line($"{Kernels}Elementwise.AddScaled({x}, {Format.FloatLiteral(((ResidualSpec)step.Layer.Spec).H)}, {y}, {y});");
                break;
            case StepKind.ImexStep:
                EmitImexForward(writer, step);
                break;
        }
    }

    /// <summary>
    /// An IMEX time step. The paper's Y + hLY on the right-hand side makes (I + hL)^-1 (Y + hLY + hF) = Y + h (I + hL)^-1 F,
    /// so it solves for the explicit branch alone: no L Y product, and exactly the same step. The released form solves
    /// BN(Y + hF).
    /// </summary>
    private static void EmitImexForward(SourceWriter writer, PlanStep step)
    {
        var imex = (ImexSpec)step.Layer.Spec;
        string x = Input(step), y = Output(step), h = Format.FloatLiteral(imex.H);
        string solve = $"{Kernels}ImplicitSolve.Forward<{step.LayerIdentifier}Implicit>(context, ";
        EmitBranchForward(writer, step, Buffer(step, "explicit"));
        if (imex.ReleasedVariant)
        {
            writer.Line($"{Kernels}Elementwise.AddScaled({x}, {h}, {Buffer(step, "explicit")}, {Buffer(step, "rhs")});");
            EmitBatchNormForward(writer, step, "norm.", Buffer(step, "rhs"), Buffer(step, "normed"), "normMean", "normInvStd", relu: false);
            writer.Line($"{solve}{Buffer(step, "normed")}, {Value(step, "implicit.weight")}, {h}, {y}, n);");
        }
        else
        {
            writer.Line($"{solve}{Buffer(step, "explicit")}, {Value(step, "implicit.weight")}, {h}, {Buffer(step, "solved")}, n);")
                .Line($"{Kernels}Elementwise.AddScaled({x}, {h}, {Buffer(step, "solved")}, {y});");
        }
    }

    /// <summary>
    /// The explicit branch of residual and IMEX steps into <paramref name="output"/>: K2 relu(BN(K1 Y)), where K2 is
    /// a second convolution or K1's transpose (a transposed convolution over the same weight).
    /// </summary>
    private static void EmitBranchForward(SourceWriter writer, PlanStep step, string output)
    {
        string shape = step.LayerIdentifier + "Shape", conv = Buffer(step, "conv"), bn = Buffer(step, "bn");
        writer.Line($"{Kernels}Conv2d.Forward<{shape}>(context, {Input(step)}, {Value(step, step.BranchWeight)}, default, {conv}, n, relu: false);");
        EmitBatchNormForward(writer, step, "bn.", conv, bn, "bnMean", "bnInvStd", relu: true);
        writer.Line(step.SecondBranchWeight is { } second
            ? $"{Kernels}Conv2d.Forward<{shape}>(context, {bn}, {Value(step, second)}, default, {output}, n, relu: false);"
            : $"{Kernels}ConvTranspose2d.Forward<{shape}>(context, {bn}, {Value(step, step.BranchWeight)}, default, {output}, n, relu: false); // K^T");
    }

    /// <summary>
    /// A batch norm (a layer of its own, or the <paramref name="prefix"/> part of a residual or IMEX step): batch
    /// statistics in training, running statistics otherwise; nothing in inference when it is folded into the layer before.
    /// </summary>
    private static void EmitBatchNormForward(SourceWriter writer, PlanStep step, string prefix, string x, string y, string mean, string invStd, bool relu)
    {
        (float eps, float momentum) = step.Layer.Spec is BatchNormSpec bn ? (bn.Eps, bn.Momentum) : (BatchNormSpec.DefaultEps, BatchNormSpec.DefaultMomentum);
        Shape output = step.OutputShape;
        string common = $"{Value(step, prefix + "weight")}, {Value(step, prefix + "bias")}, {Value(step, prefix + "running_mean")}, {Value(step, prefix + "running_var")}";
        string dims = $"n, {Format.Invariant(output.Channels)}, {Format.Invariant(output.Height * output.Width)}, eps: {Format.FloatLiteral(eps)}";
        writer.Open("if (training)")
            .Line($"{Kernels}BatchNorm.ForwardTraining(context, {x}, {y}, {common}, {Field(step, mean)}, {Field(step, invStd)}, {dims}, momentum: {Format.FloatLiteral(momentum)}, relu: {(relu ? "true" : "false")});")
            .Close()
            .Open(step.IsFolded ? "else if (!folded)" : "else")
            .Line($"{Kernels}BatchNorm.ForwardInference(context, {x}, {y}, {common}, {dims}, relu: {(relu ? "true" : "false")});")
            .Close();
    }

    /// <summary>
    /// Each step kind's backward: from its output gradient (the fused ReLU's mask applied first) to its parameter
    /// gradients (training only) and its input's gradient (skipped for the first step unless the input gradient is asked for).
    /// Inference folding does not reach the backward: evaluation-mode gradients go through the unfolded layers, which
    /// compute the same function.
    /// </summary>
    private static void EmitBackward(SourceWriter writer, PlanStep step)
    {
        string dy = Gradient(step), x = Input(step), dx = InputGradient(step);
        Shape output = step.OutputShape;
        if (step.FusedRelu is not null)
        {
            writer.Line($"{Kernels}Relu.Backward({Output(step)}, {dy});");
        }

        switch (step.Kind)
        {
            case StepKind.Conv or StepKind.ConvTranspose or StepKind.Dense:
                string kernel = KernelClass(step.Kind), shape = step.LayerIdentifier + "Shape";
                writer.Open("if (training)")
                    .Line($"{Kernels}{kernel}.BackwardWeight<{shape}>(context, {x}, {dy}, {Grad(step, "weight")}, {Grad(step, "bias")}, n);")
                    .Close();
                EmitInputGradient(writer, step, $"{Kernels}{kernel}.BackwardData<{shape}>(context, {dy}, {Value(step, "weight")}, {dx}, n);");
                break;
            case StepKind.BatchNorm:
                EmitBatchNormBackward(writer, step, "", dy, x, dx, "savedMean", "savedInvStd");
                break;
            case StepKind.ResidualStep:
                EmitResidualBackward(writer, step);
                break;
            case StepKind.ImexStep:
                EmitImexBackward(writer, step);
                break;
            default:
                EmitInputGradient(writer, step, step.Kind switch
                {
                    StepKind.Relu => $"{dy}.CopyTo({dx}); {Kernels}Relu.Backward({Output(step)}, {dx});",
                    StepKind.MaxPool => $"{Kernels}MaxPool2d.Backward<{step.LayerIdentifier}Shape>(context, {dy}, {Buffer(step, "switches")}, {dx}, n);",
                    StepKind.AvgPool => $"{Kernels}AvgPool2d.Backward<{step.LayerIdentifier}Shape>(context, {dy}, {dx}, n);",
                    StepKind.GlobalAvgPool => $"{Kernels}GlobalAvgPool.Backward(context, {dy}, {dx}, n, {Format.Invariant(output.Channels)}, {Format.Invariant(step.InputShape.Height * step.InputShape.Width)});",
                    _ => $"if (training) {{ {Kernels}Dropout.Backward({dy}, {Buffer(step, "mask")}, {dx}); }} else {{ {dy}.CopyTo({dx}); }}",
                });
                break;
        }
    }

    /// <summary>
    /// Residual step backward. Forward: out = Y + h K2 relu(BN(K1 Y)), so the branch's output gradient is h dOut and the
    /// skip path passes dOut.
    /// </summary>
    private static void EmitResidualBackward(SourceWriter writer, PlanStep step)
    {
        string dy = Gradient(step), scratch = Buffer(step, "scratch");
        writer.Line($"{Kernels}Elementwise.Scale({dy}, {Format.FloatLiteral(((ResidualSpec)step.Layer.Spec).H)}, {scratch});");
        EmitBranchBackward(writer, step, scratch, dy);
    }

    /// <summary>
    /// IMEX step backward. The solve's adjoint is the same solve (I + hC^T C is symmetric); the kernel also returns dC.
    /// Paper form, out = Y + h A^-1 F: d(explicit) = A^-1 (h dOut), and the skip path passes dOut. Released form,
    /// out = A^-1 BN(Y + hF): d(normed) = A^-1 dOut, through the batch norm to d(rhs), which is the skip path's
    /// gradient, and d(explicit) = h d(rhs).
    /// </summary>
    private static void EmitImexBackward(SourceWriter writer, PlanStep step)
    {
        var imex = (ImexSpec)step.Layer.Spec;
        string dy = Gradient(step), h = Format.FloatLiteral(imex.H), explicitGradient = Buffer(step, "explicitGradient");
        string solve = $"{Kernels}ImplicitSolve.Backward<{step.LayerIdentifier}Implicit>(context, ";
        string implicitGradient = $"training ? {Grad(step, "implicit.weight")} : default";
        if (imex.ReleasedVariant)
        {
            string normedGradient = Buffer(step, "normedGradient"), rhsGradient = Buffer(step, "rhsGradient");
            writer.Line($"{solve}{dy}, {Output(step)}, {Value(step, "implicit.weight")}, {h}, {normedGradient}, {implicitGradient}, n);");
            EmitBatchNormBackward(writer, step, "norm.", normedGradient, Buffer(step, "rhs"), rhsGradient, "normMean", "normInvStd");
            writer.Line($"{Kernels}Elementwise.Scale({rhsGradient}, {h}, {explicitGradient});");
            EmitBranchBackward(writer, step, explicitGradient, rhsGradient);
        }
        else
        {
            string scratch = Buffer(step, "scratch");
            writer.Line($"{Kernels}Elementwise.Scale({dy}, {h}, {scratch});")
                .Line($"{solve}{scratch}, {Buffer(step, "solved")}, {Value(step, "implicit.weight")}, {h}, {explicitGradient}, {implicitGradient}, n);");
            EmitBranchBackward(writer, step, explicitGradient, dy);
        }
    }

    /// <summary>
    /// The explicit branch's backward from its output gradient <paramref name="branchGradient"/>: K2's gradients, the
    /// ReLU mask and batch norm, then K1's; the step's input gradient is <paramref name="skipGradient"/> plus K1^T
    /// d(conv). Where K2 = K1^T, both convolutions feed K1's gradient (the second through weightScratch).
    /// </summary>
    private static void EmitBranchBackward(SourceWriter writer, PlanStep step, string branchGradient, string skipGradient)
    {
        string shape = step.LayerIdentifier + "Shape", first = step.BranchWeight, scratch = Buffer(step, "scratch");
        string bn = Buffer(step, "bn"), bnGradient = Buffer(step, "bnGradient"), convGradient = Buffer(step, "convGradient");
        (string kernel, string weight, string weightGradient) = step.SecondBranchWeight is { } second
            ? ("Conv2d", Value(step, second), Grad(step, second))
            : ("ConvTranspose2d", Value(step, first), Field(step, "weightScratch"));
        writer.Open("if (training)")
            .Line($"{Kernels}{kernel}.BackwardWeight<{shape}>(context, {bn}, {branchGradient}, {weightGradient}, default, n);")
            .Close()
            .Line($"{Kernels}{kernel}.BackwardData<{shape}>(context, {branchGradient}, {weight}, {bnGradient}, n);")
            .Line($"{Kernels}Relu.Backward({bn}, {bnGradient});");
        EmitBatchNormBackward(writer, step, "bn.", bnGradient, Buffer(step, "conv"), convGradient, "bnMean", "bnInvStd");
        writer.Open("if (training)")
            .Line($"{Kernels}Conv2d.BackwardWeight<{shape}>(context, {Input(step)}, {convGradient}, {Grad(step, first)}, default, n);");
        if (step.SecondBranchWeight is null)
        {
            writer.Line($"{Kernels}Elementwise.AddScaled({Grad(step, first)}, 1f, {Field(step, "weightScratch")}, {Grad(step, first)});");
        }

        writer.Close();
        EmitInputGradient(writer, step,
            $"{Kernels}Conv2d.BackwardData<{shape}>(context, {convGradient}, {Value(step, first)}, {scratch}, n);",
            $"{Kernels}Elementwise.AddScaled({skipGradient}, 1f, {scratch}, {InputGradient(step)});");
    }

    /// <summary>A batch norm's backward: batch statistics in training, the fixed affine map in evaluation mode.</summary>
    private static void EmitBatchNormBackward(SourceWriter writer, PlanStep step, string prefix, string dy, string x, string dx, string mean, string invStd)
    {
        float eps = step.Layer.Spec is BatchNormSpec bn ? bn.Eps : BatchNormSpec.DefaultEps;
        Shape output = step.OutputShape;
        string channels = Format.Invariant(output.Channels), plane = Format.Invariant(output.Height * output.Width);
        writer.Open("if (training)")
            .Line($"{Kernels}BatchNorm.Backward(context, {dy}, {x}, {Value(step, prefix + "weight")}, {Field(step, mean)}, {Field(step, invStd)}, {dx}, "
                + $"{Grad(step, prefix + "weight")}, {Grad(step, prefix + "bias")}, n, {channels}, {plane});")
            .Close()
            .Open("else")
            .Line($"{Kernels}BatchNorm.BackwardInference({dy}, {Value(step, prefix + "weight")}, {Value(step, prefix + "running_var")}, {dx}, n, {channels}, {plane}, eps: {Format.FloatLiteral(eps)});")
            .Close();
    }

    /// <summary>The lines that write a step's input gradient: the first step writes d(images) only when asked.</summary>
    private static void EmitInputGradient(SourceWriter writer, PlanStep step, params string[] lines)
    {
        if (step.Index == 0)
        {
            writer.Open("if (inputGradient)");
        }

        foreach (string line in lines)
        {
            writer.Line(line);
        }

        if (step.Index == 0)
        {
            writer.Close();
        }
    }

    private static string KernelClass(StepKind kind) => kind switch
    {
        StepKind.Conv => "Conv2d",
        StepKind.ConvTranspose => "ConvTranspose2d",
        _ => "Dense",
    };

    private static string Describe(PlanStep step) =>
        step.Layer.Name + (step.TimeStep is int t ? $" step {Format.Invariant(t)}" : "") + $": {step.Layer.Description}"
        + (step.FusedRelu is null ? "" : $" + ReLU ({step.FusedRelu})") + (step.FoldedBatchNorm is { } norm ? $", {norm.Layer.Name} folded in for inference" : "")
        + $", {step.InputShape} -> {step.OutputShape}";

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

    private static string TensorField(PlanStep step, TensorSpec tensor) => $"_{step.Identifier}_{Camel(tensor.Key.Substring(step.TensorPrefix.Length))}";

    private static string Value(PlanStep step, string suffix) => Tensor(step, suffix, "Value");

    private static string Grad(PlanStep step, string suffix) => Tensor(step, suffix, "Gradient");

    /// <summary>A parameter's value or gradient, or an empty span where the layer has no such tensor (a conv without bias).</summary>
    private static string Tensor(PlanStep step, string suffix, string member) =>
        step.Tensors.Any(t => t.Key == step.TensorPrefix + suffix)
            ? $"_{step.Identifier}_{Camel(suffix)}.{member}"
            : "default";

    private static string Camel(string suffix)
    {
        string[] parts = suffix.Split('_', '.');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p.Substring(1)));
    }
}
