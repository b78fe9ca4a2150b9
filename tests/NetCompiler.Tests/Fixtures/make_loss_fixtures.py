"""PyTorch twins of LossFixtureTests.cs's networks, trained one SGD step with the float-target losses.

    /usr/bin/python3 make_loss_fixtures.py    writes beside this script, for each network, <name>.safetensors (a
                                              state_dict) and <name>.step.safetensors (one SGD step in training mode:
                                              input, targets, eval_scores (evaluation mode, before the step), scores, loss, grad.<key> for each parameter, after.<key>
                                              for the whole state_dict after the step), as make_fixtures.py does for
                                              the residual and IMEX networks (its helpers are reused)

The losses are PyTorch's own (F.mse_loss, F.l1_loss, F.smooth_l1_loss with beta 1, F.binary_cross_entropy_with_logits),
mean reduction over every output element. The steps run in float64 from float32 starting values, so the fixtures hold
the exact step rounded to float32 and the C# tolerance only has to cover NetCompiler's own float32 rounding.
"""

import torch
import torch.nn.functional as F
from torch import nn

from make_fixtures import HERE, Net, as_float32, fan_in_std, randomise, write_safetensors, write_sgd_step

BATCH = 4


def depth_net():
    """FixtureDepthNet: 1x12x12 -> conv (no bias: the batch norm after it cancels one), BN, ReLU -> conv to one channel: a per-pixel map, flattened as NCHW."""
    return Net(nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 3, padding=1)), nn.Identity())


def flat_net():
    """FixtureL1Net, FixtureSmoothL1Net, FixtureMultiLabelNet: 2x6x6 -> conv, ReLU -> dense to 5 outputs."""
    return Net(nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU()), nn.Sequential(nn.Linear(3 * 36, 5)))


def activated_net():
    """FixtureActivatedDepthNet: 2x10x10 -> conv, LeakyReLU(0.2) -> conv (no bias), BN, Tanh -> conv to one channel, Tanh:
    per-pixel regression through both activations, each fused into the kernel before it."""
    return Net(nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.Tanh(),
        nn.Conv2d(4, 1, 3, padding=1), nn.Tanh()), nn.Identity())


def regression_targets(generator, shape):
    # Spread over +-3 around scores of about 1, so smooth L1 sees errors on both sides of 1.
    return torch.randn(shape, generator=generator) * 2


def probability_targets(generator, shape):
    # Hard labels and soft targets, as multi-label data and label smoothing give.
    soft = torch.rand(shape, generator=generator)
    hard = (torch.rand(shape, generator=generator) > 0.5).float()
    return torch.where(torch.rand(shape, generator=generator) > 0.5, hard, soft)


# name -> (twin, input shape, loss, targets)
NETWORKS = {
    "depth_mse": (depth_net, (1, 12, 12), F.mse_loss, regression_targets),
    "flat_l1": (flat_net, (2, 6, 6), F.l1_loss, regression_targets),
    "flat_smooth_l1": (flat_net, (2, 6, 6), lambda s, t: F.smooth_l1_loss(s, t, beta=1.0), regression_targets),
    "flat_bce": (flat_net, (2, 6, 6), F.binary_cross_entropy_with_logits, probability_targets),
    # Targets inside the final Tanh's range, as a bounded per-pixel regression has them.
    "activated_mse": (activated_net, (2, 10, 10), F.mse_loss, lambda generator, shape: torch.rand(shape, generator=generator) * 1.6 - 0.8),
}


def make():
    generator = torch.Generator().manual_seed(20240611)
    for name, (build, shape, loss_function, make_targets) in NETWORKS.items():
        module = build()
        randomise(module, generator, fan_in_std)
        images = torch.randn((BATCH, *shape), generator=generator)
        write_safetensors(HERE / f"{name}.safetensors", module.state_dict())
        module.double().eval()
        with torch.no_grad():
            evaluation = module(images.double())
        module.train()
        scores = module(images.double())
        targets = make_targets(generator, scores.shape)
        loss = loss_function(scores, targets.double())
        write_sgd_step(HERE / f"{name}.step.safetensors", module, loss, {"input": images, "targets": targets, "eval_scores": as_float32(evaluation), "scores": as_float32(scores)})
        print(f"{name}: {len(module.state_dict())} tensors, scores {tuple(scores.shape)}, loss {loss.item():.4f}")


if __name__ == "__main__":
    make()
