"""PyTorch twins of the checkpoint test networks in CheckpointTests.cs, and the fixtures made from them.

    /usr/bin/python3 make_fixtures.py            writes <name>.safetensors (a state_dict) and <name>.io.safetensors
                                                 (a fixed input batch and the module's eval-mode output) beside this script
    /usr/bin/python3 make_fixtures.py verify DIR loads DIR/<name>.safetensors saved by NetCompiler into the module and
                                                 compares its output on DIR/<name>.io.safetensors's input with NetCompiler's

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


def randomise(module, generator):
    """Weights, BN affine terms and running statistics all far from their defaults, so a misplaced one shows."""
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("num_batches_tracked"):
                tensor.fill_(int(torch.randint(1, 10_000, (1,), generator=generator)))
            elif name.endswith("running_var") or (name.endswith(".weight") and tensor.dim() == 1):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 1.5 + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.5)


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


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        sys.exit(verify(pathlib.Path(sys.argv[2])))
    elif len(sys.argv) == 1:
        make()
    else:
        sys.exit(__doc__)
