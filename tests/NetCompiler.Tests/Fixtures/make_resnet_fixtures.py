"""torchvision's ResNet blocks, for ResNetTests.cs.

    /usr/bin/python3 make_resnet_fixtures.py    writes beside this script:
        resnet_keys.json              torchvision's state_dict keys of resnet18, resnet34 and resnet50 (1000 classes)
                                      and their parameter counts
        <name>.safetensors            a state_dict of each narrow twin below
        <name>.io.safetensors         a fixed input batch and the twin's eval-mode scores
        <name>.step.safetensors       one SGD step in training mode, as make_fixtures.py writes them: input, labels,
                                      scores, loss, grad.<key> per parameter, after.<key> for the whole state_dict

The twins are built by torchvision's own code: ResNet._make_layer stacks torchvision's BasicBlock and Bottleneck
(downsample included) exactly as torchvision.models.resnet18 and resnet50 do, only narrower, so the fixtures stay small
(resnet18 itself holds 11.7M parameters, 45 MB). Their weights come from torchvision's initialisation (kaiming_normal_
fan_out, BN weight 1 and bias 0) under a fixed seed; then every batch norm's affine terms and running statistics are
randomised, so a misplaced one shows. The reference runs in float64 from float32 starting values, so the fixtures hold
the exact results rounded to float32 and the C# tolerance only has to cover NetCompiler's own float32 rounding.
"""

import json

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from make_fixtures import HERE, as_float32, write_safetensors, write_sgd_step

BATCH = 4
CLASSES = 10


class NarrowResNet(nn.Module):
    """torchvision's ResNet with a chosen stem width and stages: conv1, bn1, relu, maxpool, layer1.., avgpool, fc."""

    def __init__(self, block, stem, stages):
        super().__init__()
        # The attributes ResNet._make_layer reads, as ResNet.__init__ sets them.
        self._norm_layer, self.inplanes, self.dilation, self.groups, self.base_width = nn.BatchNorm2d, stem, 1, 1, 64
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stages = len(stages)
        for i, (planes, blocks, stride) in enumerate(stages):
            setattr(self, f"layer{i + 1}", ResNet._make_layer(self, block, planes, blocks, stride))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, CLASSES)
        # ResNet.__init__'s initialisation.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


# name -> (twin, input shape): ResNetTests.cs's FixtureResNet18 and FixtureResNet50.
NETWORKS = {
    # resnet18's layout ([2, 2, 2, 2] BasicBlocks, strides 1, 2, 2, 2) at 1/8 of its width.
    "resnet18_narrow": (lambda: NarrowResNet(BasicBlock, 8, [(8, 2, 1), (16, 2, 2), (32, 2, 2), (64, 2, 2)]), (3, 64, 64)),
    # resnet50's Bottleneck stages, shortened to 2 blocks each and three stages, at 1/16 of its width.
    "resnet50_narrow": (lambda: NarrowResNet(Bottleneck, 4, [(4, 2, 1), (8, 2, 2), (16, 2, 2)]), (3, 32, 32)),
}


def randomise_norms(module, generator):
    """Batch norms away from the identity, running statistics away from their defaults."""
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                tensor.fill_(int(torch.randint(1, 10_000, (1,), generator=generator)))
            elif name.endswith("running_var") or (name.endswith(".weight") and tensor.dim() == 1):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 1.5 + 0.5)
            elif name.endswith("running_mean") or (name.endswith(".bias") and tensor.dim() == 1 and "fc" not in name):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.5)


def make_keys():
    keys = {}
    for name in ["resnet18", "resnet34", "resnet50"]:
        model = getattr(torchvision.models, name)()
        keys[name] = {"parameters": sum(p.numel() for p in model.parameters()), "keys": list(model.state_dict().keys())}
    (HERE / "resnet_keys.json").write_text(json.dumps(keys, indent=0) + "\n")


def make():
    torch.manual_seed(20240612)
    generator = torch.Generator().manual_seed(20240612)
    for name, (build, shape) in NETWORKS.items():
        module = build()
        randomise_norms(module, generator)
        images = torch.randn((BATCH, *shape), generator=generator)
        labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)
        write_safetensors(HERE / f"{name}.safetensors", module.state_dict())
        module.double().eval()
        with torch.no_grad():
            evaluated = module(images.double())
        write_safetensors(HERE / f"{name}.io.safetensors", {"input": images, "output": as_float32(evaluated)})
        module.train()
        scores = module(images.double())
        loss = F.cross_entropy(scores, labels)
        write_sgd_step(HERE / f"{name}.step.safetensors", module, loss, {"input": images, "labels": labels, "scores": as_float32(scores)})
        parameters = sum(p.numel() for p in module.parameters())
        print(f"{name}: {parameters} parameters, {len(module.state_dict())} tensors, loss {loss.item():.4f}")


if __name__ == "__main__":
    make_keys()
    make()
