#!/usr/bin/env bash
# Installs Debian's MPICH (mpiexec.mpich, libmpich.so.12), which data-parallel training and its tests run on.
set -euo pipefail
if command -v mpiexec.mpich >/dev/null 2>&1 && ldconfig -p | grep -q libmpich.so.12; then
  exit 0
fi
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get install -y -qq mpich >/dev/null 2>&1 || { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq mpich; }
