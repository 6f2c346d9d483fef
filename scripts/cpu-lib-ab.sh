#!/usr/bin/env bash
# A/B of the CPU conv kernels between two revisions, in one process (native/lab/ab_cpu_libs.cpp): builds
# libreskern_cpu.so of revision A (a git worktree, CPU only) and of B (default: the working tree as it is), then times
# the same layers alternately with each library. On a shared VM this is the way to see a 5-20 % kernel change; whole
# models move by +-30 % between runs.
#
#   scripts/cpu-lib-ab.sh A_REV [B_REV|.] [ab_cpu_libs options: --set resnet50|resnext50|grouped|wino|cifar --batch 1,8
#                                           --threads N --reps N --filter TEXT --cold N]
#   e.g. scripts/cpu-lib-ab.sh HEAD~1 . --set grouped --batch 1,8
#
# Work folder: ${TMPDIR:-/tmp}/reskern-cpu-ab (builds are kept per commit and reused). Exit: the tool's.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
a_rev="$1"; shift
b_rev="."
if [ $# -ge 1 ] && [[ "$1" != --* ]]; then b_rev="$1"; shift; fi
work="${TMPDIR:-/tmp}/reskern-cpu-ab"
mkdir -p "$work"

# build_lib REV -> prints the path of its libreskern_cpu.so ("." = the working tree, rebuilt every time)
build_lib() {
  local rev="$1" src dir
  if [ "$rev" = "." ]; then
    src="$root"; dir="$work/worktree"
  else
    local sha; sha="$(git -C "$root" rev-parse --short=12 "$rev^{commit}")"
    dir="$work/$sha"
    if [ -f "$dir/lib/libreskern_cpu.so" ]; then echo "$dir/lib/libreskern_cpu.so"; return; fi
    src="$work/src-$sha"
    rm -rf "$src"; git -C "$root" worktree prune
    git -C "$root" worktree add --detach -f "$src" "$sha" >/dev/null 2>&1
  fi
  echo "cpu-lib-ab: building libreskern_cpu.so of $rev in $dir" >&2
  cmake -S "$src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DRESKERN_CUDA=OFF >/dev/null
  cmake --build "$dir/build" --target reskern_cpu -j"$(nproc)" >/dev/null
  mkdir -p "$dir/lib"
  cp "$(find "$dir/build" -maxdepth 2 -name 'libreskern_cpu.so' | head -1)" "$dir/lib/"
  if [ "$rev" != "." ]; then git -C "$root" worktree remove --force "$src" >/dev/null 2>&1 || true; fi
  echo "$dir/lib/libreskern_cpu.so"
}

lib_a="$(build_lib "$a_rev")"
lib_b="$(build_lib "$b_rev")"
tool="$work/ab_cpu_libs"
g++ -O2 -I"$root/native/include" -o "$tool" "$root/native/lab/ab_cpu_libs.cpp" -ldl
echo "A = $a_rev, B = $b_rev ($(git -C "$root" rev-parse --short HEAD)$( [ -n "$(git -C "$root" status --porcelain -- native)" ] && echo ' + uncommitted native changes'))"
exec "$tool" "$lib_a" "$lib_b" "$@"
