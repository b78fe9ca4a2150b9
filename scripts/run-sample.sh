#!/usr/bin/env bash
# The main job: the Fashion-MNIST sample. Installs Debian's dataset-fashion-mnist when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq dataset-fashion-mnist
fi
dotnet run -c Release --project samples/FashionMnist -- "$@"
