#!/usr/bin/python3
"""The peer side of NetCompiler's GPU benchmark (bench/gpu.sh): PyTorch on CUDA, float32 with TF32 off, cudnn.benchmark on.

Measures, for the networks bench/Gpu measures, training images/s (host batch copied to the GPU, forward,
cross-entropy, backward, Adam step, the loss back on the host) and inference images/s (eval mode, no_grad, the scores
back on the host), so both ends synchronise as NetCompiler's TrainStep and Forward do; and cuDNN's GFLOP/s on CifarVgg's
convolutions (forward with bias, data gradient, weight gradient; 10 calls per torch.cuda.synchronize()). Each figure
is the median over repeats of at least --seconds each, after warm-up (cudnn.benchmark picks its algorithms there).

The networks, layer for layer: CifarVgg is bench/peer.py's; FashionNet is samples/FashionMnist/FashionNet.cs;
QTipsImexFull is samples/QTips/Networks.cs, of bench/peer.py's IMEX steps (torch.fft; QTipsImex is peer.py's too).

Prints one JSON object on stdout. Without CUDA it says why ("device": null, "reason") and exits 0; --device cpu runs
the same code on the CPU at --quick sizes, to check this script where there is no GPU (those figures compare nothing).
"""

import argparse
import json
import platform
import sys

try:
    import torch
    from torch import nn
    import torch.nn.functional as F
    import peer  # bench/peer.py, beside this script: cifar_vgg, ImexStep, qtips_imex, median_rate
except ImportError as missing:
    print(json.dumps({"peer": "pytorch", "device": None, "reason": f"no PyTorch here ({missing})"}, indent=2))
    sys.exit(0)

LEARNING_RATE = 1e-3
LAUNCHES_PER_SYNC = 10


