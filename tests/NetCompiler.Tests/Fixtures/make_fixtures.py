"""PyTorch twins of the networks in CheckpointTests.cs and TrainingFixtureTests.cs, and the fixtures made from them.

    /usr/bin/python3 make_fixtures.py            writes beside this script, for each checkpoint network,
                                                 <name>.safetensors (a state_dict) and <name>.io.safetensors (a fixed
                                                 input batch and the module's eval-mode output); for each residual and
                                                 IMEX network, <name>.safetensors (a state_dict) and
                                                 <name>.step.safetensors (one SGD step in training mode: input, labels,
                                                 scores, loss, grad.<key> for each parameter, after.<key> for the whole
                                                 state_dict after the step)
    /usr/bin/python3 make_fixtures.py verify DIR loads DIR/<name>.safetensors saved by NetCompiler into the module and
                                                 compares its output on DIR/<name>.io.safetensors's input with NetCompiler's
    /usr/bin/python3 make_fixtures.py onnx DIR   runs onnx.checker (full check, shape inference included) on every
                                                 DIR/*.onnx; OnnxExportTests leaves its exports there when run with
                                                 NETCOMPILER_ONNX_DIR=DIR (Debian's python3-onnx)

Regenerate: `apt-get install python3-torch`, then the first command (Debian's /usr/bin/python3 has torch). The residual
and IMEX networks draw from a generator of their own, so the checkpoint fixtures' state_dicts and inputs come out byte
for byte as committed; their outputs may differ in the last bit, as torch's CPU kernels round differently from machine
to machine.

The residual and IMEX twins follow the README's definitions, not NetCompiler's kernels: C is torch's conv2d of the
circularly padded image, C^T its adjoint (a transposed convolution with its border folded back around), and
(I + hC^T C)^-1 a per-frequency solve built from C's impulse responses, checked against dense matrices before any
fixture is written. The paper's form is computed as written, with its hLY term. The steps run in float64 from float32
starting values, so the fixtures hold the exact step rounded to float32 and the C# tolerance only has to cover
NetCompiler's own float32 rounding.

Debian's python3-torch has no safetensors package, so the format (an 8-byte little-endian header length, a JSON
header, the raw little-endian data) is written and read by hand, laid out as the safetensors library lays it out:
data sorted by dtype size then name, header padded with spaces to a multiple of 8 bytes.
"""

import json
import pathlib
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = pathlib.Path(__file__).resolve().parent
DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}
NUMPY = {"F32": "<f4", "I64": "<i8"}


class Net(nn.Module):
    """torchvision's layout: features, flatten, classifier, so the state_dict keys match NetCompiler's names."""

    def __init__(self, features, classifier):
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def conv_net():
    """CheckpointConvNet: 1x8x8 -> conv, BN, ReLU, max pool twice -> dense, BatchNorm1d, ReLU, dropout -> dense."""
    return Net(
        nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Linear(24, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)))


def grouped_net():
    """CheckpointGroupedNet: strided grouped conv without bias, dilated depthwise conv, grouped transposed conv, pools."""
    return Net(
        nn.Sequential(
            nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8), nn.ReLU(),
            nn.ConvTranspose2d(8, 6, 2, stride=2, groups=2),
            nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)),
        nn.Sequential(nn.Linear(6, 5)))


NETWORKS = {"conv": (conv_net, (1, 8, 8)), "grouped": (grouped_net, (4, 8, 8))}
BATCH = 4


