using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The base of a network's device routines, which the generator prints when a compilation references this package
/// (the nested <c>OnDevice</c> class of each network): device copies of the parameters and their gradients, the
/// planned storage, the uploads of a call's inputs and the downloads of its results.
/// </summary>
/// <remarks>
/// The host's <see cref="Parameter"/> arrays stay the network's checkpoint view. The device holds the newest values
/// after a training step; the host copy is refreshed only when read (<see cref="SynchronizeHost"/>: Parameters, Save,
/// Load, ExportOnnx). A host-side change (Load, <see cref="CompiledNetwork.MarkParametersChanged"/>) moves the
/// network's ParameterVersion on, and the next call uploads every value first.
/// </remarks>
public abstract class DeviceNetwork : IParameterStore, IDisposable
{
    private readonly CompiledNetwork _network;
    private readonly List<IDisposable> _owned = [];
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _values;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] _gradients;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _images;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _loss;
    private readonly DeviceElementwise _elementwise;
    private readonly DeviceOptimizers _optimizers;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _sumsOfSquares;
    private readonly double[] _sumsOfSquaresOnHost;

    // Per optimiser (an optimiser serves one network), per parameter, its state buffers on the device (owned, so freed
    // with the network).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Optimizer, ArrayView<float>[]?[]> _optimizerStates = [];
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? _labels;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _targets;
    private MemoryBuffer1D<float, Stride1D.Dense>? _classWeights;
    private long _deviceVersion = -1; // the network's ParameterVersion the device's values match
    private bool _hostStale;
    private readonly float[] _lossOnHost = new float[1];
    private float[]? _seedOnHost;

    /// <param name="device">Where the network runs.</param>
    /// <param name="network">The network whose parameters these are; they are initialised on the host, from its seed.</param>
    /// <param name="batchSize">The most images one call takes.</param>
    /// <param name="imageLength">Floats per input image.</param>
    /// <param name="targetsPerImage">Labels per image (one, or one per output pixel), or float targets per image (the output's length).</param>
    /// <param name="floatTargets">Whether the loss takes float targets rather than labels.</param>
    protected DeviceNetwork(IlgpuDevice device, CompiledNetwork network, int batchSize, int imageLength, int targetsPerImage, bool floatTargets)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        _network = network;
        BatchSize = batchSize;
        IReadOnlyList<Parameter> parameters = network.RegisteredParameters;
        _values = new MemoryBuffer1D<float, Stride1D.Dense>[parameters.Count];
        _gradients = new MemoryBuffer1D<float, Stride1D.Dense>?[parameters.Count];
        try
        {
            for (int i = 0; i < parameters.Count; i++)
            {
                _values[i] = Own(device.Allocate<float>(parameters[i].Name, parameters[i].Length));
                _gradients[i] = parameters[i].Trainable ? Own(device.Allocate<float>(parameters[i].Name + "'s gradient", parameters[i].Length)) : null;
            }

            _images = Own(device.Allocate<float>("the input images", (long)batchSize * imageLength));
            _loss = Own(device.Allocate<float>("the loss", 1));
            long targets = (long)batchSize * targetsPerImage;
            if (floatTargets)
            {
                _targets = Own(device.Allocate<float>("the targets", targets));
            }
            else
            {
                _labels = Own(device.Allocate<int>("the labels", targets));
            }

            _elementwise = new DeviceElementwise(device);
            _optimizers = Own(new DeviceOptimizers(device));
            _sumsOfSquares = Own(device.Allocate<double>("the gradients' sums of squares", parameters.Count));
            _sumsOfSquaresOnHost = new double[parameters.Count];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IlgpuDevice Device { get; }

    public int BatchSize { get; }

    /// <summary>The value of tensor <paramref name="index"/> (state_dict order) on the device.</summary>
    protected ArrayView<float> Value(int index) => _values[index].View;

    /// <summary>The gradient of trainable tensor <paramref name="index"/> on the device.</summary>
    protected ArrayView<float> Gradient(int index) => _gradients[index]!.View;

    /// <summary>The one-element view the loss kernels write the batch's mean loss to.</summary>
    protected ArrayView<float> Loss => _loss.View;

    /// <summary>Device storage for a planned slot: <paramref name="elements"/> per image for BatchSize images when per image.</summary>
    protected MemoryBuffer1D<T, Stride1D.Dense> AllocateStorage<T>(string buffers, long elements, bool perImage)
        where T : unmanaged =>
        Own(Device.Allocate<T>("the storage of " + buffers, perImage ? elements * BatchSize : elements));

    /// <summary>The first <paramref name="length"/> elements of a slot: the part the current batch uses.</summary>
    protected static ArrayView<T> Slice<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, long length)
        where T : unmanaged => buffer.View.SubView(0, length);

    /// <summary>Copies the call's images to the device (the host checked them) and returns their view.</summary>
    protected ArrayView<float> UploadImages(ReadOnlySpan<float> images)
    {
        ArrayView<float> view = _images.View.SubView(0, images.Length);
        view.CopyFromCPU(images);
        return view;
    }

    /// <summary>Copies the step's labels (checked by the host) to the device.</summary>
    protected ArrayView<int> UploadLabels(ReadOnlySpan<int> labels)
    {
        ArrayView<int> view = _labels!.View.SubView(0, labels.Length);
        view.CopyFromCPU(labels);
        return view;
    }

    /// <summary>Copies the step's float targets (checked by the host) to the device.</summary>
    protected ArrayView<float> UploadTargets(ReadOnlySpan<float> targets)
    {
        ArrayView<float> view = _targets!.View.SubView(0, targets.Length);
        view.CopyFromCPU(targets);
        return view;
    }

    /// <summary>The pixel loss's class weights on the device, or an empty view (every class weighs 1).</summary>
    protected ArrayView<float> UploadClassWeights(float[]? weights)
    {
        if (weights is null)
        {
            return default;
        }

        _classWeights ??= Own(Device.Allocate<float>("the class weights", weights.Length));
        _classWeights.View.CopyFromCPU(weights);
        return _classWeights.View;
    }

    /// <summary>Waits for the step so far and reads its loss: the one synchronisation of a training step.</summary>
    protected float ReadLoss()
    {
        _loss.View.CopyToCPU(_lossOnHost);
        return _lossOnHost[0];
    }

    /// <summary>Copies a result to the host, into <paramref name="host"/> (allocated once at its largest size).</summary>
    protected static ReadOnlySpan<float> Download(ArrayView<float> view, ref float[]? host, long largest)
    {
        host ??= new float[largest];
        Span<float> span = host.AsSpan(0, (int)view.Length);
        view.CopyToCPU(span);
        return span;
    }

    /// <summary>A kept layer's output or gradient, copied to a new host array (LayerOutput and LayerGradient).</summary>
    protected static ReadOnlySpan<float> DownloadCopy(ArrayView<float> view)
    {
        var host = new float[view.Length];
        view.CopyToCPU(host);
        return host;
    }

    /// <summary>ScoreGradient's seed (<see cref="CompiledNetwork.SeedScoreGradient"/>), built on the host and copied up.</summary>
    protected void UploadScoreSeed(ArrayView<float> dscores, int n, int classIndex, int classes)
    {
        _seedOnHost ??= new float[BatchSize * (dscores.Length / n)];
        Span<float> seed = _seedOnHost.AsSpan(0, (int)dscores.Length);
        CompiledNetwork.SeedScoreGradient(seed, n, classIndex, classes);
        dscores.CopyFromCPU(seed);
    }

    /// <summary>Uploads every parameter when the host changed them since the device last did (initialisation, Load, a user's edit).</summary>
    protected void PrepareParameters()
    {
        if (_network.ParameterVersion == _deviceVersion)
        {
            return;
        }

        IReadOnlyList<Parameter> parameters = _network.RegisteredParameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            _values[i].View.CopyFromCPU(parameters[i].Value);
        }

        _deviceVersion = _network.ParameterVersion;
        _hostStale = false;
    }

    /// <summary>After a step on the device: its values are the newest, and the host's are stale until read.</summary>
    protected void MarkTrained()
    {
        _deviceVersion = _network.ParameterVersion;
        _hostStale = true;
    }

    /// <summary>Copies the device's newer values and gradients to the host's Parameter arrays.</summary>
    public void SynchronizeHost()
    {
        if (!_hostStale)
        {
            return;
        }

        IReadOnlyList<Parameter> parameters = _network.RegisteredParameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            _values[i].View.CopyToCPU(parameters[i].Value);
            _gradients[i]?.View.CopyToCPU(parameters[i].Gradient);
        }

        _hostStale = false;
    }

    /// <summary>The optimiser's step on the device's parameters.</summary>
    protected void StepOptimizer(Optimizer optimizer) => optimizer.Step(_network.RegisteredParameters, this);

    double IParameterStore.GradientSumOfSquares(IReadOnlyList<Parameter> parameters)
    {
        // One fixed-order sum per parameter on the device, read back together and added in parameter order.
        for (int i = 0; i < parameters.Count; i++)
        {
            if (Optimizer.Applies(parameters[i]))
            {
                _optimizers.SumOfSquares(Gradient(i), _sumsOfSquares.View, i);
            }
        }

        _sumsOfSquares.View.CopyToCPU(_sumsOfSquaresOnHost);
        double sum = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            sum += Optimizer.Applies(parameters[i]) ? _sumsOfSquaresOnHost[i] : 0;
        }

        return sum;
    }

    void IParameterStore.ScaleGradients(IReadOnlyList<Parameter> parameters, float factor)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            if (Optimizer.Applies(parameters[i]))
            {
                _elementwise.Scale(Gradient(i), factor, Gradient(i));
            }
        }
    }

    /// <summary>
    /// The update of the runtime's optimisers on the device, state included; an optimiser of the user's own runs its
    /// host update on the device's value and gradient, and the value goes back (exact, at two copies per parameter).
    /// </summary>
    void IParameterStore.Update(Optimizer optimizer, int index, Parameter parameter, float learningRate, float weightDecay, long parameterStep)
    {
        ArrayView<float> w = Value(index), g = Gradient(index);
        switch (optimizer)
        {
            case Adam adam:
                ArrayView<float>[] moments = State(optimizer, index, 2);
                _optimizers.Adam(w, g, moments[0], moments[1], learningRate, parameterStep, adam.Beta1, adam.Beta2, adam.Epsilon, l2Decay: weightDecay, weightScale: 1f);
                break;
            case AdamW adamW:
                ArrayView<float>[] decoupled = State(optimizer, index, 2);
                _optimizers.Adam(w, g, decoupled[0], decoupled[1], learningRate, parameterStep, adamW.Beta1, adamW.Beta2, adamW.Epsilon,
                    l2Decay: 0f, weightScale: 1f - (learningRate * weightDecay));
                break;
            case Sgd { Momentum: 0f }:
                _optimizers.Sgd(w, g, learningRate, weightDecay);
                break;
            case Sgd sgd:
                _optimizers.SgdWithMomentum(w, g, State(optimizer, index, 1)[0], learningRate, weightDecay, sgd.Momentum, sgd.Nesterov, parameterStep);
                break;
            case RMSprop rmsprop:
                // The runtime's order: the square average, then the gradient average when centred, then the momentum buffer.
                ArrayView<float>[] averages = State(optimizer, index, 1 + (rmsprop.Centered ? 1 : 0) + (rmsprop.Momentum == 0f ? 0 : 1));
                _optimizers.RMSprop(w, g, averages[0], rmsprop.Centered ? averages[1] : default, rmsprop.Momentum == 0f ? default : averages[^1],
                    learningRate, weightDecay, rmsprop.Alpha, rmsprop.Epsilon, rmsprop.Momentum, rmsprop.Centered);
                break;
            case Adagrad adagrad:
                _optimizers.Adagrad(w, g, State(optimizer, index, 1)[0], learningRate, adagrad.LearningRateDecay, weightDecay,
                    adagrad.InitialAccumulatorValue, adagrad.Epsilon, parameterStep);
                break;
            default:
                _values[index].View.CopyToCPU(parameter.Value);
                _gradients[index]!.View.CopyToCPU(parameter.Gradient);
                optimizer.UpdateOnHost(index, parameter, learningRate, weightDecay, parameterStep);
                _values[index].View.CopyFromCPU(parameter.Value);
                break;
        }
    }

    /// <summary>
    /// An optimiser's state buffers for parameter <paramref name="index"/> on the device, zeroed when first asked for, as
    /// the runtime's are on the parameter's first step (the allocations of a parameter's first step only).
    /// </summary>
    private ArrayView<float>[] State(Optimizer optimizer, int index, int buffers)
    {
        if (!_optimizerStates.TryGetValue(optimizer, out ArrayView<float>[]?[]? states))
        {
            states = new ArrayView<float>[]?[_values.Length];
            _optimizerStates.Add(optimizer, states);
        }

        if (states[index] is { } views)
        {
            return views;
        }

        views = new ArrayView<float>[buffers];
        for (int k = 0; k < buffers; k++)
        {
            MemoryBuffer1D<float, Stride1D.Dense> buffer = Own(Device.Allocate<float>($"the optimiser state of {_network.RegisteredParameters[index].Name}", _values[index].Length));
            buffer.MemSetToZero();
            views[k] = buffer.View;
        }

        return states[index] = views;
    }

    public void Dispose()
    {
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }

        _owned.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes <paramref name="resource"/> with the network when it holds device memory (buffers, launchers' scratch).</summary>
    protected T Own<T>(T resource)
        where T : class
    {
        if (resource is IDisposable disposable)
        {
            _owned.Add(disposable);
        }

        return resource;
    }
}
