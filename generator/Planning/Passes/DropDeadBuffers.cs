using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>Keeps the buffers some routine touches (an activation's input once fused away is touched by none), and the input.</summary>
internal static class DropDeadBuffers
{
    public static List<ProgramBuffer> Run(EquatableArray<ProgramBuffer> buffers, Routines routines)
    {
        IEnumerable<Call> calls = routines.Inference.Concat(routines.InferenceUnfolded).Concat(routines.InferenceForGradients).Concat(routines.Fold)
            .Concat(routines.Training).Concat(routines.EvaluationBackward);
        var touched = new HashSet<int>(calls.SelectMany(c => c.Inputs.Concat(c.Outputs)).OfType<BufferOperand>().Select(b => b.Id)) { KernelProgram.InputBuffer };
        return buffers.Where(b => touched.Contains(b.Id)).ToList();
    }
}
