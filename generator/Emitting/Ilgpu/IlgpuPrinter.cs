using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Emitting.Ilgpu;

/// <summary>
/// Prints a kernel program a second time, for an ILGPU device: the network's device constructor and the nested
/// <c>OnDevice</c> class, whose routines are the CPU's routines call for call, each call a launch of a device kernel
/// template (NetCompiler.Ilgpu) instantiated with the layer's shape struct, so ILGPU compiles the shapes in as
/// constants. Printed only when the compilation references NetCompiler.Ilgpu.
/// </summary>
internal sealed class IlgpuPrinter
{
    private const string Ilgpu = "global::NetCompiler.Ilgpu.";
    private const string Runtime = "global::NetCompiler.";
    private const string FloatView = "global::ILGPU.ArrayView<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";

    private readonly KernelProgram _program;
    private readonly SourceWriter _writer;
    private readonly ProgramNames _names;
    private readonly DeviceCalls _calls;
    private readonly string _network;

    private IlgpuPrinter(KernelProgram program, SourceWriter writer)
    {
        _program = program;
        _writer = writer;
        _names = new ProgramNames(program);
        _network = program.Network.Spec.Declaration.Name;
        _calls = new DeviceCalls(program, _names);
    }

    public static void Print(SourceWriter writer, KernelProgram program) => new IlgpuPrinter(program, writer).Print();

    private void Print()
    {
        _writer.Line("/// <summary>Creates the network on an ILGPU device (IlgpuDevice.Cuda(), OpenCL(), Simulator() or Best()):")
            .Line("/// its parameters are initialised on the host from <paramref name=\"seed\"/> exactly as on the CPU, then live on")
            .Line("/// the device, with the planned storage for <paramref name=\"batchSize\"/> images. Calls give the CPU's results")
            .Line("/// up to float rounding.</summary>")
            .Line($"public {_network}(int batchSize, int seed, {Ilgpu}IlgpuDevice device)")
            .Open("    : this(batchSize, seed, threads: 1, device ?? throw new global::System.ArgumentNullException(nameof(device)))")
            .Close().Line()
            .Line("/// <summary>The device the network runs on, or null on the CPU.</summary>")
            .Line($"public {Ilgpu}IlgpuDevice? Device => _device?.Device;")
            .Line()
            .Line("/// <inheritdoc/>")
            .Line("protected override bool RunsOnDevice => _device is not null;")
            .Line()
            .Line("/// <inheritdoc/>")
            .Line("protected override void SynchronizeHost() => _device?.SynchronizeHost();")
            .Line()
            .Line("/// <inheritdoc/>")
            .Open("protected override void Dispose(bool disposing)")
            .Open("if (disposing)").Line("_device?.Dispose();").Close()
            .Line("base.Dispose(disposing);")
            .Close().Line();

        CollectLaunchers();
        _writer.Line("/// <summary>The network's kernel program on an ILGPU device: the CPU's routines, call for call, each a launch on")
            .Line("/// the device's stream; a training step synchronises once, to read its loss.</summary>")
            .Open($"private sealed class OnDevice : {Ilgpu}DeviceNetwork");
        PrintFields();
        PrintConstructor();
        PrintEntryPoints();
        PrintLayerAccess();
        PrintRoutines(_writer);
        _writer.Close();
    }

    /// <summary>Meets every call once, so the launchers the routines use are known before the fields are printed.</summary>
    private void CollectLaunchers()
    {
        Routines routines = _program.Routines;
        foreach (Call call in routines.Fold.Concat(routines.Inference).Concat(routines.InferenceForGradients).Concat(routines.InferenceUnfolded)
            .Concat(routines.Training).Concat(routines.EvaluationBackward))
        {
            _ = _calls.Statement(call);
        }

        _ = LossCall();
    }

