using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning;

/// <summary>
/// The network's initialisation scheme over a layer's tensors as its op initialises them: the op's He or Xavier
/// weights take the scheme instead, and with PyTorch's default their biases too; batch norms and running statistics
/// (constants) are left alone.
/// </summary>
internal static class Initialisation
{
    public static IEnumerable<ProgramTensor> Apply(InitKind kind, IReadOnlyList<ProgramTensor> layerTensors)
    {
        if (kind == InitKind.HeXavier)
        {
            return layerTensors;
        }

        Dictionary<string, int> weightFanIns = layerTensors
            .Where(t => IsLayerWeight(t.Init))
            .ToDictionary(t => t.Key.Module, t => t.Init.FanIn);
        return layerTensors.Select(tensor => tensor with { Init = Initialiser(kind, tensor, weightFanIns) });
    }

    private static Initialiser Initialiser(InitKind kind, ProgramTensor tensor, Dictionary<string, int> weightFanIns)
    {
        if (IsLayerWeight(tensor.Init))
        {
            InitScheme scheme = kind switch
            {
                InitKind.PyTorchDefault => InitScheme.FanInUniform,
                InitKind.SmallNormal => InitScheme.SmallNormal,
                _ => InitScheme.Orthogonal,
            };
            return tensor.Init with { Scheme = scheme };
        }

        // PyTorch's Conv and Linear bias: uniform within 1/sqrt(fan_in) of the module's weight.
        bool layerBias = tensor.Key.Role == TensorRole.Bias && weightFanIns.ContainsKey(tensor.Key.Module);
        return kind == InitKind.PyTorchDefault && layerBias
            ? new Initialiser(InitScheme.FanInUniform, weightFanIns[tensor.Key.Module], 0, 0f)
            : tensor.Init;
    }

    private static bool IsLayerWeight(Initialiser init) => init.Scheme is InitScheme.HeNormal or InitScheme.XavierUniform;
}
