#!/usr/bin/env bash
# Runs the benchmarks: the peer (PyTorch, bench/peer.py) reports its environment, BLAS and SGEMM, then NetCompiler's
# side times each network and the implicit solve repeat by repeat beside the peer (peer.py --serve, started by it) and
# prints the figures. Arguments go to NetCompiler's side (--only networks|implicit). Run bench/setup.sh once before.
set -euo pipefail
cd "$(dirname "$0")/.."

openblas=$(echo /usr/lib/*-linux-gnu*/openblas-openmp)
if [ ! -e "$openblas/libblas.so.3" ] || ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "run.sh: the peer is not installed; run bench/setup.sh first" >&2
  exit 1
fi

# OpenBLAS's own CPU detection, as DESIGN.md asks (an inherited OPENBLAS_CORETYPE=Haswell halves it on AVX-512
# machines), except where its table is older than the CPU: then it falls back to Prescott's SSE3 kernels (0.3.21 on
# family 6 model 207), and the core the CPU's flags name is the best one it has.
detected_core=$(env -u OPENBLAS_CORETYPE /usr/bin/python3 -c 'import ctypes, sys
library = ctypes.CDLL(sys.argv[1]); library.openblas_get_corename.restype = ctypes.c_char_p
print(library.openblas_get_corename().decode())' "$openblas/libopenblas.so.0")
coretype=()
if [ "$detected_core" = Prescott ]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  for core in avx512_bf16:Cooperlake avx512f:SkylakeX avx2:Haswell; do
    if [[ " $flags " == *" ${core%%:*} "* ]]; then
      coretype=(OPENBLAS_CORETYPE="${core##*:}")
      echo "run.sh: OpenBLAS does not know this CPU (it chose Prescott); its flags have ${core%%:*}, so ${coretype[0]}" >&2
      break
    fi
  done
fi

peer_json="${TMPDIR:-/tmp}/netcompiler-peer.json"
# The peer at its best (DESIGN.md): OpenBLAS's OpenMP build on 2 threads, the core chosen above, and glibc keeping
# freed activations mapped instead of faulting them back in. peer.py sets torch's threads to 2 itself.
peer=(env -u OPENBLAS_CORETYPE "${coretype[@]}"
  LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  OMP_NUM_THREADS=2
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
  /usr/bin/python3 bench/peer.py)
"${peer[@]}" > "$peer_json"
echo "run.sh: peer report in $peer_json" >&2

# A wrong path would silently give torch another BLAS (the pthread build or the reference one): refuse to compare.
if ! /usr/bin/python3 -c 'import json, sys; blas = json.load(open(sys.argv[1]))["blas"]; sys.exit(blas.get("openblas_threading") != "openmp")' "$peer_json"; then
  echo "run.sh: torch did not load the OpenMP OpenBLAS from $openblas (see \"blas\" in $peer_json)" >&2
  exit 1
fi

dotnet run -c Release --project bench/NetCompiler.Bench -- --peer-json "$peer_json" "$@" --peer "${peer[@]}" --serve