    private void PrintFields()
    {
        _writer.Line("// The tensors, by their index in the network's Parameters (state_dict order).");
        for (int i = 0; i < _program.Tensors.Count; i++)
        {
            _writer.Line($"private const int {_calls.TensorConstant(_program.Tensors[i].Key)} = {Format.Invariant(i)};");
        }

        _writer.Line()
            .Line($"private readonly {_network} _network;");
        foreach (Launcher launcher in _calls.Launchers)
        {
            _writer.Line($"private readonly {launcher.Type} {launcher.Field};");
        }

        foreach (StorageSlot slot in _program.Memory.Slots)
        {
            _writer.Comment(string.Join(", ", _names.Members(slot).Select(b => b.Name)))
                .Line($"private readonly global::ILGPU.Runtime.MemoryBuffer1D<{ProgramNames.TypeName(slot.Type)}, global::ILGPU.Stride1D.Dense> {ProgramNames.SlotField(slot)};");
        }

        _writer.Line("private float[]? _scoresOnHost;")
            .Line("private float[]? _inputGradientOnHost;")
            .Line("private int _lastCount;");
        if (_names.Folds)
        {
            _writer.Line("private long _foldedVersion = -1;");
        }

        if (_names.FoldedViews)
        {
            _writer.Line("private bool _lastFolded;");
        }

        _writer.Line();
    }

    private void PrintConstructor()
    {
        string targetsPerImage = _names.FloatTargets ? "OutputLength" : "LabelsPerImage";
        _writer.Line($"public OnDevice({_network} network, {Ilgpu}IlgpuDevice device, int batchSize)")
            .Open($"    : base(device, network, batchSize, InputLength, {targetsPerImage}, floatTargets: {ProgramNames.Bool(_names.FloatTargets)})")
            .Line("_network = network;")
            .Open("try");
        foreach (Launcher launcher in _calls.Launchers)
        {
            _writer.Statement($"{launcher.Field} = Own(new {launcher.Type}({launcher.Arguments}));");
        }

        foreach (StorageSlot slot in _program.Memory.Slots)
        {
            ProgramBuffer largest = _names.Members(slot).First();
            string what = _names.Members(slot).Count() == 1 ? largest.Name : $"{largest.Name} and the buffers sharing it";
            _writer.Statement($"{ProgramNames.SlotField(slot)} = AllocateStorage<{ProgramNames.TypeName(slot.Type)}>(\"{what}\", {largest.Size.Name}, perImage: {ProgramNames.Bool(slot.PerImage)});");
        }

        _writer.Close()
            .Open("catch")
            .Line("Dispose(); // what was allocated so far")
            .Line("throw;")
            .Close()
            .Close().Line();
    }

    private string GradientEvaluation => _names.GradientInference ? "RunEvaluationForGradients(imagesOnDevice, n);" : "RunEvaluation(imagesOnDevice, n);";

    private void PrintEntryPoints()
    {
        string scores = _names.Slice(_program.ScoresBuffer, "n");
        string inputGradient = $"Download({_names.Slice(_program.InputGradientBuffer, "n")}, ref _inputGradientOnHost, BatchSize * InputLength)";
        string upload = _names.FloatTargets ? "UploadTargets" : "UploadLabels";
        _writer.Open($"public {ReadOnlySpan} Forward({ReadOnlySpan} images, int n)")
            .Line("PrepareParameters();")
            .Line("RunEvaluation(UploadImages(images), n);")
            .Line($"return Download({scores}, ref _scoresOnHost, BatchSize * OutputLength);")
            .Close().Line();

        _writer.Open($"public float Train({ReadOnlySpan} images, int n, {_names.TargetType} {_names.Targets}, {Runtime}Optimizer optimizer)")
            .Line("PrepareParameters();")
            .Line($"float loss = RunTraining(UploadImages(images), n, {upload}({_names.Targets}), optimizer);")
            .Line("MarkTrained();")
            .Line("return loss;")
            .Close().Line();

        _writer.Open($"public {ReadOnlySpan} InputGradient({ReadOnlySpan} images, int n, {_names.TargetType} {_names.Targets})")
            .Line("PrepareParameters();")
            .Line($"{FloatView} imagesOnDevice = UploadImages(images);")
            .Line(GradientEvaluation)
            .Line($"LossAndGradient({upload}({_names.Targets}), n);")
            .Line("RunEvaluationBackward(imagesOnDevice, n);")
            .Line($"return {inputGradient};")
            .Close().Line();

        _writer.Open($"public {ReadOnlySpan} ScoreGradient({ReadOnlySpan} images, int n, int classIndex)")
            .Line("PrepareParameters();")
            .Line($"{FloatView} imagesOnDevice = UploadImages(images);")
            .Line(GradientEvaluation)
            .Line($"UploadScoreSeed({_names.Slice(_program.ScoresGradientBuffer, "n")}, n, classIndex, ClassCount);")
            .Line("RunEvaluationBackward(imagesOnDevice, n);")
            .Line($"return {inputGradient};")
            .Close().Line();

        _writer.Statement($"public {ReadOnlySpan} LastScores => Download({_names.Slice(_program.ScoresBuffer, "_lastCount")}, ref _scoresOnHost, BatchSize * OutputLength);")
            .Line();
    }

