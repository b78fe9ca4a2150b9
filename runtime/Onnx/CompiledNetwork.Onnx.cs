using System;
using NetCompiler.Onnx;

namespace NetCompiler;

public abstract partial class CompiledNetwork
{
    /// <summary>
    /// The inference program as an ONNX graph (the generator prints it); networks with a layer ONNX cannot express
    /// throw <see cref="NotSupportedException"/> naming it.
    /// </summary>
    protected abstract OnnxGraph OnnxGraph { get; }

    /// <summary>
    /// Writes the evaluation-mode network as an ONNX model (opset 17): parameters as initializers named by their
    /// checkpoint keys, an input named "images" and an output named "scores" whose first dimension, the batch, is
    /// dynamic. Batch norm is exported as BatchNormalization nodes on the running statistics, not folded, so the file
    /// holds exactly the checkpoint's tensors (ONNX Runtime folds them into the convolutions itself). The file is
    /// written to a temporary one and renamed, so a failed export leaves no half-written file.
    /// </summary>
    /// <exception cref="NotSupportedException">The network has a layer ONNX cannot express (the IMEX implicit solve).</exception>
    public void ExportOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        OnnxGraph graph = OnnxGraph;
        AtomicFile.Write(path, stream => OnnxWriter.Write(stream, graph, Parameters, GetType().Name));
    }
}
