#!/usr/bin/env bash
# The Java CUDA path without a GPU: runs the GPU JUnit tests (tests/src/test/java/io/reskern/gpu/) through the real
# JNI glue (libjniCudaOps.so) against the host-emulated libreskern_cuda.so (build_lib.sh: native/cuda/*.cu as C++
# on cuda_emu.h + fake_cudart.cpp), so CudaDeviceModel, CudaExecutor (staging, Fusion schedule, graph capture and
# replay, buffer growth, close), DeviceBuffer and the serving Predictor on "cuda:i" all run for real.
#
#   bash native/lab/emu/run_java_emu.sh [options] [TEST_PATTERN]
#     TEST_PATTERN   surefire -Dtest pattern (default: CudaOpsTest,CudaModelTest,PredictorGpuTest)
#     --build        first build the Java modules (mvn install -DskipTests -Dreskern.cuda=OFF -pl java,examples -am and
#                    test-compile -pl tests); otherwise the existing java/target/classes + tests/target/test-classes
#                    are used (any CUDA setting: the JNI glue only needs the soname libreskern_cuda.so)
#     --asan         emulated library with ASan + UBSan, libasan preloaded into the test JVM (slower, ~2x)
#     --sync         stream work runs at issue (RK_EMU_STREAMS=sync) instead of at synchronization (deferred)
#     --full         full-size tests (no -Dreskern.gpuTestScale=emu): hours
#     --out DIR      work folder (default ${TMPDIR:-/tmp}/rk_java_emu)
# Environment passed through: RK_EMU_COPY, RK_EMU_DEVICE_MEM_MIB, RK_EMU_POISON; RK_EMU_DEVICES defaults to 2 here
# (so that the multi-GPU Predictor test runs). Exit status: surefire's (0 = every test passed or was skipped).
# Prints a per-class summary (tests, failures, errors, skipped with the reason) and the wall time at the end; the
# surefire XML reports are copied to OUT/reports.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${TMPDIR:-/tmp}/rk_java_emu" flavor=plain streams=deferred build=0 scale=emu
pattern="CudaOpsTest,CudaModelTest,PredictorGpuTest"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=1 ;;
    --asan) flavor=asan ;;
    --sync) streams=sync ;;
    --full) scale="" ;;
    --out) out="$2"; shift ;;
    -*) echo "run_java_emu.sh: unknown option $1" >&2; exit 2 ;;
    *) pattern="$1" ;;
  esac
  shift
done
t0=$(date +%s)
cd "$root"
mvn_args=(-B -o -q)
if [ "$build" = 1 ]; then
  echo "== building the Java modules (CUDA stand-in library; the emulated one replaces it below)"
  mvn "${mvn_args[@]}" install -DskipTests -Dreskern.cuda=OFF -pl java,examples -am
  mvn "${mvn_args[@]}" test-compile -pl tests
fi
natives="$root/java/target/classes/io/reskern/nativelib/linux-x86_64"
if [ ! -f "$natives/libjniCudaOps.so" ] || [ ! -d "$root/tests/target/test-classes/io/reskern/gpu" ]; then
  echo "run_java_emu.sh: no Java build in java/target and tests/target: run with --build" >&2
  exit 2
fi
newer="$(find "$root/java/src/main" "$root/tests/src/test" -name '*.java' -newer "$natives/libjniCudaOps.so" | head -3)"
[ -n "$newer" ] && echo "warning: sources newer than the build (e.g. ${newer%%$'\n'*}); --build rebuilds"

echo "== emulated libreskern_cuda ($flavor)"
bash "$here/build_lib.sh" "$out/lib-$flavor" "$flavor"
# A class-path folder where the emulated library replaces the real one. JavaCPP loads libraries found in a class-path
# *folder* in place (it extracts to its cache only from jars), so nothing stale can come from the cache.
rm -rf "$out/classes"
cp -r "$root/java/target/classes" "$out/classes"
cp "$out/lib-$flavor/libreskern_cuda.so" "$out/classes/io/reskern/nativelib/linux-x86_64/libreskern_cuda.so"

