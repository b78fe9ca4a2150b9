"""torchvision's GoogLeNet and its Inception module, for InceptionTests.cs.

    /usr/bin/python3 make_googlenet_fixtures.py    writes beside this script:
        googlenet_keys.json             torchvision's state_dict keys of googlenet(aux_logits=False, init_weights=False)
                                        (1000 classes) and its parameter count
        googlenet_narrow.safetensors    a state_dict of the narrow twin below
        googlenet_narrow.io.safetensors a fixed input batch and the twin's eval-mode scores
        googlenet_narrow.step.safetensors  one SGD step in training mode, as make_resnet_fixtures.py writes it
        maxpool_ceil.safetensors        nn.MaxPool2d with ceil_mode=True: inputs, outputs and input gradients for a
                                        fixed upstream gradient, per case

The twin is built from torchvision's own Inception and BasicConv2d classes with GoogLeNet's layout (stem, three
ceil-mode max pools between Inception stages, a 2x2 one before the last, global average pool, fc), narrower and
shorter so the fixtures stay small (googlenet itself holds 6.6M parameters, 26 MB). It leaves out GoogLeNet's
Dropout(0.2) before the fc: it has no parameters, and its random mask would make one training step incomparable.
At 3x32x32 the stem's pools run in ceil mode where floor mode would give one output less (16 -> 8, 8 -> 4).
Its weights are PyTorch's default initialisation under a fixed seed (GoogLeNet's init_weights=False), then every
batch norm's affine terms and running statistics are randomised. The reference runs in float64 from float32
starting values, as the ResNet fixtures do.
"""

import json

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.googlenet import BasicConv2d, Inception

from make_fixtures import HERE, as_float32, write_safetensors, write_sgd_step
from make_resnet_fixtures import randomise_norms

BATCH = 4
CLASSES = 10
SHAPE = (3, 32, 32)


class NarrowGoogLeNet(nn.Module):
    """GoogLeNet's modules and names (conv1, maxpool1, conv2, conv3, maxpool2, inception3a ...), narrower and shorter."""

    def __init__(self):
        super().__init__()
        self.conv1 = BasicConv2d(3, 8, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(8, 8, kernel_size=1)
        self.conv3 = BasicConv2d(8, 16, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(16, 4, 4, 8, 2, 4, 4)
        self.inception3b = Inception(20, 8, 6, 8, 2, 4, 4)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(24, 8, 4, 8, 4, 4, 4)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = Inception(24, 8, 4, 12, 2, 4, 8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception5a(self.maxpool4(self.inception4a(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# MaxPoolCeilModeTests.cs's cases: (channels, height, width, kernel, stride, pad).
MAXPOOL_CASES = {
    "k3s2": (2, 7, 8, 3, 2, 0),      # 7 -> 3 as floor mode, 8 -> 4 (floor 3): the last column's windows are clipped
    "k3s2p1": (2, 8, 6, 3, 2, 1),    # 8 -> 5 (floor 4), 6 -> 4 (floor 3)
    "k2s2": (3, 5, 5, 2, 2, 0),      # GoogLeNet's maxpool4 on an odd size: 5 -> 3 (floor 2)
    "k2s2p1": (1, 5, 8, 2, 2, 1),    # 5 -> 3: a fourth window would start in the bottom padding and is dropped; 8 -> 5
}


def make_keys():
    model = torchvision.models.googlenet(aux_logits=False, init_weights=False)
    keys = {"parameters": sum(p.numel() for p in model.parameters()), "keys": list(model.state_dict().keys())}
    (HERE / "googlenet_keys.json").write_text(json.dumps(keys, indent=0) + "\n")
    print(f"googlenet: {keys['parameters']} parameters, {len(keys['keys'])} tensors")


def make_twin():
    torch.manual_seed(20240613)
    generator = torch.Generator().manual_seed(20240613)
    module = NarrowGoogLeNet()
    randomise_norms(module, generator)
    images = torch.randn((BATCH, *SHAPE), generator=generator)
    labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)
    name = "googlenet_narrow"
    write_safetensors(HERE / f"{name}.safetensors", module.state_dict())
    module.double().eval()
    with torch.no_grad():
        evaluated = module(images.double())
    write_safetensors(HERE / f"{name}.io.safetensors", {"input": images, "output": as_float32(evaluated)})
    module.train()
    scores = module(images.double())
    loss = F.cross_entropy(scores, labels)
    write_sgd_step(HERE / f"{name}.step.safetensors", module, loss, {"input": images, "labels": labels, "scores": as_float32(scores)})
    print(f"{name}: {sum(p.numel() for p in module.parameters())} parameters, loss {loss.item():.4f}")


def make_maxpool():
    generator = torch.Generator().manual_seed(20240614)
    tensors = {}
    for name, (channels, height, width, kernel, stride, pad) in MAXPOOL_CASES.items():
        # Distinct values, so no window has a tie and the argmax (the gradient's place) is unambiguous.
        x = torch.randperm(2 * channels * height * width, generator=generator)[: channels * height * width].double()
        x = (x / x.numel() - 0.5).reshape(1, channels, height, width).requires_grad_()
        y = F.max_pool2d(x, kernel, stride, pad, ceil_mode=True)
        r = torch.randn(y.shape, generator=generator, dtype=torch.float64)
        (y * r).sum().backward()
        tensors.update({f"{name}.x": x.detach().float(), f"{name}.y": y.detach().float(), f"{name}.r": r.float(), f"{name}.dx": x.grad.float()})
        print(f"maxpool {name}: {tuple(x.shape)} -> {tuple(y.shape)}")
    write_safetensors(HERE / "maxpool_ceil.safetensors", tensors)


if __name__ == "__main__":
    make_keys()
    make_twin()
    make_maxpool()
