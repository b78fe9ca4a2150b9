#!/usr/bin/env bash
# The main job: the Fashion-MNIST sample. Installs Debian's dataset-fashion-mnist when it is missing.
# With --ranks N (first), it trains data-parallel: N ranks under mpiexec.mpich (MPICH installed when missing),
# one kernel thread each unless --threads says otherwise; the other options go to the sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-fashion-mnist.sh
if [ "${1:-}" = "--ranks" ]; then
  ranks="$2"; shift 2
  bash scripts/install-mpich.sh
  dotnet build -c Release --nologo -v quiet samples/FashionMnist
  exec mpiexec.mpich -n "$ranks" dotnet samples/FashionMnist/bin/Release/net10.0/FashionMnist.dll --threads 1 "$@"
fi
dotnet run -c Release --project samples/FashionMnist -- "$@"
