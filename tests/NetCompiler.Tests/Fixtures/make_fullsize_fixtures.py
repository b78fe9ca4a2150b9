"""torchvision's full-size resnet18 and googlenet, for FullSizeTorchvisionTests.cs.

    /usr/bin/python3 make_fullsize_fixtures.py    writes beside this script, per network:
        <name>_fullsize.step.safetensors   input     a fixed batch of 2 images, 3x64x64 (resnet18) or 3x80x80
                                           labels    its labels, of 1000 classes
                                           eval_scores  the eval-mode scores
                                           scores, loss  the training-mode scores and cross-entropy
                                           and for one SGD step (lr 0.1, no momentum) in training mode, per tensor of
                                           the state_dict (weights, biases, batch norms' affine terms and running
                                           statistics):
                                           norm.<key>  the L2 norm of after - before over the whole tensor
                                           max.<key>   max |after - before| over the whole tensor
                                           step.<key>  after - before at SAMPLES fixed indices (every element of a
                                                       smaller tensor), the indices drawn as described below
                                           after.<key> of each num_batches_tracked

The models are torchvision's own: torchvision.models.resnet18() and googlenet(aux_logits=False, transform_input=False,
init_weights=False), full width, 1000 classes. Their state_dicts (11.7M and 6.6M parameters, 45 and 26 MB) stay out
of the repository: every tensor is drawn from a counter-based generator that FullSizeTorchvisionTests.cs implements
too, so the test rebuilds the same weights in NetCompiler's network and the fixtures hold only the results.

The generator: element i of the state_dict's tensor number t (state_dict order, num_batches_tracked included) draws
bits = SplitMix64(t * 2^32 + i), u = (bits >> 40) / 2^24 (a uniform in [0, 1) that float32 holds exactly) and the
value float32(low + width * u), computed in float64 with low and width float32 numbers, so the product is exact and
both languages round the same sum the same way. The ranges:
    conv and fc weights         +-sqrt(6 / fan_in) (He uniform), the bound rounded to float32
    fc biases                   +-0.1
    batch norm weights          [0.5, 1.5)
    batch norm biases           [-0.5, 0.5)
    running means               [-0.5, 0.5)
    running variances           [0.5, 2), positive
    num_batches_tracked         1 + (bits >> 40) % 10000 of element 0
The sampled indices of tensor t (n elements, more than SAMPLES): SplitMix64(2^63 + t * 2^32 + j) % n for j < SAMPLES.

GoogLeNet's Dropout(0.2) before the fc is set to p = 0 here and in its NetCompiler twin: it has no parameters and is
the identity in eval mode, and its random mask would make the training step incomparable. Everything else is
torchvision's module as it comes.

resnet18 runs at 64x64 (layer4 at 2x2). googlenet runs at 80x80, where its ceil-mode pools give 40 -> 20, 10, 5 and 3
pixels: at 64x64 inception5's maps are 2x2, so its pool branch (3x3, stride 1, pad 1) is constant over each image,
that branch's batch norm sees two distinct values per channel and its backward is all cancellation; NetCompiler and
PyTorch's own float32 then land a percent or more off the float64 step. check_conditioning guards against such a draw.

The reference runs in float64 from the float32 weights, so the fixtures hold the exact results rounded to float32
and the C# tolerance only has to cover NetCompiler's own float32 rounding.
"""

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

from make_fixtures import HERE, LEARNING_RATE, as_float32, write_safetensors

BATCH = 2
CLASSES = 1000
SAMPLES = 32
SAMPLE_STREAM = 1 << 63
CONDITIONING = 1e-4  # a tenth of the test's tolerance


def splitmix64(x):
    """SplitMix64's output for the state x (uint64 arrays, wrapping as C#'s ulong does)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def draws(tensor_index, count, stream=0):
    """The generator's bits for elements 0..count-1 of tensor tensor_index."""
    counters = np.uint64(stream + (tensor_index << 32)) + np.arange(count, dtype=np.uint64)
    return splitmix64(counters)


