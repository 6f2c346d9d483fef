#!/usr/bin/env bash
# CUDA compiler launcher of reskern_cuda (CMakeLists.txt): runs the nvcc command line it is given with ptxas -v and
# keeps ptxas's resource report (registers, spills, stack, shared memory per kernel and architecture) in OBJ.ptxas.txt
# next to the object, for check_resources.py (run after the library is linked). Only the report's "ptxas info" lines
# are kept out of the build log; warnings and errors still go to stderr, and the exit status is nvcc's.
out="" prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && out="$a"
  prev="$a"
done
[ -n "$out" ] || exec "$@"
log="$out.ptxas.txt"
"$@" -Xptxas=-v 2>"$log"
rc=$?
grep -v -e '^ptxas info' -e '^    [0-9]* bytes stack frame' "$log" >&2
exit "$rc"
