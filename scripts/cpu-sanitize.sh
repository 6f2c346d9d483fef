#!/usr/bin/env bash
# The CPU kernels under AddressSanitizer + UndefinedBehaviorSanitizer (CI: .ci/run; ~3 min on 2 cores).
# Builds the CPU kernel lab against the AVX-512-emulation test build of the CPU library (native/lab/avx512emu/:
# on a CPU without AVX-512 its AVX-512 kernels run on SIMDe, so every ISA's kernels execute here) with
# -fsanitize=address,undefined and runs its checks (`lab_cpu_conv_lab_avx512emu test`: every conv case on every
# ISA against float64, each Winograd tile forced, thread determinism, the memory-bound ops). Any finding aborts.
#   scripts/cpu-sanitize.sh [BUILD_DIR]     (default: target/cpu-sanitize)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/target/cpu-sanitize}"
cmake -S "$root" -B "$build" -DRESKERN_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-psabi" >/dev/null
cmake --build "$build" -j"$(nproc)" --target lab_cpu_conv_lab_avx512emu >/dev/null
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" "$build/lab_cpu_conv_lab_avx512emu" test
