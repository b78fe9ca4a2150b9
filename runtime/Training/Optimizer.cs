using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// Updates trainable parameters from their gradients once per training step. An optimiser keeps per-parameter
/// state (momentum, moment estimates, step count) allocated on the parameter's first step, so steady-state steps
/// allocate nothing. One optimiser serves one network.
/// </summary>
/// <remarks>
/// A step updates every trainable parameter that is not <see cref="Parameter.Frozen"/>: first the gradients are
/// clipped to <see cref="MaxGradientNorm"/> (when set), then each parameter is updated with the settings of the first
/// of <see cref="Groups"/> that selects it, or the optimiser's own when none does.
/// </remarks>
public abstract class Optimizer
{
    /// <summary>torch.nn.utils.clip_grad_norm_'s guard against a zero norm: the coefficient is max / (norm + 1e-6).</summary>
    private const double ClipEpsilon = 1e-6;

    private readonly ParameterStates _states;
    private float? _maxGradientNorm;

    /// <param name="learningRate">The step size, positive.</param>
    /// <param name="weightDecay">The optimiser's weight decay, finite and non-negative (how it is applied is the subclass's).</param>
    /// <param name="stateBuffers">Per-parameter buffers the subclass keeps, each as long as the parameter.</param>
    protected Optimizer(float learningRate, float weightDecay = 0f, int stateBuffers = 0)
    {
        if (!(learningRate > 0f && float.IsFinite(learningRate)))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite and positive.");
        }

        LearningRate = learningRate;
        WeightDecay = CheckWeightDecay(weightDecay, nameof(weightDecay));
        _states = new ParameterStates(stateBuffers);
    }

    /// <summary>
    /// The step size; may be changed between steps (learning-rate schedules). A parameter group's learning rate is
    /// this times its <see cref="ParameterGroup.LearningRateScale"/>, so a schedule moves every group.
    /// </summary>
    public float LearningRate
    {
        get;
        set
        {
            // Zero is allowed here (a schedule annealed to a minimum of 0), not at construction.
            if (!(value >= 0f && float.IsFinite(value)))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be finite and non-negative.");
            }

            field = value;
        }
    }

    /// <summary>The weight decay of parameters no group selects (or whose group leaves it unset).</summary>
    public float WeightDecay { get; }

    /// <summary>Steps taken so far. Each parameter also counts its own steps (it may have been frozen for some).</summary>
    public long StepCount { get; private set; }

    /// <summary>
    /// Parameter groups, as PyTorch's param_groups: the first group whose selector accepts a parameter sets its learning
    /// rate scale and weight decay; parameters no group selects use the optimiser's settings.
    /// </summary>
    public IList<ParameterGroup> Groups { get; } = new List<ParameterGroup>();

    /// <summary>
    /// When set, each step first scales the gradients it will apply so that their global 2-norm is at most this, as
    /// torch.nn.utils.clip_grad_norm_ before optimizer.step(): coefficient max / (norm + 1e-6), applied when below 1.
    /// In distributed training this comes after the gradients are averaged over the ranks. Null (the default) is off.
    /// </summary>
    public float? MaxGradientNorm
    {
        get => _maxGradientNorm;
        set
        {
            if (value is float max && !(max > 0f && float.IsFinite(max)))
            {
                throw new ArgumentOutOfRangeException(nameof(value), max, "The maximum gradient norm must be finite and positive, or null for no clipping.");
            }

            _maxGradientNorm = value;
        }
    }

    /// <summary>
    /// The global 2-norm of the gradients of the last step, before clipping (what clip_grad_norm_ returns), for
    /// logging; computed only while <see cref="MaxGradientNorm"/> is set, null otherwise.
    /// </summary>
    public double? LastGradientNorm { get; private set; }

    /// <summary>Applies one update to every trainable, unfrozen parameter in <paramref name="parameters"/>.</summary>
    /// <exception cref="InvalidOperationException">
    /// The parameter list is not the one earlier steps saw (a parameter's length changed), or clipping found a
    /// non-finite gradient norm; nothing was updated.
    /// </exception>
    public void Step(IReadOnlyList<Parameter> parameters) => Step(parameters, HostParameters.Instance);

    /// <summary>
    /// The step over parameters whose values and gradients live in <paramref name="store"/>: the host's arrays, or a
    /// device's memory. The bookkeeping (checks, clipping, groups, per-parameter step counts) is the same for both.
    /// </summary>
    internal void Step(IReadOnlyList<Parameter> parameters, IParameterStore store)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        for (int i = 0; i < parameters.Count; i++)
        {
            if (Applies(parameters[i]))
            {
                _states.Check(i, parameters[i]);
            }
        }

        LastGradientNorm = null;
        if (_maxGradientNorm is float maxNorm)
        {
            ClipGradients(parameters, store, maxNorm);
        }

        StepCount++;
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter parameter = parameters[i];
            if (!Applies(parameter))
            {
                continue;
            }

            ParameterGroup? group = GroupOf(parameter);
            float learningRate = group is null ? LearningRate : LearningRate * group.LearningRateScale;
            float weightDecay = group?.WeightDecay ?? WeightDecay;
            long parameterStep = _states.Advance(i, parameter);
            store.Update(this, i, parameter, learningRate, weightDecay, parameterStep);
        }
    }

    /// <summary>Whether a step updates <paramref name="parameter"/>: trainable and not frozen.</summary>
    internal static bool Applies(Parameter parameter) => parameter.Trainable && !parameter.Frozen;

    /// <summary>The update of one parameter on the host's arrays (<see cref="Update"/>), for a store that runs it there.</summary>
    internal void UpdateOnHost(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep) =>
        Update(index, parameter, learningRate, weightDecay, parameterStep);

    /// <summary>
    /// Updates one parameter; <paramref name="index"/> is its stable position, to key per-parameter state
    /// (<see cref="State"/>). <paramref name="learningRate"/> and <paramref name="weightDecay"/> are its group's;
    /// <paramref name="parameterStep"/> counts this parameter's steps, 1 on its first (PyTorch's state['step']).
    /// </summary>
    protected abstract void Update(int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep);

    /// <summary>Buffer <paramref name="which"/> of the parameter at <paramref name="index"/>: zeroed before its first step, then kept.</summary>
    protected float[] State(int index, int which) => _states.Buffer(index, which);

    /// <summary>The check every optimiser makes of a weight decay argument.</summary>
    protected static float CheckWeightDecay(float weightDecay, string argument) =>
        weightDecay >= 0f && float.IsFinite(weightDecay)
            ? weightDecay
            : throw new ArgumentOutOfRangeException(argument, weightDecay, "The weight decay must be finite and non-negative.");

    /// <summary>The check every optimiser makes of a decay rate (momentum, beta, alpha): in [0, 1).</summary>
    protected static float CheckDecayRate(float rate, string argument) =>
        rate >= 0f && rate < 1f
            ? rate
            : throw new ArgumentOutOfRangeException(argument, rate, $"{argument} must be in [0, 1).");

    /// <summary>The check every optimiser makes of an epsilon: finite and positive.</summary>
    protected static float CheckEpsilon(float epsilon, string argument) =>
        epsilon > 0f && float.IsFinite(epsilon)
            ? epsilon
            : throw new ArgumentOutOfRangeException(argument, epsilon, $"{argument} must be finite and positive.");

    private ParameterGroup? GroupOf(Parameter parameter)
    {
        // An index loop: foreach over the IList would box an enumerator every step.
        for (int i = 0; i < Groups.Count; i++)
        {
            if (Groups[i].Selects(parameter))
            {
                return Groups[i];
            }
        }

        return null;
    }

    private void ClipGradients(IReadOnlyList<Parameter> parameters, IParameterStore store, float maxNorm)
    {
        double norm = Math.Sqrt(store.GradientSumOfSquares(parameters));
        if (!double.IsFinite(norm))
        {
            throw new InvalidOperationException(
                $"The gradients' global norm is {norm} at optimiser step {StepCount + 1}; clipping cannot rescue a non-finite gradient, so nothing was updated.");
        }

        LastGradientNorm = norm;
        double coefficient = maxNorm / (norm + ClipEpsilon);
        if (coefficient < 1)
        {
            store.ScaleGradients(parameters, (float)coefficient);
        }
    }

    /// <summary>Parameters in the host's arrays: the CPU path.</summary>
    private sealed class HostParameters : IParameterStore
    {
        public static readonly HostParameters Instance = new();

        public double GradientSumOfSquares(IReadOnlyList<Parameter> parameters)
        {
            double sumOfSquares = 0;
            for (int i = 0; i < parameters.Count; i++)
            {
                if (Applies(parameters[i]))
                {
                    sumOfSquares += VectorMath.SumOfSquares(parameters[i].Gradient);
                }
            }

            return sumOfSquares;
        }

        public void ScaleGradients(IReadOnlyList<Parameter> parameters, float factor)
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                if (Applies(parameters[i]))
                {
                    VectorMath.Scale(parameters[i].Gradient, factor);
                }
            }
        }

        public void Update(Optimizer optimizer, int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep) =>
            optimizer.Update(index, parameter, learningRate, weightDecay, parameterStep);
    }
}