    /// <summary>A kept buffer's slice copied from the device, as LayerOutput and LayerGradient return it.</summary>
    private static string DownloadCopy(string slice) => $"DownloadCopy({slice})";

    /// <summary>LayerOutput and LayerGradient: the CPU's answers, each kept buffer copied from the device.</summary>
    private void PrintLayerAccess()
    {
        _writer.Open($"public {ReadOnlySpan} LayerOutput(string layerName) => layerName switch");
        LayerAccess.PrintOutputArms(_writer, _program, _names, DownloadCopy);
        _writer.Line("_ => throw UnknownLayer(layerName),").Close(";").Line();

        _writer.Open($"public {ReadOnlySpan} LayerGradient(string layerName) => layerName switch");
        LayerAccess.PrintGradientArms(_writer, _program, _names, DownloadCopy);
        _writer.Line("_ => throw UnknownLayer(layerName),").Close(";").Line();
    }

    private void PrintRoutines(SourceWriter writer)
    {
        string images = $"{FloatView} images, int n";
        string targetView = _names.FloatTargets ? FloatView : "global::ILGPU.ArrayView<int>";
        PrintEvaluation(writer, "RunEvaluation", "RunInference");
        if (_names.GradientInference)
        {
            PrintEvaluation(writer, "RunEvaluationForGradients", "RunInferenceForGradients");
        }

        writer.Open($"private void LossAndGradient({targetView} {_names.Targets}, int n)")
            .Statement(LossCall())
            .Close().Line();

        if (_names.Folds)
        {
            writer.Open("private void FoldBatchNorms()");
            PrintCalls(writer, _program.Routines.Fold, "");
            writer.Line("_foldedVersion = _network.ParameterVersion;").Close().Line();
        }

        PrintInference(writer, "RunInference", _program.Routines.Inference, folded: true);
        if (_names.GradientInference)
        {
            PrintInference(writer, "RunInferenceForGradients", _program.Routines.InferenceForGradients, folded: true);
        }

        if (_names.Folds)
        {
            PrintInference(writer, "RunInferenceUnfolded", _program.Routines.InferenceUnfolded, folded: false);
        }

        writer.Open($"private float RunTraining({images}, {targetView} {_names.Targets}, {Runtime}Optimizer optimizer)");
        if (_names.FoldedViews)
        {
            writer.Line("_lastFolded = false;");
        }

        if (_names.Dropout)
        {
            writer.Line("ulong dropoutState = _network._dropoutState; // kept only once the loss is known to be finite");
        }

        PrintCalls(writer, _program.Routines.Training, "_lastCount = n;");
        writer.Line("return loss;").Close().Line();

        writer.Open($"private void RunEvaluationBackward({images})");
        PrintCalls(writer, _program.Routines.EvaluationBackward, "");
        writer.Close();
    }

    /// <summary>An evaluation-mode forward: <paramref name="folded"/>, or the unfolded inference when FoldBatchNorm is off.</summary>
    private void PrintEvaluation(SourceWriter writer, string name, string folded)
    {
        writer.Open($"private void {name}({FloatView} imagesOnDevice, int n)");
        if (_names.Folds)
        {
            writer.Open("if (_network.FoldBatchNorm)").Line($"{folded}(imagesOnDevice, n);").Close()
                .Open("else").Line("RunInferenceUnfolded(imagesOnDevice, n);").Close();
        }
        else
        {
            writer.Line($"{folded}(imagesOnDevice, n);");
        }

        writer.Close().Line();
    }

