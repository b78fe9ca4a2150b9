using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>
/// The evaluation-mode forward from the training one, as TVM's SimplifyInference: batch norm on its running
/// statistics (nothing saved) and dropout as the identity.
/// </summary>
internal static class SimplifyInference
{
    public static EquatableArray<Call> Run(IEnumerable<Call> forward) => forward.Select(call => call switch
    {
        BatchNormTraining norm => new BatchNormInference(norm.Norm, norm.X, norm.Y, norm.Activation) { Layer = norm.Layer, Residual = norm.Residual },
        DropoutForward dropout => new Copy(dropout.X, dropout.Y) { Layer = dropout.Layer },
        _ => call,
    }).ToEquatableArray();
}
