#!/usr/bin/env bash
# Installs what the build and the tests need on Debian 12 (idempotent; needs root or sudo for apt):
#   build: JDK 17, Maven, CMake, g++, SIMDe headers (the AVX-512-emulation test build; nvcc is optional: the CUDA
#          library is built when it exists)
#   tests: python3-torch + python3-torchvision (golden outputs), python3-numpy, python3-onnx, libonnx-testdata
set -euo pipefail
pkgs=(cmake g++ make maven openjdk-17-jdk-headless libsimde-dev python3-torch python3-torchvision python3-numpy python3-onnx libonnx-testdata)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all present"; exit 0
fi
echo "[deps] installing: ${missing[*]}"
sudo_=""
[ "$(id -u)" -eq 0 ] || sudo_="sudo"
$sudo_ apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[deps] done"
