"""The PyTorch twin of ActivationNetworkTests.cs's FixtureActivationNet, and the fixture made from it.

    /usr/bin/python3 make_activation_fixtures.py   writes beside this script activations.safetensors (a state_dict
                                                   far from the initial one) and activations.step.safetensors: a fixed
                                                   input batch and labels, the eval-mode scores of that state
                                                   (eval_scores), then one SGD step in training mode (scores, loss,
                                                   grad.<key> for each parameter, after.<key> for the whole state_dict)

A small classifier with all six activations past ReLU, each where NetCompiler fuses it or not: LeakyReLU after a
convolution, ELU after a batch norm, SiLU after a strided convolution (a call of its own in training, fused in
inference), Tanh after a convolution, Sigmoid after a dense layer, ReLU6 after a BatchNorm1d. Like make_fixtures.py's
training fixtures, the state starts in float32 and the forward and step run in float64, so the fixtures hold the exact
results rounded to float32 and the C# tolerance covers NetCompiler's own float32 rounding alone. It reuses that script's
safetensors writer and randomisation; run with Debian's /usr/bin/python3, which has torch.
"""

import pathlib
import sys

import torch
import torch.nn.functional as F
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_fixtures import Net, as_float32, fan_in_std, randomise, write_safetensors, write_sgd_step  # noqa: E402

BATCH = 4
SHAPE = (2, 8, 8)


def activation_net():
    """features.0-8 and classifier.0-5, NetCompiler's names for the same layers. The layers before a batch norm have no
    bias, as in torchvision: its gradient would be zero but for rounding, with nothing to compare."""
    return Net(
        nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ELU(0.5),
            nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(6, 6, 3, padding=1), nn.Tanh()),
        nn.Sequential(nn.Linear(6 * 4 * 4, 10), nn.Sigmoid(), nn.Linear(10, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU6(), nn.Linear(8, 3)))


def main():
    generator = torch.Generator().manual_seed(20240611)
    module = activation_net()
    randomise(module, generator, fan_in_std)
    images = torch.randn((BATCH, *SHAPE), generator=generator)
    labels = torch.randint(0, 3, (BATCH,), generator=generator)
    write_safetensors(HERE / "activations.safetensors", module.state_dict())

    module.double().eval()
    with torch.no_grad():
        eval_scores = module(images.double())
    module.train()
    ranges = {}
    activations = (nn.LeakyReLU, nn.ELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.ReLU6)
    hooks = [m.register_forward_hook(lambda m, x, y, name=name: ranges.update({name: (x[0].min().item(), x[0].max().item())}))
             for name, m in module.named_modules() if isinstance(m, activations)]
    scores = module(images.double())
    for hook in hooks:
        hook.remove()
    loss = F.cross_entropy(scores, labels)
    write_sgd_step(HERE / "activations.step.safetensors", module, loss, {"input": images, "labels": labels, "eval_scores": as_float32(eval_scores), "scores": as_float32(scores)})
    print(f"activations: {len(module.state_dict())} tensors, loss {loss.item():.4f}")
    # What each activation's input spans in the training step: both sides of every kink (ReLU6's 6 aside).
    for name, (low, high) in ranges.items():
        print(f"  {name}: {low:.3f} .. {high:.3f}")


if __name__ == "__main__":
    main()