class ResidualStep(nn.Module):
    """Y + h K2 relu(BN(K1 Y)); symmetric: K2 = K1^T, the transposed convolution over K1's weight. 'Same' padding and
    no bias, as NetCompiler's residual convolutions."""

    def __init__(self, channels, h, symmetric, kernel=3):
        super().__init__()
        self.h, self.symmetric, self.pad = h, symmetric, kernel // 2
        self.conv1 = nn.Conv2d(channels, channels, kernel, padding=self.pad, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        if not symmetric:
            self.conv2 = nn.Conv2d(channels, channels, kernel, padding=self.pad, bias=False)

    def forward(self, y):
        z = F.relu(self.bn(self.conv1(y)))
        branch = F.conv_transpose2d(z, self.conv1.weight, padding=self.pad) if self.symmetric else self.conv2(z)
        return y + self.h * branch


class Periodic(nn.Module):
    """C: a grouped convolution with periodic boundaries (the cross-correlation of the circularly padded image)."""

    def __init__(self, channels, kernel, groups):
        super().__init__()
        self.groups, self.pad = groups, kernel // 2
        self.weight = nn.Parameter(torch.empty(channels, channels // groups, kernel, kernel))

    def forward(self, y):
        r = self.pad
        return F.conv2d(F.pad(y, (r, r, r, r), mode="circular"), self.weight, groups=self.groups)

    def adjoint(self, u):
        """C^T u: the transposed convolution reaches r pixels past each side, which belong to the pixels the circular
        padding copied them from."""
        r, height, width = self.pad, u.shape[2], u.shape[3]
        full = F.conv_transpose2d(u, self.weight, groups=self.groups)
        rows = torch.arange(height + 2 * r, device=u.device).sub(r).remainder(height)
        columns = torch.arange(width + 2 * r, device=u.device).sub(r).remainder(width)
        folded = u.new_zeros(full.shape[0], full.shape[1], height, width + 2 * r).index_add(2, rows, full)
        return u.new_zeros(u.shape).index_add(3, columns, folded)

    def solve(self, b, h):
        """(I + h C^T C)^-1 b. C commutes with circular shifts, so it is the circular convolution with its impulse
        responses: per frequency a channels x channels matrix Chat (block diagonal by group), and the system is
        (I + h Chat^H Chat) yhat = bhat there."""
        channels, height, width = b.shape[1:]
        impulses = b.new_zeros(channels, channels, height, width)
        impulses[range(channels), range(channels), 0, 0] = 1
        transfer = torch.fft.fft2(self(impulses)).permute(2, 3, 1, 0)  # [H, W, out channel, in channel]
        system = torch.eye(channels, dtype=transfer.dtype) + h * transfer.conj().transpose(-1, -2) @ transfer
        solved = torch.linalg.solve(system, torch.fft.fft2(b).permute(2, 3, 1, 0))  # [H, W, channel, image]
        return torch.fft.ifft2(solved.permute(3, 2, 0, 1)).real


class ImexStep(nn.Module):
    """IMEXnet's step with F = K^T relu(BN(K Y)), L = C^T C: the paper's (I + hL)^-1 (Y + hLY + hF), written as such,
    or the released code's (I + hL)^-1 BN(Y + hF)."""

    def __init__(self, channels, h, groups, released, kernel=3, implicit_kernel=3):
        super().__init__()
        self.h, self.released, self.pad = h, released, kernel // 2
        self.conv = nn.Conv2d(channels, channels, kernel, padding=self.pad, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.implicit = Periodic(channels, implicit_kernel, groups)
        if released:
            self.norm = nn.BatchNorm2d(channels)

    def forward(self, y):
        f = F.conv_transpose2d(F.relu(self.bn(self.conv(y))), self.conv.weight, padding=self.pad)
        if self.released:
            return self.implicit.solve(self.norm(y + self.h * f), self.h)
        return self.implicit.solve(y + self.h * self.implicit.adjoint(self.implicit(y)) + self.h * f, self.h)


def stepped(make_step, steps):
    """2x8x8 -> conv to 4 channels, ReLU -> the time steps (features.2.<step>) -> dense over the flattened image (no
    pooling, so a shifted or flipped feature map shows in the scores)."""
    time_steps = nn.Sequential(*[make_step() for _ in range(steps)])
    return Net(nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), time_steps), nn.Sequential(nn.Linear(4 * 64, 3)))


# The twins of TrainingFixtureTests.cs's networks; groups=4 is depthwise, NetCompiler's Groups = 0.
TRAINING = {
    "residual": lambda: stepped(lambda: ResidualStep(4, 0.5, symmetric=False), steps=2),
    "symmetric": lambda: stepped(lambda: ResidualStep(4, 0.3, symmetric=True), steps=2),
    "imex": lambda: stepped(lambda: ImexStep(4, 0.5, groups=4, released=False), steps=2),
    "released": lambda: stepped(lambda: ImexStep(4, 2.0, groups=2, released=True, implicit_kernel=5), steps=1),
}
TRAINING_SHAPE = (2, 8, 8)
LEARNING_RATE = 0.1


def write_safetensors(path, tensors, metadata=None):
    entries = sorted(tensors.items(), key=lambda item: (-item[1].element_size(), item[0]))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, tensor in entries:
        dtype, layout = DTYPES[tensor.dtype]
        blob = tensor.detach().contiguous().numpy().astype(layout).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    raw = path.read_bytes()
    (length,) = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=NUMPY[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def randomise(module, generator, weight_std=lambda tensor: 0.5):
    """Weights, BN affine terms and running statistics all far from their defaults, so a misplaced one shows."""
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                tensor.fill_(int(torch.randint(1, 10_000, (1,), generator=generator)))
            elif name.endswith("running_var") or (name.endswith(".weight") and tensor.dim() == 1):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 1.5 + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * weight_std(tensor))


def fan_in_std(tensor):
    """1.5 / sqrt(fan-in) for weights, so 256 dense inputs do not saturate the softmax; 0.5 for the rest."""
    return 1.5 / np.sqrt(tensor[0].numel()) if tensor.dim() > 1 else 0.5


def check_periodic_solve():
    """C^T and the FFT solve against dense matrices (C's columns are C applied to the unit images), on 4x8x8 images:
    depthwise, groups of 2 with a 5x5 kernel, and one group of 4."""
    generator = torch.Generator().manual_seed(7)
    size, h = 4 * 64, 0.7
    units = torch.eye(size, dtype=torch.float64).reshape(size, 4, 8, 8)
    for groups, kernel in [(4, 3), (2, 5), (1, 3)]:
        operator = Periodic(4, kernel, groups).double()
        with torch.no_grad():
            operator.weight.copy_(torch.randn(operator.weight.shape, generator=generator, dtype=torch.float64))
            matrix = operator(units).reshape(size, size).T
            adjoint = operator.adjoint(units).reshape(size, size).T
            assert torch.allclose(adjoint, matrix.T, atol=1e-12), "C^T is not C's adjoint"
            b = torch.randn((3, 4, 8, 8), generator=generator, dtype=torch.float64)
            system = torch.eye(size, dtype=torch.float64) + h * matrix.T @ matrix
            dense = torch.linalg.solve(system, b.reshape(3, size).T).T
            assert torch.allclose(operator.solve(b, h).reshape(3, size), dense, atol=1e-10), "the FFT solve is off"


def as_float32(tensor):
    """A float64 result as the fixtures store it; counts (int64) as they are."""
    return tensor.detach().float() if tensor.is_floating_point() else tensor


def write_sgd_step(path, module, loss, record):
    """Backpropagates loss, takes one SGD step at LEARNING_RATE and writes record (the step's input, labels or targets,
    scores) with the loss, grad.<key> of every parameter and after.<key> of the whole state_dict after the step."""
    loss.backward()
    torch.optim.SGD(module.parameters(), lr=LEARNING_RATE).step()
    step = dict(record, loss=as_float32(loss))
    step.update({f"grad.{key}": as_float32(p.grad) for key, p in module.named_parameters()})
    step.update({f"after.{key}": as_float32(t) for key, t in module.state_dict().items()})
    write_safetensors(path, step)


def make_training():
    """One SGD step of each residual and IMEX twin in training mode, in float64 from float32 starting values."""
    check_periodic_solve()
    generator = torch.Generator().manual_seed(20240602)
    for name, build in TRAINING.items():
        module = build()
        randomise(module, generator, fan_in_std)
        images = torch.randn((BATCH, *TRAINING_SHAPE), generator=generator)
        labels = torch.randint(0, 3, (BATCH,), generator=generator)
        write_safetensors(HERE / f"{name}.safetensors", module.state_dict())
        module.double().train()
        scores = module(images.double())
        loss = F.cross_entropy(scores, labels)
        write_sgd_step(HERE / f"{name}.step.safetensors", module, loss, {"input": images, "labels": labels, "scores": as_float32(scores)})
        print(f"{name}: {len(module.state_dict())} tensors, loss {loss.item():.4f}")


def make():
    generator = torch.Generator().manual_seed(20240601)
    for name, (build, shape) in NETWORKS.items():
        module = build()
        randomise(module, generator)
        module.eval()
        images = torch.randn((BATCH, *shape), generator=generator)
        with torch.no_grad():
            scores = module(images)
        write_safetensors(HERE / f"{name}.safetensors", module.state_dict())
        write_safetensors(HERE / f"{name}.io.safetensors", {"input": images, "output": scores})
        print(f"{name}: {len(module.state_dict())} tensors, scores {tuple(scores.shape)}")


def verify(directory):
    failed = False
    for name, (build, _) in NETWORKS.items():
        module = build()
        state = read_safetensors(directory / f"{name}.safetensors")
        module.load_state_dict(state, strict=True)  # every name, shape and dtype must match the PyTorch module
        module.eval()
        io = read_safetensors(directory / f"{name}.io.safetensors")
        with torch.no_grad():
            scores = module(io["input"])
        difference = (scores - io["output"]).abs().max().item()
        scale = io["output"].abs().max().item()
        ok = difference <= 1e-4 * max(scale, 1e-3)
        failed |= not ok
        counters = {k: int(v) for k, v in state.items() if k.endswith("num_batches_tracked")}
        print(f"{name}: {'OK' if ok else 'MISMATCH'} max |torch - netcompiler| = {difference:.3g} (max |score| {scale:.3g}); counters {counters}")
    return 1 if failed else 0


def check_onnx(directory):
    """onnx.checker on each exported model: a valid opset-17 graph whose shapes infer."""
    import onnx

    models = sorted(directory.glob("*.onnx"))
    for path in models:
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        print(f"{path.name}: OK")
    return 0 if models else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        sys.exit(verify(pathlib.Path(sys.argv[2])))
    elif len(sys.argv) == 3 and sys.argv[1] == "onnx":
        sys.exit(check_onnx(pathlib.Path(sys.argv[2])))
    elif len(sys.argv) == 1:
        make()
        make_training()
    else:
        sys.exit(__doc__)
