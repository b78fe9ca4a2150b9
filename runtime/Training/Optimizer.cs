using System.Collections.Generic;

namespace NetCompiler;

/// <summary>
/// Updates trainable parameters from their gradients once per training step. An optimiser keeps per-parameter
/// state (momentum, moment estimates) allocated on its first step, so steady-state steps allocate nothing.
/// One optimiser serves one network.
/// </summary>
public abstract class Optimizer
{
    protected Optimizer(float learningRate)
    {
        System.ArgumentOutOfRangeException.ThrowIfNegativeOrZero(learningRate);
        LearningRate = learningRate;
    }

    /// <summary>The step size; may be changed between steps (learning-rate schedules).</summary>
    public float LearningRate { get; set; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Applies one update to every trainable parameter in <paramref name="parameters"/>.</summary>
    public void Step(IReadOnlyList<Parameter> parameters)
    {
        StepCount++;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Trainable)
            {
                Update(i, parameters[i]);
            }
        }
    }

    /// <summary>Updates one parameter; <paramref name="index"/> is its stable position, to key per-parameter state.</summary>
    protected abstract void Update(int index, Parameter parameter);
}
