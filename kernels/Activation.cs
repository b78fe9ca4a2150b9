using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NetCompiler.Kernels;

/// <summary>The element-wise activations a kernel applies in its epilogue or as a call of its own.</summary>
public enum ActivationKind
{
    /// <summary>The identity: no activation.</summary>
    None,

    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>x for x &gt; 0, slope * x otherwise (<see cref="Activation.Alpha"/> is the slope).</summary>
    LeakyRelu,

    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,

    /// <summary>tanh x.</summary>
    Tanh,

    /// <summary>x for x &gt; 0, alpha (e^x - 1) otherwise (<see cref="Activation.Alpha"/> is alpha).</summary>
    Elu,

    /// <summary>min(max(x, 0), 6).</summary>
    Relu6,

    /// <summary>x / (1 + e^-x) (also called swish).</summary>
    Silu,
}

/// <summary>
/// An activation and its parameter, as PyTorch's nn.ReLU, nn.LeakyReLU(negative_slope), nn.Sigmoid, nn.Tanh,
/// nn.ELU(alpha), nn.ReLU6 and nn.SiLU. The kernels that take one apply it while their output tile is still in
/// registers, dispatching on <see cref="Kind"/> once per call, so the inner loops are specialised to it. The backward
/// of every kind but SiLU is a function of the forward output (<see cref="BackwardReadsInput"/>), so the output is all
/// the backward keeps; <see cref="Forward"/> and <see cref="Backward"/> run it on its own.
/// </summary>
public readonly record struct Activation
{
    private Activation(ActivationKind kind, float alpha)
    {
        Kind = kind;
        Alpha = alpha;
    }

    public ActivationKind Kind { get; }

    /// <summary>LeakyReLU's negative slope or ELU's alpha; 0 for the other kinds.</summary>
    public float Alpha { get; }

    public static Activation None => default;

    public static Activation Relu => new(ActivationKind.Relu, 0f);

    public static Activation Sigmoid => new(ActivationKind.Sigmoid, 0f);

    public static Activation Tanh => new(ActivationKind.Tanh, 0f);

    public static Activation Relu6 => new(ActivationKind.Relu6, 0f);

    public static Activation Silu => new(ActivationKind.Silu, 0f);

    /// <summary>
    /// LeakyReLU with a finite, non-negative slope: then y &gt; 0 exactly where x &gt; 0, so the output gives the
    /// derivative (1 or the slope).
    /// </summary>
    public static Activation LeakyRelu(float negativeSlope)
    {
        if (!(negativeSlope >= 0) || float.IsInfinity(negativeSlope))
        {
            throw new ArgumentOutOfRangeException(nameof(negativeSlope), negativeSlope, "The slope must be a finite number of at least 0.");
        }

        return new Activation(ActivationKind.LeakyRelu, negativeSlope);
    }

    /// <summary>ELU with a finite, positive alpha: then y &gt; 0 exactly where x &gt; 0, and y + alpha = alpha e^x below.</summary>
    public static Activation Elu(float alpha = 1f)
    {
        if (!(alpha > 0) || float.IsInfinity(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be a finite positive number.");
        }

        return new Activation(ActivationKind.Elu, alpha);
    }

    /// <summary>Whether the backward needs the forward's input (SiLU); for the others it needs the output.</summary>
    public bool BackwardReadsInput => Kind == ActivationKind.Silu;

    /// <summary>y = f(x); x and y may be the same memory.</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Guard.Length(y.Length, x.Length, nameof(y));
        Run(new ForwardLoop(x, y, Alpha));
    }

    /// <summary>
    /// dy *= f'(.), in place. <paramref name="saved"/> is the forward output, or the forward input where
    /// <see cref="BackwardReadsInput"/>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> saved, Span<float> dy)
    {
        Guard.Length(dy.Length, saved.Length, nameof(dy));
        Run(new BackwardLoop(saved, dy, Alpha));
    }

    public override string ToString() => Kind switch
    {
        ActivationKind.LeakyRelu or ActivationKind.Elu => FormattableString.Invariant($"{Kind}({Alpha})"),
        _ => Kind.ToString(),
    };

    /// <summary>Calls the visitor with the function of <see cref="Kind"/>: the one switch on the kind per call.</summary>
    internal void Accept<TVisitor>(ref TVisitor visitor)
        where TVisitor : IActivationVisitor, allows ref struct
    {
        switch (Kind)
        {
            case ActivationKind.None: visitor.Visit<Identity>(); break;
            case ActivationKind.Relu: visitor.Visit<ReluFunction>(); break;
            case ActivationKind.LeakyRelu: visitor.Visit<LeakyReluFunction>(); break;
            case ActivationKind.Sigmoid: visitor.Visit<SigmoidFunction>(); break;
            case ActivationKind.Tanh: visitor.Visit<TanhFunction>(); break;
            case ActivationKind.Elu: visitor.Visit<EluFunction>(); break;
            case ActivationKind.Relu6: visitor.Visit<Relu6Function>(); break;
            case ActivationKind.Silu: visitor.Visit<SiluFunction>(); break;
            default: throw new InvalidOperationException($"Unknown activation {Kind}.");
        }
    }

    /// <summary>y = f(x) over a span: whole vectors of the widest width, then the tail one lane at a time with the same function.</summary>
    internal static unsafe void Forward<TSimd, TVector, TFunction>(ReadOnlySpan<float> x, Span<float> y, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int length = x.Length, width = TSimd.Count, i = 0;
        fixed (float* px = x, py = y)
        {
            for (; i + width <= length; i += width)
            {
                TSimd.Store(py + i, TFunction.Forward<TSimd, TVector>(TSimd.Load(px + i), alpha));
            }

            for (; i < length; i++)
            {
                py[i] = TFunction.Forward<SimdScalar, float>(px[i], alpha);
            }
        }
    }

    /// <summary>dy *= f'(.) over a span, as <see cref="Forward{TSimd, TVector, TFunction}"/> walks it.</summary>
    internal static unsafe void Backward<TSimd, TVector, TFunction>(ReadOnlySpan<float> saved, Span<float> dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction
    {
        int length = saved.Length, width = TSimd.Count, i = 0;
        fixed (float* ps = saved, pdy = dy)
        {
            for (; i + width <= length; i += width)
            {
                TSimd.Store(pdy + i, TFunction.Backward<TSimd, TVector>(TSimd.Load(ps + i), TSimd.Load(pdy + i), alpha));
            }

            for (; i < length; i++)
            {
                pdy[i] = TFunction.Backward<SimdScalar, float>(ps[i], pdy[i], alpha);
            }
        }
    }

    /// <summary>Runs the loop specialised to this activation's function and the widest vectors the machine runs.</summary>
    internal void Run<TLoop>(TLoop loop)
        where TLoop : IActivationLoop, allows ref struct
    {
        var widest = new Widest<TLoop>(loop);
        Accept(ref widest);
    }

    private readonly ref struct Widest<TLoop>(TLoop loop) : IActivationVisitor
        where TLoop : IActivationLoop, allows ref struct
    {
        private readonly TLoop _loop = loop;

        public void Visit<TFunction>()
            where TFunction : struct, IActivationFunction
        {
            if (Vector512.IsHardwareAccelerated)
            {
                _loop.Run<Simd512, Vector512<float>, TFunction>();
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                _loop.Run<Simd256, Vector256<float>, TFunction>();
            }
            else
            {
                _loop.Run<SimdScalar, float, TFunction>();
            }
        }
    }

    private readonly ref struct ForwardLoop(ReadOnlySpan<float> x, Span<float> y, float alpha) : IActivationLoop
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TSimd, TVector, TFunction>()
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction => Forward<TSimd, TVector, TFunction>(_x, _y, alpha);
    }

    private readonly ref struct BackwardLoop(ReadOnlySpan<float> saved, Span<float> dy, float alpha) : IActivationLoop
    {
        private readonly ReadOnlySpan<float> _saved = saved;
        private readonly Span<float> _dy = dy;

        public void Run<TSimd, TVector, TFunction>()
            where TSimd : unmanaged, ISimd<TVector>
            where TVector : unmanaged
            where TFunction : struct, IActivationFunction => Backward<TSimd, TVector, TFunction>(_saved, _dy, alpha);
    }
}

