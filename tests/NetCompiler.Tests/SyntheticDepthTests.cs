using System;
using NetCompiler;
using Xunit;
using static NetCompiler.SyntheticDepth;

namespace NetCompiler.Tests;

/// <summary>The synthetic depth scenes against depths worked out by hand from the camera model.</summary>
public sealed class SyntheticDepthTests
{
    private const int Pixels = Size * Size;

    private static Scene EmptyRoom(params Box[] boxes) =>
        new(Height: 1.2, Ceiling: 1.4, Left: 2, Right: 2, Back: 6, boxes, Albedos: [0.5, 0.6, 0.7, 0.8, 0.9]);

    private static float[] DepthOf(Scene scene)
    {
        var image = new float[Pixels];
        var depth = new float[Pixels];
        Render(scene, image, depth);
        return depth;
    }

    [Fact]
    public void FloorDepthIsCameraHeightTimesFocalLengthOverRowOffset()
    {
        float[] depth = DepthOf(EmptyRoom());

        // Bottom row, middle columns: the ray ((x - 31.5) / f, 31.5 / f, 1) meets the floor y = 1.2 at z = 1.2 f / 31.5.
        double floor = 1.2 * FocalLength / (63 - 31.5);
        Assert.Equal(floor, depth[(63 * Size) + 32], 5);
        Assert.Equal(floor, depth[(63 * Size) + 31], 5);

        // One row above the centre row looks up at the ceiling (z = 1.4 f / 0.5, far beyond the back wall), so it sees the wall.
        Assert.Equal(6.0, depth[(31 * Size) + 32], 5);
    }

    [Fact]
    public void SideWallDepthIsWallDistanceTimesFocalLengthOverColumnOffset()
    {
        float[] depth = DepthOf(EmptyRoom());

        // The centre row, the first column: x = -2 is reached at z = 2 f / 31.5, before the back wall and the floor.
        Assert.Equal(2 * FocalLength / 31.5, depth[(32 * Size) + 0], 5);
    }

    [Fact]
    public void BoxFrontFaceOccludesTheRoomBehind()
    {
        var box = new Box(new Vector3(-0.5, 0.2, 2.5), new Vector3(0.5, 1.2, 3.0), Albedo: 0.4);
        float[] depth = DepthOf(EmptyRoom(box));

        // The pixel through (0, 0.6, 2.5) on the front face: y = 31.5 + 0.6 f / 2.5, the middle columns.
        int row = (int)Math.Round(31.5 + (0.6 * FocalLength / 2.5));
        Assert.Equal(2.5, depth[(row * Size) + 32], 5);
        Assert.True(DepthOf(EmptyRoom())[(row * Size) + 32] > 2.5 + 1e-3, "without the box the ray reaches the floor or the wall behind it");
    }

    [Fact]
    public void ScenesRepeatBySeedAndSmallerCountsArePrefixes()
    {
        (float[] images, float[] depths) = Generate(seed: 3, count: 6);
        (float[] fewer, float[] fewerDepths) = Generate(seed: 3, count: 2);
        Assert.Equal(images.AsSpan(0, 2 * Pixels).ToArray(), fewer);
        Assert.Equal(depths.AsSpan(0, 2 * Pixels).ToArray(), fewerDepths);
        Assert.NotEqual(images, Generate(seed: 4, count: 6).Images);
    }

    [Fact]
    public void ImagesAndDepthsStayInTheirRanges()
    {
        (float[] images, float[] depths) = Generate(seed: 1, count: 32);
        Assert.All(images, v => Assert.InRange(v, -1f, 1f));
        Assert.All(depths, d => Assert.InRange(d, 0.1f, MaxDepth));

        // The scenes vary: the spread of each image's mean depth is not negligible.
        var means = new double[32];
        for (int i = 0; i < means.Length; i++)
        {
            double sum = 0;
            foreach (float d in depths.AsSpan(i * Pixels, Pixels))
            {
                sum += d;
            }

            means[i] = sum / Pixels;
        }

        Array.Sort(means);
        Assert.True(means[^1] - means[0] > 0.5, $"mean depths range only {means[0]:F2}..{means[^1]:F2} m");
    }
}
