#!/usr/bin/env bash
# One command for the CPU benchmarks: build if needed, make sure the models exist, run JMH, record, summarise.
#
#   benchmarks/run-cpu.sh [--kernels | --kernels-only] [--models A,B] [--bf16] [--threads N] [--quick] [--no-build]
#                         [-- EXTRA JMH ARGS]
#
#   (default)        ModelBenchmark: batch 1 and 8 of each --models model (default ResNet-50), reskern vs ONNX
#                    Runtime, same run
#   --models A,B     the models ModelBenchmark runs (-p model=A,B; default resnet50): torchvision ResNet names
#                    (resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, wide_resnet101_2);
#                    missing ones are exported first (scripts/export_model.py, ~20 s for ResNet-50)
#   --bf16           ModelBenchmark also times reskern with --precision bf16 (the AVX512_BF16 conv kernel; fails on a
#                    CPU without it), next to fp32 and ORT in the same run; with --kernels CpuConvBenchmark runs each
#                    shape in fp32 and bf16
#   --kernels        also PeakBenchmark, CpuConvBenchmark (24 shapes x batch 1, 8), CpuOpsBenchmark
#   --kernels-only   only the kernel benchmarks
#   --threads N      threads for both runtimes (default: nproc; a list such as 1,2 runs each)
#   --quick          smoke test: 0 warm-up, 1 short measurement iteration (numbers not for keeping)
#   --no-build       use benchmarks/target/benchmarks.jar as it is
#   -- ARGS          appended to every JMH command line, e.g. -- -p batch=1
#
# Environment: RESKERN_BENCH_MODELS (model dir, default benchmarks/models), MODEL_JMH / KERNEL_JMH (replace the
# default JMH options below), PEAK_JMH (the roof loop's), RESKERN_CUDA (ON to build the CUDA library too; default OFF), JAVA (java binary).
#
# Writes benchmarks/results/<YYYY-MM-DD>-cpu-<shortsha>[-n]/: meta.json (date, CPU, cores, threads, models, commit,
# command, load), env.json (versions + conv shape table), model.json / kernels.json [/ kernels-bf16.json] / peak-1.json, peak-2.json (JMH: the FMA
# roof loop before and after the kernels), *.log (JMH console), summary.md.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
orig_args="$*"

