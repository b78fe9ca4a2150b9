using System.Collections.Generic;

namespace NetCompiler.Generator.Program;

/// <summary>nn.Upsample by an integer factor: nearest, or bilinear with align_corners=False.</summary>
internal sealed record UpsampleForward(bool Bilinear, string Shape, Operand X, BufferOperand Y) : Call
{
    public override string Op => Bilinear ? "upsample_bilinear2d" : "upsample_nearest2d";

    public override IEnumerable<Operand> Inputs => [X];

    public override IEnumerable<Operand> Outputs => [Y];

    public override string Attributes => Shape;
}

internal sealed record UpsampleBackward(bool Bilinear, string Shape, Operand DY, Operand DX) : Call
{
    public override string Op => (Bilinear ? "upsample_bilinear2d" : "upsample_nearest2d") + ".backward";

    public override IEnumerable<Operand> Inputs => [DY];

    public override IEnumerable<Operand> Outputs => [DX];

    public override string Attributes => Shape;
}

/// <summary>torch.cat([a, b], dim=1) per image: <see cref="A"/>'s channel block, then <see cref="B"/>'s.</summary>
internal sealed record ConcatChannels(Operand A, Operand B, BufferOperand Y) : Call
{
    public override string Op => "concat_channels";

    public override IEnumerable<Operand> Inputs => [A, B];

    public override IEnumerable<Operand> Outputs => [Y];
}

/// <summary>
/// The concatenation's adjoint for one of its inputs: the channel block of d(joined) that <see cref="Forward"/> took
/// from it, into <see cref="DA"/> or <see cref="DB"/> (the other one is no operand).
/// </summary>
internal sealed record ConcatChannelsBackward(ConcatChannels Forward, Operand DY, Operand DA, Operand DB) : Call
{
    public override string Op => "concat_channels.backward";

    public override IEnumerable<Operand> Inputs => [DY];

    public override IEnumerable<Operand> Outputs => DA is NoOperand ? [DB] : [DA];

    public override string Attributes => DA is NoOperand ? "second" : "first";
}
