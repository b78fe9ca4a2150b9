using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>
/// Reverse mode over the forward calls: each primitive's adjoint, last call first. Where a buffer fans out (a residual
/// step's input feeds its branch and its skip; K feeds a convolution and its transpose) the contributions are summed:
/// the first writes the gradient, each later one writes scratch that is added in. An identity contribution (the skip
/// of y = a + h b) is held until the next one arrives, so the sum is one add and no copy.
/// </summary>
internal sealed class DeriveBackward
{
    private readonly BufferTable _buffers;
    private readonly Dictionary<int, int> _gradients;
    private readonly IReadOnlyList<ProgramTensor> _tensors;
    private readonly bool _parameterGradients;
    private readonly bool _inputGradient;
    private readonly List<Call> _calls = [];
    private readonly HashSet<int> _written = [];
    private readonly Dictionary<int, Operand> _pending = [];
    private readonly HashSet<TensorKey> _tensorsWritten = [];
    private string _label = "";

    private DeriveBackward(BufferTable buffers, Dictionary<int, int> gradients, IReadOnlyList<ProgramTensor> tensors, bool parameterGradients, bool inputGradient)
    {
        _buffers = buffers;
        _gradients = gradients;
        _tensors = tensors;
        _parameterGradients = parameterGradients;
        _inputGradient = inputGradient;
    }

    /// <summary>
    /// The backward of <paramref name="forward"/> from d(scores), which the loss (or a seed) has written.
    /// <paramref name="gradients"/> maps a buffer to its gradient buffer, shared by every backward of the program.
    /// </summary>
    /// <param name="parameterGradients">Training: write every parameter's gradient.</param>
    /// <param name="inputGradient">Write d(images); without it the first layer's data gradient is skipped.</param>
    public static EquatableArray<Call> Run(IEnumerable<Call> forward, int scores, BufferTable buffers, Dictionary<int, int> gradients,
        IReadOnlyList<ProgramTensor> tensors, bool parameterGradients, bool inputGradient)
    {
        var pass = new DeriveBackward(buffers, gradients, tensors, parameterGradients, inputGradient);
        pass._written.Add(scores);
        foreach (Call call in forward.Reverse())
        {
            pass._label = call.Layer;
            pass.Adjoint(call);
        }

        return pass._calls.ToEquatableArray();
    }

    public static BufferOperand GradientBuffer(BufferTable buffers, Dictionary<int, int> gradients, int id)
    {
        if (!gradients.TryGetValue(id, out int gradient))
        {
            ProgramBuffer buffer = buffers[id];
            gradient = buffers.Add(buffer.Name + ".grad", buffer.Type, buffer.Size, buffer.PerImage, BufferRole.Gradient).Id;
            gradients.Add(id, gradient);
        }

        return new BufferOperand(gradient);
    }

