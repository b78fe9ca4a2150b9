using System;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// nn.Upsample by an integer factor on the device, the CPU's <see cref="Upsample2d"/> (kernels/Upsample.cs): nearest,
/// and bilinear with align_corners=False through the CPU's own <see cref="Upsample2d.BilinearTap"/>. Forward is one
/// thread per output element; each backward pass is a gather, one thread per input element adding the gradients of
/// the outputs that read it in the order the CPU's scatter adds them: deterministic, no atomics, bit-identical.
/// </summary>
public sealed class DeviceUpsample2d<S>
    where S : struct, IUpsampleShape
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _nearestForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _nearestBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _bilinearForward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _bilinearBackward;

    public DeviceUpsample2d(IlgpuDevice device)
    {
        _nearestForward = device.Load<ArrayView<float>, ArrayView<float>>(NearestForwardKernel);
        _nearestBackward = device.Load<ArrayView<float>, ArrayView<float>>(NearestBackwardKernel);
        _bilinearForward = device.Load<ArrayView<float>, ArrayView<float>>(BilinearForwardKernel);
        _bilinearBackward = device.Load<ArrayView<float>, ArrayView<float>>(BilinearBackwardKernel);
    }

    private static int InPlane => S.InHeight * S.InWidth;

    private static int OutHeight => S.InHeight * S.Scale;

    private static int OutWidth => S.InWidth * S.Scale;

    private static int OutPlane => OutHeight * OutWidth;

    public void NearestForward(ArrayView<float> x, ArrayView<float> y, int n) => Launch(_nearestForward, x, y, n, forward: true);

    /// <summary>dx = the sum of dy over each Scale x Scale block (overwritten).</summary>
    public void NearestBackward(ArrayView<float> dy, ArrayView<float> dx, int n) => Launch(_nearestBackward, dy, dx, n, forward: false);

    public void BilinearForward(ArrayView<float> x, ArrayView<float> y, int n) => Launch(_bilinearForward, x, y, n, forward: true);

    /// <summary>dx = each dy spread to its four source pixels with the forward's weights (overwritten).</summary>
    public void BilinearBackward(ArrayView<float> dy, ArrayView<float> dx, int n) => Launch(_bilinearBackward, dy, dx, n, forward: false);

    /// <summary>One thread per element of <paramref name="destination"/>, after the CPU's checks.</summary>
    private static void Launch(Action<Index1D, ArrayView<float>, ArrayView<float>> kernel, ArrayView<float> source, ArrayView<float> destination, int n, bool forward)
    {
        DeviceGuard.Batch(n);
        long small = (long)n * S.Channels * InPlane, large = small * S.Scale * S.Scale;
        DeviceGuard.Length(source, forward ? small : large, forward ? "x" : "dy");
        DeviceGuard.Length(destination, forward ? large : small, forward ? "y" : "dx");
        if (n > 0)
        {
            kernel((int)destination.Length, source, destination);
        }
    }

    private static void NearestForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        int plane = i / OutPlane, output = i - (plane * OutPlane);
        int oh = output / OutWidth, ow = output - (oh * OutWidth);
        y[i] = x[(plane * InPlane) + ((oh / S.Scale) * S.InWidth) + (ow / S.Scale)];
    }

    /// <summary>Row by row of the block, each row summed first: the CPU's order.</summary>
    private static void NearestBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx)
    {
        int plane = i / InPlane, input = i - (plane * InPlane);
        int ih = input / S.InWidth, iw = input - (ih * S.InWidth);
        int block = (plane * OutPlane) + (ih * S.Scale * OutWidth) + (iw * S.Scale);
        float total = 0f;
        for (int r = 0; r < S.Scale; r++)
        {
            float sum = 0f;
            for (int c = 0; c < S.Scale; c++)
            {
                sum += dy[block + (r * OutWidth) + c];
            }

            total += sum;
        }

        dx[i] = total;
    }

    private static void BilinearForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        int plane = i / OutPlane, output = i - (plane * OutPlane);
        int oh = output / OutWidth, ow = output - (oh * OutWidth);
        (int top, int bottom, float topWeight, float bottomWeight) = Upsample2d.BilinearTap(oh, S.Scale, S.InHeight);
        (int left, int right, float leftWeight, float rightWeight) = Upsample2d.BilinearTap(ow, S.Scale, S.InWidth);
        int upper = (plane * InPlane) + (top * S.InWidth), lower = (plane * InPlane) + (bottom * S.InWidth);
        y[i] = (topWeight * ((leftWeight * x[upper + left]) + (rightWeight * x[upper + right])))
            + (bottomWeight * ((leftWeight * x[lower + left]) + (rightWeight * x[lower + right])));
    }

    /// <summary>
    /// The outputs that read input (ih, iw) lie within one input pixel of it, (ih - 1) * Scale to (ih + 2) * Scale
    /// along each axis; each adds its up to four taps in the CPU's order (upper left, upper right, lower left, lower right).
    /// </summary>
    private static void BilinearBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx)
    {
        int plane = i / InPlane, input = i - (plane * InPlane);
        int ih = input / S.InWidth, iw = input - (ih * S.InWidth);
        int ohEnd = Math.Min((ih + 2) * S.Scale, OutHeight), owBegin = Math.Max((iw - 1) * S.Scale, 0), owEnd = Math.Min((iw + 2) * S.Scale, OutWidth);
        float sum = 0f;
        for (int oh = Math.Max((ih - 1) * S.Scale, 0); oh < ohEnd; oh++)
        {
            (int top, int bottom, float topWeight, float bottomWeight) = Upsample2d.BilinearTap(oh, S.Scale, S.InHeight);
            if (top != ih && bottom != ih)
            {
                continue;
            }

            int row = (plane * OutPlane) + (oh * OutWidth);
            for (int ow = owBegin; ow < owEnd; ow++)
            {
                (int left, int right, float leftWeight, float rightWeight) = Upsample2d.BilinearTap(ow, S.Scale, S.InWidth);
                float gradient = dy[row + ow];
                if (top == ih)
                {
                    sum += left == iw ? topWeight * leftWeight * gradient : 0f;
                    sum += right == iw ? topWeight * rightWeight * gradient : 0f;
                }

                if (bottom == ih)
                {
                    sum += left == iw ? bottomWeight * leftWeight * gradient : 0f;
                    sum += right == iw ? bottomWeight * rightWeight * gradient : 0f;
                }
            }
        }

        dx[i] = sum;
    }
}
