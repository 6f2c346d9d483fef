#!/usr/bin/env bash
# Bounded Jazzer fuzzing of the safetensors and ONNX parsers (tests/src/test/java/io/reskern/fuzz/):
#   scripts/fuzz.sh [DURATION] [extra mvn args]     DURATION per target, Jazzer syntax (default 60s; e.g. 15m)
# Builds java + tests, runs the fuzz tests' seed corpora (regression mode), then fuzzes each target in its own JVM
# (-Xmx2g), seeded from tests/src/test/resources/io/reskern/fuzz/<Test>Inputs/<method>/ and tests/.cifuzz-corpus/
# (kept between runs). Allowed outcomes of an input: success or ReskernException. Anything else (another exception,
# an Error such as OutOfMemoryError, an input running past 60 s) is a finding: Jazzer saves the input beside the
# seeds (so every later build replays it) and the run fails. bin/test fuzzes the same way inside its build (-Pfuzz).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
duration="${1:-60s}"
shift || true
cd "$root"
echo "[fuzz] $duration per target: OnnxFuzzTest.fuzzImport, SafeTensorsFuzzTest.fuzzSafeTensors"
mvn -B -Pfuzz -pl java,examples,tests verify -Dtest='io/reskern/fuzz/*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dreskern.fuzz.duration="$duration" "$@"
