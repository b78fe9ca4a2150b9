using System;

namespace NetCompiler;

/// <summary>
/// A seeded stand-in for NYU Depth v2 in miniature (Haber et al.'s second IMEXnet experiment regresses depth per pixel):
/// 64x64 grey images of a box-shaped room with boxes standing on its floor, rendered through a pinhole camera, each with
/// its exact depth map in metres. Depth is the z distance along the optical axis, as in NYU's maps.
/// </summary>
/// <remarks>
/// <para>
/// The camera sits at the origin looking along +z, rows growing downwards (+y), with focal length
/// <see cref="FocalLength"/> pixels and the principal point at the image centre (31.5, 31.5). A pixel's ray is
/// ((x - 31.5) / f, (y - 31.5) / f, 1), so the ray parameter at a hit is its depth.
/// </para>
/// <para>
/// Each scene draws, in this order: the camera height above the floor h in [1.0, 1.6]; the ceiling above the camera in
/// [1.0, 1.6]; the left and right walls' distances in [1.2, 2.5]; the back wall's depth in [4, 8]; then a box count in
/// 0..3 and, per box, its width in [0.4, 1.2], height in [0.3, 1.4], depth extent in [0.3, 1.0], the x of its centre
/// within the room and its front face's depth in [1.5, back wall - 1.2]; each box stands on the floor. Then an albedo
/// per surface (floor, ceiling, left, right, back, each box) in [0.3, 1.0]. A pixel takes the nearest surface its ray
/// hits: the room is convex and holds the camera, so the room's hit is the nearest plane ahead; a box is hit where the
/// slabs of its three axes overlap in front of the camera.
/// </para>
/// <para>
/// Intensity is albedo times Lambert shading from a light at the camera (|cos| of the ray to the surface normal),
/// times a checkerboard of 0.5 m squares on the floor (0.7 or 1.0, in world coordinates, so its squares shrink with
/// distance: the perspective cue), over a falloff 2 / (1 + depth / 4). Images are then mapped to about [-1, 1]
/// (2 v - 1). Depth needs the whole scene: a flat wall patch has no local cue to its distance but the floor's lines and
/// the room's corners, which is the global coupling an implicit layer offers.
/// </para>
/// </remarks>
public static class SyntheticDepth
{
    /// <summary>Image height and width.</summary>
    public const int Size = 64;

    /// <summary>The pinhole camera's focal length in pixels (a 70 degree horizontal field of view, as NYU's Kinect).</summary>
    public const double FocalLength = 45.7;

    /// <summary>The largest depth a scene can hold: the farthest back wall.</summary>
    public const float MaxDepth = 8f;

    public static TensorShape ImageShape { get; } = TensorShape.Image(1, Size, Size);

    private const double Centre = (Size - 1) / 2.0;
    private const int MaxBoxes = 3;

    /// <summary>
    /// The training and validation sets: images with one depth target (metres) per pixel
    /// (<see cref="DataSet.TargetsPerSample"/> = 4,096). The validation set comes from its own stream, so it does not
    /// change with <paramref name="trainCount"/>.
    /// </summary>
    public static (DataSet Train, DataSet Validation) Create(int seed = 0, int trainCount = 1024, int validationCount = 128)
    {
        (float[] images, float[] depths) = Generate(seed, trainCount);
        (float[] validationImages, float[] validationDepths) = Generate(seed, validationCount, validation: true);
        return (new DataSet(images, depths, ImageShape, Size * Size), new DataSet(validationImages, validationDepths, ImageShape, Size * Size));
    }

    /// <summary>
    /// <paramref name="count"/> images and their depth maps (metres), image after image. The same seed gives the same
    /// scenes on every platform, and a smaller count a prefix of a larger one's.
    /// </summary>
    /// <param name="validation">Draw from the seed's validation stream instead of its training stream.</param>
    public static (float[] Images, float[] Depths) Generate(int seed, int count, bool validation = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        const int pixels = Size * Size;
        var images = new float[checked(count * pixels)];
        var depths = new float[images.Length];
        // The seed's 32 bits above a tag of this data set and the split: no split's stream is another's, nor QTips'.
        var random = new SeededRandom((uint)seed | ((validation ? 0xDE97UL : 0xDE96UL) << 32));
        for (int i = 0; i < count; i++)
        {
            Render(Scene.Next(ref random), images.AsSpan(i * pixels, pixels), depths.AsSpan(i * pixels, pixels));
        }

        return (images, depths);
    }

