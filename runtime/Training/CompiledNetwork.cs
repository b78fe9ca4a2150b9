using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;
using NetCompiler.Kernels;

namespace NetCompiler;

/// <summary>
/// The base of every generated network: parameter registry, kernel context, input validation and step
/// bookkeeping. The generated part adds the shapes, buffers, Forward, TrainStep and the gradients.
/// </summary>
public abstract partial class CompiledNetwork : IDisposable
{
    private readonly List<Parameter> _parameters = [];
    private readonly List<BatchCounter> _batchCounters = [];
    private readonly int _imageLength;
    private SeededRandom _initRandom;

    /// <param name="batchSize">The most images one call takes; buffers are planned for it.</param>
    /// <param name="seed">Seeds initialisation and dropout: same seed, same thread count, same results.</param>
    /// <param name="threads">Worker threads for the kernels; 0 means one per processor.</param>
    protected CompiledNetwork(int batchSize, int seed, int threads, TensorShape input)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        BatchSize = batchSize;
        Seed = seed;
        Context = new KernelContext(threads == 0 ? Environment.ProcessorCount : threads);
        InputShape = input;
        _imageLength = checked((int)input.Elements);
        _initRandom = new SeededRandom((ulong)seed);
    }

    public int BatchSize { get; }

    /// <summary>The shape of one input image.</summary>
    public TensorShape InputShape { get; }

    /// <summary>
    /// The loss the network trains with (its [Network] attribute's Loss). The cross-entropy losses train on class labels
    /// (TrainStep with int labels); the others on one float target per output element (TrainStep with float targets).
    /// </summary>
    public abstract Loss Loss { get; }

    /// <summary>Scores for up to BatchSize images (n*C*H*W floats) in evaluation mode; valid until the next call.</summary>
    public abstract ReadOnlySpan<float> Forward(ReadOnlySpan<float> images);

    /// <summary>
    /// One training step on up to BatchSize images: forward in training mode, softmax cross-entropy (per pixel for
    /// segmentation), backward and the optimiser's update. Returns the batch's mean loss.
    /// </summary>
    public abstract float TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, Optimizer optimizer);

    /// <summary>
    /// One training step of a network with a regression or multi-label loss (mean squared error, L1, smooth L1,
    /// binary cross-entropy on logits): <paramref name="targets"/> holds one float per output element, n * OutputLength.
    /// Returns the batch's mean loss. A network trained on class labels throws, naming its loss.
    /// </summary>
    public virtual float TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<float> targets, Optimizer optimizer) =>
        throw new InvalidOperationException($"{GetType().Name} trains with Loss.{Loss} on class labels, not float targets: call TrainStep(images, labels, optimizer) with one int per label (Fit: a DataSet of labels).");

    /// <summary>d(loss)/d(images) in evaluation mode for a network with float targets (one per output element).</summary>
    public virtual ReadOnlySpan<float> InputGradient(ReadOnlySpan<float> images, ReadOnlySpan<float> targets) =>
        throw new InvalidOperationException($"{GetType().Name} trains with Loss.{Loss} on class labels; call InputGradient(images, labels) with one int per label.");

    /// <summary>The scores of the last Forward or TrainStep (in training mode for TrainStep), one row per image.</summary>
    public abstract ReadOnlySpan<float> LastScores { get; }

    /// <summary>d(loss)/d(images) in evaluation mode; the weights and their gradients are left untouched.</summary>
    public abstract ReadOnlySpan<float> InputGradient(ReadOnlySpan<float> images, ReadOnlySpan<int> labels);

    /// <summary>d(score of <paramref name="classIndex"/>, summed over output pixels)/d(images) in evaluation mode.</summary>
    public abstract ReadOnlySpan<float> ScoreGradient(ReadOnlySpan<float> images, int classIndex);

    /// <summary>The named layer's output in the last forward pass (n*C*H*W floats; shapes in the network's Summary), for the layers named by the network's Keep.</summary>
    public abstract ReadOnlySpan<float> LayerOutput(string layerName);

    /// <summary>d(loss or score)/d(the named layer's output) from the last backward pass, for the layers named by the network's Keep.</summary>
    public abstract ReadOnlySpan<float> LayerGradient(string layerName);

    public int Seed { get; }

    /// <summary>
    /// Every tensor in checkpoint (state_dict) order: trainable parameters and running statistics. On a device, reading
    /// this first copies the device's newer values and gradients back; after writing a value, call
    /// <see cref="MarkParametersChanged"/> so the next call uses it.
    /// </summary>
    public IReadOnlyList<Parameter> Parameters
    {
        get
        {
            SynchronizeHost();
            return _parameters;
        }
    }

    /// <summary>The tensors as registered, without synchronising: for a device's own bookkeeping.</summary>
    internal IReadOnlyList<Parameter> RegisteredParameters => _parameters;

    /// <summary>
    /// PyTorch's num_batches_tracked of each batch norm, in state_dict order: the training-mode forward passes it
    /// has seen (one per TrainStep). Checkpoints carry them as int64 scalars.
    /// </summary>
    public IReadOnlyList<BatchCounter> BatchCounters => _batchCounters;

    /// <summary>
    /// Bumped whenever parameter values may have changed (each TrainStep, a Load); derived state such as batch norm
    /// folded into convolution weights is rebuilt when it sees a newer version.
    /// </summary>
    public long ParameterVersion { get; private set; }

    /// <summary>Tells the network its parameter values changed: call it after writing <see cref="Parameter.Value"/> directly.</summary>
    public void MarkParametersChanged() => ParameterVersion++;

    /// <summary>
    /// Whether evaluation-mode forward passes run convolution and dense layers with the batch norm after them folded
    /// into their weights (one kernel less per pair; the same function up to float rounding). On by default; turn it
    /// off to compare against the unfolded layers. Training always runs the batch norms on batch statistics.
    /// </summary>
    public bool FoldBatchNorm { get; set; } = true;

    /// <summary>Training steps taken.</summary>
    public long StepCount { get; private set; }

    protected KernelContext Context { get; }

    /// <summary>Whether the network's routines run on a device (the ILGPU package) rather than on the CPU kernels.</summary>
    protected virtual bool RunsOnDevice => false;

    /// <summary>
    /// Brings the host's copies of the parameters (values, gradients, running statistics) up to date where a device
    /// holds newer ones: before they are read, saved, exported or partly overwritten by a load. Nothing to do on the CPU.
    /// </summary>
    protected virtual void SynchronizeHost()
    {
    }

    /// <summary>Registers a tensor, initialised to <paramref name="fill"/> (the running variance starts at 1).</summary>
    protected Parameter AddParameter(string name, int[] shape, bool trainable, float fill = 0f)
    {
        var parameter = new Parameter(name, shape, trainable);
        Array.Fill(parameter.Value, fill);
        _parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Registers a batch norm's num_batches_tracked, e.g. "features.1.num_batches_tracked".</summary>
    protected void AddBatchCounter(string name) => _batchCounters.Add(new BatchCounter(name));

    /// <summary>
    /// He (Kaiming) normal initialisation, std = sqrt(2 / ((1 + a^2) fanIn)) with a the negative slope (0 but for
    /// LeakyReLU): for layers followed by ReLU, ReLU6, ELU, SiLU or LeakyReLU.
    /// </summary>
    protected Parameter AddHeParameter(string name, int[] shape, int fanIn, float negativeSlope = 0f)
    {
        Parameter parameter = AddParameter(name, shape, trainable: true);
        double std = Math.Sqrt(2.0 / ((1 + ((double)negativeSlope * negativeSlope)) * fanIn));
        foreach (ref float value in parameter.Value.AsSpan())
        {
            value = (float)(_initRandom.NextGaussian() * std);
        }

        return parameter;
    }

    /// <summary>Xavier (Glorot) uniform initialisation, bound sqrt(6 / (fanIn + fanOut)): for the other layers.</summary>
    protected Parameter AddXavierParameter(string name, int[] shape, int fanIn, int fanOut)
    {
        Parameter parameter = AddParameter(name, shape, trainable: true);
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        foreach (ref float value in parameter.Value.AsSpan())
        {
            value = (float)(((2 * _initRandom.NextDouble()) - 1) * bound);
        }

        return parameter;
    }

    /// <summary>The dropout generator's starting state, derived from the seed.</summary>
    protected ulong DropoutSeed => new SeededRandom((ulong)Seed ^ 0x9E3779B97F4A7C15UL).NextUInt64();

    /// <summary>The first <paramref name="length"/> elements of a planned buffer: the part the current batch uses.</summary>
    protected static Span<T> Slice<T>(T[] buffer, int length) => buffer.AsSpan(0, length);

    /// <summary>
    /// ScoreGradient's seed d(score of <paramref name="classIndex"/>, summed over its plane)/d(scores): 1 on that class's
    /// plane of each of the <paramref name="images"/>, 0 elsewhere. <paramref name="seed"/> holds their scores' gradient.
    /// </summary>
    protected internal static void SeedScoreGradient(Span<float> seed, int images, int classIndex, int classes)
    {
        seed.Clear();
        int outputLength = seed.Length / images, plane = outputLength / classes;
        for (int image = 0; image < images; image++)
        {
            seed.Slice((image * outputLength) + (classIndex * plane), plane).Fill(1f);
        }
    }

    /// <summary>Checks a batch of images and returns how many there are.</summary>
    protected int CheckImages(ReadOnlySpan<float> images, string argument)
    {
        if (images.Length == 0 || images.Length % _imageLength != 0)
        {
            throw new ArgumentException(
                $"{argument} has {images.Length} floats, which is not a whole number of {InputShape} images ({_imageLength} floats each).", argument);
        }

        int count = images.Length / _imageLength;
        if (count > BatchSize)
        {
            throw new ArgumentException($"{argument} holds {count} images, more than the batch size {BatchSize} this network was created for.", argument);
        }

        int bad = IndexOfNonFinite(images);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"{argument}[{bad}] (image {bad / _imageLength}, element {bad % _imageLength}) is {images[bad]}; inputs must be finite.", argument);
        }

        return count;
    }

    /// <summary>Checks one label per sample (or per pixel) in 0..classes-1.</summary>
    protected static void CheckLabels(ReadOnlySpan<int> labels, int expected, int classes, string argument)
    {
        if (labels.Length != expected)
        {
            throw new ArgumentException($"{argument} has {labels.Length} labels, but the images need {expected}.", argument);
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(argument, labels[i], $"{argument}[{i}] = {labels[i]} is not a class in 0..{classes - 1}.");
            }
        }
    }

    /// <summary>
    /// Checks one float target per output element (<paramref name="perImage"/> for each of <paramref name="images"/>):
    /// finite, and a probability in [0, 1] for <see cref="Loss.BinaryCrossEntropy"/>.
    /// </summary>
    protected void CheckTargets(ReadOnlySpan<float> targets, int images, int perImage, string argument)
    {
        long expected = (long)images * perImage;
        if (targets.Length != expected)
        {
            throw new ArgumentException(
                $"{argument} has {targets.Length} floats, but {images} images need {expected} ({perImage} per image, one per output element).", argument);
        }

        int bad = IndexOfNonFinite(targets);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"{argument}[{bad}] (image {bad / perImage}, element {bad % perImage}) is {targets[bad]}; targets must be finite.", argument);
        }

        if (Loss == Loss.BinaryCrossEntropy)
        {
            for (int i = 0; i < targets.Length; i++)
            {
                if (targets[i] is < 0f or > 1f)
                {
                    throw new ArgumentException(
                        $"{argument}[{i}] (image {i / perImage}, element {i % perImage}) is {targets[i]}; binary cross-entropy targets are probabilities in [0, 1].", argument);
                }
            }
        }
    }

    /// <summary>The error for a label overload called on a network whose loss takes float targets.</summary>
    protected InvalidOperationException TrainsOnFloatTargets(string call, int perImage) =>
        new($"{GetType().Name} trains with Loss.{Loss} on float targets, not class labels; call {call} with one float per output element ({perImage} per image).");

    /// <summary>
    /// Checks a training step's loss before anything the network keeps has changed: a non-finite loss stops training,
    /// naming the step, with the weights, running statistics and counters as they were before it.
    /// </summary>
    protected void CheckLoss(float loss)
    {
        float agreed = AgreeOnLoss(loss);
        if (!float.IsFinite(agreed))
        {
            throw new TrainingDivergedException(StepCount + 1, float.IsFinite(loss) ? agreed : loss);
        }
    }

    /// <summary>Counts a training step whose loss passed <see cref="CheckLoss"/> (StepCount and num_batches_tracked).</summary>
    protected void CommitStep()
    {
        StepCount++;
        foreach (BatchCounter counter in _batchCounters)
        {
            counter.Count++;
        }

        MarkParametersChanged(); // running statistics moved; the optimiser moves the weights next
    }

    /// <summary>
    /// Allocates a planned storage slot: <paramref name="elements"/> per image for <see cref="BatchSize"/> images when
    /// <paramref name="perImage"/>, else in all. A size past what an array holds, or past the memory there is, is an
    /// exception naming the buffers and the size, not an overflow. The constructor then fails, so the kernel threads are
    /// released here.
    /// </summary>
    protected T[] AllocateStorage<T>(string buffers, long elements, bool perImage)
        where T : unmanaged
    {
        long total = perImage ? elements * BatchSize : elements;
        long bytes = total * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (total > Array.MaxLength)
        {
            Context.Dispose();
            throw new InsufficientMemoryException(
                $"The storage of {buffers} needs {total:N0} elements ({bytes:N0} bytes) for batch size {BatchSize}, more than one array holds ({Array.MaxLength:N0}); use a smaller batch size.");
        }

        try
        {
            return new T[total];
        }
        catch (OutOfMemoryException exception)
        {
            Context.Dispose();
            throw new InsufficientMemoryException(
                $"The storage of {buffers} needs {bytes:N0} bytes for batch size {BatchSize}, more memory than there is; use a smaller batch size.", exception);
        }
    }

    /// <summary>Checks per-class loss weights (one finite, non-negative weight per class, not all zero) and copies them.</summary>
    protected static float[]? CheckClassWeights(float[]? weights, int classes, string argument)
    {
        if (weights is null)
        {
            return null;
        }

        if (weights.Length != classes)
        {
            throw new ArgumentException($"{argument} has {weights.Length} weights, but the network has {classes} classes.", argument);
        }

        for (int i = 0; i < weights.Length; i++)
        {
            if (!float.IsFinite(weights[i]) || weights[i] < 0)
            {
                throw new ArgumentException($"{argument}[{i}] = {weights[i]}; class weights must be finite and non-negative.", argument);
            }
        }

        if (Array.TrueForAll(weights, w => w == 0))
        {
            throw new ArgumentException($"{argument} are all zero, which leaves no loss to train on.", argument);
        }

        return (float[])weights.Clone();
    }

    /// <summary>The error for a layer name the network does not have.</summary>
    protected static ArgumentException UnknownLayer(string layerName) =>
        new($"This network has no layer named '{layerName}'; the names are those in its Summary.", nameof(layerName));

    /// <summary>The error for a layer the network does not keep: its storage is reused within a call.</summary>
    protected static InvalidOperationException NotRetained(string layerName, string what) =>
        new($"The {what} of '{layerName}' is not kept: the memory planner reuses its storage once the network is done with it. "
            + $"Add Keep = \"{layerName}\" to the network's [Network] attribute to read it after a call.");

    /// <summary>The error for a tensor a fused kernel does not keep, naming the layer that has it.</summary>
    protected static InvalidOperationException NotKept(string layerName, string what, string keptBy) =>
        new($"The {what} of '{layerName}' is not kept: it runs fused with '{keptBy}', whose {what} is available instead.");

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the kernel threads; a network on a device also releases its device memory here.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Context.Dispose();
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        // x - x is 0 for finite x and NaN for NaN and infinities: one vector compare skips a finite chunk.
        ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        int v = 0;
        while (v < vectors.Length && Vector.EqualsAll(vectors[v] - vectors[v], Vector<float>.Zero))
        {
            v++;
        }

        for (int i = v * Vector<float>.Count; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A batch norm's count of training-mode batches (PyTorch's num_batches_tracked buffer).</summary>
public sealed class BatchCounter(string name)
{
    /// <summary>The checkpoint key, e.g. "features.1.num_batches_tracked".</summary>
    public string Name { get; } = name;

    public long Count { get; set; }

    public override string ToString() => $"{Name} = {Count}";
}

/// <summary>Thrown when a training step's loss is NaN or infinite: the weights have diverged.</summary>
public sealed class TrainingDivergedException(long step, float loss)
    : InvalidOperationException($"Training diverged: the loss of step {step} is {loss}. Lower the learning rate or check the inputs.")
{
    public long Step { get; } = step;

    public float Loss { get; } = loss;
}
