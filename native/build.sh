#!/usr/bin/env bash
# Configure, build and install the native libraries (called by Maven's javacpp `build` goal, or by hand).
#   native/build.sh BUILD_DIR INSTALL_PREFIX [ON|OFF]    (third argument: build the CUDA library; default ON)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$1"; prefix="$2"; cuda="${3:-ON}"
args=(-S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DRESKERN_CUDA="$cuda")
if [ "$cuda" = "ON" ]; then
  nvcc_path="$(command -v nvcc || true)"
  [ -z "$nvcc_path" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc_path=/usr/local/cuda/bin/nvcc
  if [ -n "$nvcc_path" ]; then args+=(-DCMAKE_CUDA_COMPILER="$(readlink -f "$nvcc_path")"); fi
fi
cmake "${args[@]}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
cmake --install "$build_dir" >/dev/null
