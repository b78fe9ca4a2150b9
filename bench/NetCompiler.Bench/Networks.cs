using NetCompiler;

namespace NetCompiler.Bench;

// The peer's networks (bench/peer.py), layer for layer.
[Network("1x28x28")]
[Conv(6, 5, Pad = 2), Relu, MaxPool(2), Conv(16, 5), Relu, MaxPool(2)]
[Dense(120), Relu, Dense(84), Relu, Dense(10)]
internal partial class LeNet5
{
    /// <summary>The network's kernel context, for the dispatch bench's region count.</summary>
    public NetCompiler.Kernels.KernelContext KernelContext => Context;
}

[Network("3x32x32", Blueprint = "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2] -> [[CONV 64 3x3 -> BN -> RELU]*2 -> POOL 2] -> [[CONV 128 3x3 -> BN -> RELU]*2 -> POOL 2] -> FC 10")]
internal partial class CifarVgg;
