using System;

namespace NetCompiler;

/// <summary>
/// An optimiser's per-parameter state: buffers (momentum, moment estimates) and the parameter's own step count
/// (PyTorch's state['step']), keyed by the parameter's index in the list <see cref="Optimizer.Step"/> receives. A
/// parameter's buffers are allocated, zeroed, on its first step, which may come late (it was frozen before); later steps
/// reuse them, and a parameter whose length changed is reported instead of silently mixing state.
/// </summary>
internal sealed class ParameterStates(int buffersPerParameter)
{
    // Entry index * buffersPerParameter + k is buffer k of the parameter at index.
    private float[][] _buffers = [];

    // 0 until the parameter's first step (a parameter has at least one element).
    private int[] _lengths = [];

    private long[] _steps = [];

    /// <summary>Checks, before anything changes, that the parameter at <paramref name="index"/> fits its state.</summary>
    /// <exception cref="InvalidOperationException">The parameter's length differs from its earlier steps.</exception>
    public void Check(int index, Parameter parameter)
    {
        int knownLength = index < _lengths.Length ? _lengths[index] : 0;
        if (knownLength != 0 && knownLength != parameter.Length)
        {
            throw new InvalidOperationException(
                $"Parameter {index} ('{parameter.Name}') has {parameter.Length} elements but had {knownLength} on earlier steps; " +
                "an optimiser serves one network, so create a new optimiser for a different one.");
        }
    }

    /// <summary>
    /// Counts a step of the parameter at <paramref name="index"/> (checked by <see cref="Check"/>), allocating its
    /// buffers on its first; returns its step number, 1 on the first.
    /// </summary>
    public long Advance(int index, Parameter parameter)
    {
        if (index >= _lengths.Length)
        {
            int capacity = Math.Max(index + 1, _lengths.Length * 2);
            Array.Resize(ref _lengths, capacity);
            Array.Resize(ref _steps, capacity);
            Array.Resize(ref _buffers, capacity * buffersPerParameter);
        }

        if (_lengths[index] == 0)
        {
            _lengths[index] = parameter.Length;
            for (int k = 0; k < buffersPerParameter; k++)
            {
                _buffers[index * buffersPerParameter + k] = new float[parameter.Length];
            }
        }

        return ++_steps[index];
    }

    /// <summary>Buffer <paramref name="which"/> of the parameter at <paramref name="index"/>, once it has stepped.</summary>
    public float[] Buffer(int index, int which) => _buffers[index * buffersPerParameter + which];
}
