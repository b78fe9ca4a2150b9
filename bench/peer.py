#!/usr/bin/python3
"""The peer side of NetCompiler's benchmarks: PyTorch on this machine, 2 threads, float32, batch 64.

Measures training images/s (forward, cross-entropy, backward, Adam step) and inference images/s (eval mode,
no_grad) for a LeNet-5 style net on 1x28x28 and a VGG-style CIFAR net on 3x32x32, a 2048^3 SGEMM in GFLOP/s, and
the IMEX implicit solve (I + h C^T C)^-1 R by torch.fft in ms per call. Each figure is the median over repeats of
at least --seconds each, after warm-up. --only picks one part; NetCompiler's side compares what the report holds.
Prints one JSON object on stdout; run it through bench/run.sh, which sets the environment the figures assume
(see DESIGN.md).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

THREADS = 2
BATCH = 64


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def cifar_vgg():
    layers, channels = [], 3
    for width in (32, 64, 128):
        for _ in range(2):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))


def median_rate(step, items_per_call, warmup, repeats, seconds):
    """Median of items/s over repeats, each running step() for at least `seconds`."""
    for _ in range(warmup):
        step()
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            step()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        rates.append(calls * items_per_call / elapsed)
    return statistics.median(rates)


def measure_network(build, input_shape, args):
    torch.manual_seed(1)
    model = build()
    images = torch.randn(BATCH, *input_shape)
    labels = torch.randint(0, 10, (BATCH,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    def infer():
        model(images)

    model.train()
    train = median_rate(train_step, BATCH, args.warmup, args.repeats, args.seconds)
    model.eval()
    with torch.no_grad():
        inference = median_rate(infer, BATCH, args.warmup, args.repeats, args.seconds)
    return {
        "input": "x".join(map(str, input_shape)),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_images_per_s": round(train, 1),
        "inference_images_per_s": round(inference, 1),
    }


def measure_matmul(args, n=2048):
    torch.manual_seed(1)
    a, b = torch.randn(n, n), torch.randn(n, n)
    products_per_s = median_rate(lambda: torch.mm(a, b), 1, args.warmup, args.repeats, args.seconds)
    return round(2 * n ** 3 * products_per_s / 1e9, 1)


IMPLICIT_SHAPE = (8, 32, 64, 64)  # images, channels, height, width; depthwise 3x3 kernel, h = 1
IMPLICIT_KERNEL = 3
IMPLICIT_STEP = 1.0


def implicit_solve(rhs, weight, h):
    """(I + h C^T C)^-1 rhs for the periodic depthwise convolution C with weight [C, 1, k, k], by torch.fft.

    The kernel is zero-padded to the image with its centre moved to (0, 0) (wrap-around), so its rfft2 is C's
    transfer function up to conjugation, which |.|^2 does not see.
    """
    height, width = rhs.shape[-2:]
    k = weight.shape[-1]
    kernel = torch.roll(F.pad(weight[:, 0], (0, width - k, 0, height - k)), shifts=(-(k // 2), -(k // 2)), dims=(1, 2))
    spectrum = torch.fft.rfft2(kernel)
    denominator = 1 + h * (spectrum.real ** 2 + spectrum.imag ** 2)
    return torch.fft.irfft2(torch.fft.rfft2(rhs) / denominator, s=(height, width))


def measure_implicit(args):
    """ms per call: the solve alone (no_grad), and forward + backward (gradients for the rhs and the weight)."""
    torch.manual_seed(1)
    rhs = torch.randn(*IMPLICIT_SHAPE, requires_grad=True)
    weight = (0.5 * torch.randn(IMPLICIT_SHAPE[1], 1, IMPLICIT_KERNEL, IMPLICIT_KERNEL)).requires_grad_()
    upstream = torch.randn(*IMPLICIT_SHAPE)

    def forward():
        with torch.no_grad():
            implicit_solve(rhs, weight, IMPLICIT_STEP)

    def forward_backward():
        rhs.grad, weight.grad = None, None
        implicit_solve(rhs, weight, IMPLICIT_STEP).backward(upstream)

    calls_forward = median_rate(forward, 1, args.warmup, args.repeats, args.seconds)
    calls_both = median_rate(forward_backward, 1, args.warmup, args.repeats, args.seconds)
    return {
        "shape": "x".join(map(str, IMPLICIT_SHAPE)),
        "kernel": IMPLICIT_KERNEL,
        "groups": IMPLICIT_SHAPE[1],
        "step": IMPLICIT_STEP,
        "forward_ms": round(1e3 / calls_forward, 4),
        "forward_backward_ms": round(1e3 / calls_both, 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before timing")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats; the median is reported")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum duration of one repeat")
    parser.add_argument("--only", choices=("networks", "implicit"), help="measure one part (networks includes the SGEMM)")
    args = parser.parse_args()

    torch.set_num_threads(THREADS)
    result = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "batch": BATCH,
        "dtype": "float32",
        "mkldnn": torch.backends.mkldnn.is_available(),
        "environment": {name: os.environ.get(name) for name in ("LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "GLIBC_TUNABLES")},
    }
    if args.only in (None, "networks"):
        result["networks"] = {}
        for name, build, shape in (("lenet5", lenet5, (1, 28, 28)), ("cifar_vgg", cifar_vgg, (3, 32, 32))):
            print(f"peer: measuring {name} ...", file=sys.stderr)
            result["networks"][name] = measure_network(build, shape, args)
        print("peer: measuring matmul 2048^3 ...", file=sys.stderr)
        result["matmul_2048_gflops"] = measure_matmul(args)
    if args.only in (None, "implicit"):
        print("peer: measuring the implicit solve ...", file=sys.stderr)
        result["implicit"] = measure_implicit(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
