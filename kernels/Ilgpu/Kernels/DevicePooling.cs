using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// Max pooling on the device, the calls of the CPU's <see cref="MaxPool2d"/> (kernels/Pooling.cs) with the same byte
/// switches, so either side's switches route the other's gradient. One thread per output element forward (windows
/// are at most 16 x 16 and read through the cache); the backward pass is a gather, one thread per input element
/// summing the output gradients whose switch names it, in the order the CPU's scatter adds them: deterministic,
/// no atomics, and bit-identical to the CPU.
/// </summary>
public sealed class DeviceMaxPool2d<S>
    where S : struct, IPoolShape
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<byte>> _forward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<byte>, ArrayView<float>> _backward;

    /// <exception cref="ArgumentException">The window is larger than a byte switch can name (<see cref="MaxPool2d.MaxKernel"/>).</exception>
    public DeviceMaxPool2d(IlgpuDevice device)
    {
        if (S.Kernel > MaxPool2d.MaxKernel)
        {
            throw new ArgumentException($"Max pooling keeps byte switches, for windows up to {MaxPool2d.MaxKernel} x {MaxPool2d.MaxKernel}; this one is {S.Kernel} x {S.Kernel}.");
        }

        _forward = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<byte>>(ForwardKernel);
        _backward = device.Load<ArrayView<float>, ArrayView<byte>, ArrayView<float>>(BackwardKernel);
    }

    /// <summary>y = max over each window of x; switches = the argmax's place in its window (ties keep the first, NaN propagates).</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, ArrayView<byte> switches, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(x, (long)n * PoolWindows<S>.InputSize, nameof(x));
        DeviceGuard.Length(y, (long)n * PoolWindows<S>.OutputSize, nameof(y));
        DeviceGuard.Length(switches, (long)n * PoolWindows<S>.OutputSize, nameof(switches));
        if (n > 0)
        {
            _forward((int)y.Length, x, y, switches);
        }
    }

    /// <summary>dx = dy routed through the switches (overwritten).</summary>
    public void Backward(ArrayView<float> dy, ArrayView<byte> switches, ArrayView<float> dx, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(dy, (long)n * PoolWindows<S>.OutputSize, nameof(dy));
        DeviceGuard.Length(switches, (long)n * PoolWindows<S>.OutputSize, nameof(switches));
        DeviceGuard.Length(dx, (long)n * PoolWindows<S>.InputSize, nameof(dx));
        if (n > 0)
        {
            _backward((int)dx.Length, dy, switches, dx);
        }
    }

    private static void ForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<byte> switches)
    {
        int plane = i / PoolWindows<S>.OutputPlane, output = i - (plane * PoolWindows<S>.OutputPlane);
        int oh = output / S.OutWidth, ow = output - (oh * S.OutWidth);
        int rowStart = (oh * S.Stride) - S.Pad, columnStart = (ow * S.Stride) - S.Pad;
        int rowBegin = Math.Max(rowStart, 0), rowEnd = Math.Min(rowStart + S.Kernel, S.InHeight);
        int columnBegin = Math.Max(columnStart, 0), columnEnd = Math.Min(columnStart + S.Kernel, S.InWidth);
        int input = plane * PoolWindows<S>.InputPlane;
        float best = float.NegativeInfinity;
        int place = ((rowBegin - rowStart) * S.Kernel) + (columnBegin - columnStart);
        for (int ih = rowBegin; ih < rowEnd; ih++)
        {
            for (int iw = columnBegin; iw < columnEnd; iw++)
            {
                float value = x[input + (ih * S.InWidth) + iw];
                if (value > best || float.IsNaN(value))
                {
                    best = value;
                    place = ((ih - rowStart) * S.Kernel) + (iw - columnStart);
                }
            }
        }

        y[i] = best;
        switches[i] = (byte)place;
    }

    private static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<byte> switches, ArrayView<float> dx)
    {
        int plane = i / PoolWindows<S>.InputPlane, input = i - (plane * PoolWindows<S>.InputPlane);
        int ih = input / S.InWidth, iw = input - (ih * S.InWidth);
        int outputs = plane * PoolWindows<S>.OutputPlane;
        int ohEnd = PoolWindows<S>.LastCovering(ih, S.OutHeight), owEnd = PoolWindows<S>.LastCovering(iw, S.OutWidth);
        float sum = 0f;
        for (int oh = PoolWindows<S>.FirstCovering(ih); oh < ohEnd; oh++)
        {
            for (int ow = PoolWindows<S>.FirstCovering(iw); ow < owEnd; ow++)
            {
                int output = (oh * S.OutWidth) + ow;
                if (MaxPool2d.InputIndex<S>(output, switches[outputs + output]) == input)
                {
                    sum += dy[outputs + output];
                }
            }
        }

        dx[i] = sum;
    }
}

