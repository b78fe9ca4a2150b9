using System;
using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu;

/// <summary>
/// The IMEX implicit step on the device, the twin of <see cref="ImplicitSolve"/> (kernels/ImplicitSolve.cs, where the
/// Fourier form and the gradient are derived): y = (I + h C^T C)^-1 rhs with C the periodic grouped conv of
/// <typeparamref name="S"/>, solved per frequency.
/// <para>
/// Kernels. Prepare: one thread per (channel group, frequency) takes the DFT of the K x K taps directly (K^2 terms
/// per frequency, cheaper than a plane FFT) and factors I + h C^^H C^ there (depthwise 1 / (1 + h |C^|^2), grouped the
/// Cholesky factor), once per call since the weights change every step. The plane FFTs run one group per plane with
/// the whole plane in shared memory (2 H W floats: 32 KB at 64 x 64), radix-2 butterflies spread over up to 256
/// threads, a barrier per stage: decimation in frequency (natural in, bit-reversed out) forward and in time with
/// conjugate twiddles (bit-reversed in, natural out) inverse, so no permutation pass is needed. Depthwise the solve
/// is a scaling, fused between the two transforms: one launch, the spectrum never leaves shared memory. Grouped, the
/// half spectra (k = 0 .. H/2) of every plane go to scratch, one thread per (image, group, frequency) substitutes
/// through the Cholesky factor, and the inverse FFT reads them back.
/// </para>
/// <para>
/// Weight gradient, deterministic without atomics: one thread per (weight plane, frequency) sums Z_oi over the images
/// in order, then one group per weight tap reduces -h IDFT(Z_oi) at that tap's offset over the frequencies with a
/// fixed-order tree in shared memory.
/// </para>
/// Spectra in scratch: per plane a real then an imaginary plane of (H/2 + 1) W floats, frequency (k, l) at k W + l.
/// Scratch is sized for <c>batchSize</c> images in the constructor; nothing is allocated per call.
/// </summary>
public sealed class DeviceImplicitSolve<S> : IDisposable
    where S : struct, IImplicitShape
{
    private readonly IlgpuDevice _device;
    private readonly int _batchSize;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _twiddles;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _kernelSpectra;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _factors;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _spectra;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _outputSpectra;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _correlations;
    private readonly Action<Index1D, ArrayView<float>, float, ArrayView<float>, ArrayView<float>, ArrayView<float>> _prepare;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _depthwiseSolve;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> _forwardFft;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> _groupedSolve;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>> _inverseFft;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, ArrayView<float>> _correlate;
    private readonly Action<KernelConfig, ArrayView<float>, float, ArrayView<float>, ArrayView<float>> _weightGradient;

    /// <summary>Loads the kernels and allocates scratch for up to <paramref name="batchSize"/> images.</summary>
    /// <exception cref="ArgumentException">The shape is invalid, or its plane does not fit in one group's shared memory.</exception>
    public DeviceImplicitSolve(IlgpuDevice device, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckShape(device);
        _device = device;
        _batchSize = batchSize;
        _twiddles = device.Allocate<float>("the implicit solve's twiddles", TwiddleLength);
        _twiddles.CopyFromCPU(Twiddles());
        _kernelSpectra = device.Allocate<float>("the implicit solve's kernel spectra", (long)WeightPlanes * Spectrum);
        _factors = device.Allocate<float>("the implicit solve's factors", (long)WeightPlanes * Frequencies);
        _spectra = device.Allocate<float>("the implicit solve's spectra", (long)batchSize * S.Channels * Spectrum);
        _outputSpectra = device.Allocate<float>("the implicit solve's output spectra", (long)batchSize * S.Channels * Spectrum);
        _correlations = device.Allocate<float>("the implicit solve's weight-gradient spectra", (long)WeightPlanes * Spectrum);
        _prepare = device.Load<ArrayView<float>, float, ArrayView<float>, ArrayView<float>, ArrayView<float>>(PrepareKernel);
        _depthwiseSolve = device.LoadGrouped<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DepthwiseSolveKernel);
        _forwardFft = device.LoadGrouped<ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardFftKernel);
        _groupedSolve = device.Load<ArrayView<float>, ArrayView<float>>(GroupedSolveKernel);
        _inverseFft = device.LoadGrouped<ArrayView<float>, ArrayView<float>, ArrayView<float>>(InverseFftKernel);
        _correlate = device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, ArrayView<float>>(CorrelateKernel);
        _weightGradient = device.LoadGrouped<ArrayView<float>, float, ArrayView<float>, ArrayView<float>>(WeightGradientKernel);
    }

    private static int GroupSize => S.Channels / S.Groups;

    private static int PlaneSize => S.Height * S.Width;

    /// <summary>Complex values in a half spectrum: (H/2 + 1) W.</summary>
    private static int Frequencies => ((S.Height / 2) + 1) * S.Width;

    private static int Spectrum => 2 * Frequencies;

    /// <summary>Weight planes [Channels, g]; also the factor planes (g^2 per group: g inverse diagonals, g (g - 1) / 2 complex entries).</summary>
    private static int WeightPlanes => S.Channels * GroupSize;

    private static int Taps => S.Kernel * S.Kernel;

    private static int ImageSize => S.Channels * PlaneSize;

    /// <summary>cos and sin of 2 pi j / H (j &lt; H), then of 2 pi j / W.</summary>
    private static int TwiddleLength => 2 * (S.Height + S.Width);

    /// <summary>Threads per plane-FFT group: one per butterfly of a stage (H W / 2), at most 256.</summary>
    private static int FftThreads => Math.Min(PlaneSize / 2, IlgpuDevice.SimulatorThreadsPerGroup);

    /// <summary>Threads per weight-tap reduction group: a power of two covering the frequencies, at most 256.</summary>
    private static int ReductionThreads => Math.Min((int)BitOperations.RoundUpToPowerOf2((uint)Frequencies), IlgpuDevice.SimulatorThreadsPerGroup);

    /// <summary>y = (I + h C^T C)^-1 rhs for <paramref name="n"/> images [n, Channels, Height, Width]; h &gt;= 0.</summary>
    public void Forward(ArrayView<float> rhs, ArrayView<float> weight, float h, ArrayView<float> y, int n)
    {
        CheckCall(h, n);
        DeviceGuard.Length(rhs, (long)n * ImageSize, nameof(rhs));
        DeviceGuard.Length(weight, WeightPlanes * Taps, nameof(weight));
        DeviceGuard.Length(y, (long)n * ImageSize, nameof(y));
        if (n == 0)
        {
            return;
        }

        Solve(rhs, h, weight, y, n);
    }

    /// <summary>
    /// drhs = A^-1 dy and, unless <paramref name="dweight"/> is empty (<c>default</c>), dweight = dL/dweight summed over
    /// the images (both overwritten); <paramref name="y"/> is the forward's output.
    /// </summary>
    public void Backward(ArrayView<float> dy, ArrayView<float> y, ArrayView<float> weight, float h, ArrayView<float> drhs, ArrayView<float> dweight, int n)
    {
        CheckCall(h, n);
        DeviceGuard.Length(dy, (long)n * ImageSize, nameof(dy));
        DeviceGuard.Length(y, (long)n * ImageSize, nameof(y));
        DeviceGuard.Length(weight, WeightPlanes * Taps, nameof(weight));
        DeviceGuard.Length(drhs, (long)n * ImageSize, nameof(drhs));
        if (dweight.Length != 0)
        {
            DeviceGuard.Length(dweight, WeightPlanes * Taps, nameof(dweight));
        }

        AcceleratorStream stream = _device.Accelerator.DefaultStream;
        if (n == 0)
        {
            if (dweight.Length != 0)
            {
                dweight.MemSetToZero(stream);
            }

            return;
        }

        // A is symmetric: the adjoint solve is the forward solve, V = A^-1 dy.
        Solve(dy, h, weight, drhs, n);
        if (dweight.Length == 0)
        {
            return;
        }

        if (GroupSize == 1)
        {
            // The fused depthwise solve kept V^ in shared memory; V = drhs, so transform it again.
            _forwardFft(PlaneConfig(n * S.Channels), drhs, _spectra.View, _twiddles.View);
        }

        _forwardFft(PlaneConfig(n * S.Channels), y, _outputSpectra.View, _twiddles.View);
        _correlate(WeightPlanes * Frequencies, _kernelSpectra.View, _spectra.View, _outputSpectra.View, n, _correlations.View);
        var reduction = new KernelConfig(WeightPlanes * Taps, ReductionThreads, SharedMemoryConfig.RequestDynamic<float>(ReductionThreads));
        _weightGradient(reduction, _correlations.View, h, _twiddles.View, dweight);
    }

    public void Dispose()
    {
        _twiddles.Dispose();
        _kernelSpectra.Dispose();
        _factors.Dispose();
        _spectra.Dispose();
        _outputSpectra.Dispose();
        _correlations.Dispose();
    }

    /// <summary>output = A^-1 input: the factors, then the fused depthwise launch or FFT, substitution, inverse FFT (V^ left in _spectra).</summary>
    private void Solve(ArrayView<float> input, float h, ArrayView<float> weight, ArrayView<float> output, int n)
    {
        _prepare(S.Groups * Frequencies, weight, h, _twiddles.View, _kernelSpectra.View, _factors.View);
        KernelConfig planes = PlaneConfig(n * S.Channels);
        if (GroupSize == 1)
        {
            _depthwiseSolve(planes, input, _factors.View, _twiddles.View, output);
            return;
        }

        _forwardFft(planes, input, _spectra.View, _twiddles.View);
        _groupedSolve(n * S.Groups * Frequencies, _spectra.View, _factors.View);
        _inverseFft(planes, _spectra.View, output, _twiddles.View);
    }

    private static KernelConfig PlaneConfig(int planes) => new(planes, FftThreads, SharedMemoryConfig.RequestDynamic<float>(2 * PlaneSize));

    private static void CheckShape(IlgpuDevice device)
    {
        if (!IsFftSize(S.Height) || !IsFftSize(S.Width))
        {
            throw new ArgumentException($"FFT sizes must be powers of two, at least 2; {typeof(S).Name} is {S.Height} x {S.Width}.", nameof(S));
        }

        if (S.Channels <= 0 || S.Groups <= 0 || S.Channels % S.Groups != 0 || S.Kernel <= 0 || S.Kernel % 2 == 0)
        {
            throw new ArgumentException(
                $"{typeof(S).Name}: Groups must divide Channels and Kernel must be odd (Channels {S.Channels}, Groups {S.Groups}, Kernel {S.Kernel}).",
                nameof(S));
        }

        long planeBytes = 2L * PlaneSize * sizeof(float);
        if (planeBytes > device.Accelerator.MaxSharedMemoryPerGroup)
        {
            throw new ArgumentException(
                $"{typeof(S).Name}: a {S.Height} x {S.Width} complex plane ({planeBytes:N0} bytes) does not fit in one group's shared memory on {device.Accelerator.Name} ({device.Accelerator.MaxSharedMemoryPerGroup:N0} bytes).",
                nameof(S));
        }
    }

    private static bool IsFftSize(int size) => size >= 2 && BitOperations.IsPow2(size);

    private void CheckCall(float h, int n)
    {
        if (!(h >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(h), h, "The step must be a non-negative number.");
        }

        if (n < 0 || n > _batchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"The batch must have 0 to {_batchSize} images (the batch size this solver was made for).");
        }
    }

    /// <summary>Computed in double, so every twiddle is the correctly rounded float.</summary>
    private static float[] Twiddles()
    {
        var table = new float[TwiddleLength];
        int offset = 0;
        foreach (int size in new[] { S.Height, S.Width })
        {
            for (int j = 0; j < size; j++)
            {
                table[offset + j] = (float)Math.Cos(2 * Math.PI * j / size);
                table[offset + size + j] = (float)Math.Sin(2 * Math.PI * j / size);
            }

            offset += 2 * size;
        }

        return table;
    }

    /// <summary>
    /// Per (group, frequency f): C^_oi(f) of the group's g x g weight planes into <paramref name="kernelSpectra"/>, then
    /// the factors: depthwise 1 / (1 + h |C^|^2); grouped the Cholesky factor L of I + h C^^H C^ as 1 / L_ii and the
    /// strictly lower L_ij, j &lt; i (the CPU's order of operations).
    /// </summary>
    private static void PrepareKernel(Index1D index, ArrayView<float> weight, float h, ArrayView<float> twiddles, ArrayView<float> kernelSpectra, ArrayView<float> factors)
    {
        int g = GroupSize, frequencies = Frequencies, spectrum = Spectrum, radius = S.Kernel / 2;
        int group = index / frequencies, f = index % frequencies, k = f / S.Width, l = f % S.Width;
        for (int plane = group * g * g; plane < (group + 1) * g * g; plane++)
        {
            Complex c = default;
            for (int a = 0; a < S.Kernel; a++)
            {
                for (int b = 0; b < S.Kernel; b++)
                {
                    c += weight[(plane * Taps) + (a * S.Kernel) + b] * Phase(twiddles, k, l, a - radius, b - radius);
                }
            }

            Store(kernelSpectra, (plane * spectrum) + f, frequencies, c);
            if (g == 1)
            {
                factors[(group * frequencies) + f] = 1f / (1f + (h * c.SquaredMagnitude));
            }
        }

        if (g == 1)
        {
            return;
        }

        int first = group * g * g * spectrum, factorBase = group * g * g * frequencies;
        for (int j = 0; j < g; j++)
        {
            for (int i = j; i < g; i++)
            {
                // M_ij - delta_ij = h sum_o conj(C_oi) C_oj.
                Complex m = default;
                for (int o = 0; o < g; o++)
                {
                    Complex ci = Load(kernelSpectra, first + (((o * g) + i) * spectrum) + f, frequencies);
                    Complex cj = Load(kernelSpectra, first + (((o * g) + j) * spectrum) + f, frequencies);
                    m += ci.Conjugate * cj;
                }

                m = h * m;
                for (int p = 0; p < j; p++)
                {
                    m -= Load(factors, LowerIndex(factorBase, i, p) + f, frequencies) * Load(factors, LowerIndex(factorBase, j, p) + f, frequencies).Conjugate;
                }

                if (i == j)
                {
                    factors[factorBase + (j * frequencies) + f] = 1f / MathF.Sqrt(1f + m.Re);
                }
                else
                {
                    Store(factors, LowerIndex(factorBase, i, j) + f, frequencies, factors[factorBase + (j * frequencies) + f] * m);
                }
            }
        }
    }

    /// <summary>One group per plane: FFT, scale each frequency by 1 / (1 + h |C^|^2) (real, even in f), inverse FFT.</summary>
    private static void DepthwiseSolveKernel(ArrayView<float> input, ArrayView<float> factors, ArrayView<float> twiddles, ArrayView<float> output)
    {
        ArrayView<float> plane = SharedMemory.GetDynamic<float>();
        int size = PlaneSize, channel = Grid.IdxX % S.Channels;
        LoadRealPlane(plane, input, Grid.IdxX * size);
        ForwardStages(plane, twiddles);
        for (int p = Group.IdxX; p < size; p += Group.DimX)
        {
            int k = Reverse(p / S.Width, S.Height), l = Reverse(p % S.Width, S.Width);
            float scale = factors[(channel * Frequencies) + HalfIndex(k, l)];
            plane[p] *= scale;
            plane[size + p] *= scale;
        }

        Group.Barrier();
        InverseStages(plane, twiddles);
        StoreRealPlane(plane, output, Grid.IdxX * size);
    }

    /// <summary>One group per plane: its half spectrum into <paramref name="spectra"/>.</summary>
    private static void ForwardFftKernel(ArrayView<float> planes, ArrayView<float> spectra, ArrayView<float> twiddles)
    {
        ArrayView<float> plane = SharedMemory.GetDynamic<float>();
        LoadRealPlane(plane, planes, Grid.IdxX * PlaneSize);
        ForwardStages(plane, twiddles);
        int first = Grid.IdxX * Spectrum;
        for (int f = Group.IdxX; f < Frequencies; f += Group.DimX)
        {
            int p = (Reverse(f / S.Width, S.Height) * S.Width) + Reverse(f % S.Width, S.Width);
            spectra[first + f] = plane[p];
            spectra[first + Frequencies + f] = plane[PlaneSize + p];
        }
    }

    /// <summary>
    /// One group per plane: the real part of the inverse DFT of the half spectrum's Hermitian extension (rows k &gt; H/2
    /// as conj X[H - k, -l]), as the CPU's inverse takes it.
    /// </summary>
    private static void InverseFftKernel(ArrayView<float> spectra, ArrayView<float> planes, ArrayView<float> twiddles)
    {
        ArrayView<float> plane = SharedMemory.GetDynamic<float>();
        int size = PlaneSize, first = Grid.IdxX * Spectrum;
        for (int p = Group.IdxX; p < size; p += Group.DimX)
        {
            int k = Reverse(p / S.Width, S.Height), l = Reverse(p % S.Width, S.Width);
            Complex x = Load(spectra, first + HalfIndex(k, l), Frequencies);
            if (k > S.Height / 2)
            {
                x = x.Conjugate;
            }

            plane[p] = x.Re;
            plane[size + p] = x.Im;
        }

        Group.Barrier();
        InverseStages(plane, twiddles);
        StoreRealPlane(plane, planes, Grid.IdxX * size);
    }

    /// <summary>
    /// Per (image, group, frequency), in place: L u = b (u_i = (b_i - sum over j &lt; i of L_ij u_j) / L_ii), then
    /// L^H x = u (x_i = (u_i - sum over j &gt; i of conj(L_ji) x_j) / L_ii).
    /// </summary>
    private static void GroupedSolveKernel(Index1D index, ArrayView<float> spectra, ArrayView<float> factors)
    {
        int g = GroupSize, frequencies = Frequencies, spectrum = Spectrum;
        int image = index / (S.Groups * frequencies), group = index / frequencies % S.Groups, f = index % frequencies;
        int first = (((image * S.Channels) + (group * g)) * spectrum) + f, factorBase = group * g * g * frequencies;
        for (int i = 0; i < g; i++)
        {
            Complex x = Load(spectra, first + (i * spectrum), frequencies);
            for (int j = 0; j < i; j++)
            {
                x -= Load(factors, LowerIndex(factorBase, i, j) + f, frequencies) * Load(spectra, first + (j * spectrum), frequencies);
            }

            Store(spectra, first + (i * spectrum), frequencies, factors[factorBase + (i * frequencies) + f] * x);
        }

        for (int i = g - 1; i >= 0; i--)
        {
            Complex x = Load(spectra, first + (i * spectrum), frequencies);
            for (int j = i + 1; j < g; j++)
            {
                x -= Load(factors, LowerIndex(factorBase, j, i) + f, frequencies).Conjugate * Load(spectra, first + (j * spectrum), frequencies);
            }

            Store(spectra, first + (i * spectrum), frequencies, factors[factorBase + (i * frequencies) + f] * x);
        }
    }

    /// <summary>
    /// Per (weight plane (o, i), frequency): Z_oi = sum over the images, in order, of conj((C Y)^_o) V^_i + conj((C V)^_o) Y^_i.
    /// </summary>
    private static void CorrelateKernel(Index1D index, ArrayView<float> kernelSpectra, ArrayView<float> solved, ArrayView<float> outputs, int n, ArrayView<float> correlations)
    {
        int g = GroupSize, frequencies = Frequencies, spectrum = Spectrum;
        int weightPlane = index / frequencies, f = index % frequencies, o = weightPlane / g, i = weightPlane % g, firstChannel = o / g * g;
        Complex z = default;
        for (int image = 0; image < n; image++)
        {
            int first = (((image * S.Channels) + firstChannel) * spectrum) + f;
            Complex cy = default, cv = default;
            for (int j = 0; j < g; j++)
            {
                Complex c = Load(kernelSpectra, (((o * g) + j) * spectrum) + f, frequencies);
                cy += c * Load(outputs, first + (j * spectrum), frequencies);
                cv += c * Load(solved, first + (j * spectrum), frequencies);
            }

            z += (cy.Conjugate * Load(solved, first + (i * spectrum), frequencies)) + (cv.Conjugate * Load(outputs, first + (i * spectrum), frequencies));
        }

        Store(correlations, (weightPlane * spectrum) + f, frequencies, z);
    }

    /// <summary>
    /// One group per weight tap (o, i, a, b): dweight = -h IDFT(Z_oi) at delta_ab = (a - r, b - r), the inverse DFT over
    /// the half spectrum (rows 0 &lt; k &lt; H/2 stand for their mirrors too, so count twice), reduced in a fixed-order tree.
    /// </summary>
    private static void WeightGradientKernel(ArrayView<float> correlations, float h, ArrayView<float> twiddles, ArrayView<float> dweight)
    {
        ArrayView<float> partial = SharedMemory.GetDynamic<float>();
        int tap = Grid.IdxX % Taps, first = Grid.IdxX / Taps * Spectrum, radius = S.Kernel / 2;
        int da = (tap / S.Kernel) - radius, db = (tap % S.Kernel) - radius;
        float sum = 0f;
        for (int f = Group.IdxX; f < Frequencies; f += Group.DimX)
        {
            int k = f / S.Width;
            float multiplicity = k == 0 || k == S.Height / 2 ? 1f : 2f;
            sum += multiplicity * (Load(correlations, first + f, Frequencies) * Phase(twiddles, k, f % S.Width, da, db)).Re;
        }

        partial[Group.IdxX] = sum;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (Group.IdxX < half)
            {
                partial[Group.IdxX] += partial[Group.IdxX + half];
            }

            Group.Barrier();
        }

        if (Group.IdxX == 0)
        {
            dweight[Grid.IdxX] = -h / PlaneSize * partial[0];
        }
    }

    /// <summary>The group loads a real plane into shared memory as complex values (natural order), then synchronises.</summary>
    private static void LoadRealPlane(ArrayView<float> plane, ArrayView<float> source, int first)
    {
        for (int p = Group.IdxX; p < PlaneSize; p += Group.DimX)
        {
            plane[p] = source[first + p];
            plane[PlaneSize + p] = 0f;
        }

        Group.Barrier();
    }

    /// <summary>The real part of the plane, divided by H W (the inverse DFT's normalisation), stored in natural order.</summary>
    private static void StoreRealPlane(ArrayView<float> plane, ArrayView<float> destination, int first)
    {
        float scale = 1f / PlaneSize;
        for (int p = Group.IdxX; p < PlaneSize; p += Group.DimX)
        {
            destination[first + p] = plane[p] * scale;
        }
    }

    /// <summary>Forward DFT in place, decimation in frequency: rows, then columns; the output is bit-reversed in both.</summary>
    private static void ForwardStages(ArrayView<float> plane, ArrayView<float> twiddles)
    {
        for (int spanBits = Log2(S.Width) - 1; spanBits >= 0; spanBits--)
        {
            Butterflies(plane, twiddles, rows: true, spanBits, inverse: false);
        }

        for (int spanBits = Log2(S.Height) - 1; spanBits >= 0; spanBits--)
        {
            Butterflies(plane, twiddles, rows: false, spanBits, inverse: false);
        }
    }

    /// <summary>The stages of <see cref="ForwardStages"/> undone in reverse order (without the 1/2 each): H W times the inverse DFT, natural order out.</summary>
    private static void InverseStages(ArrayView<float> plane, ArrayView<float> twiddles)
    {
        for (int spanBits = 0; spanBits < Log2(S.Height); spanBits++)
        {
            Butterflies(plane, twiddles, rows: false, spanBits, inverse: true);
        }

        for (int spanBits = 0; spanBits < Log2(S.Width); spanBits++)
        {
            Butterflies(plane, twiddles, rows: true, spanBits, inverse: true);
        }
    }

    /// <summary>
    /// One radix-2 stage of half-span 2^<paramref name="spanBits"/> over every row (or column), H W / 2 butterflies
    /// spread over the group (consecutive threads take consecutive positions along a row, or neighbouring columns: no
    /// bank conflicts there), then a barrier. Forward (a, b) -> (a + b, (a - b) w), w = e^(-2 pi i j / 2 span); inverse
    /// (a, b) -> (a + b conj w, a - b conj w). The span varies at run time (ILGPU does not unroll), so shifts and masks
    /// index, not integer division.
    /// </summary>
    private static void Butterflies(ArrayView<float> plane, ArrayView<float> twiddles, bool rows, int spanBits, bool inverse)
    {
        int size = PlaneSize, width = S.Width, length = rows ? S.Width : S.Height, table = rows ? 2 * S.Height : 0;
        int span = 1 << spanBits, twiddleBits = Log2(length) - spanBits - 1;
        for (int butterfly = Group.IdxX; butterfly < size / 2; butterfly += Group.DimX)
        {
            int line = rows ? butterfly / (width / 2) : butterfly % width;
            int j = rows ? butterfly % (width / 2) : butterfly / width;
            int offset = j & (span - 1), start = ((j >> spanBits) << (spanBits + 1)) + offset;
            int i0 = rows ? (line * width) + start : (start * width) + line;
            int i1 = i0 + (rows ? span : span * width);
            int t = offset << twiddleBits;
            var w = new Complex(twiddles[table + t], inverse ? twiddles[table + length + t] : -twiddles[table + length + t]);
            var a = new Complex(plane[i0], plane[size + i0]);
            var b = new Complex(plane[i1], plane[size + i1]);
            Complex first, second;
            if (inverse)
            {
                Complex bw = b * w;
                first = a + bw;
                second = a - bw;
            }
            else
            {
                first = a + b;
                second = (a - b) * w;
            }

            plane[i0] = first.Re;
            plane[size + i0] = first.Im;
            plane[i1] = second.Re;
            plane[size + i1] = second.Im;
        }

        Group.Barrier();
    }

    /// <summary>e^(+2 pi i (k da / H + l db / W)): the phase of tap offset (da, db) at frequency (k, l), from the tables.</summary>
    private static Complex Phase(ArrayView<float> twiddles, int k, int l, int da, int db)
    {
        int rowTurn = Wrap(k * da, S.Height), columnTurn = Wrap(l * db, S.Width), columns = 2 * S.Height;
        return new Complex(twiddles[rowTurn], twiddles[S.Height + rowTurn]) * new Complex(twiddles[columns + columnTurn], twiddles[columns + S.Width + columnTurn]);
    }

    /// <summary>Where frequency (k, l), k &lt; H, lives in a half spectrum: itself, or for k &gt; H/2 its mirror (H - k, -l), whose conjugate it is.</summary>
    private static int HalfIndex(int k, int l) =>
        k <= S.Height / 2 ? (k * S.Width) + l : ((S.Height - k) * S.Width) + ((S.Width - l) & (S.Width - 1));

    /// <summary>Offset of the strictly lower factor entry (i, j), j &lt; i, of the group whose factors start at <paramref name="factorBase"/>.</summary>
    private static int LowerIndex(int factorBase, int i, int j) => factorBase + ((GroupSize + (2 * (((i * (i - 1)) / 2) + j))) * Frequencies);

    /// <summary><paramref name="index"/> with its log2(<paramref name="size"/>) low bits reversed.</summary>
    private static int Reverse(int index, int size)
    {
        int reversed = 0;
        for (int bit = 1; bit < size; bit <<= 1)
        {
            reversed = (reversed << 1) | (index & 1);
            index >>= 1;
        }

        return reversed;
    }

    private static int Log2(int size)
    {
        int bits = 0;
        while ((1 << bits) < size)
        {
            bits++;
        }

        return bits;
    }

    private static int Wrap(int index, int size) => ((index % size) + size) % size;

    /// <summary>A complex value whose real part is at <paramref name="index"/> and imaginary part <paramref name="planeLength"/> further on.</summary>
    private static Complex Load(ArrayView<float> view, int index, int planeLength) => new(view[index], view[index + planeLength]);

    private static void Store(ArrayView<float> view, int index, int planeLength, Complex value)
    {
        view[index] = value.Re;
        view[index + planeLength] = value.Im;
    }

    /// <summary>Single-precision complex arithmetic for the kernels (System.Numerics.Complex is double).</summary>
    private readonly struct Complex(float re, float im)
    {
        public float Re { get; } = re;

        public float Im { get; } = im;

        public Complex Conjugate => new(Re, -Im);

        public float SquaredMagnitude => (Re * Re) + (Im * Im);

        public static Complex operator +(Complex a, Complex b) => new(a.Re + b.Re, a.Im + b.Im);

        public static Complex operator -(Complex a, Complex b) => new(a.Re - b.Re, a.Im - b.Im);

        public static Complex operator *(Complex a, Complex b) => new((a.Re * b.Re) - (a.Im * b.Im), (a.Re * b.Im) + (a.Im * b.Re));

        public static Complex operator *(float s, Complex a) => new(s * a.Re, s * a.Im);
    }
}
