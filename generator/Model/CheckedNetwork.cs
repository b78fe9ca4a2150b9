namespace NetCompiler.Generator.Model;

/// <summary>The shape of one image's activations: C x H x W, or a flat vector of C features after a dense layer.</summary>
internal readonly record struct Shape(int Channels, int Height, int Width, bool IsFlat)
{
    public static Shape Image(int channels, int height, int width) => new(channels, height, width, IsFlat: false);

    public static Shape Flat(int features) => new(features, 1, 1, IsFlat: true);

    public long Elements => (long)Channels * Height * Width;

    public override string ToString() => IsFlat ? Format.Invariant(Channels) : Format.Invariant(Channels) + "x" + Format.Invariant(Height) + "x" + Format.Invariant(Width);
}

/// <summary>A stored tensor of a layer: its checkpoint key, its PyTorch shape, and whether the optimiser trains it.</summary>
internal sealed record TensorSpec(TensorKey Key, EquatableArray<int> Dimensions, bool Trainable)
{
    public long Elements => Dimensions.Product();
}

/// <summary>
/// A layer whose shapes are known: its stable name (the checkpoint key prefix), a PyTorch-style description,
/// input and output shapes, stored tensors, multiply-accumulates per image and receptive field
/// (null where every output sees the whole input).
/// </summary>
internal sealed record CheckedLayer(
    LayerSpec Spec,
    string Name,
    string Description,
    Shape Input,
    Shape Output,
    EquatableArray<TensorSpec> Tensors,
    long MultiplyAccumulates,
    long? ReceptiveField)
{
    public long Parameters
    {
        get
        {
            long parameters = 0;
            foreach (TensorSpec tensor in Tensors)
            {
                parameters += tensor.Trainable ? tensor.Elements : 0;
            }

            return parameters;
        }
    }

    /// <summary>Activation memory of one image's output, float32; none for a Save, which keeps its input under a name.</summary>
    public long ActivationBytes => Spec is SkipSpec { Action: SkipAction.Save } ? 0 : Output.Elements * sizeof(float);
}

/// <summary>A network that passed checking: every shape known, ready to plan and emit.</summary>
internal sealed record CheckedNetwork(NetworkSpec Spec, Shape Input, EquatableArray<CheckedLayer> Layers)
{
    public Shape Output => Layers[Layers.Count - 1].Output;
}

/// <summary>What checking yields: the checked network when no error was found, and every diagnostic.</summary>
internal sealed record CheckResult(CheckedNetwork? Network, EquatableArray<DiagnosticInfo> Diagnostics);
