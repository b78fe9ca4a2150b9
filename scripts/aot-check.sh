#!/usr/bin/env bash
# Publishes the FashionMnist sample as a NativeAOT executable and trains it briefly (one epoch on 2,000 images, tested on
# all 10,000): the publish fails on any trim or AOT warning (TreatWarningsAsErrors reaches ILC), and the run must end
# with "test accuracy 0.XXXX" well above chance, which a miscompiled kernel would not reach. The sample targets
# x86-64-v4; on a CPU without AVX-512, where that executable would refuse to start, it is published for x86-64-v3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-fashion-mnist.sh
isa=()
grep -qw avx512f /proc/cpuinfo || isa=(-p:IlcInstructionSet=x86-64-v3)
dotnet publish samples/FashionMnist -c Release -r linux-x64 --nologo -v quiet "${isa[@]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
samples/FashionMnist/bin/Release/net10.0/linux-x64/publish/FashionMnist --epochs 1 --limit 2000 --save "$work/fashion.safetensors" --curves "$work/fashion-curves.png" | tee "$work/log"
last=$(tail -n 1 "$work/log")
if ! grep -qE '^test accuracy 0\.[0-9]{4}$' <<<"$last" || ! awk '{ exit !($3 >= 0.6) }' <<<"$last"; then
  echo "aot-check: the NativeAOT sample's run did not end with a test accuracy of at least 0.6000 (chance is 0.1000)" >&2
  exit 1
fi
