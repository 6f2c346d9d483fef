#!/usr/bin/env bash
# The library on the newest JDK this machine has, next to the default 17 that bin/test uses (CI: Temurin 25 under
# /usr/lib/jvm). Run after bin/test (it reuses the build and the downloaded dependencies):
#   1. the API, serving, CLI, ONNX and golden-model tests, built and run on that JDK (bytecode stays --release 17);
#   2. `java -jar` of the CLI jar on that JDK prints no JVM warning (its manifest has Enable-Native-Access for
#      JavaCPP's System.load) and imports an ONNX file with sun.misc.Unsafe memory access denied, as later JDKs will
#      by default (protobuf-java before 4.36 failed there with ExceptionInInitializerError).
#   scripts/jdk-latest-check.sh [JAVA_HOME]     (default: $RESKERN_LATEST_JDK, else the newest /usr/lib/jvm/*-2[1-9]*)
# Without such a JDK it says so and exits 0.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jh="${1:-${RESKERN_LATEST_JDK:-}}"
if [ -z "$jh" ]; then  # the highest feature release among the JDKs whose folder names a version >= 21
  best=0
  for d in /usr/lib/jvm/*-[2-9][0-9]-* /usr/lib/jvm/*-[2-9][0-9]; do
    [ -x "$d/bin/java" ] || continue
    v="$("$d/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best" ]; then best="$v"; jh="$d"; fi
  done
fi
if [ -z "$jh" ] || [ ! -x "$jh/bin/java" ]; then
  echo "[jdk] no JDK 21+ beside the default one under /usr/lib/jvm: skipped"
  exit 0
fi
ver="$("$jh/bin/java" -version 2>&1 | head -n 1)"
echo "[jdk] $jh: $ver"

tests="ModelTest,BatchInvarianceTest,PredictorTest,PredictorImageTest,ClassifyServiceTest,CpuScratchTest,CliTest,ClassifyCliTest"
tests+=",OnnxGoldenTest,OnnxHostileTest,OnnxNodeTest,GoldenModelTest,SafeTensorsTest,SafeTensorsHostileTest,NpyTest,ImageDecoderTest"
echo "[jdk] 1. tests on $ver: $tests"
# examples is in the reactor because tests depend on it: without it Maven takes whatever reskern-examples jar ~/.m2 holds
# (a stale one failed ClassifyServiceTest here; on a machine without one the build cannot resolve it)
JAVA_HOME="$jh" mvn -B -q verify -pl java,examples,tests -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false -Dreskern.isaRuns.skip=true

echo "[jdk] 2. java -jar on $ver: no JVM warnings, ONNX import with sun.misc.Unsafe memory access denied"
jar="$(ls java/target/reskern-*-cli.jar | head -n 1)"
onnx=tests/target/goldens/onnx/onnx_cifar_resnet20_A_bn.onnx; stem=tests/target/goldens/onnx/onnx_cifar_resnet20_A
work="$(mktemp -d "${TMPDIR:-/tmp}/reskern-jdk.XXXXXX")"
trap 'rm -rf "$work"' EXIT
for mode in warn deny; do
  "$jh/bin/java" --sun-misc-unsafe-memory-access=$mode -jar "$jar" run --onnx "$onnx" --device cpu \
    --input "$stem.input.npy" --output "$work/y_$mode.npy" > "$work/out_$mode.txt" 2> "$work/err_$mode.txt" || {
    echo "[jdk] FAILED (unsafe memory access $mode):"; cat "$work/err_$mode.txt"; exit 1; }
  if grep -q '^WARNING' "$work/err_$mode.txt"; then
    echo "[jdk] FAILED: the JVM warned (unsafe memory access $mode):"; cat "$work/err_$mode.txt"; exit 1
  fi
  /usr/bin/python3 - "$work/y_$mode.npy" "$stem.expected.npy" <<'PY'
import sys, numpy as np
y, ref = (np.load(p).astype(np.float64) for p in sys.argv[1:3])
err = np.linalg.norm(y - ref) / np.linalg.norm(ref)
print(f"[jdk]    {sys.argv[1].rsplit('/', 1)[1]}: rel. err {err:.2e} against the PyTorch golden")
sys.exit(0 if err < 1e-4 else 1)
PY
done
echo "[jdk] ok"