/// <summary>
/// Average pooling on the device, the CPU's <see cref="AvgPool2d"/>: every window divided by Kernel^2 (padding
/// counted, ceil mode's clipped windows too, as the CPU does). One thread per output forward; the backward pass is a
/// gather, one thread per input element adding the shares of the windows over it in the CPU's order (bit-identical).
/// </summary>
public sealed class DeviceAvgPool2d<S>
    where S : struct, IPoolShape
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _forward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _backward;

    public DeviceAvgPool2d(IlgpuDevice device)
    {
        _forward = device.Load<ArrayView<float>, ArrayView<float>>(ForwardKernel);
        _backward = device.Load<ArrayView<float>, ArrayView<float>>(BackwardKernel);
    }

    /// <summary>y = window sums of x / Kernel^2.</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(x, (long)n * PoolWindows<S>.InputSize, nameof(x));
        DeviceGuard.Length(y, (long)n * PoolWindows<S>.OutputSize, nameof(y));
        if (n > 0)
        {
            _forward((int)y.Length, x, y);
        }
    }

    /// <summary>dx = dy / Kernel^2 spread over each window, summed where windows overlap (overwritten).</summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> dx, int n)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Length(dy, (long)n * PoolWindows<S>.OutputSize, nameof(dy));
        DeviceGuard.Length(dx, (long)n * PoolWindows<S>.InputSize, nameof(dx));
        if (n > 0)
        {
            _backward((int)dx.Length, dy, dx);
        }
    }

    private static void ForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        int plane = i / PoolWindows<S>.OutputPlane, output = i - (plane * PoolWindows<S>.OutputPlane);
        int oh = output / S.OutWidth, ow = output - (oh * S.OutWidth);
        int rowStart = (oh * S.Stride) - S.Pad, columnStart = (ow * S.Stride) - S.Pad;
        int rowEnd = Math.Min(rowStart + S.Kernel, S.InHeight), columnEnd = Math.Min(columnStart + S.Kernel, S.InWidth);
        int input = plane * PoolWindows<S>.InputPlane;
        float sum = 0f;
        for (int ih = Math.Max(rowStart, 0); ih < rowEnd; ih++)
        {
            for (int iw = Math.Max(columnStart, 0); iw < columnEnd; iw++)
            {
                sum += x[input + (ih * S.InWidth) + iw];
            }
        }

        y[i] = sum * PoolWindows<S>.AverageScale;
    }

    private static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx)
    {
        int plane = i / PoolWindows<S>.InputPlane, input = i - (plane * PoolWindows<S>.InputPlane);
        int ih = input / S.InWidth, iw = input - (ih * S.InWidth);
        int outputs = plane * PoolWindows<S>.OutputPlane;
        int ohEnd = PoolWindows<S>.LastCovering(ih, S.OutHeight), owEnd = PoolWindows<S>.LastCovering(iw, S.OutWidth);
        float sum = 0f;
        for (int oh = PoolWindows<S>.FirstCovering(ih); oh < ohEnd; oh++)
        {
            for (int ow = PoolWindows<S>.FirstCovering(iw); ow < owEnd; ow++)
            {
                sum += dy[outputs + (oh * S.OutWidth) + ow] * PoolWindows<S>.AverageScale;
            }
        }

        dx[i] = sum;
    }
}

