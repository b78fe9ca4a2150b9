using NetCompiler;

// DESIGN.md's Fashion-MNIST network, in its own file so the Explain sample compiles the same declaration. It keeps
// its last spatial layer, where the Explain sample reads Grad-CAM's activations and gradients.
[Network("1x28x28", Keep = "features.7")]
[Conv(32, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Conv(64, 3, Pad = 1), BatchNorm, Relu, MaxPool(2)]
[Dense(128), Relu, Dropout(0.25f)]
[Dense(10)]
public partial class FashionNet;
