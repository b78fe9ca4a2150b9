using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Emitting.Cpu;

/// <summary>
/// Prints a kernel program as C# over the CPU kernels (kernels/): named sizes, shape structs, parameter and storage
/// fields, the constructor, the public entry points and one method per routine, one statement per call
/// (<see cref="Statement"/>: one case per call record).
/// </summary>
internal sealed class CpuPrinter
{
    private const string Kernels = "global::NetCompiler.Kernels.";
    private const string Runtime = "global::NetCompiler.";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";

    private readonly KernelProgram _program;
    private readonly SourceWriter _writer;
    private readonly ProgramNames _names;
    private readonly CpuCalls _calls;
    private readonly bool _device; // the compilation references NetCompiler.Ilgpu: entry points dispatch to OnDevice

    private CpuPrinter(KernelProgram program, SourceWriter writer, bool device)
    {
        _device = device;
        _program = program;
        _writer = writer;
        _names = new ProgramNames(program);
        _calls = new CpuCalls(program, _names);
    }

    /// <param name="device">Whether the network also runs on an ILGPU device (IlgpuPrinter prints that part).</param>
    public static void Print(SourceWriter writer, KernelProgram program, bool device) => new CpuPrinter(program, writer, device).Print();

    private void Print()
    {
        Shape output = _program.Network.Output;
        if (!_names.FloatTargets)
        {
            _writer.Line("/// <summary>Labels per image: " + (_names.Pixel ? "one per output pixel" : "one class") + ".</summary>")
                .Line($"public const int LabelsPerImage = {(_names.Pixel ? Format.Invariant(output.Height * output.Width) : "1")};")
                .Line();
        }

        PrintProgramText();
        PrintSizes();
        PrintShapes();
        PrintFields();
        PrintConstructor();
        PrintEntryPoints();
        PrintLayerAccess();
        PrintRoutines();
    }

    private void PrintProgramText()
    {
        _writer.Line("/// <summary>The kernel program this class runs, as text: buffers, tensors and each routine's calls.</summary>")
            .Line("public static string Program { get; } =");
        string[] lines = ProgramText.Print(_program).TrimEnd('\n').Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            // A long call goes on several literals, broken after an operand, so the source stays about 120 columns wide.
            List<string> pieces = Pieces(lines[i].Replace("\\", "\\\\").Replace("\"", "\\\""), 100);
            for (int p = 0; p < pieces.Count; p++)
            {
                bool last = p + 1 == pieces.Count;
                _writer.Line("    \"" + pieces[p] + (last ? "\\n\"" : "\"") + (last && i + 1 == lines.Length ? ";" : " +"));
            }
        }