/// <summary>
/// Global average pooling on the device, the CPU's <see cref="GlobalAvgPool"/>: [n, channels, planeSize] to
/// [n, channels]. One thread per plane, summing it in double as the CPU does (planes after the last conv are small:
/// 7 x 7 or so, and n * channels threads fill the GPU); the backward pass is one thread per input element.
/// </summary>
public sealed class DeviceGlobalAvgPool
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _forward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _backward;

    public DeviceGlobalAvgPool(IlgpuDevice device)
    {
        _forward = device.Load<ArrayView<float>, ArrayView<float>, int>(ForwardKernel);
        _backward = device.Load<ArrayView<float>, ArrayView<float>, int>(BackwardKernel);
    }

    /// <summary>y[i, c] = mean of plane (i, c) of x.</summary>
    public void Forward(ArrayView<float> x, ArrayView<float> y, int n, int channels, int planeSize)
    {
        CheckShape(n, channels, planeSize);
        DeviceGuard.Length(x, (long)n * channels * planeSize, nameof(x));
        DeviceGuard.Length(y, (long)n * channels, nameof(y));
        if (n > 0)
        {
            _forward((int)y.Length, x, y, planeSize);
        }
    }

    /// <summary>dx = dy / planeSize broadcast over each plane (overwritten).</summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> dx, int n, int channels, int planeSize)
    {
        CheckShape(n, channels, planeSize);
        DeviceGuard.Length(dy, (long)n * channels, nameof(dy));
        DeviceGuard.Length(dx, (long)n * channels * planeSize, nameof(dx));
        if (n > 0)
        {
            _backward((int)dx.Length, dy, dx, planeSize);
        }
    }

    private static void CheckShape(int n, int channels, int planeSize)
    {
        DeviceGuard.Batch(n);
        DeviceGuard.Positive(channels, nameof(channels));
        DeviceGuard.Positive(planeSize, nameof(planeSize));
    }

    private static void ForwardKernel(Index1D plane, ArrayView<float> x, ArrayView<float> y, int planeSize)
    {
        double sum = 0;
        for (int i = plane * planeSize; i < (plane + 1) * planeSize; i++)
        {
            sum += x[i];
        }

        y[plane] = (float)(sum / planeSize);
    }

    private static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, int planeSize) => dx[i] = dy[i / planeSize] / planeSize;
}

/// <summary>Sizes of a pooling shape and which windows cover an input position; constants per instantiation in the JIT-compiled kernels.</summary>
internal static class PoolWindows<S>
    where S : IPoolShape
{
    public static int InputPlane => S.InHeight * S.InWidth;
    public static int OutputPlane => S.OutHeight * S.OutWidth;
    public static int InputSize => S.Channels * InputPlane;
    public static int OutputSize => S.Channels * OutputPlane;

    /// <summary>Average pooling's divisor, as the CPU computes it.</summary>
    public static float AverageScale => 1f / (S.Kernel * S.Kernel);

    /// <summary>The first output position along an axis whose window, start o * Stride - Pad, reaches input position <paramref name="input"/>.</summary>
    public static int FirstCovering(int input)
    {
        int reach = input + S.Pad - S.Kernel + 1; // o * Stride must be at least this
        return reach <= 0 ? 0 : (reach + S.Stride - 1) / S.Stride;
    }

    /// <summary>One past the last output position (of <paramref name="outputs"/>) whose window starts at or before <paramref name="input"/>.</summary>
    public static int LastCovering(int input, int outputs) => Math.Min(((input + S.Pad) / S.Stride) + 1, outputs);
}