def fashion_net():
    """samples/FashionMnist/FashionNet.cs: 1x28x28, two conv-BN-ReLU-pool stages, dense 128 with dropout, dense 10."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(128, 10))


def qtips_imex_full():
    """samples/QTips/Networks.cs's QTipsImexFull: 1x64x64, widths 64/128/256 at 64, 32 and 16 pixels, three IMEX steps
    each (bench/peer.py's ImexStep, h = 1), a transposed convolution back to 64x64 with one score per class."""
    layers, channels = [], 1
    for width, stride in ((64, 1), (128, 2), (256, 2)):
        layers += [nn.Conv2d(channels, width, 3, stride=stride, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        layers += [peer.ImexStep(width, 1.0) for _ in range(3)]
        channels = width
    return nn.Sequential(*layers, nn.ConvTranspose2d(channels, peer.QTIPS_CLASSES, 4, stride=4))


# name, build, input shape, labels per image (a shape: per pixel for the segmenter), classes, batch: bench/Gpu's
# (NetworkBenchmark.All), FashionMnist's and QTips's default batches, CifarVgg at 64 and 256; --quick, each at batch
# 1, CifarVgg once, and the CPU-sized QTipsImex for the full one.
FASHION_NET = ("fashion_net", fashion_net, (1, 28, 28), (), 10)
CIFAR_VGG = ("cifar_vgg", peer.cifar_vgg, (3, 32, 32), (), 10)
NETWORKS = (
    (*FASHION_NET, 64),
    (*CIFAR_VGG, 64),
    (*CIFAR_VGG, 256),
    ("qtips_imex_full", qtips_imex_full, (1, 64, 64), (64, 64), peer.QTIPS_CLASSES, 16),
)
QUICK_NETWORKS = (
    (*FASHION_NET, 1),
    (*CIFAR_VGG, 1),
    ("qtips_imex", peer.qtips_imex, (1, 64, 64), (64, 64), peer.QTIPS_CLASSES, 1),
)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure_network(name, build, input_shape, label_shape, classes, batch, device, args):
    torch.manual_seed(1)
    model = build().to(device)
    images_host = torch.rand(batch, *input_shape)
    labels_host = torch.randint(0, classes, (batch, *label_shape))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

    def train_step():
        images, labels = images_host.to(device), labels_host.to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    def infer():
        with torch.no_grad():
            return model(images_host.to(device)).cpu()

    model.train()
    train = peer.median_rate(train_step, batch, args.warmup, args.repeats, args.seconds)
    model.eval()
    inference = peer.median_rate(infer, batch, args.warmup, args.repeats, args.seconds)
    return {
        "name": name,
        "batch": batch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_images_per_s": round(train, 1),
        "inference_images_per_s": round(inference, 1),
    }


def vgg_conv_shapes():
    """CifarVgg's convolutions as (in channels, height, width, out channels), read off bench/peer.py's network."""
    shapes, size = [], 32
    for layer in peer.cifar_vgg():
        if isinstance(layer, nn.Conv2d):
            shapes.append((layer.in_channels, size, size, layer.out_channels))
        elif isinstance(layer, nn.MaxPool2d):
            size //= 2
    return shapes


def measure_conv(in_channels, height, width, out_channels, batch, device, args):
    """GFLOP/s of cuDNN's forward (with bias; the ReLU NetCompiler fuses is left out, which favours the peer), data
    gradient and weight gradient, 3x3 pad 1: 2 n OutC H W InC 9 FLOPs each."""
    torch.manual_seed(1)
    x = torch.rand(batch, in_channels, height, width, device=device) * 2 - 1
    w = torch.rand(out_channels, in_channels, 3, 3, device=device) * 2 - 1
    b = torch.rand(out_channels, device=device) * 2 - 1
    dy = torch.rand(batch, out_channels, height, width, device=device) * 2 - 1
    flops = 2 * batch * out_channels * height * width * in_channels * 9

    def backward(mask):
        return torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

    calls = {
        "forward": lambda: F.conv2d(x, w, b, padding=1),
        "backward_data": lambda: backward([True, False, False]),
        "backward_weight": lambda: backward([False, True, False]),
    }
    launches = LAUNCHES_PER_SYNC if device.type == "cuda" else 1
    figure = {"shape": f"{in_channels}x{height}x{width}->{out_channels}", "batch": batch}
    for what, call in calls.items():
        def timed(call=call):
            for _ in range(launches):
                call()
            synchronize(device)

        rate = peer.median_rate(timed, launches, args.warmup, args.repeats, args.seconds)
        figure[f"{what}_gflops"] = round(flops * rate / 1e9, 1)
    return figure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: a check of this script, at --quick sizes")
    parser.add_argument("--quick", action="store_true", help="small batches, one timed call per figure, no warm-up")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats; the median is reported")
    parser.add_argument("--seconds", type=float, default=0.5, help="minimum duration of one repeat")
    args = parser.parse_args()
    quick = args.quick or args.device == "cpu"
    if quick:
        args.warmup, args.repeats, args.seconds = 0, 1, 0.0

    result = {"peer": "pytorch", "torch": torch.__version__, "python": platform.python_version()}
    if args.device == "cuda" and not torch.cuda.is_available():
        result.update(device=None, reason=f"PyTorch {torch.__version__} has no CUDA device here")
        print(json.dumps(result, indent=2))
        return

    device = torch.device(args.device)
    # Float32 as NetCompiler computes it: no TF32 in matrix products or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    result.update(
        device=args.device,
        gpu=torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        cudnn=str(torch.backends.cudnn.version()) if device.type == "cuda" else None,
        tf32=False,
        quick=quick,
        networks=[],
        conv=[])
    for name, build, input_shape, label_shape, classes, batch in QUICK_NETWORKS if quick else NETWORKS:
        print(f"gpu_peer: measuring {name} at batch {batch} ...", file=sys.stderr)
        result["networks"].append(measure_network(name, build, input_shape, label_shape, classes, batch, device, args))
    conv_batch = 1 if quick else 256
    print(f"gpu_peer: measuring the convolutions at batch {conv_batch} ...", file=sys.stderr)
    for shape in vgg_conv_shapes():
        result["conv"].append(measure_conv(*shape, conv_batch, device, args))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
