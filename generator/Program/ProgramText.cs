using System.Linq;
using System.Text;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Program;

/// <summary>
/// The program as text, as TVM prints its IR: sizes, buffers with their slots, tensors with their initialisers, then
/// each routine one call a line. Generated into each network (its static Program) and kept in the baselines.
/// </summary>
internal static class ProgramText
{
    public static string Print(KernelProgram program)
    {
        var text = new StringBuilder();
        text.Append("program ").Append(program.Network.Spec.Declaration.Name).Append('\n');
        text.Append("sizes\n");
        foreach (SizeConstant size in program.Sizes)
        {
            text.Append($"  {size.Name} = {Format.Invariant(size.Elements)}  // {size.Description}\n");
        }

        text.Append("buffers\n");
        foreach (ProgramBuffer buffer in program.Buffers)
        {
            int slot = program.Memory.SlotOf[buffer.Id];
            string type = buffer.Type == ElementType.Float32 ? "f32" : "u8";
            string shape = buffer.PerImage ? "n x " + buffer.Size.Name : buffer.Size.Name;
            text.Append($"  %{buffer.Name}: {type}[{shape}] {Role(buffer.Role)}{(slot < 0 ? "" : " slot " + Format.Invariant(slot))}{(program.Pinned.Contains(buffer.Id) ? " pinned" : "")}\n");
        }

        text.Append("tensors\n");
        foreach (ProgramTensor tensor in program.Tensors)
        {
            string dimensions = string.Join(", ", tensor.Dimensions.Select(d => Format.Invariant(d)));
            Initialiser init = tensor.Init;
            string start = init.Scheme switch
            {
                InitScheme.Constant => "constant(" + Format.Invariant(init.Fill) + ")",
                InitScheme.HeNormal => "he_normal(fan_in=" + Format.Invariant(init.FanIn) + (init.NegativeSlope == 0 ? "" : ", a=" + Format.Invariant(init.NegativeSlope)) + ")",
                InitScheme.FanInUniform => "uniform(bound=1/sqrt(" + Format.Invariant(init.FanIn) + "))",
                InitScheme.SmallNormal => "normal(std=0.01)",
                InitScheme.Orthogonal => "orthogonal(gain=1)",
                _ => "xavier_uniform(fan_in=" + Format.Invariant(init.FanIn) + ", fan_out=" + Format.Invariant(init.FanOut) + ")",
            };
            text.Append($"  @{tensor.Key}: [{dimensions}] {(tensor.Trainable ? "trained" : "buffer")} {start}\n");
        }

        Routine(text, program, "inference", program.Routines.Inference);
        Routine(text, program, "inference_unfolded", program.Routines.InferenceUnfolded);
        Routine(text, program, "inference_for_gradients", program.Routines.InferenceForGradients);
        Routine(text, program, "fold", program.Routines.Fold);
        Routine(text, program, "training", program.Routines.Training);
        Routine(text, program, "evaluation_backward", program.Routines.EvaluationBackward);
        return text.ToString();
    }

    /// <summary>One call: "conv2d(%images, @features.0.weight, @features.0.bias) -> %features.0.output  Features_0Shape +relu".</summary>
    public static string Call(KernelProgram program, Call call)
    {
        string inputs = string.Join(", ", call.Inputs.Select(o => Operand(program, o)));
        string outputs = string.Join(", ", call.Outputs.Select(o => Operand(program, o)));
        return call.Op + "(" + inputs + ")" + (outputs.Length == 0 ? "" : " -> " + outputs) + (call.Attributes.Length == 0 ? "" : "  " + call.Attributes);
    }

    private static void Routine(StringBuilder text, KernelProgram program, string name, EquatableArray<Call> calls)
    {
        if (calls.Count == 0)
        {
            return;
        }

        text.Append("routine ").Append(name).Append('\n');
        string layer = "";
        foreach (Call call in calls)
        {
            if (call.Layer != layer)
            {
                layer = call.Layer;
                text.Append("  // ").Append(layer).Append('\n');
            }

            text.Append("  ").Append(Call(program, call)).Append('\n');
        }
    }

    private static string Operand(KernelProgram program, Operand operand) => operand switch
    {
        BufferOperand buffer => "%" + program.Buffer(buffer.Id).Name,
        TensorOperand tensor => "@" + tensor.Key + (tensor.Gradient ? ".grad" : ""),
        _ => "_",
    };

    private static string Role(BufferRole role) => role switch
    {
        BufferRole.Input => "input",
        BufferRole.Activation => "activation",
        BufferRole.SavedForBackward => "saved",
        BufferRole.Gradient => "gradient",
        BufferRole.Scratch => "scratch",
        _ => "derived",
    };
}