/// <summary>A loop over spans that <see cref="Activation.Run"/> specialises to a width and an activation function.</summary>
internal interface IActivationLoop
{
    void Run<TSimd, TVector, TFunction>()
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
        where TFunction : struct, IActivationFunction;
}

/// <summary>What an activation's kind dispatches to: code specialised to one function (see <see cref="Activation.Accept"/>).</summary>
internal interface IActivationVisitor
{
    void Visit<TFunction>()
        where TFunction : struct, IActivationFunction;
}

/// <summary>
/// One activation as vector code over any width: RyuJIT specialises the caller per function and width, so the
/// activation inlines into the loop or tile that applies it. Every function uses only lane-wise operations that round
/// alike at every width (no fused multiply-add: the scalar lane does not fuse), so a tail computed one lane at a time
/// with <see cref="SimdScalar"/> gives exactly the vector body's values.
/// </summary>
internal interface IActivationFunction
{
    /// <summary>
    /// Whether the function is a few instructions, no calls: then the GEMM applies it to the accumulators in registers.
    /// The exp-based ones call .NET's exp, and a call while the micro-kernel's accumulators are live would make the
    /// register allocator keep them on the stack through the whole k loop; the GEMM applies those to the stored tile,
    /// still in L1, instead.
    /// </summary>
    static abstract bool InRegisters { get; }

