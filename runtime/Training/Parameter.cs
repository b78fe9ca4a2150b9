using System;

namespace NetCompiler;

/// <summary>
/// A named tensor of a compiled network, stored flat in PyTorch's layout. Trainable ones carry a gradient the
/// backward pass overwrites each step; buffers (batch norm running statistics) have none.
/// </summary>
public sealed class Parameter
{
    public Parameter(string name, int[] shape, bool trainable)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long length = 1;
        foreach (int dimension in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension, nameof(shape));
            length = checked(length * dimension);
        }

        Name = name;
        Shape = shape;
        Trainable = trainable;
        Value = new float[length];
        Gradient = trainable ? new float[length] : [];
    }

    /// <summary>The checkpoint key, e.g. "features.0.weight".</summary>
    public string Name { get; }

    /// <summary>PyTorch's shape, e.g. [out, in/groups, k, k] for a convolution weight.</summary>
    public int[] Shape { get; }

    /// <summary>Whether the optimiser updates it (false for running statistics).</summary>
    public bool Trainable { get; }

    /// <summary>
    /// Whether optimisers skip it (transfer learning; see <see cref="CompiledNetwork.Freeze"/>). Its gradient is still
    /// computed by the backward pass, as the layers before it need the gradient through it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set on a tensor that is not trainable.</exception>
    public bool Frozen
    {
        get;
        set => field = !value || Trainable
            ? value
            : throw new InvalidOperationException($"'{Name}' is not trainable (a running statistic), so there is nothing to freeze.");
    }

    public float[] Value { get; }

    /// <summary>d(loss)/d(value) of the last training step; empty for buffers.</summary>
    public float[] Gradient { get; }

    public int Length => Value.Length;

    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
