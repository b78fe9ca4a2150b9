using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Emitting;

/// <summary>
/// The one statement each call record prints as, for every backend: the CPU's static kernels and the device's
/// launchers take the same arguments in the same order, so a backend says only how a kernel is invoked
/// (<see cref="Invoke"/>), how an operand reads (<see cref="O"/>) and how the step's bookkeeping runs (<see cref="Step"/>).
/// </summary>
internal abstract class CallPrinter(KernelProgram program, ProgramNames names)
{
    /// <summary>The names the program prints with (locals, fields, slices).</summary>
    protected ProgramNames Names => names;

    /// <summary>
    /// A kernel invocation, without its semicolon: <paramref name="kernel"/> is the CPU kernel class ("Conv2d"),
    /// <paramref name="shape"/> the layer's shape struct or null, <paramref name="context"/> whether the CPU kernel takes
    /// the kernel context first.
    /// </summary>
    protected abstract string Invoke(string kernel, string method, string? shape, bool context, string arguments);

    /// <summary>An operand as an argument: a buffer, a parameter's value or gradient, or default (none).</summary>
    protected abstract string O(Operand operand);

    /// <summary>A derived buffer's whole storage (the folded weights, written whole).</summary>
    protected abstract string WholeSlot(BufferOperand buffer);

    /// <summary>An activation that runs as a call of its own: <paramref name="method"/> is Forward or Backward.</summary>
    protected abstract string Activation(Activation activation, string method, string arguments);

    protected abstract string Copy(Copy copy);

    /// <summary>The step's bookkeeping: the loss, its check, the commit and the optimiser.</summary>
    protected abstract string Step(Call call);

