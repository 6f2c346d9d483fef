#!/usr/bin/env bash
# Builds the host-emulated libreskern_cuda: every native/cuda/*.cu compiled as plain C++ against cuda_emu.h, plus
# fake_cudart.cpp, linked into OUT_DIR/libreskern_cuda.so with the real library's soname and C ABI (only rk_cuda_*
# exported), so that the JNI glue JavaCPP built against the real one loads it unchanged.
#   bash native/lab/emu/build_lib.sh OUT_DIR [plain|asan|tsan]
#     plain: -O2, fibers (fastest; the Java run's default)
#     asan : -O1, AddressSanitizer + UBSan, fibers (run_emu.sh's default; in a JVM: LD_PRELOAD libasan)
#     tsan : -O1, ThreadSanitizer, one std::thread per CUDA thread (-DRK_EMU_OS_THREADS)
# Objects are rebuilt when their source, cuda_emu.h, a native/cuda header, the C ABI header or the flags change.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:?usage: build_lib.sh OUT_DIR [plain|asan|tsan]}"
flavor="${2:-plain}"
case "$flavor" in
  plain) flags=(-O2) ;;
  asan) flags=(-O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined) ;;
  tsan) flags=(-O1 -fsanitize=thread -DRK_EMU_OS_THREADS) ;;
  *) echo "build_lib.sh: unknown flavor $flavor" >&2; exit 2 ;;
esac
mkdir -p "$out"
# -fno-strict-aliasing: the kernels pun registers (uint4 <-> __half2 / __nv_bfloat162 / float) the way CUDA code
# does; nvcc compiles that as meant, g++ -O2 may reorder the punned loads and stores (f16 ops gave garbage).
cxx=(g++ -std=c++20 -g -fPIC -pthread -Wno-attributes -fno-strict-aliasing "${flags[@]}" -I/usr/local/cuda/include
     -I"$root/native/include" -I"$root/native/cuda" -include "$here/cuda_emu.h")
# a change of flags invalidates every object
if [ "$(cat "$out/.flags" 2>/dev/null || true)" != "${cxx[*]}" ]; then rm -f "$out"/*.o; echo "${cxx[*]}" >"$out/.flags"; fi
headers=("$here/cuda_emu.h" "$root"/native/cuda/*.cuh "$root/native/include/reskern_cuda.h" "$root/native/include/reskern_cpu.h")
stale() {  # obj src
  [ -f "$1" ] || return 0
  for f in "$2" "${headers[@]}"; do [ "$f" -nt "$1" ] && return 0; done
  return 1
}
objs=() pids=()
build() {  # src obj extra-flags...
  local src="$1" obj="$2"; shift 2
  objs+=("$obj")
  if stale "$obj" "$src"; then
    "${cxx[@]}" "$@" -x c++ -c "$src" -o "$obj" & pids+=($!)
    if [ ${#pids[@]} -ge "$(nproc)" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
}
for src in "$root"/native/cuda/*.cu; do
  name="$(basename "$src" .cu)"
  case "$name" in conv_tc_*) build "$src" "$out/$name.o" ;; *) build "$src" "$out/$name.o" -DEMU_SHARED_STATIC ;; esac
done
build "$here/fake_cudart.cpp" "$out/fake_cudart.o" -DEMU_SHARED_STATIC
for p in "${pids[@]}"; do wait "$p"; done
printf '{ global: rk_cuda_*; local: *; };\n' >"$out/exports.map"
g++ -shared -pthread "${flags[@]}" -Wl,-soname,libreskern_cuda.so -Wl,-z,defs -Wl,--version-script="$out/exports.map" \
    -o "$out/libreskern_cuda.so" "${objs[@]}"
