#!/usr/bin/env bash
# Host emulation of libreskern_cuda (no GPU needed): compiles every native/cuda/*.cu as plain C++ against
# cuda_emu.h (kernels run as fibers, warp-level PTX emulated from the PTX ISA fragment layouts) and
# fake_cudart.cpp (host-memory CUDA runtime), then runs the real labs (conv_lab, ops_lab) on it with --quick,
# under AddressSanitizer + UBSan: every out-of-bounds access of a kernel aborts with a report.
#   bash native/lab/emu/run_emu.sh [BUILD_DIR] [--tsan]
#   RK_EMU_COPY=eager bash native/lab/emu/run_emu.sh    (cp.async lands at issue instead of at wait_group)
#   RK_EMU_STREAMS=deferred bash native/lab/emu/run_emu.sh  (stream work runs at synchronization, not at issue)
#   RK_EMU_ORDER=forward|reverse|shuffle bash native/lab/emu/run_emu.sh   (order of a CTA's threads between barriers;
#       unset: each lab runs twice, forward then reverse, so that a missing __syncthreads cannot pass by luck)
# Runs in a few minutes on 2 cores. It checks logic (indexing, fragment layouts, pipeline order, epilogue,
# dispatch, graph capture), not performance; the GPU host runs the same labs for real.
# The Java side on the same emulation: run_java_emu.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/rk_emu}"
[ "${1:-}" = "--tsan" ] && out="${TMPDIR:-/tmp}/rk_emu"
flavor=asan san="-fsanitize=address,undefined -fno-sanitize-recover=undefined" omp=-fopenmp
# TSan: OS threads instead of fibers; the CPU reference runs serially (libgomp is not instrumented and would flood
# the report with false races)
for a in "$@"; do [ "$a" = "--tsan" ] && { flavor=tsan; san="-fsanitize=thread -DRK_EMU_OS_THREADS"; out="$out-tsan"; omp=""; }; done
bash "$here/build_lib.sh" "$out/lib" "$flavor"
mkdir -p "$out"
cxx=(g++ -std=c++20 -O1 -g $san $omp -pthread -Wno-attributes -I/usr/local/cuda/include
     -I"$root/native/include" -I"$root/native/cuda" -include "$here/cuda_emu.h")
compile() {  # src obj extra-flags...
  local src="$1" obj="$2"; shift 2
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$here/cuda_emu.h" -nt "$obj" ] || [ "$root/native/lab/lab_common.h" -nt "$obj" ]; then
    "${cxx[@]}" "$@" -x c++ -c "$src" -o "$obj"
  fi
}
# the labs' CPU reference: the whole CPU library (ISA files with their -m flags, as in CMakeLists.txt)
pids=() cpuobjs=()
mkdir -p "$out/cpu"
for src in "$root"/native/cpu/*.cpp; do
  name="$(basename "$src" .cpp)" isa=()
  case "$name" in *_avx2) isa=(-mavx2 -mfma -mf16c) ;; *_avx512) isa=(-mavx512f -mavx2 -mfma -mf16c) ;;
    *_avx512bf16) isa=(-mavx512f -mavx512bf16 -mavx2 -mfma -mf16c) ;; esac
  compile "$src" "$out/cpu/$name.o" "${isa[@]}" & pids+=($!)
  cpuobjs+=("$out/cpu/$name.o")
done
compile "$root/native/lab/conv_lab.cu" "$out/conv_lab.o" & pids+=($!)
compile "$root/native/lab/ops_lab.cu" "$out/ops_lab.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
libobjs=("$out"/lib/*.o)
"${cxx[@]}" "${libobjs[@]}" "${cpuobjs[@]}" "$out/conv_lab.o" -o "$out/emu_conv_lab" -lgomp
"${cxx[@]}" "${libobjs[@]}" "${cpuobjs[@]}" "$out/ops_lab.o" -o "$out/emu_ops_lab" -lgomp
rc=0
orders=("${RK_EMU_ORDER:-}")
[ -z "${RK_EMU_ORDER:-}" ] && orders=(forward reverse)
for order in "${orders[@]}"; do
  echo "== emulated ops_lab --quick (threads: $order)"; RK_EMU_ORDER="$order" "$out/emu_ops_lab" --quick || rc=1
  echo "== emulated conv_lab --quick (threads: $order)"; RK_EMU_ORDER="$order" "$out/emu_conv_lab" --quick || rc=1
done
exit $rc
