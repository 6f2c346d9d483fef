#!/usr/bin/env bash
# reskern GPU bundle: every GPU check and benchmark in one command, on a host with a GPU, Python + torch, and no
# Java (the bundle brings its own). Built by scripts/gpu-bundle/make-bundle.sh; usually started through the
# launcher bundle-out/run.sh, which unpacks the bundle and passes its arguments on.
#
#   run.sh [--dry-run] [--budget S] [--steps a,b] [--skip a,b] [--out DIR] [--jmh REGEX] [--tests REGEX]
#
# Steps, in this order, each time-boxed (a failing step does not stop the others):
#   env        nvidia-smi, driver/CUDA/torch versions, ldd of the native code, `reskern info` (CUDA probe)
#   goldens    peers/make_gpu_goldens.py: torchvision + timm models -> safetensors, inputs, float64 outputs
#   tests      the JUnit GPU tests (tag "gpu"; one JVM per class) with -Dreskern.requireGpu=true and the goldens
#   labs       every native/bin/lab_* (arguments and caps in lab-args.conf)
#   bench      reskern `bench --json`: ResNet-50 fp16, bf16, tf32, fp32 at batch 1, 32, 256 (224x224)
#   serve      serving on the GPU: SoakRun (8 callers through one Predictor: bit-identity at one batch size, GPU
#              memory samples) and the example HTTP service under LoadClient (1, 8, 32 connections)
#   peer       peers/torch_peer.py: torchvision resnet50 eager / CUDA graph / torch.compile, same batches
#   cudnn      cuDNN baseline: JMH per-shape (GpuConvBenchmark) + block (GpuBlockBenchmark) sweeps own / cuDNN fused /
#              cuDNN unfused; `bench --conv best` (ResNet-50 fp16 b1/32/256); `compare --conv own,cudnn,best`
#   sanitizer  compute-sanitizer memcheck + racecheck on a quick lab run and a batch-1 ResNet-50 Java run
#   jmh        only with --jmh REGEX (and JMH benchmarks in the bundle)
# --budget S   total seconds (default 525: the run must end inside the device tool's 10-minute command limit);
#              each step gets min(its cap, what is left after the minimums of the later steps), but at least its
#              own minimum while time is left (earlier steps win)
# --tests RE   only the GPU test classes whose name matches RE (grep -E), e.g. --tests CudnnTest
# --dry-run    (alias --no-gpu) for a machine without a GPU: requireGpu=false (GPU tests must SKIP), quick goldens,
#              a CPU bench + one CUDA bench that must fail cleanly, the torch peer on the CPU
# Results: $OUT if set, else --out DIR, else ./gpu-results: summary.md and results.tar.gz (the full results:
# logs, JUnit XML, JSON); without $OUT also the unpacked results/ folder. The summary table is printed last.
set -uo pipefail

B="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DRY=0
BUDGET="${RESKERN_BUDGET:-525}"
ONLY=""
SKIP=""
FINAL=""
JMH=""
TESTS=""
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run|--no-gpu) DRY=1 ;;
    --budget) BUDGET="$2"; shift ;;
    --steps) ONLY="$2"; shift ;;
    --skip) SKIP="$2"; shift ;;
    --out) FINAL="$2"; shift ;;
    --jmh) JMH="$2"; shift ;;
    --tests) TESTS="$2"; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done

T0="${RESKERN_T0:-$(date +%s)}"
now() { date +%s; }
if [ -z "$FINAL" ]; then FINAL="${OUT:-$PWD/gpu-results}"; fi
mkdir -p "$FINAL" && FINAL="$(cd "$FINAL" && pwd)"
WORK="$(mktemp -d /tmp/reskern-run.XXXXXX)"
R="$WORK/results"
mkdir -p "$R"/{env,goldens,tests,labs,bench,serve,peer,cudnn,sanitizer}
GOLD="${RESKERN_GOLDENS_DIR:-/tmp/reskern-goldens}"
exec > >(tee -a "$R/console.txt") 2>&1

