#!/usr/bin/env bash
# Installs the benchmark peer at its best (DESIGN.md): Debian's PyTorch and the OpenMP build of OpenBLAS, which
# bench/run.sh puts on LD_LIBRARY_PATH. Safe to run again.
set -euo pipefail
packages=(python3-torch libopenblas0-openmp)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: ${packages[*]} already installed"
  exit 0
fi
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