    /// <summary>The loss launch: the device writes d(scores) and the mean loss (to Loss, read by ReadLoss).</summary>
    private string LossCall()
    {
        string scores = _names.Slice(_program.ScoresBuffer, "n"), dscores = _names.Slice(_program.ScoresGradientBuffer, "n");
        return _program.Network.Spec.Loss switch
        {
            LossKind.CrossEntropy => $"{_calls.Use("SoftmaxCrossEntropy", null)}.Forward({scores}, labels, {dscores}, n, ClassCount, Loss);",
            LossKind.PixelCrossEntropy => $"{_calls.Use("SoftmaxCrossEntropy", null)}.ForwardPixels({scores}, labels, UploadClassWeights(_network._classWeights), {dscores}, n, ClassCount, OutputLength / ClassCount, Loss);",
            LossKind kind => $"{_calls.Use("ElementwiseLoss", null)}.{kind}({scores}, targets, {dscores}, Loss);",
        };
    }

    private void PrintInference(SourceWriter writer, string name, EquatableArray<Call> calls, bool folded)
    {
        writer.Open($"private void {name}({FloatView} images, int n)");
        if (folded && _names.Folds)
        {
            writer.Open("if (_foldedVersion != _network.ParameterVersion)").Line("FoldBatchNorms();").Close();
        }

        if (_names.FoldedViews)
        {
            writer.Line($"_lastFolded = {ProgramNames.Bool(folded)};");
        }

        PrintCalls(writer, calls, "_lastCount = n;");
        writer.Close().Line();
    }

    /// <summary>A routine: its first line, then its body.</summary>
    private void PrintCalls(SourceWriter writer, EquatableArray<Call> calls, string first)
    {
        if (first.Length > 0)
        {
            writer.Line(first);
        }

        _calls.PrintBody(writer, calls, "global::ILGPU.ArrayView");
    }

    /// <summary>A launcher field: its type (a device template, with the layer's shape), name and constructor arguments.</summary>
    private sealed record Launcher(string Type, string Field, string Arguments);

    /// <summary>The calls as launches: one launcher per kernel family and shape, each a field of OnDevice.</summary>
    private sealed class DeviceCalls(KernelProgram program, ProgramNames names) : CallPrinter(program, names)
    {
        private readonly List<Launcher> _launchers = [];

        public IReadOnlyList<Launcher> Launchers => _launchers;

        /// <summary>The field of the launcher of <paramref name="kernel"/> (the CPU's class name) at <paramref name="shape"/>, added on first use.</summary>
        public string Use(string kernel, string? shape)
        {
            string field = "_" + char.ToLowerInvariant(kernel[0]) + kernel.Substring(1) + (shape ?? "");
            if (!_launchers.Any(l => l.Field == field))
            {
                // The implicit solve keeps its spectra in scratch sized for the batch.
                string arguments = kernel == "ImplicitSolve" ? "device, batchSize" : "device";
                _launchers.Add(new Launcher($"{Ilgpu}Device{kernel}{(shape is null ? "" : "<" + shape + ">")}", field, arguments));
            }

            return field;
        }

        /// <summary>The constant naming a tensor's index ("Features0Weight").</summary>
        public string TensorConstant(TensorKey key)
        {
            string field = Names.TensorField(key);
            return char.ToUpperInvariant(field[1]) + field.Substring(2);
        }

        protected override string Invoke(string kernel, string method, string? shape, bool context, string arguments) =>
            $"{Use(kernel, shape)}.{method}({arguments})";

        protected override string O(Operand operand) => operand switch
        {
            BufferOperand buffer => Names.Local(buffer.Id),
            TensorOperand tensor => (tensor.Gradient ? "Gradient(" : "Value(") + TensorConstant(tensor.Key) + ")",
            _ => "default",
        };

        protected override string WholeSlot(BufferOperand buffer) => Names.FieldOf(buffer.Id) + ".View";

        protected override string Activation(Activation activation, string method, string arguments) =>
            $"{Use("Elementwise", null)}.Activation{method}({ProgramNames.Activation(activation)}, {arguments})";

        protected override string Copy(Copy copy) => $"{Use("Elementwise", null)}.Copy({O(copy.X)}, {O(copy.Y)})";

        protected override string Step(Call call) => call switch
        {
            LossAndGradient => $"LossAndGradient({Names.Targets}, n);",
            CheckLoss => "float loss = ReadLoss(); // the step's one synchronisation\n_network.CheckLoss(loss); // throws before anything the network keeps has changed",
            CommitStep => Names.Dropout ? "_network._dropoutState = dropoutState;\n_network.CommitStep();" : "_network.CommitStep();",
            _ => "StepOptimizer(optimizer);",
        };
    }
}