/// <summary>
/// Where an optimiser step finds the parameters' values and gradients: the host's arrays, or a device's memory (the
/// ILGPU package). The step's bookkeeping stays in <see cref="Optimizer.Step(IReadOnlyList{Parameter}, IParameterStore)"/>.
/// </summary>
internal interface IParameterStore
{
    /// <summary>The sum of the squares of the gradients of the parameters a step updates (<see cref="Optimizer.Applies"/>).</summary>
    double GradientSumOfSquares(IReadOnlyList<Parameter> parameters);

    /// <summary>Multiplies those gradients by <paramref name="factor"/> (clipping).</summary>
    void ScaleGradients(IReadOnlyList<Parameter> parameters, float factor);

    /// <summary>One parameter's update, with its group's settings and its own step number.</summary>
    void Update(Optimizer optimizer, int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep);
}

/// <summary>The vector loops the optimisers share.</summary>
internal static class VectorMath
{
    /// <summary>The sum of squares of <paramref name="values"/>, accumulated in double (a norm over millions of floats).</summary>
    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        Vector<double> sum = Vector<double>.Zero;
        foreach (Vector<float> vector in vectors)
        {
            Vector.Widen(vector, out Vector<double> low, out Vector<double> high);
            sum += (low * low) + (high * high);
        }

        double total = Vector.Sum(sum);
        for (int i = vectors.Length * Vector<float>.Count; i < values.Length; i++)
        {
            total += (double)values[i] * values[i];
        }

        return total;
    }

    /// <summary>values *= factor.</summary>
    public static void Scale(Span<float> values, float factor)
    {
        Span<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        for (int v = 0; v < vectors.Length; v++)
        {
            vectors[v] *= factor;
        }

        for (int i = vectors.Length * Vector<float>.Count; i < values.Length; i++)
        {
            values[i] *= factor;
        }
    }
}