# The test JVM: surefire forks this wrapper (-Djvm; it must be named .../bin/java) so that libasan is preloaded only
# there, not into Maven.
mkdir -p "$out/jvm/bin"
java_bin="$(command -v java)"
[ -n "${JAVA_HOME:-}" ] && java_bin="$JAVA_HOME/bin/java"
{
  echo '#!/usr/bin/env bash'
  if [ "$flavor" = asan ]; then
    # handle_segv=0: the JVM uses SIGSEGV itself (implicit null checks, safepoints); leaks: the JVM never frees
    echo "export LD_PRELOAD=\"$(g++ -print-file-name=libasan.so)\""
    echo 'export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1:abort_on_error=1:detect_stack_use_after_return=0:${ASAN_OPTIONS:-}"'
    echo 'export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"'
  fi
  # the JVM's stderr also goes to a file: an emulator abort (emu: ...), an ASan report or a glibc heap check kills the
  # fork before surefire can report it
  echo "exec \"$java_bin\" \"\$@\" 2> >(tee -a \"$out/jvm-stderr.log\" >&2)"
} >"$out/jvm/bin/java"
chmod +x "$out/jvm/bin/java"

# goldens for CudaModelTest.pytorchGoldensOnCuda (PyTorch, as the Maven build makes them; skipped without torch)
bash "$root/tests/golden/make_goldens.sh" "$root/tests/target/goldens" || true

export RK_EMU_STREAMS="$streams" RK_EMU_DEVICES="${RK_EMU_DEVICES:-2}"
reports="$root/tests/target/surefire-reports"
mkdir -p "$reports"
rm -f "$reports"/TEST-io.reskern.gpu.*.xml "$reports"/io.reskern.gpu.*.txt
echo "== GPU tests on the emulation: $pattern (streams $streams, ${RK_EMU_DEVICES} device(s), scale ${scale:-full})"
props=(-Dtest="$pattern" -Dsurefire.failIfNoSpecifiedTests=false -Dreskern.requireGpu=true
       -Dmaven.test.dependency.excludes=io.reskern:reskern -Dmaven.test.additionalClasspath="$out/classes"
       -Djvm="$out/jvm/bin/java" -Dreskern.goldens="$root/tests/target/goldens")
[ -n "$scale" ] && props+=(-Dreskern.gpuTestScale="$scale")
rc=0
rm -f "$out/jvm-stderr.log"
mvn -B -o -pl tests surefire:test "${props[@]}" || rc=$?
if [ "$rc" != 0 ] && [ -s "$out/jvm-stderr.log" ]; then
  echo "== the test JVM's stderr (last 40 lines of $out/jvm-stderr.log)"
  tail -40 "$out/jvm-stderr.log"
fi
rm -rf "$out/reports"; mkdir -p "$out/reports"
cp "$reports"/TEST-io.reskern.gpu.*.xml "$out/reports/" 2>/dev/null || true

/usr/bin/python3 - "$out/reports" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/TEST-*.xml")):
    s = ET.parse(f).getroot()
    skips = {}
    for tc in s.iter("testcase"):
        sk = tc.find("skipped")
        if sk is not None:
            skips.setdefault(sk.get("message") or "(no reason)", []).append(tc.get("name"))
    print(f"{s.get('name').split('.')[-1]:<20} tests {s.get('tests'):>4}  failures {s.get('failures'):>3}  errors {s.get('errors'):>3}"
          f"  skipped {s.get('skipped'):>3}  {float(s.get('time')):7.1f} s")
    for why, names in skips.items():
        print(f"    skipped {len(names)}: {why}  ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})")
EOF
echo "== wall time $(( $(date +%s) - t0 )) s, surefire exit status $rc"
exit $rc
