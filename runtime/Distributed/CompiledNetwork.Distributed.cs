using System;

namespace NetCompiler;

public abstract partial class CompiledNetwork
{
    /// <summary>Gradients go over the wire in buckets of at most this many floats: few calls, bounded scratch.</summary>
    private const int BucketFloats = 1 << 20;

    private ProcessGroup? _group;
    private float[] _bucket = [];

    /// <summary>The group this network trains with, after <see cref="Distribute"/>; null when it trains alone.</summary>
    public ProcessGroup? Group => _group;

    /// <summary>
    /// Trains data-parallel over <paramref name="group"/>, as PyTorch's DistributedDataParallel: rank 0's parameters,
    /// running statistics and batch counters go to every rank now, and from then on every TrainStep averages the
    /// gradients over the ranks before the optimiser's update, so the ranks keep identical weights. Batch norm uses
    /// each rank's own batch statistics, as DDP does. Every rank must call this, and then TrainStep equally often.
    /// </summary>
    /// <exception cref="NotSupportedException">The network runs on a device and the group has more than one rank.</exception>
    public void Distribute(ProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (RunsOnDevice && group.Size > 1)
        {
            throw new NotSupportedException(
                $"{GetType().Name} runs on a device; data-parallel training averages gradients in host memory over MPI, which only the CPU path does. Train on the CPU, or on one device.");
        }

        foreach (Parameter parameter in _parameters)
        {
            group.Broadcast(parameter.Value);
        }

        Span<long> counts = stackalloc long[_batchCounters.Count + 1];
        for (int i = 0; i < _batchCounters.Count; i++)
        {
            counts[i] = _batchCounters[i].Count;
        }

        counts[^1] = StepCount;
        group.Broadcast(counts);
        for (int i = 0; i < _batchCounters.Count; i++)
        {
            _batchCounters[i].Count = counts[i];
        }

        StepCount = counts[^1];
        long trainable = 0;
        foreach (Parameter parameter in _parameters)
        {
            trainable += parameter.Trainable ? parameter.Length : 0;
        }

        _bucket = new float[(int)Math.Min(trainable, BucketFloats)];
        _group = group;
        MarkParametersChanged();
    }

    /// <summary>
    /// The loss check of a distributed step is collective: the ranks sum their losses, so a non-finite loss on any
    /// rank stops every rank at the same step, before any of them has changed anything, and no rank waits for another.
    /// </summary>
    private float AgreeOnLoss(float loss)
    {
        if (_group is not { Size: > 1 } group)
        {
            return loss;
        }

        Span<float> sum = [loss];
        group.AllReduceSum(sum);
        return sum[0];
    }

    /// <summary>The update of a training step: with a group, the gradients averaged over the ranks first.</summary>
    protected void StepOptimizer(Optimizer optimizer)
    {
        if (_group is { Size: > 1 } group)
        {
            AverageGradients(group);
        }

        optimizer.Step(_parameters);
    }

    /// <summary>Packs the trainable gradients into buckets, sums each over the ranks, and unpacks them divided by the group size.</summary>
    private void AverageGradients(ProcessGroup group)
    {
        float scale = 1f / group.Size;
        int parameter = 0, offset = 0;
        while (parameter < _parameters.Count)
        {
            // Fill one bucket, from (parameter, offset) on; a gradient larger than a bucket spans several.
            int filled = 0, startParameter = parameter, startOffset = offset;
            while (parameter < _parameters.Count && filled < _bucket.Length)
            {
                Parameter p = _parameters[parameter];
                if (!p.Trainable)
                {
                    parameter++;
                    continue;
                }

                int take = Math.Min(p.Length - offset, _bucket.Length - filled);
                p.Gradient.AsSpan(offset, take).CopyTo(_bucket.AsSpan(filled));
                filled += take;
                offset += take;
                if (offset == p.Length)
                {
                    parameter++;
                    offset = 0;
                }
            }

            group.AllReduceSum(_bucket.AsSpan(0, filled));
            for (int read = 0; read < filled;)
            {
                Parameter p = _parameters[startParameter];
                if (!p.Trainable)
                {
                    startParameter++;
                    continue;
                }

                int take = Math.Min(p.Length - startOffset, filled - read);
                Span<float> gradient = p.Gradient.AsSpan(startOffset, take);
                ReadOnlySpan<float> sums = _bucket.AsSpan(read, take);
                for (int i = 0; i < take; i++)
                {
                    gradient[i] = sums[i] * scale;
                }

                read += take;
                startOffset += take;
                if (startOffset == p.Length)
                {
                    startParameter++;
                    startOffset = 0;
                }
            }
        }
    }
}