# ---------------------------------------------------------------- environment
# Python: the one with torch (the host's plain python3); any python3 still writes the summary.
PY="${RESKERN_PYTHON:-}"
if [ -z "$PY" ]; then
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then PY="$(command -v "$p")"; break; fi
  done
fi
SUMPY="${PY:-$(command -v python3 || true)}"
export PYTHONUNBUFFERED=1
# Folders of the PyTorch wheels' NVIDIA libraries (cuDNN, cuBLAS, ...), for the Java steps (later cuDNN work).
NVLIB=""
if [ -n "$PY" ]; then
  NVLIB="$("$PY" - <<'EOF' 2>/dev/null
import os
try:
    import nvidia
    dirs = set()
    for base in nvidia.__path__:
        for root, subdirs, files in os.walk(base):
            if os.path.basename(root) == "lib" and any(".so" in f for f in files):
                dirs.add(root)
            if root.count(os.sep) - base.count(os.sep) >= 2:
                subdirs[:] = []
    print(":".join(sorted(dirs)))
except Exception:
    pass
EOF
)"
fi
JLD="$B/native/lib${NVLIB:+:$NVLIB}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export JAVA_HOME="$B/jre"
JAVA="$JAVA_HOME/bin/java"
REQ=true; [ "$DRY" = 1 ] && REQ=false
JOPTS=("-Xmx${RESKERN_XMX:-16g}" -Djava.awt.headless=true --enable-native-access=ALL-UNNAMED
       "-Dorg.bytedeco.javacpp.cachedir=${RESKERN_JAVACPP_CACHE:-/tmp/reskern-javacpp-cache}" "-Dreskern.requireGpu=$REQ")
CP="$B/native/cp:$B/lib/*"                       # reskern + deps (+ the JUnit console jar, harmless)
TCP="$CP:$B/lib/test/*"                          # + the test classes
CS="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)"
NPROC="$(nproc 2>/dev/null || echo 8)"
rjava() { env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" "$@"; }

# ---------------------------------------------------------------- step machinery
ORDER=(env goldens tests labs bench serve peer cudnn sanitizer jmh)
declare -A CAP=([env]=45 [goldens]=150 [tests]=210 [labs]=150 [bench]=110 [serve]=100 [peer]=170 [cudnn]=290 [sanitizer]=150 [jmh]=120)
declare -A MIN=([env]=15 [goldens]=30 [tests]=60 [labs]=20 [bench]=60 [serve]=40 [peer]=90 [cudnn]=60 [sanitizer]=20 [jmh]=30)
RESERVE=15                                       # summary + tar at the end
STEP_END=0
printf 'step\tstatus\trc\tseconds\tnote\n' > "$R/steps.tsv"

selected() {
  local s="$1"
  [ "$s" = jmh ] && [ -z "$JMH" ] && return 1
  [ -n "$ONLY" ] && [[ ",$ONLY," != *",$s,"* ]] && return 1
  [[ ",$SKIP," == *",$s,"* ]] && return 1
  return 0
}
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$R/steps.tsv"; }
# After every step: the results so far into $FINAL (results.tar.gz + a summary.md of the steps table), so that a run
# killed from outside (the device tool's command limit, a hung step past its own timeout) still returns what it got.
# The end of the run overwrites both with the full ones.
checkpoint() {
  { echo "# reskern GPU run: PARTIAL (checkpoint after step $1, $(( $(now) - T0 ))s; the run did not reach its end)"
    echo '```'; column -t -s $'\t' "$R/steps.tsv" 2>/dev/null || cat "$R/steps.tsv"; echo '```'; } > "$FINAL/summary.md"
  tar -C "$WORK" -czf "$FINAL/results.tar.gz.part" results 2>/dev/null || return 0
  if [ "$(stat -c %s "$FINAL/results.tar.gz.part")" -gt $((15 * 1048576)) ]; then  # over what comes back: leave out logs > 2 MiB
    (cd "$WORK" && find results -type f -size +2M > results/checkpoint-left-out.txt &&
     tar -czf "$FINAL/results.tar.gz.part" -X results/checkpoint-left-out.txt results 2>/dev/null)
  fi
  mv "$FINAL/results.tar.gz.part" "$FINAL/results.tar.gz"
}
# tmo CAP CMD...: CMD with a timeout of min(CAP, what is left of the current step)
tmo() {
  local cap="$1"; shift
  local left=$(( STEP_END - $(now) ))
  (( left > cap )) && left="$cap"
  (( left < 1 )) && { echo "[run] no time left for: $*"; return 124; }
  timeout -k 10 "$left" "$@"
}
run_step() {
  local s="$1" later=0 seen=0 t
  if ! selected "$s"; then
    [ "$s" = jmh ] || record "$s" skipped - 0 "not selected"
    return
  fi
  for t in "${ORDER[@]}"; do
    if [ "$seen" = 1 ] && selected "$t"; then later=$(( later + MIN[$t] )); fi
    [ "$t" = "$s" ] && seen=1
  done
  local cap="${CAP[$s]}" ov="RESKERN_CAP_${s^^}"
  [ -n "${!ov:-}" ] && cap="${!ov}"
  # what is left, less the minimums of the later steps, but never less than this step's own minimum:
  # when time is short the earlier steps win
  local left=$(( T0 + BUDGET - RESERVE - $(now) ))
  local budget=$(( left - later ))
  (( budget < MIN[$s] )) && budget="${MIN[$s]}"
  (( budget > left )) && budget="$left"
  (( budget > cap )) && budget="$cap"
  if (( left < MIN[$s] / 2 || budget < 1 )); then
    echo "== [$s] skipped: out of time ($left s left)"
    record "$s" skipped - 0 "out of time"
    return
  fi
  STEP_END=$(( $(now) + budget ))
  echo
  echo "== [$s] up to ${budget}s (elapsed $(( $(now) - T0 ))s of ${BUDGET}s)"
  local t1 rc st
  t1=$(now)
  "step_$s"
  rc=$?
  case "$rc" in 0) st=ok ;; 124|137) st=timeout ;; 3) st=n/a ;; *) st=failed ;; esac
  record "$s" "$st" "$rc" "$(( $(now) - t1 ))" "${NOTE:-}"
  NOTE=""
  checkpoint "$s"
  echo "== [$s] $st in $(( $(now) - t1 ))s"
}