    /// <summary>f(x); <paramref name="alpha"/> is the activation's parameter.</summary>
    static abstract TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged;

    /// <summary>dy f'(.) from what the backward keeps: the forward output (the input for SiLU).</summary>
    static abstract TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged;
}

internal readonly struct Identity : IActivationFunction
{
    public static bool InRegisters => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => dy;
}

internal readonly struct ReluFunction : IActivationFunction
{
    public static bool InRegisters => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.Max(x, TSimd.Zero);

    /// <summary>dy where y &gt; 0, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.LessThanSelect(TSimd.Zero, saved, dy, TSimd.Zero);
}

internal readonly struct LeakyReluFunction : IActivationFunction
{
    public static bool InRegisters => true;

    /// <summary>max(x, 0) + slope min(x, 0): exactly x or slope x, without a select.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged =>
        TSimd.Add(TSimd.Max(x, TSimd.Zero), TSimd.Multiply(TSimd.Broadcast(alpha), TSimd.Min(x, TSimd.Zero)));

    /// <summary>dy where y &gt; 0, else slope dy (with slope &gt;= 0, y &gt; 0 exactly where x &gt; 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.LessThanSelect(TSimd.Zero, saved, dy, TSimd.Multiply(dy, TSimd.Broadcast(alpha)));
}

internal readonly struct SigmoidFunction : IActivationFunction
{
    public static bool InRegisters => false;

    /// <summary>1 / (1 + e^-x): e^-x overflows to infinity below x = -88, giving 0, as it should.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        TVector one = TSimd.Broadcast(1f);
        return TSimd.Divide(one, TSimd.Add(one, TSimd.Exp(TSimd.Subtract(TSimd.Zero, x))));
    }

    /// <summary>dy y (1 - y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.Multiply(dy, TSimd.Multiply(saved, TSimd.Subtract(TSimd.Broadcast(1f), saved)));
}

internal readonly struct TanhFunction : IActivationFunction
{
    public static bool InRegisters => false;

    /// <summary>
    /// Cephes' tanhf: below |x| = 0.625, x + x^3 P(x^2) (its minimax coefficients); above, 1 - 2 / (e^2x + 1), which
    /// goes to -1 and 1 as e^2x underflows and overflows. Both are within a few ulp of tanh.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        TVector one = TSimd.Broadcast(1f);
        TVector squared = TSimd.Multiply(x, x);
        TVector p = TSimd.Add(TSimd.Multiply(TSimd.Broadcast(-5.70498872745e-3f), squared), TSimd.Broadcast(2.06390887954e-2f));
        p = TSimd.Add(TSimd.Multiply(p, squared), TSimd.Broadcast(-5.37397155531e-2f));
        p = TSimd.Add(TSimd.Multiply(p, squared), TSimd.Broadcast(1.33314422036e-1f));
        p = TSimd.Add(TSimd.Multiply(p, squared), TSimd.Broadcast(-3.33332819422e-1f));
        TVector small = TSimd.Add(TSimd.Multiply(TSimd.Multiply(p, squared), x), x);
        TVector large = TSimd.Subtract(one, TSimd.Divide(TSimd.Broadcast(2f), TSimd.Add(TSimd.Exp(TSimd.Add(x, x)), one)));
        return TSimd.LessThanSelect(squared, TSimd.Broadcast(0.625f * 0.625f), small, large);
    }

    /// <summary>dy (1 - y^2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.Multiply(dy, TSimd.Subtract(TSimd.Broadcast(1f), TSimd.Multiply(saved, saved)));
}

