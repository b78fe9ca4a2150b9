using System;
using NetCompiler.Kernels;

namespace NetCompiler.Ilgpu.Tests;

/// <summary>A test body run for one compile-time convolution shape, so theories can name shapes.</summary>
internal interface IConvCase
{
    void Run<S>() where S : struct, IConvShape;
}

internal interface IDenseCase
{
    void Run<S>() where S : struct, IDenseShape;
}

/// <summary>The shapes and epilogues the linear launchers' theories run through.</summary>
internal static class LinearCases
{
    public static TheoryData<string> ConvShapes => new()
    {
        nameof(Conv3x3), nameof(ConvStride2), nameof(ConvDilated), nameof(ConvGroups2), nameof(ConvDepthwise),
        nameof(ConvPointwise), nameof(ConvPointwiseStride2), nameof(Conv5x5), nameof(ConvWide),
    };

    public static TheoryData<string> ConvTransposeShapes => new() { nameof(ConvTStride2), nameof(ConvTGroups2), nameof(ConvTDilated), nameof(ConvTPointwise) };

    public static TheoryData<string> DenseShapes => new() { nameof(Dense1x1), nameof(Dense17x33), nameof(Dense100x3), nameof(Dense70x130) };

    /// <summary>Every epilogue: with or without bias, each activation kind that branches differently, with or without the residual.</summary>
    public static TheoryData<string> Epilogues => new() { "plain", "bias", "bias relu", "leaky relu", "bias sigmoid", "residual", "bias residual relu" };

    public static (bool Bias, bool Residual, Activation Activation) Epilogue(string name) => name switch
    {
        "plain" => (false, false, Activation.None),
        "bias" => (true, false, Activation.None),
        "bias relu" => (true, false, Activation.Relu),
        "leaky relu" => (false, false, Activation.LeakyRelu(0.1f)),
        "bias sigmoid" => (true, false, Activation.Sigmoid),
        "residual" => (false, true, Activation.None),
        "bias residual relu" => (true, true, Activation.Relu),
        _ => throw new ArgumentException($"Unknown epilogue {name}.", nameof(name)),
    };

    public static void RunConv(string shape, IConvCase test)
    {
        switch (shape)
        {
            case nameof(Conv3x3): test.Run<Conv3x3>(); break;
            case nameof(ConvStride2): test.Run<ConvStride2>(); break;
            case nameof(ConvDilated): test.Run<ConvDilated>(); break;
            case nameof(ConvGroups2): test.Run<ConvGroups2>(); break;
            case nameof(ConvDepthwise): test.Run<ConvDepthwise>(); break;
            case nameof(ConvPointwise): test.Run<ConvPointwise>(); break;
            case nameof(ConvPointwiseStride2): test.Run<ConvPointwiseStride2>(); break;
            case nameof(Conv5x5): test.Run<Conv5x5>(); break;
            case nameof(ConvWide): test.Run<ConvWide>(); break;
            case nameof(ConvTStride2): test.Run<ConvTStride2>(); break;
            case nameof(ConvTGroups2): test.Run<ConvTGroups2>(); break;
            case nameof(ConvTDilated): test.Run<ConvTDilated>(); break;
            case nameof(ConvTPointwise): test.Run<ConvTPointwise>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }

    public static void RunDense(string shape, IDenseCase test)
    {
        switch (shape)
        {
            case nameof(Dense1x1): test.Run<Dense1x1>(); break;
            case nameof(Dense17x33): test.Run<Dense17x33>(); break;
            case nameof(Dense100x3): test.Run<Dense100x3>(); break;
            case nameof(Dense70x130): test.Run<Dense70x130>(); break;
            default: throw new ArgumentException($"Unknown shape {shape}.", nameof(shape));
        }
    }
}