    /// <summary>Renders <paramref name="scene"/>: the normalised image and the depth of every pixel.</summary>
    internal static void Render(Scene scene, Span<float> image, Span<float> depth)
    {
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                var ray = new Vector3((x - Centre) / FocalLength, (y - Centre) / FocalLength, 1);
                Hit hit = scene.Trace(ray);
                Vector3 point = ray * hit.Depth;
                double checker = hit.Surface == Surface.Floor && ((int)Math.Floor(point.X / 0.5) + (int)Math.Floor(point.Z / 0.5)) % 2 != 0 ? 0.7 : 1.0;
                double shading = Math.Abs(Vector3.Dot(ray, hit.Normal)) / ray.Length;
                double value = hit.Albedo * shading * checker * 2 / (1 + (hit.Depth / 4));
                image[(y * Size) + x] = (float)((2 * Math.Min(value, 1.0)) - 1);
                depth[(y * Size) + x] = (float)hit.Depth;
            }
        }
    }

    internal enum Surface
    {
        Floor,
        Ceiling,
        LeftWall,
        RightWall,
        BackWall,
        Box,
    }

    internal readonly record struct Vector3(double X, double Y, double Z)
    {
        public double Length => Math.Sqrt(Dot(this, this));

        public static Vector3 operator *(Vector3 v, double s) => new(v.X * s, v.Y * s, v.Z * s);

        public static double Dot(Vector3 a, Vector3 b) => (a.X * b.X) + (a.Y * b.Y) + (a.Z * b.Z);

        public double this[int axis] => axis == 0 ? X : axis == 1 ? Y : Z;
    }

    internal readonly record struct Hit(double Depth, Vector3 Normal, double Albedo, Surface Surface);

    /// <summary>An axis-aligned box: its lower and upper corners (y grows downwards, so Max.Y is the floor).</summary>
    internal readonly record struct Box(Vector3 Min, Vector3 Max, double Albedo);

    /// <summary>One room: the floor at y = h, the ceiling at y = -ceiling, walls at x = -left, x = right, z = back.</summary>
    internal sealed record Scene(double Height, double Ceiling, double Left, double Right, double Back, Box[] Boxes, double[] Albedos)
    {
        public static Scene Next(ref SeededRandom random)
        {
            double height = Uniform(ref random, 1.0, 1.6), ceiling = Uniform(ref random, 1.0, 1.6);
            double left = Uniform(ref random, 1.2, 2.5), right = Uniform(ref random, 1.2, 2.5), back = Uniform(ref random, 4, 8);
            var boxes = new Box[(int)(random.NextDouble() * (MaxBoxes + 1))];
            for (int b = 0; b < boxes.Length; b++)
            {
                double width = Uniform(ref random, 0.4, 1.2), tall = Uniform(ref random, 0.3, 1.4), extent = Uniform(ref random, 0.3, 1.0);
                double centre = Uniform(ref random, -left + (width / 2), right - (width / 2));
                double front = Uniform(ref random, 1.5, back - 1.2);
                boxes[b] = new Box(new Vector3(centre - (width / 2), height - tall, front), new Vector3(centre + (width / 2), height, front + extent), 0);
            }

            var albedos = new double[5];
            for (int s = 0; s < albedos.Length; s++)
            {
                albedos[s] = Uniform(ref random, 0.3, 1.0);
            }

            for (int b = 0; b < boxes.Length; b++)
            {
                boxes[b] = boxes[b] with { Albedo = Uniform(ref random, 0.3, 1.0) };
            }

            return new Scene(height, ceiling, left, right, back, boxes, albedos);
        }

        /// <summary>The nearest surface along <paramref name="ray"/> (its z component is 1, so the parameter is the depth).</summary>
        public Hit Trace(Vector3 ray)
        {
            // The room holds the camera: its hit is the nearest wall plane the ray runs towards.
            Hit hit = new(Back, new Vector3(0, 0, -1), Albedos[(int)Surface.BackWall], Surface.BackWall);
            Consider(ref hit, ray.Y > 0 ? Height / ray.Y : double.PositiveInfinity, new Vector3(0, -1, 0), Surface.Floor);
            Consider(ref hit, ray.Y < 0 ? -Ceiling / ray.Y : double.PositiveInfinity, new Vector3(0, 1, 0), Surface.Ceiling);
            Consider(ref hit, ray.X < 0 ? -Left / ray.X : double.PositiveInfinity, new Vector3(1, 0, 0), Surface.LeftWall);
            Consider(ref hit, ray.X > 0 ? Right / ray.X : double.PositiveInfinity, new Vector3(-1, 0, 0), Surface.RightWall);
            foreach (Box box in Boxes)
            {
                if (Enter(box, ray) is (double t, int axis) && t < hit.Depth)
                {
                    // The entry face's outward normal points back along the ray's component on that axis.
                    double sign = ray[axis] > 0 ? -1 : 1;
                    Vector3 normal = axis == 0 ? new Vector3(sign, 0, 0) : axis == 1 ? new Vector3(0, sign, 0) : new Vector3(0, 0, sign);
                    hit = new Hit(t, normal, box.Albedo, Surface.Box);
                }
            }

            return hit;
        }

        private void Consider(ref Hit hit, double depth, Vector3 normal, Surface surface)
        {
            if (depth < hit.Depth)
            {
                hit = new Hit(depth, normal, Albedos[(int)surface], surface);
            }
        }

        /// <summary>The slab test: where the ray enters the box (and the axis of the face it enters by), or null if it misses.</summary>
        private static (double, int)? Enter(Box box, Vector3 ray)
        {
            double near = 0, far = double.PositiveInfinity;
            int entryAxis = -1;
            for (int axis = 0; axis < 3; axis++)
            {
                double lower = box.Min[axis], upper = box.Max[axis], direction = ray[axis];
                if (direction == 0)
                {
                    if (lower > 0 || upper < 0)
                    {
                        return null;
                    }

                    continue;
                }

                double t0 = lower / direction, t1 = upper / direction;
                if (t0 > t1)
                {
                    (t0, t1) = (t1, t0);
                }

                if (t0 > near)
                {
                    near = t0;
                    entryAxis = axis;
                }

                far = Math.Min(far, t1);
            }

            return entryAxis >= 0 && near <= far ? (near, entryAxis) : null;
        }
    }

    private static double Uniform(ref SeededRandom random, double min, double max) => min + ((max - min) * random.NextDouble());
}
