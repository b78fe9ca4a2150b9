#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), which the FashionMnist sample trains on.
set -euo pipefail
if [ -d /usr/share/datasets/fashion-mnist ]; then
  exit 0
fi
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq dataset-fashion-mnist
