using System;

namespace NetCompiler;

/// <summary>
/// An optimiser's per-parameter buffers (momentum, moment estimates), keyed by the parameter's index in the list
/// <see cref="Optimizer.Step"/> receives. A parameter's buffers are allocated, zeroed, on its first step; later steps
/// reuse them, and a parameter list that changed between steps is reported instead of silently mixing state.
/// </summary>
internal sealed class ParameterStates(int buffersPerParameter)
{
    // Entry index * buffersPerParameter + k is buffer k of the parameter at index.
    private float[][] _buffers = [];

    // 0 until the parameter's first step (a parameter has at least one element).
    private int[] _lengths = [];

    /// <summary>
    /// Ensures the parameter at <paramref name="index"/> has its buffers; returns true on its first step, when they
    /// were just allocated.
    /// </summary>
    /// <param name="stepCount">The optimiser's <see cref="Optimizer.StepCount"/>, 1 on its first step.</param>
    /// <exception cref="InvalidOperationException">The parameter's length differs from earlier steps, or it is new after the first step.</exception>
    public bool Bind(int index, Parameter parameter, long stepCount)
    {
        if (index >= _lengths.Length)
        {
            int capacity = Math.Max(index + 1, _lengths.Length * 2);
            Array.Resize(ref _lengths, capacity);
            Array.Resize(ref _buffers, capacity * buffersPerParameter);
        }

        int knownLength = _lengths[index];
        if (knownLength == parameter.Length)
        {
            return false;
        }

        if (knownLength != 0)
        {
            throw new InvalidOperationException(
                $"Parameter {index} ('{parameter.Name}') has {parameter.Length} elements but had {knownLength} on earlier steps; " +
                "an optimiser serves one network, so create a new optimiser for a different one.");
        }

        if (stepCount > 1)
        {
            throw new InvalidOperationException(
                $"Parameter {index} ('{parameter.Name}') was not in the parameter list on earlier steps; " +
                "an optimiser serves one network, so create a new optimiser for a different one.");
        }

        _lengths[index] = parameter.Length;
        for (int k = 0; k < buffersPerParameter; k++)
        {
            _buffers[index * buffersPerParameter + k] = new float[parameter.Length];
        }

        return true;
    }

    /// <summary>Buffer <paramref name="which"/> of the parameter at <paramref name="index"/>, once bound.</summary>
    public float[] Buffer(int index, int which) => _buffers[index * buffersPerParameter + which];
}