    public string Statement(Call call) => call switch
    {
        LinearForward c => Invoke(Kernel(c.Kind), "Forward", c.Shape, true, $"{O(c.X)}, {O(c.Weight)}, {O(c.Bias)}, {O(c.Y)}, n, {ProgramNames.Activation(c.Activation)}{Residual(c.Residual)}") + ";",
        LinearBackwardData c => Invoke(Kernel(c.Kind), "BackwardData", c.Shape, true, $"{O(c.DY)}, {O(c.Weight)}, {O(c.DX)}, n") + ";",
        LinearBackwardWeight c => Invoke(Kernel(c.Kind), "BackwardWeight", c.Shape, true, $"{O(c.X)}, {O(c.DY)}, {O(c.DWeight)}, {O(c.DBias)}, n") + ";",
        BatchNormTraining c => Invoke("BatchNorm", "ForwardTraining", null, true, $"{O(c.X)}, {O(c.Y)}, {O(c.Norm.Gamma)}, {O(c.Norm.Beta)}, {O(c.SavedMean)}, {O(c.SavedInvStd)}, "
            + $"{O(c.SavedVariance)}, {Dimensions(c.Norm)}, {ProgramNames.Activation(c.Activation)}{Residual(c.Residual)}") + ";",
        BatchNormCommit c => Invoke("BatchNorm", "UpdateRunningStatistics", null, false, $"{O(c.Norm.RunningMean)}, {O(c.Norm.RunningVar)}, {O(c.SavedMean)}, {O(c.SavedVariance)}, "
            + $"momentum: {Format.FloatLiteral(c.Norm.Momentum)}") + ";",
        BatchNormInference c => Invoke("BatchNorm", "ForwardInference", null, true, $"{O(c.X)}, {O(c.Y)}, {O(c.Norm.Gamma)}, {O(c.Norm.Beta)}, {O(c.Norm.RunningMean)}, "
            + $"{O(c.Norm.RunningVar)}, {Dimensions(c.Norm)}, {ProgramNames.Activation(c.Activation)}{Residual(c.Residual)}") + ";",
        BatchNormBackward c => Invoke("BatchNorm", "Backward", null, true, $"{O(c.DY)}, {O(c.X)}, {O(c.Norm.Gamma)}, {O(c.SavedMean)}, {O(c.SavedInvStd)}, {O(c.DX)}, "
            + $"{O(c.Norm.Gamma with { Gradient = true })}, {O(c.Norm.Beta with { Gradient = true })}, n, {Format.Invariant(c.Norm.Channels)}, {Format.Invariant(c.Norm.Plane)}"
            + (c.Activation.IsNone ? "" : $", {ProgramNames.Activation(c.Activation)}, {O(c.Saved)}")) + ";",
        BatchNormBackwardInference c => Invoke("BatchNorm", "BackwardInference", null, false, $"{O(c.DY)}, {O(c.Norm.Gamma)}, {O(c.Norm.RunningVar)}, {O(c.DX)}, {Dimensions(c.Norm)}") + ";",
        BatchNormFold c => Invoke("BatchNorm", "Fold", null, false, $"{O(c.Weight)}, {O(c.Bias)}, {O(c.Norm.Gamma)}, {O(c.Norm.Beta)}, {O(c.Norm.RunningMean)}, {O(c.Norm.RunningVar)}, "
            + $"eps: {Format.FloatLiteral(c.Norm.Eps)}, {WholeSlot(c.FoldedWeight)}, {WholeSlot(c.FoldedBias)}") + ";",
        ActivationForward c => Activation(c.Activation, "Forward", $"{O(c.X)}, {O(c.Y)}") + ";",
        ActivationBackward c => Activation(c.Activation, "Backward", $"{O(c.Saved)}, {O(c.DY)}") + ";",
        PoolForward { Kind: PoolOp.Max } c => Invoke("MaxPool2d", "Forward", c.Shape, true, $"{O(c.X)}, {O(c.Y)}, {O(c.Switches!)}, n") + ";",
        PoolForward c => Invoke("AvgPool2d", "Forward", c.Shape, true, $"{O(c.X)}, {O(c.Y)}, n") + ";",
        PoolBackward { Kind: PoolOp.Max } c => Invoke("MaxPool2d", "Backward", c.Shape, true, $"{O(c.DY)}, {O(c.Switches!)}, {O(c.DX)}, n") + ";",
        PoolBackward c => Invoke("AvgPool2d", "Backward", c.Shape, true, $"{O(c.DY)}, {O(c.DX)}, n") + ";",
        GlobalAvgPoolForward c => Invoke("GlobalAvgPool", "Forward", null, true, $"{O(c.X)}, {O(c.Y)}, n, {Format.Invariant(c.Channels)}, {Format.Invariant(c.Plane)}") + ";",
        GlobalAvgPoolBackward c => Invoke("GlobalAvgPool", "Backward", null, true, $"{O(c.DY)}, {O(c.DX)}, n, {Format.Invariant(c.Channels)}, {Format.Invariant(c.Plane)}") + ";",
        DropoutForward c => Invoke("Dropout", "Forward", null, false, $"{O(c.X)}, {O(c.Y)}, {O(c.Mask)}, {Format.FloatLiteral(c.P)}, ref dropoutState") + ";",
        DropoutBackward c => Invoke("Dropout", "Backward", null, false, $"{O(c.DY)}, {O(c.Mask)}, {O(c.DX)}") + ";",
        Copy c => Copy(c) + ";",
        AddScaled c => Invoke("Elementwise", "AddScaled", null, false, $"{O(c.A)}, {Format.FloatLiteral(c.Scale)}, {O(c.B)}, {O(c.Y)}") + ";",
        Scale c => Invoke("Elementwise", "Scale", null, false, $"{O(c.X)}, {Format.FloatLiteral(c.Factor)}, {O(c.Y)}") + ";",
        ImplicitSolve c => Invoke("ImplicitSolve", "Forward", c.Shape, true, $"{O(c.Rhs)}, {O(c.Weight)}, {Format.FloatLiteral(c.H)}, {O(c.Y)}, n") + ";",
        ImplicitSolveBackward c => Invoke("ImplicitSolve", "Backward", c.Shape, true, $"{O(c.DY)}, {O(c.Y)}, {O(c.Weight)}, {Format.FloatLiteral(c.H)}, {O(c.DRhs)}, {O(c.DWeight)}, n") + ";",
        UpsampleForward c => Invoke("Upsample2d", Mode(c.Bilinear) + "Forward", c.Shape, true, $"{O(c.X)}, {O(c.Y)}, n") + ";",
        UpsampleBackward c => Invoke("Upsample2d", Mode(c.Bilinear) + "Backward", c.Shape, true, $"{O(c.DY)}, {O(c.DX)}, n") + ";",
        ConcatChannels c => Invoke("ChannelConcat", "Forward", null, false, $"{O(c.A)}, {O(c.B)}, {O(c.Y)}, n, {ImageSize(c.A)}, {ImageSize(c.B)}") + ";",
        ConcatChannelsBackward c => Invoke("ChannelConcat", "Backward", null, false, $"{O(c.DY)}, {O(c.DA)}, {O(c.DB)}, n, {ImageSize(c.Forward.A)}, {ImageSize(c.Forward.B)}") + ";",
        LossAndGradient or CheckLoss or CommitStep or OptimizerStep => Step(call),
        _ => throw new System.InvalidOperationException("No statement for " + call.Op),
    };