def value_range(key, shape):
    """(low, width) of a tensor's uniform, both float32 numbers (as float64)."""
    if len(shape) > 1:
        bound = float(np.float32(np.sqrt(6.0 / (np.prod(shape) // shape[0]))))
        return -bound, 2 * bound
    if key.startswith("fc."):
        return -float(np.float32(0.1)), float(np.float32(0.2))
    if key.endswith("running_var"):
        return 0.5, 1.5
    if key.endswith(".weight"):
        return 0.5, 1.0
    return -0.5, 1.0  # batch norm bias, running mean


def generated_state(module):
    state = {}
    with np.errstate(over="ignore"):
        for t, (key, tensor) in enumerate(module.state_dict().items()):
            n = tensor.numel()
            uniform = (draws(t, n) >> np.uint64(40)).astype(np.float64) / 2.0**24
            if key.endswith("num_batches_tracked"):
                state[key] = torch.tensor(1 + int(uniform[0] * 2**24) % 10000, dtype=torch.int64)
                continue
            low, width = value_range(key, tensor.shape)
            values = (low + width * uniform).astype(np.float32)
            state[key] = torch.from_numpy(values.reshape(tensor.shape))
    return state


def sample_indices(t, n):
    if n <= SAMPLES:
        return np.arange(n)
    with np.errstate(over="ignore"):
        return (draws(t, SAMPLES, SAMPLE_STREAM) % np.uint64(n)).astype(np.int64)


def googlenet():
    model = torchvision.models.googlenet(aux_logits=False, transform_input=False, init_weights=False)
    model.dropout.p = 0.0
    return model


# name -> (torchvision model, input shape of one image).
NETWORKS = {"resnet18": (torchvision.models.resnet18, (3, 64, 64)), "googlenet": (googlenet, (3, 80, 80))}


def generated_model(build):
    """torchvision's model with the generated state_dict, in float64 from those float32 values."""
    module = build()
    module.load_state_dict(generated_state(module), strict=True)
    return module.double()


def sgd_step(module, images, labels):
    """One training-mode SGD step; returns the scores, the loss and after - before of every floating tensor."""
    before = {key: tensor.clone() for key, tensor in module.state_dict().items() if tensor.is_floating_point()}
    module.train()
    scores = module(images)
    loss = F.cross_entropy(scores, labels)
    loss.backward()
    torch.optim.SGD(module.parameters(), lr=LEARNING_RATE).step()
    return scores, loss, {key: (module.state_dict()[key] - value).flatten() for key, value in before.items()}


def check_conditioning(build, images, labels, steps):
    """The step again from images perturbed by 1e-7 relative, about float32's rounding: each tensor's step must move
    by under CONDITIONING relative. A max-pool window whose two largest values float32 rounding can swap, or a batch
    norm over values with almost no spread, moves it by far more, and no float32 implementation could then match
    the float64 step within the test's 1e-3."""
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    _, _, perturbed = sgd_step(generated_model(build), images * (1 + 1e-7 * noise), labels)
    worst, key = max(((perturbed[k] - step).norm().item() / step.norm().item(), k) for k, step in steps.items())
    assert worst <= CONDITIONING, f"the step is ill-conditioned: {key} moves by {worst:.2g} relative"
    return worst


def make():
    generator = torch.Generator().manual_seed(20240614)
    for name, (build, shape) in NETWORKS.items():
        module = generated_model(build)
        images = torch.randn((BATCH, *shape), generator=generator)
        labels = torch.randint(0, CLASSES, (BATCH,), generator=generator)
        module.eval()
        with torch.no_grad():
            evaluated = module(images.double())
        scores, loss, steps = sgd_step(module, images.double(), labels)
        conditioning = check_conditioning(build, images.double(), labels, steps)

        record = {"input": images, "labels": labels, "eval_scores": as_float32(evaluated), "scores": as_float32(scores), "loss": as_float32(loss)}
        for t, (key, after) in enumerate(module.state_dict().items()):
            if key.endswith("num_batches_tracked"):
                record[f"after.{key}"] = after.clone()
                continue
            step = steps[key]
            record[f"norm.{key}"] = as_float32(step.norm().reshape(1))
            record[f"max.{key}"] = as_float32(step.abs().max().reshape(1))
            record[f"step.{key}"] = as_float32(step[torch.from_numpy(sample_indices(t, step.numel()))])
        path = HERE / f"{name}_fullsize.step.safetensors"
        write_safetensors(path, record)
        parameters = sum(p.numel() for p in module.parameters())
        print(f"{name}: {parameters} parameters, {len(steps)} floating tensors, loss {loss.item():.4f}, "
              f"max |eval score| {evaluated.abs().max().item():.3g}, step conditioning {conditioning:.2g}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    make()
