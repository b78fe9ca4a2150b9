using System.Collections.Generic;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Ops;

/// <summary>
/// One op: its syntax entry (attribute and blueprint), its shape rule and figures, and its lowering to primitive
/// calls. The backward is derived from the primitives (Planning/Passes/DeriveBackward.cs), so an op writes none.
/// Adding an op touches its module, its kernels and one printer method per backend.
/// </summary>
internal abstract class Op
{
    /// <summary>How the op is written: attribute class, blueprint keywords, arguments and defaults.</summary>
    public abstract LayerKind Syntax { get; }

    /// <summary>The op as messages name it: its attribute's name ("Conv", "MaxPool").</summary>
    public abstract string Name { get; }

    /// <summary>Whether an activation right after it can run in its epilogue.</summary>
    public virtual bool TakesActivationEpilogue => false;

    public abstract LayerOutcome Check(LayerSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field);

    /// <summary>
    /// How a tensor of the layer starts: biases 0; weights by the activation that follows, directly or through a batch
    /// norm, as PyTorch's calculate_gain suggests: He (gain sqrt 2) for ReLU, ReLU6, ELU and SiLU, He with gain
    /// sqrt(2 / (1 + slope^2)) for LeakyReLU (kaiming_normal_'s a), Xavier for sigmoid, tanh and no activation.
    /// </summary>
    public virtual Initialiser Initialise(TensorSpec tensor, Activation activation)
    {
        if (tensor.Key.Role != TensorRole.Weight)
        {
            return new Initialiser(InitScheme.Constant, 0, 0, 0f);
        }

        // PyTorch's fans: weight [a, b, k, k] has fan_in b*k*k and fan_out a*k*k (so for a transposed convolution,
        // whose weight is [in, out/groups, k, k], they swap roles exactly as in PyTorch).
        int fanIn = Fan(tensor.Dimensions, 1), fanOut = Fan(tensor.Dimensions, 0);
        return activation.Kind switch
        {
            ActivationKind.Relu or ActivationKind.Relu6 or ActivationKind.Elu or ActivationKind.Silu => new Initialiser(InitScheme.HeNormal, fanIn, fanOut, 0f),
            ActivationKind.LeakyRelu => new Initialiser(InitScheme.HeNormal, fanIn, fanOut, 0f) { NegativeSlope = activation.Alpha },
            _ => new Initialiser(InitScheme.XavierUniform, fanIn, fanOut, 0f),
        };
    }

    private static int Fan(EquatableArray<int> dimensions, int axis)
    {
        int fan = dimensions[axis];
        for (int i = 2; i < dimensions.Count; i++)
        {
            fan *= dimensions[i];
        }

        return fan;
    }

    /// <summary>Appends the layer's forward calls; returns the buffer holding its output.</summary>
    public abstract BufferOperand Lower(LayerLowering lowering);
}

/// <summary>An op over its own spec record.</summary>
internal abstract class Op<TSpec> : Op
    where TSpec : LayerSpec
{
    public sealed override LayerOutcome Check(LayerSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field) =>
        Check((TSpec)spec, input, rules, ref field);

    public sealed override BufferOperand Lower(LayerLowering lowering) => Lower((TSpec)lowering.Layer.Spec, lowering);

    protected abstract LayerOutcome Check(TSpec spec, Shape input, ShapeRules rules, ref ReceptiveField field);

    protected abstract BufferOperand Lower(TSpec spec, LayerLowering lowering);
}

/// <summary>The registry of ops: the one place a spec finds its module.</summary>
internal static class OpCatalog
{
    public static readonly Op[] All =
    [
        Conv.Instance, ConvTranspose.Instance, BatchNorm.Instance, .. ActivationOp.Family, MaxPool.Instance, AvgPool.Instance,
        GlobalAvgPool.Instance, Dense.Instance, Dropout.Instance, Residual.Instance, Imex.Instance,
        Upsample.Instance, Save.Instance, Concat.Instance, AddSkip.Instance,
        BasicBlock.Instance, Bottleneck.Instance, Inception.Instance,
    ];

    public static Op Of(LayerSpec spec) => spec switch
    {
        ConvSpec => Conv.Instance,
        ConvTransposeSpec => ConvTranspose.Instance,
        BatchNormSpec => BatchNorm.Instance,
        ActivationSpec activation => ActivationOp.Of(activation.Kind),
        PoolSpec { Kind: PoolKind.Max } => MaxPool.Instance,
        PoolSpec => AvgPool.Instance,
        GlobalAvgPoolSpec => GlobalAvgPool.Instance,
        DenseSpec => Dense.Instance,
        DropoutSpec => Dropout.Instance,
        ResidualSpec => Residual.Instance,
        ImexSpec => Imex.Instance,
        UpsampleSpec => Upsample.Instance,
        SkipSpec { Action: SkipAction.Save } => Save.Instance,
        SkipSpec { Action: SkipAction.Concat } => Concat.Instance,
        SkipSpec => AddSkip.Instance,
        BasicBlockSpec => BasicBlock.Instance,
        BottleneckSpec => Bottleneck.Instance,
        InceptionSpec => Inception.Instance,
        _ => throw new System.InvalidOperationException("No op module for " + spec.GetType().Name),
    };

    /// <summary>A batch norm starts as the identity: weight and running variance 1, bias and running mean 0.</summary>
    public static Initialiser NormInitialiser(TensorSpec tensor) =>
        new(InitScheme.Constant, 0, 0, tensor.Key.Role is TensorRole.Weight or TensorRole.RunningVar ? 1f : 0f);

    /// <summary>The tensors of a batch norm module: weight and bias trained, running statistics not.</summary>
    public static IEnumerable<LayerTensor> NormTensors(string module, int channels) =>
    [
        new(module, TensorRole.Weight, [channels], true), new(module, TensorRole.Bias, [channels], true),
        new(module, TensorRole.RunningMean, [channels], false), new(module, TensorRole.RunningVar, [channels], false),
    ];
}
