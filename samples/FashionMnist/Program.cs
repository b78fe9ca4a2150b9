using System;
using NetCompiler;

Console.WriteLine(FashionNet.Summary);
Console.WriteLine(LeNet5.Summary);
Console.WriteLine(CifarVgg.Summary);

[Network("1x28x28")]
[Conv(32, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Conv(64, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(128), Relu, Dropout(0.25f)]
[Dense(10)]
public partial class FashionNet;

[Network("1x32x32", Blueprint = "CONV 6 5x5 pad=0 -> RELU -> POOL 2 -> CONV 16 5x5 pad=0 -> RELU -> POOL 2 -> FC 120 -> RELU -> FC 84 -> RELU -> FC 10")]
public partial class LeNet5;

[Network("3x32x32", Blueprint = "[[CONV 32 3x3 -> BN -> RELU]*2 -> POOL 2]*3 -> FC 10")]
public partial class CifarVgg;