    /// <summary>
    /// A routine's body: a local per buffer its calls touch (a <paramref name="view"/> of the buffer's element type:
    /// global::System.Span or global::ILGPU.ArrayView), then its calls, a comment where the layer changes.
    /// </summary>
    public void PrintBody(SourceWriter writer, IEnumerable<Call> calls, string view)
    {
        foreach (int id in BufferLocals(calls))
        {
            ProgramBuffer buffer = program.Buffer(id);
            if (buffer.Role != BufferRole.Input)
            {
                writer.Statement($"{view}<{ProgramNames.TypeName(buffer.Type)}> {names.Local(id)} = {names.Slice(id, "n")};");
            }
        }

        string layer = "";
        foreach (Call call in calls)
        {
            if (call.Layer != layer)
            {
                layer = call.Layer;
                writer.Line("// " + names.Describe(layer));
            }

            foreach (string statement in Statement(call).Split('\n'))
            {
                writer.Statement(statement);
            }
        }
    }

    /// <summary>
    /// The buffers a routine needs a local for: those its calls read or write as operands, in id order. A fold's outputs
    /// are written whole (<see cref="WholeSlot"/>), so they need none unless another call reads them.
    /// </summary>
    public static SortedSet<int> BufferLocals(IEnumerable<Call> calls) =>
        new(calls.SelectMany(c => c is BatchNormFold fold ? fold.Inputs : c.Inputs.Concat(c.Outputs)).OfType<BufferOperand>().Select(b => b.Id));

    /// <summary>The CPU kernel class of a linear op.</summary>
    public static string Kernel(LinearOp kind) => kind switch
    {
        LinearOp.Conv2d => "Conv2d",
        LinearOp.ConvTranspose2d => "ConvTranspose2d",
        _ => "Dense",
    };

    /// <summary>The residual argument of a kernel that adds one in its epilogue (", residual: layer1_0_output"), nothing otherwise.</summary>
    private string Residual(Operand residual) => residual is NoOperand ? "" : ", residual: " + O(residual);

    private static string Mode(bool bilinear) => bilinear ? "Bilinear" : "Nearest";

    /// <summary>The named per-image size of a buffer operand ("Features_3Elements").</summary>
    private string ImageSize(Operand operand) => program.Buffer(((BufferOperand)operand).Id).Size.Name;

    private static string Dimensions(BatchNormParameters norm) =>
        $"n, {Format.Invariant(norm.Channels)}, {Format.Invariant(norm.Plane)}, eps: {Format.FloatLiteral(norm.Eps)}";
}
