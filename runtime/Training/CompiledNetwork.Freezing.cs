using System;
using System.Linq;

namespace NetCompiler;

/// <summary>Freezing layers for transfer learning, as setting requires_grad = False on a PyTorch module's parameters.</summary>
public abstract partial class CompiledNetwork
{
    /// <summary>
    /// Freezes every trainable tensor whose name starts with <paramref name="prefix"/> ("features." freezes the body):
    /// optimisers skip them until <see cref="Unfreeze"/>, and a tensor's optimiser state starts on its first step after
    /// that. Their gradients are still computed (the backward pass needs the gradient through a frozen layer for the
    /// layers before it), and batch norm running statistics of frozen layers still update in training mode, as in
    /// PyTorch, where requires_grad does not affect them either.
    /// </summary>
    /// <returns>How many tensors matched.</returns>
    /// <exception cref="ArgumentException">No trainable tensor's name starts with <paramref name="prefix"/>.</exception>
    public int Freeze(string prefix) => SetFrozen(prefix, frozen: true);

    /// <summary>Unfreezes every trainable tensor whose name starts with <paramref name="prefix"/>; see <see cref="Freeze"/>.</summary>
    /// <returns>How many tensors matched.</returns>
    /// <exception cref="ArgumentException">No trainable tensor's name starts with <paramref name="prefix"/>.</exception>
    public int Unfreeze(string prefix) => SetFrozen(prefix, frozen: false);

    private int SetFrozen(string prefix, bool frozen)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Parameter[] matched = [.. _parameters.Where(p => p.Trainable && p.Name.StartsWith(prefix, StringComparison.Ordinal))];
        if (matched.Length == 0)
        {
            string[] names = [.. _parameters.Where(p => p.Trainable).Select(p => p.Name)];
            throw new ArgumentException(
                $"No trainable tensor's name starts with '{prefix}'; the trainable tensors are {string.Join(", ", names.Take(6))}{(names.Length > 6 ? $", ... ({names.Length} in all)" : "")}.",
                nameof(prefix));
        }

        foreach (Parameter parameter in matched)
        {
            parameter.Frozen = frozen;
        }

        return matched.Length;
    }
}
