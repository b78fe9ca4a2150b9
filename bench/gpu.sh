#!/usr/bin/env bash
# The GPU benchmark in one run: the peer (PyTorch CUDA, bench/gpu_peer.py) first where this machine has it, then
# NetCompiler's side (bench/Gpu), which prints every figure beside the peer's, with the ratios, the CPU and the GPU.
# Options go to both: --quick (small batches, one call per figure: a check, e.g. with --device simulator); the others go
# to bench/Gpu alone: --device cuda|opencl|simulator|best (best), --peak-tflops X (67, the H200's FP32 peak).
# --no-build runs the build already in bench/Gpu/bin (a machine without NuGet access). Exits 0 without the peer.
set -euo pipefail
cd "$(dirname "$0")/.."

ours=() peer=() build=1
for argument in "$@"; do
  case "$argument" in
    --quick) ours+=("$argument"); peer+=("$argument") ;;
    --no-build) build=0 ;;
    *) ours+=("$argument") ;;
  esac
done

# The python3 whose torch sees a CUDA device (GPU machines often keep theirs in a virtual environment on PATH),
# else the first with torch at all, which then reports why it has no figures.
python=""
for candidate in python3 /usr/bin/python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if "$candidate" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    python=$candidate
    break
  fi
  if [ -z "$python" ] && "$candidate" -c "import torch" 2>/dev/null; then
    python=$candidate
  fi
done

peer_json="${TMPDIR:-/tmp}/netcompiler-gpu-peer.json"
peer_option=()
if [ -n "$python" ]; then
  if PYTHONUNBUFFERED=1 "$python" bench/gpu_peer.py "${peer[@]}" > "$peer_json"; then
    echo "gpu.sh: the peer's report ($python) in $peer_json" >&2
    peer_option=(--peer-json "$peer_json")
  else
    echo "gpu.sh: bench/gpu_peer.py failed; NetCompiler's figures alone follow" >&2
  fi
else
  echo "gpu.sh: no python3 with PyTorch here; NetCompiler's figures alone follow" >&2
fi

if [ "$build" = 1 ]; then
  dotnet build bench/Gpu -c Release -v quiet -nologo
fi
dotnet bench/Gpu/bin/Release/net10.0/Gpu.dll "${ours[@]}" "${peer_option[@]}"
