namespace NetCompiler.Kernels;

/// <summary>
/// Compile-time shape of a 2-D convolution (square kernel). The generator emits one struct per layer;
/// RyuJIT specialises every kernel instantiation, so these members fold to constants.
/// For <see cref="ConvTranspose2d"/> the In*/Out* members describe that layer's own input and output.
/// </summary>
public interface IConvShape
{
    static abstract int InChannels { get; }
    static abstract int InHeight { get; }
    static abstract int InWidth { get; }
    static abstract int OutChannels { get; }
    static abstract int OutHeight { get; }
    static abstract int OutWidth { get; }
    static abstract int Kernel { get; }
    static abstract int Stride { get; }
    static abstract int Pad { get; }
    static abstract int Dilation { get; }
    static abstract int Groups { get; }
}

/// <summary>Compile-time shape of a max or average pooling layer (square window).</summary>
public interface IPoolShape
{
    static abstract int Channels { get; }
    static abstract int InHeight { get; }
    static abstract int InWidth { get; }
    static abstract int OutHeight { get; }
    static abstract int OutWidth { get; }
    static abstract int Kernel { get; }
    static abstract int Stride { get; }
    static abstract int Pad { get; }
}

/// <summary>Compile-time shape of a fully connected layer (PyTorch nn.Linear).</summary>
public interface IDenseShape
{
    static abstract int InFeatures { get; }
    static abstract int OutFeatures { get; }
}

/// <summary>
/// Compile-time shape of an IMEX implicit solve, Y = (I + h C^T C)^-1 R, on Channels x Height x Width images:
/// C is a periodic (circular) grouped convolution with weight [Channels, Channels / Groups, Kernel, Kernel]
/// (Groups == Channels: depthwise). Height and Width are powers of two.
/// </summary>
public interface IImplicitShape
{
    static abstract int Channels { get; }
    static abstract int Height { get; }
    static abstract int Width { get; }
    static abstract int Kernel { get; }
    static abstract int Groups { get; }
}