    private void Adjoint(Call call)
    {
        switch (call)
        {
            case LinearForward linear when Final(linear.Y) is { } dy:
                Epilogue(linear.Activation, linear.Y, linear.Residual, dy);
                if (_parameterGradients && linear.Weight is TensorOperand weight)
                {
                    Operand dWeight = TensorDestination(weight.Key, out Action? accumulate);
                    Operand dBias = linear.Bias is TensorOperand bias ? TensorDestination(bias.Key, out _) : NoOperand.Instance;
                    Emit(new LinearBackwardWeight(linear.Kind, linear.Shape, linear.X, dy, dWeight, dBias));
                    accumulate?.Invoke();
                }

                Contribute(linear.X, dx => [new LinearBackwardData(linear.Kind, linear.Shape, dy, linear.Weight, dx)]);
                break;
            case BatchNormTraining norm when Final(norm.Y) is { } dy:
                // Without a residual nothing else reads dy, so the activation's backward runs inside the batch norm's.
                Activation inside = norm.Residual is NoOperand && !norm.Activation.BackwardReadsInput ? norm.Activation : Activation.None;
                Epilogue(inside.IsNone ? norm.Activation : Activation.None, norm.Y, norm.Residual, dy);
                _tensorsWritten.Add(norm.Norm.Gamma.Key);
                _tensorsWritten.Add(norm.Norm.Beta.Key);
                Contribute(
                    norm.X,
                    dx => [new BatchNormBackward(norm.Norm, dy, norm.X, norm.SavedMean, norm.SavedInvStd, dx) { Activation = inside, Saved = inside.IsNone ? NoOperand.Instance : norm.Y }],
                    required: true);
                break;
            case BatchNormInference norm when Final(norm.Y) is { } dy:
                Epilogue(norm.Activation, norm.Y, norm.Residual, dy);
                Contribute(norm.X, dx => [new BatchNormBackwardInference(norm.Norm, dy, dx)]);
                break;
            case ActivationForward activation when Final(activation.Y) is { } dy:
                BufferOperand saved = activation.Activation.BackwardReadsInput ? (BufferOperand)activation.X : activation.Y;
                Contribute(activation.X, dx => [new Copy(dy, dx), new ActivationBackward(activation.Activation, saved, dx)]);
                break;
            case PoolForward pool when Final(pool.Y) is { } dy:
                Contribute(pool.X, dx => [new PoolBackward(pool.Kind, pool.Shape, dy, pool.Switches, dx)]);
                break;
            case GlobalAvgPoolForward pool when Final(pool.Y) is { } dy:
                Contribute(pool.X, dx => [new GlobalAvgPoolBackward(dy, dx, pool.Channels, pool.Plane)]);
                break;
            case DropoutForward dropout when Final(dropout.Y) is { } dy:
                Contribute(dropout.X, dx => [new DropoutBackward(dy, dropout.Mask, dx)]);
                break;
            case Copy copy when copy.Y is BufferOperand y && Final(y) is { } dy:
                Contribute(copy.X, dx => [new Copy(dy, dx)]);
                break;
            case AddScaled add when add.Y is BufferOperand y && Final(y) is { } dy:
                Contribute(add.B, db => [new Scale(dy, add.Scale, db)]);
                ContributeIdentity(add.A, dy);
                break;
            case ImplicitSolve solve when Final(solve.Y) is { } dy:
                Operand dC = _parameterGradients && solve.Weight is TensorOperand c ? TensorDestination(c.Key, out _) : NoOperand.Instance;
                Contribute(solve.Rhs, drhs => [new ImplicitSolveBackward(solve.Shape, dy, solve.Y, solve.Weight, solve.H, drhs, dC)], required: true);
                break;
            case UpsampleForward upsample when Final(upsample.Y) is { } dy:
                Contribute(upsample.X, dx => [new UpsampleBackward(upsample.Bilinear, upsample.Shape, dy, dx)]);
                break;
            case ConcatChannels concat when Final(concat.Y) is { } dy:
                Contribute(concat.B, db => [new ConcatChannelsBackward(concat, dy, NoOperand.Instance, db)]);
                Contribute(concat.A, da => [new ConcatChannelsBackward(concat, dy, da, NoOperand.Instance)]);
                break;
            case LinearForward or BatchNormTraining or BatchNormInference or ActivationForward or PoolForward or GlobalAvgPoolForward
                or DropoutForward or Copy or AddScaled or ImplicitSolve or UpsampleForward or ConcatChannels:
                break; // no gradient reaches its output
            default:
                throw new InvalidOperationException($"No adjoint for {call.Op}.");
        }
    }

    private void Emit(Call call) => _calls.Add(call with { Layer = _label });

    /// <summary>
    /// The backward of a fused epilogue y = act(p + r), before the producer's own: the activation's, in place on dy from
    /// the output y, then d(r) += dy (the add's identity), leaving dy as d(p).
    /// </summary>
    private void Epilogue(Activation activation, BufferOperand y, Operand residual, BufferOperand dy)
    {
        if (activation.BackwardReadsInput)
        {
            // FuseEpilogues leaves SiLU unfused where a backward is derived: its input is gone once fused.
            throw new InvalidOperationException($"The fused {activation.Name} of {_label} has no backward: it needs its input.");
        }

        if (!activation.IsNone)
        {
            Emit(new ActivationBackward(activation, y, dy));
        }

        ContributeIdentity(residual, dy);
    }

