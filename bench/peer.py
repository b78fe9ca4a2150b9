#!/usr/bin/python3
"""The peer side of NetCompiler's benchmarks: PyTorch on this machine, 2 threads, float32, batch 64.

Its parts: training (forward, cross-entropy, backward, Adam step) and inference (eval mode, no_grad) of a LeNet-5
style net on 1x28x28, a VGG-style CIFAR net on 3x32x32 and the CPU-sized Q-tips IMEX net (samples/QTips, batch 8,
per-pixel weighted cross-entropy), and the IMEX implicit solve (I + h C^T C)^-1 R by torch.fft, forward and forward +
backward. By default it prints one JSON object on stdout: the environment, the BLAS library torch loaded (from
/proc/self/maps; for an OpenBLAS how it was built and what core it detected, so a wrong LD_LIBRARY_PATH shows), a
2048^3 SGEMM in GFLOP/s (median of --repeats of at least --seconds each, after --warmup calls), and what each part
computes (shapes, batch, parameters, the Q-tips class weights), so NetCompiler's side can check it runs the same.

With --serve it times the parts on request, so NetCompiler's side can alternate its repeats with the peer's and both
see the same machine: each stdin line "<part> <mode> <seconds>" (a network's name and train or infer, or implicit and
forward or forward_backward) runs that part's step for at least <seconds> (after --warmup calls the first time) and
answers one JSON line, {"seconds_per_call": s}; end of input ends it. Run it through bench/run.sh, which sets the
environment the figures assume (see DESIGN.md).
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


def seconds_per_call(step, seconds):
    """Seconds per call of step(), called for at least `seconds`."""
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls


def median_rate(step, items_per_call, warmup, repeats, seconds):
    """Median of items/s over repeats, each running step() for at least `seconds`."""
    for _ in range(warmup):
        step()
    return statistics.median(items_per_call / seconds_per_call(step, seconds) for _ in range(repeats))


class NetworkPart:
    """One network's training and inference steps on random images and labels of label_shape per image (() for one
    per image, (H, W) per pixel); mode() switches train and eval and returns the step."""

    def __init__(self, build, input_shape, batch=BATCH, classes=10, label_shape=(), class_weights=None):
        torch.manual_seed(1)
        self.model = build()
        self.input_shape, self.batch = input_shape, batch
        self.images = torch.randn(batch, *input_shape)
        self.labels = torch.randint(0, classes, (batch, *label_shape))
        self.weight = None if class_weights is None else torch.tensor(class_weights)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def describe(self):
        return {
            "input": "x".join(map(str, self.input_shape)),
            "batch": self.batch,
            "parameters": sum(p.numel() for p in self.model.parameters()),
        }

    def mode(self, name):
        if name == "train":
            self.model.train()
            return self.train_step
        if name == "infer":
            self.model.eval()
            return self.infer
        raise ValueError(f"a network's mode is train or infer, not {name!r}")

    def train_step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(self.images), self.labels, weight=self.weight)
        loss.backward()
        self.optimizer.step()

    def infer(self):
        with torch.no_grad():
            self.model(self.images)


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


class ImplicitPart:
    """The implicit solve on IMPLICIT_SHAPE: the solve alone (no_grad), and forward + backward (gradients for the rhs
    and the weight)."""

    def __init__(self):
        torch.manual_seed(1)
        self.rhs = torch.randn(*IMPLICIT_SHAPE, requires_grad=True)
        self.weight = (0.5 * torch.randn(IMPLICIT_SHAPE[1], 1, IMPLICIT_KERNEL, IMPLICIT_KERNEL)).requires_grad_()
        self.upstream = torch.randn(*IMPLICIT_SHAPE)

    @staticmethod
    def describe():
        return {"shape": "x".join(map(str, IMPLICIT_SHAPE)), "kernel": IMPLICIT_KERNEL, "groups": IMPLICIT_SHAPE[1], "step": IMPLICIT_STEP}

    def mode(self, name):
        if name == "forward":
            return self.forward
        if name == "forward_backward":
            return self.forward_backward
        raise ValueError(f"the implicit solve's mode is forward or forward_backward, not {name!r}")

    def forward(self):
        with torch.no_grad():
            implicit_solve(self.rhs, self.weight, IMPLICIT_STEP)

    def forward_backward(self):
        self.rhs.grad, self.weight.grad = None, None
        implicit_solve(self.rhs, self.weight, IMPLICIT_STEP).backward(self.upstream)


PARTS = {
    "lenet5": lambda: NetworkPart(lenet5, (1, 28, 28)),
    "cifar_vgg": lambda: NetworkPart(cifar_vgg, (3, 32, 32)),
    "qtips_imex": lambda: NetworkPart(
        qtips_imex, (1, 64, 64), batch=QTIPS_BATCH, classes=QTIPS_CLASSES, label_shape=(64, 64), class_weights=QTIPS_CLASS_WEIGHTS),
    "implicit": ImplicitPart,
}


def serve(args):
    """Answers "<part> <mode> <seconds>" lines with {"seconds_per_call": s}, building each part on first use."""
    parts, warmed = {}, set()
    for line in sys.stdin:
        if not line.strip():
            continue
        name, mode, seconds = line.split()
        if name not in parts:
            print(f"peer: building {name} ...", file=sys.stderr)
            parts[name] = PARTS[name]()
        step = parts[name].mode(mode)
        if (name, mode) not in warmed:
            for _ in range(args.warmup):
                step()
            warmed.add((name, mode))
        print(json.dumps({"seconds_per_call": seconds_per_call(step, float(seconds))}), flush=True)


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
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of the SGEMM; the median is reported")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum duration of one SGEMM repeat")
    parser.add_argument("--serve", action="store_true", help="time the parts on request (see above)")
    args = parser.parse_args()

    torch.set_num_threads(THREADS)
    if args.serve:
        serve(args)
        return
    result = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "batch": BATCH,
        "dtype": "float32",
        "mkldnn": torch.backends.mkldnn.is_available(),
        "environment": {name: os.environ.get(name) for name in ("LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "GLIBC_TUNABLES", "OMP_NUM_THREADS")},
        "networks": {name: build().describe() for name, build in PARTS.items() if name != "implicit"},
        "qtips_class_weights": list(QTIPS_CLASS_WEIGHTS),
        "implicit": ImplicitPart.describe(),
    }
    print("peer: measuring matmul 2048^3 ...", file=sys.stderr)
    result["matmul_2048_gflops"] = measure_matmul(args)
    # After the measurements, so a library loaded lazily is there too.
    result["blas"] = loaded_blas()
    print(f"peer: BLAS {result['blas']}", file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
