#!/usr/bin/env bash
# Host emulation of libreskern_cuda (no GPU needed): compiles every native/cuda/*.cu as plain C++ against
# cuda_emu.h (kernels run on std::threads, warp-level PTX emulated from the PTX ISA fragment layouts) and
# fake_cudart.cpp (host-memory CUDA runtime), then runs the real labs (conv_lab, ops_lab) on it with --quick,
# under AddressSanitizer + UBSan: every out-of-bounds access of a kernel aborts with a report.
#   bash native/lab/emu/run_emu.sh [BUILD_DIR] [--tsan]
#   RK_EMU_COPY=eager bash native/lab/emu/run_emu.sh    (cp.async lands at issue instead of at wait_group)
# Runs in a few minutes on 2 cores. It checks logic (indexing, fragment layouts, pipeline order, epilogue,
# dispatch, graph capture), not performance; the GPU host runs the same labs for real.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/rk_emu}"
[ "${1:-}" = "--tsan" ] && out="${TMPDIR:-/tmp}/rk_emu"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
omp=-fopenmp
# TSan: the CPU reference runs serially (libgomp is not instrumented and would flood the report with false races)
for a in "$@"; do [ "$a" = "--tsan" ] && { san="-fsanitize=thread"; out="$out-tsan"; omp=""; }; done
mkdir -p "$out"
cxx=(g++ -std=c++20 -O1 -g $san $omp -pthread -Wno-attributes -I/usr/local/cuda/include
     -I"$root/native/include" -I"$root/native/cuda" -include "$here/cuda_emu.h")
objs=()
compile() {  # src obj extra-flags...
  local src="$1" obj="$2"; shift 2
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$here/cuda_emu.h" -nt "$obj" ]; then
    "${cxx[@]}" "$@" -x c++ -c "$src" -o "$obj"
  fi
}
pids=()
for src in "$root"/native/cuda/*.cu; do
  name="$(basename "$src" .cu)"
  extra=(-DEMU_SHARED_STATIC)
  case "$name" in conv_tc_*) extra=() ;; esac
  compile "$src" "$out/$name.o" "${extra[@]}" & pids+=($!)
  objs+=("$out/$name.o")
  if [ ${#pids[@]} -ge "$(nproc)" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
compile "$here/fake_cudart.cpp" "$out/fake_cudart.o" -DEMU_SHARED_STATIC & pids+=($!)
# libreskern_cpu (the labs' reference): every native/cpu/*.cpp with its ISA flags (as CMakeLists.txt), no emulation
cpu_objs=()
for src in "$root"/native/cpu/*.cpp; do
  name="$(basename "$src" .cpp)"
  isa=()
  case "$name" in *_avx2) isa=(-mavx2 -mfma -mf16c) ;; *_avx512) isa=(-mavx512f -mavx2 -mfma -mf16c) ;; esac
  obj="$out/cpu_$name.o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$root/native/cpu" \( -name '*.h' -o -name '*.inc' \) -newer "$obj")" ]; then
    g++ -std=c++20 -O1 -g $san $omp -pthread "${isa[@]}" -I"$root/native/include" -I"$root/native/cpu" -c "$src" -o "$obj" &
    pids+=($!)
  fi
  cpu_objs+=("$obj")
  if [ ${#pids[@]} -ge "$(nproc)" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
compile "$root/native/lab/conv_lab.cu" "$out/conv_lab.o" & pids+=($!)
compile "$root/native/lab/ops_lab.cu" "$out/ops_lab.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
objs+=("$out/fake_cudart.o" "${cpu_objs[@]}")
"${cxx[@]}" "${objs[@]}" "$out/conv_lab.o" -o "$out/emu_conv_lab" -lgomp
"${cxx[@]}" "${objs[@]}" "$out/ops_lab.o" -o "$out/emu_ops_lab" -lgomp
rc=0
echo "== emulated ops_lab --quick"; "$out/emu_ops_lab" --quick || rc=1
echo "== emulated conv_lab --quick"; "$out/emu_conv_lab" --quick || rc=1
exit $rc