    /// <summary>The complete gradient of <paramref name="y"/>, all its contributions in; null when none reached it.</summary>
    private BufferOperand? Final(BufferOperand y)
    {
        if (_pending.TryGetValue(y.Id, out Operand? held))
        {
            _pending.Remove(y.Id);
            Emit(new Copy(held, Gradient(y.Id)));
            _written.Add(y.Id);
        }

        return _written.Contains(y.Id) ? Gradient(y.Id) : null;
    }

    /// <summary>
    /// Adds a contribution to d(<paramref name="x"/>) that <paramref name="make"/> writes into the buffer it is given.
    /// d(images) is skipped unless asked for, or unless the call computes more than it (<paramref name="required"/>:
    /// a batch norm's or the solve's parameter gradients come with it).
    /// </summary>
    private void Contribute(Operand x, Func<BufferOperand, Call[]> make, bool required = false)
    {
        if (x is not BufferOperand buffer || (IsInput(buffer) && !_inputGradient && !required))
        {
            return;
        }

        bool held = _pending.TryGetValue(buffer.Id, out Operand? identity);
        if (!held && !_written.Contains(buffer.Id))
        {
            EmitAll(make(Gradient(buffer.Id)));
            _written.Add(buffer.Id);
            return;
        }

        BufferOperand part = Part(_buffers[buffer.Id]);
        EmitAll(make(part));
        Emit(new AddScaled(held ? identity! : Gradient(buffer.Id), 1f, part, Gradient(buffer.Id)));
        _pending.Remove(buffer.Id);
        _written.Add(buffer.Id);
    }

    /// <summary>d(x) += dy, held until another contribution arrives or the gradient is needed.</summary>
    private void ContributeIdentity(Operand x, BufferOperand dy)
    {
        if (x is not BufferOperand buffer || (IsInput(buffer) && !_inputGradient))
        {
            return;
        }

        if (_pending.TryGetValue(buffer.Id, out Operand? held))
        {
            Emit(new AddScaled(held, 1f, dy, Gradient(buffer.Id)));
            _pending.Remove(buffer.Id);
            _written.Add(buffer.Id);
        }
        else if (_written.Contains(buffer.Id))
        {
            Emit(new AddScaled(Gradient(buffer.Id), 1f, dy, Gradient(buffer.Id)));
        }
        else
        {
            _pending.Add(buffer.Id, dy);
        }
    }

    /// <summary>
    /// Where a kernel writes a parameter's gradient: the gradient itself the first time, scratch later, with
    /// <paramref name="accumulate"/> adding the scratch in once the kernel has run.
    /// </summary>
    private Operand TensorDestination(TensorKey key, out Action? accumulate)
    {
        var gradient = new TensorOperand(key, Gradient: true);
        if (_tensorsWritten.Add(key))
        {
            accumulate = null;
            return gradient;
        }

        ProgramTensor tensor = _tensors.First(t => t.Key == key);
        BufferOperand part = _buffers.Add(key + ".grad_part", ElementType.Float32,
            _buffers.TensorSize(key, _label.Split(' ')[0], tensor.Elements), perImage: false, BufferRole.Scratch);
        accumulate = () => Emit(new AddScaled(gradient, 1f, part, gradient));
        return part;
    }

    private void EmitAll(Call[] calls)
    {
        foreach (Call call in calls)
        {
            Emit(call);
        }
    }

    private bool IsInput(BufferOperand buffer) => _buffers[buffer.Id].Role == BufferRole.Input;

    private BufferOperand Gradient(int id) => GradientBuffer(_buffers, _gradients, id);

    private BufferOperand Part(ProgramBuffer buffer) =>
        _buffers.Add(buffer.Name + ".grad_part", buffer.Type, buffer.Size, buffer.PerImage, BufferRole.Scratch);
}
