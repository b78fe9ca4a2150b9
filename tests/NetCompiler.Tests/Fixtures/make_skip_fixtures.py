"""PyTorch twins for the named skips and Upsample (SkipNetworkTests.cs).

    /usr/bin/python3 make_skip_fixtures.py    writes beside this script:
        upsample.safetensors        F.interpolate on a 2x3x5x4 input for scale 2 and 3, nearest and bilinear
                                    (align_corners=False): x, y.<mode>.<scale>, and dx.<mode>.<scale> = d(sum(y * w))/dx
                                    for the weights w.<mode>.<scale>
        unet.safetensors            the U-Net's state_dict (FixtureUNet), randomised far from its defaults
        unet.step.safetensors       its evaluation-mode scores (eval_scores), then one SGD step in training mode with
                                    the per-pixel cross-entropy: input, labels, scores, loss, grad.<key>, after.<key>,
                                    as make_fixtures.py's training fixtures

The steps run in float64 from float32 starting values (make_fixtures.py's helpers), so the fixtures hold the exact
results rounded to float32.
"""

import torch
import torch.nn.functional as F
from torch import nn

from make_fixtures import HERE, as_float32, fan_in_std, randomise, write_safetensors, write_sgd_step

BATCH = 4
CLASSES = 3


class Save(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name


class Join(nn.Module):
    def __init__(self, name, concat):
        super().__init__()
        self.name, self.concat = name, concat


class UNet(nn.Module):
    """FixtureUNet's layers in order, under features.<i> as NetCompiler names them; Save and Join hold no tensors.
    The convolutions before a batch norm have no bias: the norm cancels it."""

    def __init__(self):
        super().__init__()
        self.features = nn.ModuleList([
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), Save("enc1"),                   # 0-3
            nn.MaxPool2d(2), nn.Conv2d(8, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(), Save("enc2"),  # 4-8
            nn.MaxPool2d(2), nn.Conv2d(12, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(),             # 9-12
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), Join("enc2", concat=False),  # 13-14
            nn.Conv2d(12, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),                                # 15-17
            nn.Upsample(scale_factor=2, mode="nearest"), Join("enc1", concat=True),                      # 18-19
            nn.Conv2d(16, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),                                # 20-22
            nn.Conv2d(8, CLASSES, 1),                                                                    # 23
        ])

    def forward(self, x):
        saved = {}
        for layer in self.features:
            if isinstance(layer, Save):
                saved[layer.name] = x
            elif isinstance(layer, Join):
                x = torch.cat([x, saved[layer.name]], dim=1) if layer.concat else x + saved[layer.name]
            else:
                x = layer(x)
        return x


def make_upsample():
    generator = torch.Generator().manual_seed(20240612)
    x = torch.randn((2, 3, 5, 4), generator=generator)
    tensors = {"x": x}
    for mode in ("nearest", "bilinear"):
        for scale in (2, 3):
            source = x.double().requires_grad_()
            kwargs = {"align_corners": False} if mode == "bilinear" else {}
            y = F.interpolate(source, scale_factor=scale, mode=mode, **kwargs)
            w = torch.randn(y.shape, generator=generator)
            (y * w.double()).sum().backward()
            tensors[f"y.{mode}.{scale}"] = as_float32(y)
            tensors[f"w.{mode}.{scale}"] = w
            tensors[f"dx.{mode}.{scale}"] = as_float32(source.grad)
    write_safetensors(HERE / "upsample.safetensors", tensors)


def make_unet():
    generator = torch.Generator().manual_seed(20240613)
    module = UNet()
    randomise(module, generator, fan_in_std)
    write_safetensors(HERE / "unet.safetensors", module.state_dict())
    images = torch.randn((BATCH, 1, 32, 32), generator=generator)
    labels = torch.randint(0, CLASSES, (BATCH, 32, 32), generator=generator)
    module.double().eval()
    with torch.no_grad():
        eval_scores = module(images.double())
    module.train()
    scores = module(images.double())
    loss = F.cross_entropy(scores, labels)
    write_sgd_step(HERE / "unet.step.safetensors", module, loss, {"input": images, "labels": labels, "eval_scores": as_float32(eval_scores), "scores": as_float32(scores)})
    print(f"unet: {len(module.state_dict())} tensors, loss {loss.item():.4f}")


if __name__ == "__main__":
    make_upsample()
    make_unet()
