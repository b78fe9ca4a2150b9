using System;

namespace NetCompiler.Kernels;

/// <summary>
/// torch.cat along channels, per image: the joined tensor holds each input's channel block in turn; the backward
/// splits its gradient back into the blocks.
/// </summary>
public static class ChannelConcat
{
    /// <summary>y[i] = [a[i]; b[i]] for each image i: <paramref name="aElements"/> then <paramref name="bElements"/> floats.</summary>
    public static void Forward(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int n, int aElements, int bElements)
    {
        CheckShape(a.Length, b.Length, y.Length, n, aElements, bElements);
        int joined = aElements + bElements;
        for (int image = 0; image < n; image++)
        {
            a.Slice(image * aElements, aElements).CopyTo(y.Slice(image * joined, aElements));
            b.Slice(image * bElements, bElements).CopyTo(y.Slice((image * joined) + aElements, bElements));
        }
    }

    /// <summary>da[i], db[i] = the two channel blocks of dy[i]; an empty span skips its block (no gradient wanted).</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> da, Span<float> db, int n, int aElements, int bElements)
    {
        int joined = aElements + bElements;
        Guard.Batch(n);
        Guard.Positive(aElements, nameof(aElements));
        Guard.Positive(bElements, nameof(bElements));
        Guard.Length(dy.Length, (long)n * joined, nameof(dy));
        Guard.OptionalLength(da.Length, (long)n * aElements, nameof(da));
        Guard.OptionalLength(db.Length, (long)n * bElements, nameof(db));
        for (int image = 0; image < n; image++)
        {
            if (da.Length > 0)
            {
                dy.Slice(image * joined, aElements).CopyTo(da.Slice(image * aElements, aElements));
            }

            if (db.Length > 0)
            {
                dy.Slice((image * joined) + aElements, bElements).CopyTo(db.Slice(image * bElements, bElements));
            }
        }
    }

    private static void CheckShape(int a, int b, int y, int n, int aElements, int bElements)
    {
        Guard.Batch(n);
        Guard.Positive(aElements, nameof(aElements));
        Guard.Positive(bElements, nameof(bElements));
        Guard.Length(a, (long)n * aElements, "a");
        Guard.Length(b, (long)n * bElements, "b");
        Guard.Length(y, (long)n * (aElements + bElements), "y");
    }
}