# ---------------------------------------------------------------- steps
step_env() {
  {
    echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host:     $(hostname) $(uname -srm), $NPROC cores"
    echo "args:     $ARGS"
    echo "dry-run:  $DRY"
    echo "budget:   $BUDGET s"
    echo "python:   ${PY:-none with torch}"
    echo "nvlibs:   ${NVLIB:-none}"
    echo "sanitizer:${CS:- none}"
  } > "$R/env/run-info.txt"
  cp "$B/BUNDLE.txt" "$R/env/BUNDLE.txt" 2>/dev/null
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi -L | tee "$R/env/nvidia-smi-L.txt"
    nvidia-smi > "$R/env/nvidia-smi.txt" 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu,persistence_mode,mig.mode.current --format=csv \
      > "$R/env/gpu.csv" 2>&1
    echo "driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1), $(grep -o 'CUDA Version: [0-9.]*' "$R/env/nvidia-smi.txt" | head -1)" \
      | tee "$R/env/driver.txt"
  else
    echo "nvidia-smi: not found" | tee "$R/env/nvidia-smi-L.txt"
  fi
  { nvcc --version 2>/dev/null | tail -2; [ -n "$CS" ] && "$CS" --version 2>/dev/null | head -2; } > "$R/env/cuda-tools.txt"
  if [ -n "$PY" ]; then
    tmo 40 "$PY" -c 'import torch, torchvision, sys
print("torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.version.cuda,
      "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
try:
    import timm; print("timm", timm.__version__)
except Exception as e:
    print("timm: not importable:", e)' 2>&1 | tee "$R/env/python.txt"
  fi
  # Everything the native code links against must resolve (libcuda.so.1 is loaded at run time by the static cudart).
  for f in "$B"/native/cp/io/reskern/nativelib/linux-x86_64/*.so "$B"/native/bin/*; do
    [ -f "$f" ] && { echo "## $(basename "$f")"; env LD_LIBRARY_PATH="$JLD" ldd "$f" 2>&1; }
  done > "$R/env/ldd.txt"
  grep -B50 'not found' "$R/env/ldd.txt" | grep -E '^##|not found' && NOTE="unresolved libraries (env/ldd.txt)"
  "$JAVA" -version 2>&1 | head -1
  tmo 40 env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" -cp "$CP" io.reskern.cli.Main info 2>&1 | tee "$R/env/reskern-info.txt"
  local rc=${PIPESTATUS[0]}
  free -g > "$R/env/memory.txt" 2>&1; lscpu > "$R/env/lscpu.txt" 2>&1
  return "$rc"
}

step_goldens() {
  [ -n "$PY" ] || { echo "no python3 with torch: no goldens"; return 1; }
  rm -rf "$GOLD"
  local q=(); [ "$DRY" = 1 ] && q=(--quick)
  tmo "${CAP[goldens]}" "$PY" "$B/peers/make_gpu_goldens.py" --out "$GOLD" "${q[@]}" > "$R/goldens/log.txt" 2>&1
  local rc=$?
  cat "$R/goldens/log.txt"
  cp "$GOLD/manifest.json" "$R/goldens/" 2>/dev/null
  return "$rc"
}

step_tests() {
  local gp=() classes=() c rc=0 r n i=0
  [ -f "$GOLD/manifest.json" ] && gp=("-Dreskern.gpuGoldens=$GOLD")
  mapfile -t classes < <(grep -v '^#' "$B/lib/test/gpu-test-classes.txt" 2>/dev/null | grep -E "${TESTS:-.}")
  [ "${#classes[@]}" -gt 0 ] || { echo "no GPU test classes listed in lib/test/gpu-test-classes.txt"; return 1; }
  n=${#classes[@]}
  for c in "${classes[@]}"; do
    # one JVM per class: a class that hangs or crashes the JVM costs only its own report
    # an even share of what is left; time a class does not use goes to the ones after it
    local short="${c##*.}" left=$(( STEP_END - $(now) )) rest=$(( n - i - 1 ))
    local cap=$(( left / (rest + 1) ))
    (( cap < 30 )) && cap=30
    i=$((i + 1))
    mkdir -p "$R/tests/$short"
    echo "-- $short (up to ${cap}s)"
    tmo "$cap" env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" "${gp[@]}" -cp "$TCP" \
      org.junit.platform.console.ConsoleLauncher execute --select-class "$c" --include-tag gpu \
      --reports-dir "$R/tests/$short" --details testfeed --disable-banner --disable-ansi-colors \
      > "$R/tests/$short/console.txt" 2>&1
    r=$?
    echo "$r" > "$R/tests/$short/rc"
    echo "   rc=$r, tests: $(grep -oE '[0-9]+ tests (successful|failed|aborted|skipped)' "$R/tests/$short/console.txt" \
      | sed 's/ tests//' | paste -sd, - | sed 's/,/, /g')"
    if [ "$r" = 124 ] || [ "$r" = 137 ]; then
      echo "   killed by the timeout (no XML report; tests/$short/console.txt has the streamed results)"
    fi
    [ "$r" = 0 ] || rc=1
  done
  return "$rc"
}

lab_conf() {  # lab_conf KIND LAB: prints the first matching entry's value, status 1 when none
  local kind="$1" lab="$2" k pat rest
  while read -r k pat rest; do
    [ -z "$k" ] || [[ "$k" == \#* ]] && continue
    # shellcheck disable=SC2053
    if [ "$k" = "$kind" ] && [[ "$lab" == $pat ]]; then echo "${rest//\{nproc\}/$NPROC}"; return 0; fi
  done < "$B/lab-args.conf"
  return 1
}

lab_list() {  # CUDA labs first, then CPU labs
  local f
  for f in "$B"/native/bin/lab_*; do [ -x "$f" ] && [[ "$(basename "$f")" != lab_cpu_* ]] && echo "$f"; done
  for f in "$B"/native/bin/lab_cpu_*; do [ -x "$f" ] && echo "$f"; done
}

step_labs() {
  local exe n args cap rc=0 r t1 any=0
  while read -r exe; do
    any=1
    n="$(basename "$exe")"
    if lab_conf skip "$n" >/dev/null; then echo "-- $n: skipped (lab-args.conf)"; continue; fi
    args="$(lab_conf run "$n" || true)"
    cap="$(lab_conf timeout "$n" || echo 60)"
    echo "-- $n $args (up to ${cap}s)"
    t1=$(now)
    # shellcheck disable=SC2086
    (cd "$R/labs" && tmo "$cap" env LD_LIBRARY_PATH="$JLD" "$exe" $args) < /dev/null > "$R/labs/$n.txt" 2>&1
    r=$?
    printf '%s %s %s\n' "$r" "$(( $(now) - t1 ))" "$args" > "$R/labs/$n.rc"
    tail -n 12 "$R/labs/$n.txt" | sed 's/^/   /'
    echo "   rc=$r in $(( $(now) - t1 ))s"
    [ "$r" = 0 ] || rc=1
  done < <(lab_list)
  [ "$any" = 1 ] || { echo "no lab_* executables in this bundle"; NOTE="no labs"; return 3; }
  return "$rc"
}

bench_one() {  # bench_one MODEL DEVICE PRECISION BATCH
  local f="$R/bench/reskern_${1}_${2%%:*}_${3}_b${4}" r
  tmo 90 env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" -cp "$CP" io.reskern.cli.Main bench --model "$1" --device "$2" \
    --precision "$3" --batch "$4" --warmup 5 --iters 20 --seconds 1 --json > "$f.json" 2> "$f.err"
  r=$?
  echo "$r" > "$f.rc"
  if [ "$r" = 0 ]; then
    printf '   %-8s %-6s %-5s b%-4s %s\n' "$1" "${2%%:*}" "$3" "$4" \
      "$(sed -E 's/.*"median_ms":([0-9.]+).*"images_per_s":([0-9.]+).*/median \1 ms, \2 img\/s/' "$f.json")"
  else
    printf '   %-8s %-6s %-5s b%-4s rc=%s: %s\n' "$1" "${2%%:*}" "$3" "$4" "$r" "$(tail -n 1 "$f.err")"
  fi
  return "$r"
}

step_bench() {
  local rc=0 p b
  if [ "$DRY" = 1 ]; then
    bench_one cifar_resnet20 cpu fp32 1 || rc=1
    bench_one resnet50 cuda:0 fp16 1 && { echo "   a CUDA bench succeeded in a dry run?"; rc=1; }
    return "$rc"
  fi
  for p in fp16 bf16 tf32 fp32; do
    for b in 1 32 256; do bench_one resnet50 cuda:0 "$p" "$b" || rc=1; done
  done
  return "$rc"
}

step_serve() {
  local rc=0 model=resnet50 dev=cuda:0 prec=fp16 size=224 per=300 port pid i
  [ -f "$B/lib/reskern-examples.jar" ] || { echo "no examples jar in this bundle"; return 3; }
  if [ "$DRY" = 1 ]; then model=cifar_resnet20; dev=cpu; prec=fp32; size=32; per=50; fi
  local half=$(( (STEP_END - $(now)) / 2 ))
  echo "-- SoakRun: $model $dev $prec ${size}x${size}, 8 callers x $per, one batch size (16)"
  tmo "$half" env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" -cp "$CP:$B/lib/jmh/*" io.reskern.bench.serve.SoakRun \
    --model "$model" --device "$dev" --precision "$prec" --size "$size" --callers 8 --per-thread "$per" --max-batch 16 \
    --batch-sizes 16 --sample-s 2 --out "$R/serve" > "$R/serve/soak.txt" 2>&1 || rc=1
  tail -n 1 "$R/serve/soak.txt" | sed 's/^/   /'
  port=$(( 20000 + RANDOM % 20000 ))
  env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" -cp "$CP:$B/lib/reskern-examples.jar" io.reskern.examples.ClassifyService \
    --model "$model" --device "$dev" --precision "$prec" --size "$size" --port "$port" --http-threads 64 \
    > "$R/serve/service.txt" 2>&1 &
  pid=$!
  for i in $(seq 1 120); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.5; done
  echo "-- example service on :$port under LoadClient (1, 8, 32 connections)"
  tmo 200 env LD_LIBRARY_PATH="$JLD" "$JAVA" -cp "$B/lib/reskern-examples.jar:$B/lib/*" io.reskern.examples.LoadClient \
    --url "http://127.0.0.1:$port/v1/predict" --size "$size" --connections 1,8,32 --duration-s 8 --warmup-s 3 \
    --out "$R/serve/load.json" > "$R/serve/load.txt" 2>&1 || rc=1
  sed 's/^/   /' "$R/serve/load.txt" | tail -n 6
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return "$rc"
}

step_peer() {
  [ -n "$PY" ] || { echo "no python3 with torch"; return 1; }
  local left=$(( STEP_END - $(now) - 10 ))
  local a=(--out "$R/peer/torch_peer.json" --budget "$left")
  [ "$DRY" = 1 ] && a+=(--device cpu --batches 1 --precisions fp16 --size 64 --iters 3 --seconds 0 --no-compile)
  tmo "${CAP[peer]}" "$PY" "$B/peers/torch_peer.py" "${a[@]}" > "$R/peer/log.txt" 2>&1
  local rc=$?
  cat "$R/peer/log.txt"
  return "$rc"
}

# cuDNN baseline (docs: benchmarks/README.md "GPU: reskern vs cuDNN"). Sub-steps with their own caps, each one
# time-boxed; the tuning cache of this run is kept in results/cudnn/tune-cache (it records every per-layer choice).
step_cudnn() {
  local rc=0 r b p TC="$R/cudnn/tune-cache" JM=("$B/lib/jmh/*")
  mkdir -p "$TC"
  local CJ=("${JOPTS[@]}" "-Dreskern.tuneCache=$TC")
  if [ ! -d "$B/lib/jmh" ]; then echo "no JMH benchmarks in this bundle"; rc=1; else
    local jq=(-wi 1 -w 200ms -i 3 -r 200ms -f 0)
    [ "$DRY" = 1 ] && jq=(-wi 0 -i 1 -r 50ms -f 0 -p layer=conv1 -p block=basic)
    # one JMH run per implementation: JMH writes its JSON only at the end, so a timeout loses one part, not the sweep
    local i
    for i in own cudnn cudnn_unfused; do
      echo "-- JMH GpuConvBenchmark impl=$i (every ResNet-50 shape + v1d/v2 launches, fp16, batch 32)"
      tmo "${RESKERN_CAP_CUDNN_CONV:-50}" env LD_LIBRARY_PATH="$JLD" "$JAVA" "${CJ[@]}" -cp "$CP:${JM[0]}" org.openjdk.jmh.Main \
        'io.reskern.bench.GpuConvBenchmark' -p impl="$i" "${jq[@]}" -rf json -rff "$R/cudnn/conv-$i.json" > "$R/cudnn/conv-$i.log" 2>&1
      r=$?; echo "   rc=$r"; grep -E '^# (roofline|cudnn.*workspace)' "$R/cudnn/conv-$i.log" | head -n 2 | sed 's/^/   /'
      [ "$r" = 0 ] || rc=1
    done
    echo "-- JMH GpuBlockBenchmark (basic, bottleneck, v1d_down, v2_preact x own/cudnn/cudnn_unfused)"
    tmo "${RESKERN_CAP_CUDNN_BLOCK:-45}" env LD_LIBRARY_PATH="$JLD" "$JAVA" "${CJ[@]}" -cp "$CP:${JM[0]}" org.openjdk.jmh.Main \
      'io.reskern.bench.GpuBlockBenchmark' "${jq[@]}" -rf json -rff "$R/cudnn/block.json" > "$R/cudnn/block.log" 2>&1
    r=$?; echo "   rc=$r"; [ "$r" = 0 ] || rc=1
    local nf; nf=$(cat "$R"/cudnn/conv-*.log "$R/cudnn/block.log" 2>/dev/null | grep -c '<failure>')
    if [ "$nf" -gt 0 ]; then
      NOTE="$nf JMH benchmarks failed (cudnn/*.log)"; echo "   $NOTE"; cat "$R"/cudnn/conv-*.log | grep -A2 '<failure>' | grep -vE '^\s+at |^--$|<failure>' | sort | uniq -c | head -5
      [ "$DRY" = 1 ] || rc=1
    fi
  fi
  # the model with --conv best (tuned per layer, cache in this run's folder) next to the bench step's --conv own
  local bs=(1 32 256); [ "$DRY" = 1 ] && bs=(1)
  for b in "${bs[@]}"; do
    local f="$R/cudnn/reskern_best_resnet50_fp16_b$b"
    tmo 70 env LD_LIBRARY_PATH="$JLD" "$JAVA" "${CJ[@]}" -cp "$CP" io.reskern.cli.Main bench --model resnet50 --device cuda:0 \
      --precision fp16 --batch "$b" --warmup 5 --iters 20 --seconds 1 --conv best --no-progress --json > "$f.json" 2> "$f.err"
    r=$?; echo "$r" > "$f.rc"
    echo "   bench --conv best b$b: rc=$r $(sed -E 's/.*"median_ms":([0-9.]+).*"images_per_s":([0-9.]+).*/median \1 ms, \2 img\/s/' "$f.json" 2>/dev/null) $(tail -n 1 "$f.err" | cut -c1-160)"
    if [ "$DRY" = 1 ]; then [ "$r" = 0 ] && { echo "   a CUDA bench succeeded in a dry run?"; rc=1; }; else [ "$r" = 0 ] || rc=1; fi
  done
  local cm=(--models resnet50,resnet50d,resnetv2_50 --conv own,cudnn,best --precision fp16 --batch 64 --seconds 0.3)
  [ "$DRY" = 1 ] && cm=(--models cifar_resnet20 --device cpu --conv own --seconds 0)
  tmo 80 env LD_LIBRARY_PATH="$JLD" "$JAVA" "${CJ[@]}" -cp "$CP" io.reskern.cli.Main compare "${cm[@]}" --no-progress --json \
    --chart none > "$R/cudnn/compare.txt" 2> "$R/cudnn/compare.err"
  r=$?; echo "$r" > "$R/cudnn/compare.rc"; echo "   compare: rc=$r"  # --json: JSON on stdout, the table on stderr
  grep -v -E '^(INFO|WARNING): |^  measured ' "$R/cudnn/compare.err" | sed -n '1,16p' | sed 's/^/   /'
  [ "$r" = 0 ] || rc=1
  return "$rc"
}

sanitize_one() {  # sanitize_one NAME TOOL CAP CMD...
  local name="$1" tool="$2" cap="$3" r extra=()
  shift 3
  [ "$tool" = memcheck ] && extra=(--leak-check no)
  local f="$R/sanitizer/${name}.${tool}"
  echo "-- $tool: $name (up to ${cap}s)"
  tmo "$cap" env LD_LIBRARY_PATH="$JLD" "$CS" --tool "$tool" "${extra[@]}" --error-exitcode 99 --print-limit 100 "$@" \
    < /dev/null > "$f.txt" 2>&1
  r=$?
  echo "$r" > "$f.rc"
  grep -E '(ERROR|RACECHECK) SUMMARY' "$f.txt" | tail -n 1 | sed "s/^/   rc=$r /" || true
  grep -qE '(ERROR|RACECHECK) SUMMARY' "$f.txt" || echo "   rc=$r (no summary line)"
  [ "$r" = 0 ]
}

step_sanitizer() {
  if [ -z "$CS" ]; then echo "compute-sanitizer not found: skipped"; NOTE="no compute-sanitizer"; return 3; fi
  local rc=0 exe n args cap targets=()
  while read -r exe; do   # every lab with a "sanitize" line in lab-args.conf ...
    lab_conf sanitize "$(basename "$exe")" >/dev/null && targets+=("$exe")
  done < <(lab_list)
  if [ "${#targets[@]}" = 0 ]; then   # ... else the first CUDA lab with its run arguments
    exe="$(lab_list | grep -v '/lab_cpu_' | head -n 1)"
    [ -n "$exe" ] && targets+=("$exe")
  fi
  local jcmd=("$JAVA" "${JOPTS[@]}" -cp "$CP" io.reskern.cli.Main bench --model resnet50 --device cuda:0 --precision fp16
              --batch 1 --warmup 0 --iters 2 --seconds 0)
  cap=$(( (STEP_END - $(now)) / (2 * ${#targets[@]} + 2) ))
  (( cap > 90 )) && cap=90
  for exe in "${targets[@]}"; do
    n="$(basename "$exe")"
    args="$(lab_conf sanitize "$n" || lab_conf run "$n" || true)"
    # shellcheck disable=SC2086
    (cd "$R/sanitizer" && sanitize_one "$n" memcheck "$cap" "$exe" $args) || rc=1
    # shellcheck disable=SC2086
    (cd "$R/sanitizer" && sanitize_one "$n" racecheck "$cap" "$exe" $args) || rc=1
  done
  [ "${#targets[@]}" = 0 ] && echo "no CUDA lab to sanitize"
  sanitize_one java_resnet50_fp16_b1 memcheck "$cap" "${jcmd[@]}" || rc=1
  sanitize_one java_resnet50_fp16_b1 racecheck "$cap" "${jcmd[@]}" || rc=1
  return "$rc"
}

step_jmh() {
  [ -d "$B/lib/jmh" ] || { echo "no JMH benchmarks in this bundle"; return 3; }
  mkdir -p "$R/jmh"
  tmo "${CAP[jmh]}" env LD_LIBRARY_PATH="$JLD" "$JAVA" "${JOPTS[@]}" -cp "$CP:$B/lib/jmh/*" org.openjdk.jmh.Main "$JMH" \
    -f 1 -wi 2 -i 3 -rf json -rff "$R/jmh/jmh.json" > "$R/jmh/log.txt" 2>&1
  local rc=$?
  tail -n 30 "$R/jmh/log.txt"
  return "$rc"
}

# ---------------------------------------------------------------- run
echo "[reskern-gpu] $(head -n 2 "$B/BUNDLE.txt" | tail -n 1 | tr -s ' ')  dry-run=$DRY budget=${BUDGET}s results -> $FINAL"
for s in "${ORDER[@]}"; do run_step "$s"; done

# ---------------------------------------------------------------- summary + results
echo "total $(( $(now) - T0 ))s" > "$R/elapsed.txt"
if [ -n "$SUMPY" ] && "$SUMPY" "$B/peers/summarize.py" "$R" > "$R/summary.md" 2> "$R/summary.err"; then
  :
else
  { echo "# reskern GPU run (summarize.py failed: $(tail -n 1 "$R/summary.err" 2>/dev/null))"; echo '```'; column -t -s $'\t' "$R/steps.tsv" 2>/dev/null || cat "$R/steps.tsv"; echo '```'; } > "$R/summary.md"
fi
[ -s "$R/summary.err" ] || rm -f "$R/summary.err"
cp "$R/summary.md" "$FINAL/summary.md"
sleep 0.2   # let tee catch up before the log is packed
tar -C "$WORK" -czf "$FINAL/results.tar.gz" results
size=$(stat -c %s "$FINAL/results.tar.gz")
if [ "$size" -gt $((15 * 1048576)) ]; then   # the device tool returns files of at most 16 MiB: trim the largest logs
  find "$R" -type f -size +2M | while read -r f; do
    { head -c 1048576 "$f"; printf '\n[... trimmed by run.sh ...]\n'; tail -c 1048576 "$f"; } > "$f.trim" && mv "$f.trim" "$f"
  done
  tar -C "$WORK" -czf "$FINAL/results.tar.gz" results
fi
if [ -z "${OUT:-}" ]; then rm -rf "$FINAL/results"; cp -r "$R" "$FINAL/results"; fi
echo
echo "[reskern-gpu] results: $FINAL/results.tar.gz ($(( $(stat -c %s "$FINAL/results.tar.gz") / 1024 )) KiB), $FINAL/summary.md; $(( $(now) - T0 ))s in all"
echo
cat "$R/summary.md"
