namespace NetCompiler.Generator.Planning;

/// <summary>
/// What a backend can run, asked at planning time; a call it cannot run is a located diagnostic on the layer that
/// needs it. Today: the sizes its FFT can plan.
/// </summary>
internal sealed record Backend(string Name, int SmallestTransform)
{
    /// <summary>The CPU kernels (kernels/Fft.cs): 2-D real FFTs of powers of two from 2.</summary>
    public static readonly Backend Cpu = new("CPU", 2);

    public bool CanTransform(int height, int width) => IsPowerOfTwo(height) && IsPowerOfTwo(width);

    private bool IsPowerOfTwo(int value) => value >= SmallestTransform && (value & (value - 1)) == 0;
}