internal readonly struct EluFunction : IActivationFunction
{
    public static bool InRegisters => false;

    /// <summary>max(x, 0) + alpha (e^min(x, 0) - 1): exactly x above 0, where e^0 - 1 = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged =>
        TSimd.Add(TSimd.Max(x, TSimd.Zero), TSimd.Multiply(TSimd.Broadcast(alpha), ExpMinusOne<TSimd, TVector>(TSimd.Min(x, TSimd.Zero))));

    /// <summary>dy where y &gt; 0, else dy (y + alpha) = dy alpha e^x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.LessThanSelect(TSimd.Zero, saved, dy, TSimd.Multiply(dy, TSimd.Add(saved, TSimd.Broadcast(alpha))));

    /// <summary>
    /// e^x - 1 for x &lt;= 0 without the cancellation near 0: the Taylor series to x^8 on (-0.5, 0] (the next term is
    /// below 1.5e-8 of the value there), e^x - 1 below, where the cancellation costs at most a bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector ExpMinusOne<TSimd, TVector>(TVector x)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        TVector p = TSimd.Add(TSimd.Multiply(TSimd.Broadcast(1f / 40320), x), TSimd.Broadcast(1f / 5040));
        p = TSimd.Add(TSimd.Multiply(p, x), TSimd.Broadcast(1f / 720));
        p = TSimd.Add(TSimd.Multiply(p, x), TSimd.Broadcast(1f / 120));
        p = TSimd.Add(TSimd.Multiply(p, x), TSimd.Broadcast(1f / 24));
        p = TSimd.Add(TSimd.Multiply(p, x), TSimd.Broadcast(1f / 6));
        p = TSimd.Add(TSimd.Multiply(p, x), TSimd.Broadcast(0.5f));
        TVector series = TSimd.Add(TSimd.Multiply(TSimd.Multiply(p, x), x), x);
        return TSimd.LessThanSelect(TSimd.Broadcast(-0.5f), x, series, TSimd.Subtract(TSimd.Exp(x), TSimd.Broadcast(1f)));
    }
}

internal readonly struct Relu6Function : IActivationFunction
{
    public static bool InRegisters => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged => TSimd.Min(TSimd.Max(x, TSimd.Zero), TSimd.Broadcast(6f));

    /// <summary>dy where 0 &lt; y &lt; 6 (there y (y - 6) &lt; 0, exactly), else 0, as PyTorch's hardtanh backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged =>
        TSimd.LessThanSelect(TSimd.Multiply(saved, TSimd.Subtract(saved, TSimd.Broadcast(6f))), TSimd.Zero, dy, TSimd.Zero);
}

internal readonly struct SiluFunction : IActivationFunction
{
    public static bool InRegisters => false;

    /// <summary>x / (1 + e^-x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Forward<TSimd, TVector>(TVector x, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged =>
        TSimd.Divide(x, TSimd.Add(TSimd.Broadcast(1f), TSimd.Exp(TSimd.Subtract(TSimd.Zero, x))));

    /// <summary>From the input: dy s (1 + x (1 - s)) with s = sigmoid(x). SiLU is not monotonic, so y alone cannot give it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Backward<TSimd, TVector>(TVector saved, TVector dy, float alpha)
        where TSimd : unmanaged, ISimd<TVector>
        where TVector : unmanaged
    {
        TVector one = TSimd.Broadcast(1f);
        TVector s = SigmoidFunction.Forward<TSimd, TVector>(saved, alpha);
        return TSimd.Multiply(dy, TSimd.Multiply(s, TSimd.Add(one, TSimd.Multiply(saved, TSimd.Subtract(one, s)))));
    }
}
