#!/usr/bin/python3
"""The peer side of NetCompiler's benchmarks: PyTorch on this machine, 2 threads, float32, batch 64.

Measures training images/s (forward, cross-entropy, backward, Adam step) and inference images/s (eval mode,
no_grad) for a LeNet-5 style net on 1x28x28, a VGG-style CIFAR net on 3x32x32 and the CPU-sized Q-tips IMEX net
(samples/QTips, batch 8, per-pixel weighted cross-entropy), a 2048^3 SGEMM in GFLOP/s, and the IMEX implicit solve
(I + h C^T C)^-1 R by torch.fft in ms per call. It reports the BLAS library torch loaded (from /proc/self/maps) and
how that OpenBLAS was built and what core it detected, so a wrong LD_LIBRARY_PATH shows. Each figure is the median over repeats of
at least --seconds each, after warm-up. --only picks one part; NetCompiler's side compares what the report holds.
Prints one JSON object on stdout; run it through bench/run.sh, which sets the environment the figures assume
(see DESIGN.md).
"""

import argparse
import ctypes
import json
import math
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


def measure_network(build, input_shape, args, batch=BATCH, classes=10, label_shape=(), class_weights=None):
    """Training and inference images/s; labels of label_shape per image (() for one per image, (H, W) per pixel)."""
    torch.manual_seed(1)
    model = build()
    images = torch.randn(batch, *input_shape)
    labels = torch.randint(0, classes, (batch, *label_shape))
    weight = None if class_weights is None else torch.tensor(class_weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels, weight=weight)
        loss.backward()
        optimizer.step()

    def infer():
        model(images)

    model.train()
    train = median_rate(train_step, batch, args.warmup, args.repeats, args.seconds)
    model.eval()
    with torch.no_grad():
        inference = median_rate(infer, batch, args.warmup, args.repeats, args.seconds)
    return {
        "input": "x".join(map(str, input_shape)),
        "batch": batch,
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


QTIPS_BATCH = 8
QTIPS_CLASSES = 4  # background and the three Q-tip classes
QTIPS_STEPS = 4
QTIPS_STEP = 1.0
# ENet's weights, 1 / ln(1.02 + frequency) (samples/QTips), for a background of ~95% of the pixels and the rest
# shared by the three Q-tip classes; NetCompiler's side reads these same values from this report.
QTIPS_CLASS_WEIGHTS = tuple(round(1 / math.log(1.02 + frequency), 3) for frequency in (0.95, 0.05 / 3, 0.05 / 3, 0.05 / 3))


class ImexStep(nn.Module):
    """One IMEX step Y <- (I + hL)^-1 (Y + hLY + hF), F = K^T relu(BN(K Y)), L = C^T C, C depthwise 3x3 and periodic.

    Written as Y + h (I + hL)^-1 F, the same value (expand (I + hL)(Y + h X) = Y + hLY + hF), as NetCompiler lowers
    it, so both sides run the same algorithm: one solve and no L Y product per step.
    """

    def __init__(self, channels, h):
        super().__init__()
        self.h = h
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.implicit = nn.Parameter(nn.init.xavier_uniform_(torch.empty(channels, 1, 3, 3)))

    def forward(self, y):
        # K^T is conv_transpose2d with K's own weight.
        explicit = F.conv_transpose2d(F.relu(self.bn(self.conv(y))), self.conv.weight, padding=1)
        return y + self.h * implicit_solve(explicit, self.implicit, self.h)


def qtips_imex():
    """samples/QTips QTipsImex: a strided stem to 16x32x32, four IMEX steps, a transposed conv back to 4x64x64."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        *(ImexStep(16, QTIPS_STEP) for _ in range(QTIPS_STEPS)),
        nn.ConvTranspose2d(16, QTIPS_CLASSES, 2, stride=2))


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


def loaded_blas():
    """The BLAS and LAPACK libraries mapped into this process, and for an OpenBLAS its build and the core it chose.

    openblas_get_parallel() is 0 for the sequential build, 1 for pthreads and 2 for OpenMP.
    """
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line or "lapack" in line})
    result = {"libraries": paths}
    openblas = [path for path in paths if "libopenblas" in path]
    if openblas:
        library = ctypes.CDLL(openblas[0])
        library.openblas_get_config.restype = ctypes.c_char_p
        library.openblas_get_corename.restype = ctypes.c_char_p
        result["openblas_config"] = library.openblas_get_config().decode()
        result["openblas_core"] = library.openblas_get_corename().decode()
        result["openblas_threading"] = {0: "sequential", 1: "pthread", 2: "openmp"}.get(library.openblas_get_parallel(), "unknown")
        result["openblas_threads"] = library.openblas_get_num_threads()
    return result


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
        "environment": {name: os.environ.get(name) for name in ("LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "GLIBC_TUNABLES", "OMP_NUM_THREADS")},
    }
    if args.only in (None, "networks"):
        result["networks"] = {}
        for name, build, shape in (("lenet5", lenet5, (1, 28, 28)), ("cifar_vgg", cifar_vgg, (3, 32, 32))):
            print(f"peer: measuring {name} ...", file=sys.stderr)
            result["networks"][name] = measure_network(build, shape, args)
        print("peer: measuring qtips_imex ...", file=sys.stderr)
        result["networks"]["qtips_imex"] = measure_network(
            qtips_imex, (1, 64, 64), args, batch=QTIPS_BATCH, classes=QTIPS_CLASSES, label_shape=(64, 64), class_weights=QTIPS_CLASS_WEIGHTS)
        result["qtips_class_weights"] = list(QTIPS_CLASS_WEIGHTS)
        print("peer: measuring matmul 2048^3 ...", file=sys.stderr)
        result["matmul_2048_gflops"] = measure_matmul(args)
    if args.only in (None, "implicit"):
        print("peer: measuring the implicit solve ...", file=sys.stderr)
        result["implicit"] = measure_implicit(args)
    # After the measurements, so a library loaded lazily is there too.
    result["blas"] = loaded_blas()
    print(f"peer: BLAS {result['blas']}", file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
