#!/usr/bin/env bash
# Runs the benchmarks: the peer (PyTorch, bench/peer.py) first, then NetCompiler's side, which prints the figures.
# Arguments go to peer.py (--warmup, --repeats, --seconds). Run bench/setup.sh once before.
set -euo pipefail
cd "$(dirname "$0")/.."

openblas=$(echo /usr/lib/*-linux-gnu*/openblas-pthread)
if [ ! -e "$openblas/libblas.so.3" ] || ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "run.sh: the peer is not installed; run bench/setup.sh first" >&2
  exit 1
fi

peer_json="${TMPDIR:-/tmp}/netcompiler-peer.json"
# The peer at its best (DESIGN.md): OpenBLAS's pthread build, its CPU detection not overridden (this machine's
# OPENBLAS_CORETYPE=Haswell halves it), and glibc keeping freed activations mapped instead of faulting them back in.
env -u OPENBLAS_CORETYPE \
  LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 \
  /usr/bin/python3 bench/peer.py "$@" > "$peer_json"
echo "run.sh: peer figures in $peer_json" >&2

dotnet run -c Release --project bench/NetCompiler.Bench -- --peer-json "$peer_json"
