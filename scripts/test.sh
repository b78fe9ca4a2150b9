#!/usr/bin/env bash
# Installs MPICH if missing, builds the solution and runs every test project (generator, kernels, runtime, end to end,
# devices on ILGPU's simulator), the kernel tests again on the AVX2 and the scalar paths, then the NativeAOT check
# (scripts/aot-check.sh, counted as one test), and prints the totals as one closing line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-mpich.sh   # the data-parallel tests run two ranks under mpiexec.mpich
dotnet build NetCompiler.sln -c Release --nologo
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test NetCompiler.sln -c Release --no-build --nologo 2>&1 | tee "$log"
# The same kernels must pass the same tests on every instruction set: .NET 10 turns AVX-512 off with EnableAVX512
# (EnableAVX512F alone leaves Vector512 accelerated), and every intrinsic with EnableHWIntrinsic.
DOTNET_EnableAVX512=0 dotnet test tests/NetCompiler.Kernels.Tests -c Release --no-build --nologo 2>&1 | tee -a "$log"
DOTNET_EnableHWIntrinsic=0 dotnet test tests/NetCompiler.Kernels.Tests -c Release --no-build --nologo 2>&1 | tee -a "$log"
total() { grep -oE "$1: +[0-9]+" "$log" | awk '{ sum += $2 } END { print sum + 0 }'; }
aot_failed=0
bash scripts/aot-check.sh || aot_failed=1
echo "$(( $(total Passed) + 1 - aot_failed )) passed, $(( $(total Failed) + aot_failed )) failed"
exit "$aot_failed"