kernels=0; model=1; quick=0; build=1; bf16=0; threads="$(nproc)"; model_names=resnet50; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kernels) kernels=1 ;;
    --bf16) bf16=1 ;;
    --kernels-only) kernels=1; model=0 ;;
    --threads) threads="$2"; shift ;;
    --models) [ $# -ge 2 ] || { echo "run-cpu.sh: --models needs a list, e.g. --models resnet18,resnet50" >&2; exit 2; }
              model_names="$2"; shift ;;
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "run-cpu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ "$model_names" =~ ^[a-z0-9_]+(,[a-z0-9_]+)*$ ]]; then
  echo "run-cpu.sh: --models wants a comma-separated list of model names, got '$model_names'" >&2; exit 2
fi

model_jmh="${MODEL_JMH:--f 1 -wi 1 -i 3 -w 2s -r 2s}"
kernel_jmh="${KERNEL_JMH:--f 1 -wi 1 -i 3 -w 200ms -r 500ms}"
# The FMA roof loop runs on its own, before and after the kernels, with more iterations: on a shared VM a single
# short window often catches a neighbour, and a roof measured low shows kernels above 100 %.
peak_jmh="${PEAK_JMH:--f 1 -wi 1 -i 8 -w 500ms -r 500ms}"
if [ "$quick" = 1 ]; then model_jmh="-f 1 -wi 0 -i 1 -r 1s"; kernel_jmh="-f 1 -wi 0 -i 1 -r 200ms"; peak_jmh="$kernel_jmh"; fi

jar="$root/benchmarks/target/benchmarks.jar"
if [ "$build" = 1 ]; then
  if [ ! -f "$jar" ] || [ -n "$(find java/src/main native CMakeLists.txt pom.xml java/pom.xml benchmarks/pom.xml \
       benchmarks/src -newer "$jar" -type f -print -quit 2>/dev/null)" ]; then
    echo "run-cpu.sh: building (mvn -pl benchmarks -am package) ..." >&2
    mvn -B -q "-Dreskern.cuda=${RESKERN_CUDA:-OFF}" -DskipTests -pl benchmarks -am package >&2
  fi
fi
[ -f "$jar" ] || { echo "run-cpu.sh: $jar is missing (drop --no-build)" >&2; exit 1; }

models="${RESKERN_BENCH_MODELS:-$root/benchmarks/models}"
if [ "$model" = 1 ]; then
  for m in ${model_names//,/ }; do
    need=0
    for f in "$m.onnx" "$m.safetensors" "$m.input.npy" "$m.expected.npy"; do
      [ -f "$models/$f" ] || need=1
    done
    if [ "$need" = 1 ]; then
      echo "run-cpu.sh: exporting $m to $models (benchmarks/scripts/export_model.py, ~20 s for ResNet-50) ..." >&2
      /usr/bin/python3 benchmarks/scripts/export_model.py --model "$m" --out "$models" >&2
    fi
  done
fi

sha="$(git rev-parse --short HEAD)"
dirty=false
[ -n "$(git status --porcelain -- . ':!benchmarks/results' 2>/dev/null)" ] && dirty=true
out="benchmarks/results/$(date +%F)-cpu-$sha"
if [ -e "$out" ]; then n=2; while [ -e "$out-$n" ]; do n=$((n + 1)); done; out="$out-$n"; fi
mkdir -p "$out"

java_bin="${JAVA:-java}"
jvm=(-Djava.awt.headless=true "-Dorg.bytedeco.javacpp.cachedir=$root/benchmarks/target/javacpp-cache"
     "-Dreskern.bench.models=$models" "-Dreskern.bench.root=$root")
if "$java_bin" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then jvm+=(--enable-native-access=ALL-UNNAMED); fi

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
json_str() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

"$java_bin" "${jvm[@]}" -cp "$jar" io.reskern.bench.BenchInfo > "$out/env.json"
cat > "$out/meta.json" <<EOF
{
  "date": $(json_str "$(date -Is)"),
  "cpu_model": $(json_str "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"),
  "cpu_flags_simd": $(json_str "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_vnni|avx512_bf16|amx_tile)$' | tr '\n' ' ' | sed 's/ $//')"),
  "nproc": $(nproc),
  "threads": "$threads",
  "models": $(json_str "$([ "$model" = 1 ] && echo "$model_names")"),
  "commit": "$(git rev-parse HEAD)",
  "dirty": $dirty,
  "command": $(json_str "$(echo "benchmarks/run-cpu.sh $orig_args" | sed 's/ *$//')"),
  "model_jmh_args": $(json_str "$([ "$model" = 1 ] && echo "$model_jmh ${extra[*]:-}")"),
  "kernel_jmh_args": $(json_str "$([ "$kernels" = 1 ] && echo "$kernel_jmh ${extra[*]:-}")"),
  "peak_jmh_args": $(json_str "$([ "$kernels" = 1 ] && echo "$peak_jmh")"),
  "java": $(json_str "$("$java_bin" -version 2>&1 | head -1)"),
  "loadavg_before": $(json_str "$(loadavg)"),
  "loadavg_after": null
}
EOF
echo "run-cpu.sh: results -> $out (threads $threads, load $(loadavg))" >&2

start=$(date +%s)
if [ "$model" = 1 ]; then
  # shellcheck disable=SC2086
  model_re='io.reskern.bench.ModelBenchmark.(reskern|ort)$'
  [ "$bf16" = 1 ] && model_re='io.reskern.bench.ModelBenchmark.(reskern|reskernBf16|ort)$'
  "$java_bin" "${jvm[@]}" -jar "$jar" "$model_re" -p model="$model_names" \
      -p threads="$threads" $model_jmh \
      ${extra[@]+"${extra[@]}"} -rf json -rff "$out/model.json" 2>&1 | tee "$out/model.log"
fi
peak() {  # peak N: the FMA roof loop -> peak-N.json
  # shellcheck disable=SC2086
  "$java_bin" "${jvm[@]}" -jar "$jar" 'io.reskern.bench.PeakBenchmark' -p threads="$threads" $peak_jmh \
      -rf json -rff "$out/peak-$1.json" 2>&1 | tee "$out/peak-$1.log"
}
if [ "$kernels" = 1 ]; then
  peak 1
  # shellcheck disable=SC2086
  "$java_bin" "${jvm[@]}" -jar "$jar" 'io.reskern.bench.(CpuConvBenchmark|CpuOpsBenchmark)' \
      -p threads="$threads" $kernel_jmh ${extra[@]+"${extra[@]}"} -rf json -rff "$out/kernels.json" 2>&1 \
      | tee "$out/kernels.log"
  if [ "$bf16" = 1 ]; then  # the conv shapes again on the bf16 kernel (its own file: CpuOpsBenchmark has no precision)
    # shellcheck disable=SC2086
    "$java_bin" "${jvm[@]}" -jar "$jar" 'io.reskern.bench.CpuConvBenchmark' -p precision=bf16 \
        -p threads="$threads" $kernel_jmh ${extra[@]+"${extra[@]}"} -rf json -rff "$out/kernels-bf16.json" 2>&1 \
        | tee "$out/kernels-bf16.log"
  fi
  peak 2
fi
/usr/bin/python3 - "$out/meta.json" "$(loadavg)" "$(( $(date +%s) - start ))" <<'EOF'
import json, sys
p = sys.argv[1]; m = json.load(open(p))
m["loadavg_after"] = sys.argv[2]; m["wall_seconds"] = int(sys.argv[3])
json.dump(m, open(p, "w"), indent=2); open(p, "a").write("\n")
EOF
/usr/bin/python3 benchmarks/scripts/summarize.py "$out" | tee "$out/summary.md"
echo "run-cpu.sh: wrote $out ($(( $(date +%s) - start )) s)" >&2