        _writer.Line();
    }

    private void PrintSizes()
    {
        _writer.Line("/// <summary>Planned storage per image of an evaluation-mode forward pass alone.</summary>")
            .Line($"public const long InferenceBytesPerImage = {Format.Invariant(_program.InferenceBytesPerImage)};")
            .Line("/// <summary>Planned storage per image of this network: forward, backward and their saved state.</summary>")
            .Line($"public const long TrainingBytesPerImage = {Format.Invariant(_program.Memory.BytesPerImage)};")
            .Line();
        foreach (SizeConstant size in _program.Sizes.Where(s => s.Name != "InputLength"))
        {
            _writer.Line($"private const int {size.Name} = {Format.Invariant(size.Elements)}; // {size.Description}");
        }

        _writer.Line();
    }

    /// <summary>The compile-time shapes the kernel templates are instantiated with: one set per layer, shared by its time steps.</summary>
    private void PrintShapes()
    {
        foreach (ShapeStruct shape in _program.Shapes)
        {
            _writer.Line($"/// <summary>{shape.Comment}</summary>")
                .Open($"private readonly struct {shape.Name} : {Kernels}{shape.Interface}");
            foreach (ShapeMember member in shape.Members)
            {
                _writer.Line($"public static int {member.Name} => {Format.Invariant(member.Value)};");
            }

            _writer.Close().Line();
        }
    }

    private void PrintFields()
    {
        foreach (ProgramTensor tensor in _program.Tensors)
        {
            _writer.Line($"private readonly {Runtime}Parameter {_names.TensorField(tensor.Key)};");
        }

        foreach (StorageSlot slot in _program.Memory.Slots)
        {
            _writer.Comment(string.Join(", ", _names.Members(slot).Select(b => b.Name)))
                .Line($"private readonly {ProgramNames.TypeName(slot.Type)}[] {ProgramNames.SlotField(slot)};");
        }

        if (_names.Dropout)
        {
            _writer.Line("private ulong _dropoutState;");
        }

        if (_device)
        {
            _writer.Line("private readonly OnDevice? _device; // null on the CPU");
        }

        _writer.Line("private int _lastCount;");
        if (_names.Folds)
        {
            _writer.Line("private long _foldedVersion = -1;");
        }

        if (_names.FoldedViews)
        {
            _writer.Line("private bool _lastFolded; // the last forward skipped the outputs folded into a batch norm");
        }

        _writer.Line();
    }

    private void PrintConstructor()
    {
        Shape input = _program.Network.Input;
        _writer.Line("/// <summary>Creates the network with its parameters initialised (He for layers followed by the ReLU family, Xavier otherwise,")
            .Line("/// biases 0, batch norm 1 and 0) and its planned storage allocated for <paramref name=\"batchSize\"/> images.</summary>")
            .Line("/// <param name=\"batchSize\">The most images one call takes.</param>")
            .Line("/// <param name=\"seed\">Seeds initialisation and dropout: same seed and threads, same results.</param>")
            .Line("/// <param name=\"threads\">Kernel worker threads; 0 means one per processor.</param>")
            .Line($"public {_program.Network.Spec.Declaration.Name}(int batchSize, int seed = 0, int threads = 0)");
        if (_device)
        {
            _writer.Open("    : this(batchSize, seed, threads, device: null)").Close().Line()
                .Line($"private {_program.Network.Spec.Declaration.Name}(int batchSize, int seed, int threads, global::NetCompiler.Ilgpu.IlgpuDevice? device)");
        }

        _writer.Open($"    : base(batchSize, seed, threads, {Runtime}TensorShape.Image({Format.Invariant(input.Channels)}, {Format.Invariant(input.Height)}, {Format.Invariant(input.Width)}))");
        foreach (ProgramTensor tensor in _program.Tensors)
        {
            _writer.Statement($"{_names.TensorField(tensor.Key)} = {Registration(tensor)};");
            if (tensor.Key.Role == TensorRole.RunningVar)
            {
                // state_dict order: a batch norm's num_batches_tracked follows its running variance.
                _writer.Line($"AddBatchCounter(\"{tensor.Key.Module}.num_batches_tracked\");");
            }
        }

        foreach (StorageSlot slot in _program.Memory.Slots)
        {
            ProgramBuffer largest = _names.Members(slot).First();
            string what = _names.Members(slot).Count() == 1 ? largest.Name : $"{largest.Name} and the buffers sharing it";
            string allocation = $"AllocateStorage<{ProgramNames.TypeName(slot.Type)}>(\"{what}\", {largest.Size.Name}, perImage: {Bool(slot.PerImage)})";
            _writer.Statement($"{ProgramNames.SlotField(slot)} = {(_device ? "device is null ? " + allocation + " : []" : allocation)};");
        }

        if (_names.Dropout)
        {
            _writer.Line("_dropoutState = DropoutSeed;");
        }

        if (_device)
        {
            // The parameters were initialised on the host above, as on the CPU; OnDevice uploads them on its first call.
            _writer.Open("if (device is not null)")
                .Open("try")
                .Line("_device = new OnDevice(this, device, batchSize);")
                .Close()
                .Open("catch")
                .Line("Dispose();")
                .Line("throw;")
                .Close()
                .Close();
        }

        _writer.Close().Line();
    }

    private string Registration(ProgramTensor tensor)
    {
        string key = $"\"{tensor.Key}\"";
        string dimensions = "[" + string.Join(", ", tensor.Dimensions.Select(d => Format.Invariant(d))) + "]";
        Initialiser init = tensor.Init;
        return init.Scheme switch
        {
            InitScheme.HeNormal => $"AddHeParameter({key}, {dimensions}, fanIn: {Format.Invariant(init.FanIn)}"
                + (init.NegativeSlope == 0 ? ")" : $", negativeSlope: {Format.FloatLiteral(init.NegativeSlope)})"),
            InitScheme.XavierUniform => $"AddXavierParameter({key}, {dimensions}, fanIn: {Format.Invariant(init.FanIn)}, fanOut: {Format.Invariant(init.FanOut)})",
            InitScheme.FanInUniform => $"AddFanInUniformParameter({key}, {dimensions}, fanIn: {Format.Invariant(init.FanIn)})",
            InitScheme.SmallNormal => $"AddSmallNormalParameter({key}, {dimensions})",
            InitScheme.Orthogonal => $"AddOrthogonalParameter({key}, {dimensions})",
            _ when init.Fill != 0 => $"AddParameter({key}, {dimensions}, trainable: {Bool(tensor.Trainable)}, fill: {Format.FloatLiteral(init.Fill)})",
            _ => $"AddParameter({key}, {dimensions}, trainable: {Bool(tensor.Trainable)})",
        };
    }

    /// <summary>The line an entry point hands its call to the device with, once its arguments are checked; nothing on the CPU alone.</summary>
    private static string OnDevice(string call) => $"if (_device is not null) {{ return _device.{call}; }}";

    /// <summary>
    /// An expression-bodied member, "member => body" on the CPU alone; with a device, the device's answer comes first,
    /// on a line of its own. With <paramref name="opens"/> the body is a switch whose arms follow.
    /// </summary>
    private void PrintExpressionMember(string member, string deviceAnswer, string body, bool opens = false)
    {
        string expression = member + " => " + body;
        if (_device)
        {
            _writer.Line(member + " =>");
            expression = $"    _device is not null ? _device.{deviceAnswer} : {body}";
        }

        if (opens)
        {
            _writer.Open(expression);
        }
        else
        {
            _writer.Line(expression + ";");
        }
    }

    /// <summary>The forward InputGradient and ScoreGradient run: Forward's, unless it fused what the backward reads.</summary>
    private string GradientEvaluation => _names.GradientInference ? "RunEvaluationForGradients(images, n);" : "RunEvaluation(images, n);";

    private void PrintEntryPoints()
    {
        string scores = _names.Slice(_program.ScoresBuffer, "n");
        string inputGradient = _names.Slice(_program.InputGradientBuffer, "n");
        _writer.Line("/// <summary>Scores for up to BatchSize images (n*C*H*W floats), in evaluation mode: batch norm uses its running")
            .Line("/// statistics and dropout is off. The span is valid until the next call on this network.</summary>")
            .Open($"public override {ReadOnlySpan} Forward({ReadOnlySpan} images)")
            .Line("int n = CheckImages(images, nameof(images));")
            .LineIf(_device, OnDevice("Forward(images, n)"))
            .Line("RunEvaluation(images, n);")
            .Line($"return {scores};")
            .Close().Line();

        PrintLossEntryPoints(inputGradient);
        _writer.Line("/// <summary>d(score of <paramref name=\"classIndex\"/>" + (_program.Network.Output.Height * _program.Network.Output.Width > 1 ? ", summed over pixels" : "") + ")/d(images) in evaluation mode (Simonyan et al.'s saliency).</summary>")
            .Open($"public override {ReadOnlySpan} ScoreGradient({ReadOnlySpan} images, int classIndex)")
            .Line("global::System.ArgumentOutOfRangeException.ThrowIfNegative(classIndex);")
            .Line("global::System.ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(classIndex, ClassCount);")
            .Line("int n = CheckImages(images, nameof(images));")
            .LineIf(_device, OnDevice("ScoreGradient(images, n, classIndex)"))
            .Line(GradientEvaluation)
            .Statement($"SeedScoreGradient({_names.Slice(_program.ScoresGradientBuffer, "n")}, n, classIndex, ClassCount);")
            .Line("RunEvaluationBackward(images, n);")
            .Line($"return {inputGradient};")
            .Close().Line();

        if (_names.Pixel)
        {
            _writer.Line("private float[]? _classWeights;")
                .Line()
                .Line("/// <summary>Per-class weights of the pixel loss, as PyTorch's CrossEntropyLoss(weight=): the loss is")
                .Line("/// sum(w[label] * loss) / sum(w[label]). Null (the default) weighs every class 1. Setting copies the array.</summary>")
                .Open("public float[]? ClassWeights")
                .Line("get => (float[]?)_classWeights?.Clone();")
                .Line("set => _classWeights = CheckClassWeights(value, ClassCount, nameof(ClassWeights));")
                .Close().Line();
        }

        PrintLossAndGradient(scores);

        _writer.Line("/// <summary>The evaluation-mode forward: with batch norm folded unless FoldBatchNorm is off.</summary>")
            .Open($"private void RunEvaluation({ReadOnlySpan} images, int n)");
        _writer.Line(_names.Folds ? "if (FoldBatchNorm) { RunInference(images, n); } else { RunInferenceUnfolded(images, n); }" : "RunInference(images, n);")
            .Close().Line();
        if (_names.GradientInference)
        {
            _writer.Line("/// <summary>The evaluation-mode forward of the gradient entry points: SiLU unfused, as the backward reads its input.</summary>")
                .Open($"private void RunEvaluationForGradients({ReadOnlySpan} images, int n)")
                .Line(_names.Folds ? "if (FoldBatchNorm) { RunInferenceForGradients(images, n); } else { RunInferenceUnfolded(images, n); }" : "RunInferenceForGradients(images, n);")
                .Close().Line();
        }
    }

    /// <summary>
    /// TrainStep and InputGradient on the kind of target the loss takes (one int per label, or one float per output
    /// element); the other overloads throw, naming the loss and the overload to call.
    /// </summary>
    private void PrintLossEntryPoints(string inputGradient)
    {
        string check = _names.FloatTargets
            ? "CheckTargets(targets, n, OutputLength, nameof(targets));"
            : "CheckLabels(labels, n * LabelsPerImage, ClassCount, nameof(labels));";
        _writer.Line("/// <summary>The loss this network trains with; " + (_names.FloatTargets ? "TrainStep takes one float target per output element." : "TrainStep takes class labels.") + "</summary>")
            .Line($"public override {Runtime}Loss Loss => {Runtime}Loss.{_program.Network.Spec.Loss};")
            .Line();

        _writer.Line($"/// <summary>One training step on up to BatchSize images: forward in training mode, {LossDescription(_program.Network.Spec.Loss)},")
            .Line("/// backward, and the optimiser's update. Returns the batch's mean loss; a non-finite loss throws with the network unchanged.</summary>")
            .Open($"public override float TrainStep({ReadOnlySpan} images, {_names.TargetType} {_names.Targets}, {Runtime}Optimizer optimizer)")
            .Line("global::System.ArgumentNullException.ThrowIfNull(optimizer);")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line(check)
            .LineIf(_device, OnDevice($"Train(images, n, {_names.Targets}, optimizer)"))
            .Line($"return RunTraining(images, n, {_names.Targets}, optimizer);")
            .Close().Line();

        _writer.Line("/// <summary>The scores of the last Forward or TrainStep (in training mode for TrainStep), one row per image.</summary>");
        PrintExpressionMember($"public override {ReadOnlySpan} LastScores", "LastScores", _names.Slice(_program.ScoresBuffer, "_lastCount"));
        _writer.Line();

        _writer.Line("/// <summary>d(loss)/d(images) in evaluation mode, for saliency maps and adversarial examples. Leaves the weights")
            .Line("/// and their gradients untouched. The span is valid until the next call on this network.</summary>")
            .Open($"public override {ReadOnlySpan} InputGradient({ReadOnlySpan} images, {_names.TargetType} {_names.Targets})")
            .Line("int n = CheckImages(images, nameof(images));")
            .Line(check)
            .LineIf(_device, OnDevice($"InputGradient(images, n, {_names.Targets})"))
            .Line(GradientEvaluation)
            .Line($"LossAndGradient({_names.Targets}, n);")
            .Line("RunEvaluationBackward(images, n);")
            .Line($"return {inputGradient};")
            .Close().Line();

        if (_names.FloatTargets)
        {
            _writer.Line("/// <summary>Not for this network: its loss takes float targets, one per output element.</summary>")
                .Line($"public override float TrainStep({ReadOnlySpan} images, global::System.ReadOnlySpan<int> labels, {Runtime}Optimizer optimizer) =>")
                .Line("    throw TrainsOnFloatTargets(\"TrainStep(images, targets, optimizer)\", OutputLength);")
                .Line()
                .Line("/// <summary>Not for this network: its loss takes float targets, one per output element.</summary>")
                .Line($"public override {ReadOnlySpan} InputGradient({ReadOnlySpan} images, global::System.ReadOnlySpan<int> labels) =>")
                .Line("    throw TrainsOnFloatTargets(\"InputGradient(images, targets)\", OutputLength);")
                .Line();
        }
    }

    /// <summary>The loss of the last scores against the labels or targets: the mean loss, and d(loss)/d(scores).</summary>
    private void PrintLossAndGradient(string scores)
    {
        string dscores = _names.Slice(_program.ScoresGradientBuffer, "n");
        string call = _program.Network.Spec.Loss switch
        {
            LossKind.CrossEntropy => $"SoftmaxCrossEntropy.Forward({scores}, labels, {dscores}, n, ClassCount)",
            LossKind.PixelCrossEntropy => $"SoftmaxCrossEntropy.ForwardPixels({scores}, labels, _classWeights, {dscores}, n, ClassCount, OutputLength / ClassCount)",
            LossKind kind => $"ElementwiseLoss.{kind}({scores}, targets, {dscores})",
        };
        string description = LossDescription(_program.Network.Spec.Loss);
        _writer.Line($"/// <summary>{char.ToUpperInvariant(description[0])}{description.Substring(1)} of the last scores: the mean loss, and d(loss)/d(scores).</summary>")
            .Open($"private float LossAndGradient({_names.TargetType} {_names.Targets}, int n)")
            .Statement($"return {Kernels}{call};")
            .Close().Line();
    }

    private static string LossDescription(LossKind loss) => loss switch
    {
        LossKind.CrossEntropy => "softmax cross-entropy",
        LossKind.PixelCrossEntropy => "per-pixel softmax cross-entropy",
        LossKind.MeanSquaredError => "mean squared error",
        LossKind.L1 => "mean absolute error (L1)",
        LossKind.SmoothL1 => "smooth L1 (Huber, beta 1)",
        _ => "binary cross-entropy on logits",
    };

    /// <summary>
    /// LayerOutput and LayerGradient: a layer's activations and their gradient by layer name, for Grad-CAM and feature
    /// inspection, for the layers the network keeps (the others' storage is reused). A fused kernel keeps one output (after its ReLU) and one gradient (before it, once the mask is
    /// applied in place), so the layer and its ReLU each have only one of the two.
    /// </summary>
    private void PrintLayerAccess()
    {
        _writer.Line("/// <summary>A kept layer's output in the last Forward, TrainStep or gradient call (n*C*H*W floats).</summary>");
        PrintExpressionMember($"public override {ReadOnlySpan} LayerOutput(string layerName)", "LayerOutput(layerName)", "layerName switch", opens: true);
        LayerAccess.PrintOutputArms(_writer, _program, _names, span => span);
        _writer.Line("_ => throw UnknownLayer(layerName),").Close(";").Line();

        _writer.Line("/// <summary>d(loss or score)/d(a kept layer's output) from the last TrainStep, InputGradient or ScoreGradient.</summary>");
        PrintExpressionMember($"public override {ReadOnlySpan} LayerGradient(string layerName)", "LayerGradient(layerName)", "layerName switch", opens: true);
        LayerAccess.PrintGradientArms(_writer, _program, _names, span => span);
        _writer.Line("_ => throw UnknownLayer(layerName),").Close(";").Line();
    }

    private void PrintRoutines()
    {
        string images = $"{ReadOnlySpan} images, int n";
        if (_names.Folds)
        {
            _writer.Line("/// <summary>Inference weights with each batch norm folded into the layer before it, rebuilt when ParameterVersion moves on.</summary>")
                .Open("private void FoldBatchNorms()");
            PrintCalls(_program.Routines.Fold, "");
            _writer.Line("_foldedVersion = ParameterVersion;").Close().Line();
        }

        PrintInference("RunInference", "Evaluation-mode forward" + (_names.Folds ? ", batch norm folded" : "") + ".", _program.Routines.Inference, folded: true);
        if (_names.GradientInference)
        {
            PrintInference("RunInferenceForGradients", "Evaluation-mode forward" + (_names.Folds ? ", batch norm folded" : "") + ", SiLU unfused: what the evaluation backward reads.",
                _program.Routines.InferenceForGradients, folded: true);
        }

        if (_names.Folds)
        {
            PrintInference("RunInferenceUnfolded", "Evaluation-mode forward with every batch norm run.", _program.Routines.InferenceUnfolded, folded: false);
        }

        _writer.Line("/// <summary>Forward in training mode, the loss and its check, the step's commit, backward and the update.</summary>")
            .Open($"private float RunTraining({images}, {_names.TargetType} {_names.Targets}, {Runtime}Optimizer optimizer)");
        if (_names.FoldedViews)
        {
            _writer.Line("_lastFolded = false;");
        }

        if (_names.Dropout)
        {
            _writer.Line("ulong dropoutState = _dropoutState; // kept only once the loss is known to be finite");
        }

        PrintCalls(_program.Routines.Training, "_lastCount = n;");
        _writer.Line("return loss;").Close().Line();

        _writer.Line("/// <summary>From d(scores) to d(images) through the evaluation-mode layers; the weights and their gradients are untouched.</summary>")
            .Open($"private void RunEvaluationBackward({images})");
        PrintCalls(_program.Routines.EvaluationBackward, "");
        _writer.Close();
    }

    /// <summary>An evaluation-mode forward routine; a <paramref name="folded"/> one first rebuilds stale folded weights.</summary>
    private void PrintInference(string name, string summary, EquatableArray<Call> calls, bool folded)
    {
        _writer.Line("/// <summary>" + summary + "</summary>")
            .Open($"private void {name}({ReadOnlySpan} images, int n)");
        if (folded && _names.Folds)
        {
            _writer.Open("if (_foldedVersion != ParameterVersion)").Line("FoldBatchNorms();").Close();
        }

        if (_names.FoldedViews)
        {
            _writer.Line($"_lastFolded = {Bool(folded)};");
        }

        PrintCalls(calls, "_lastCount = n;");
        _writer.Close().Line();
    }

    /// <summary>A routine: the kernel context where a call takes it, the routine's first line, then its body.</summary>
    private void PrintCalls(EquatableArray<Call> calls, string first)
    {
        if (calls.Any(c => c is LinearForward or LinearBackwardData or LinearBackwardWeight or BatchNormTraining or BatchNormInference
            or BatchNormBackward or PoolForward or PoolBackward or GlobalAvgPoolForward or GlobalAvgPoolBackward or ImplicitSolve or ImplicitSolveBackward
            or UpsampleForward or UpsampleBackward))
        {
            _writer.Line($"{Kernels}KernelContext context = Context;");
        }

        if (first.Length > 0)
        {
            _writer.Line(first);
        }

        _calls.PrintBody(_writer, calls, "global::System.Span");
    }

    private static string Bool(bool value) => ProgramNames.Bool(value);

    /// <summary>Cuts a line into pieces of about <paramref name="width"/> characters, each ending after a ", ".</summary>
    private static List<string> Pieces(string line, int width)
    {
        var pieces = new List<string>();
        while (line.Length > width && line.LastIndexOf(", ", width, System.StringComparison.Ordinal) is int cut and > 0)
        {
            pieces.Add(line.Substring(0, cut + 2));
            line = line.Substring(cut + 2);
        }

        pieces.Add(line);
        return pieces;
    }

    /// <summary>The calls as C# over the CPU kernels: static generic kernels, the shape as the method's type argument.</summary>
    private sealed class CpuCalls(KernelProgram program, ProgramNames names) : CallPrinter(program, names)
    {
        protected override string Invoke(string kernel, string method, string? shape, bool context, string arguments) =>
            $"{Kernels}{kernel}.{method}{(shape is null ? "" : "<" + shape + ">")}({(context ? "context, " : "")}{arguments})";

        /// <summary>An operand as C#: a buffer's span, a parameter's value or gradient, or default (no bias, no weight gradient).</summary>
        protected override string O(Operand operand) => operand switch
        {
            BufferOperand buffer => Names.Local(buffer.Id),
            TensorOperand tensor => Names.TensorField(tensor.Key) + (tensor.Gradient ? ".Gradient" : ".Value"),
            _ => "default",
        };

        protected override string WholeSlot(BufferOperand buffer) => Names.FieldOf(buffer.Id);

        protected override string Activation(Activation activation, string method, string arguments) =>
            $"{ProgramNames.Activation(activation)}.{method}({arguments})";

        protected override string Copy(Copy copy) => $"{O(copy.X)}.CopyTo({O(copy.Y)})";

        protected override string Step(Call call) => call switch
        {
            LossAndGradient => $"float loss = LossAndGradient({Names.Targets}, n);",
            CheckLoss => "CheckLoss(loss); // throws before anything the network keeps has changed",
            CommitStep => Names.Dropout ? "_dropoutState = dropoutState; CommitStep();" : "CommitStep();",
            _ => "StepOptimizer(optimizer); // gradients averaged over the ranks first when distributed",
        };
    }
}
