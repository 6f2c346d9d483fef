#!/usr/bin/env bash
# Load test of the example HTTP service from a second process on loopback (wrk), recorded in benchmarks/results/.
#
#   benchmarks/serve/load-test.sh [--model NAME] [--weights FILE] [--size PX] [--device D] [--precision P]
#                                 [--connections 1,8,32] [--duration 30s] [--max-batch N] [--max-wait-ms MS] [--no-build]
#
# Starts examples/target/reskern-service.jar on a free port, POSTs one float32 NCHW image per request to /v1/predict
# with wrk (Debian package `wrk`, installed if missing) at each connection count, and writes
# benchmarks/results/<date>-load-<device>-<model>-<commit12>/: meta.json, wrk-c<N>.txt, stats-c<N>.json, service.log,
# summary.md (requests/s, p50/p90/p99 latency, mean batch, service RSS before/after).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
model=cifar_resnet20; weights=""; size=""; device=cpu; precision=fp32; conns="1,8,32"; dur=30s; maxb=""; maxw=2; build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift ;;
    --weights) weights="$2"; shift ;;
    --size) size="$2"; shift ;;
    --device) device="$2"; shift ;;
    --precision) precision="$2"; shift ;;
    --connections) conns="$2"; shift ;;
    --duration) dur="$2"; shift ;;
    --max-batch) maxb="$2"; shift ;;
    --max-wait-ms) maxw="$2"; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "load-test.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$size" ]; then case "$model" in cifar_*) size=32 ;; *) size=224 ;; esac; fi
command -v wrk >/dev/null || { echo "[load] installing wrk"; s=""; [ "$(id -u)" -eq 0 ] || s=sudo;
  $s apt-get install -y -qq wrk >/dev/null || { $s apt-get update -qq && $s apt-get install -y -qq wrk >/dev/null; }; }
jar=examples/target/reskern-service.jar
if [ "$build" = 1 ] || [ ! -f "$jar" ]; then mvn -B -q -o package -pl java,examples -DskipTests; fi
commit="$(git rev-parse HEAD)"; short="${commit:0:12}"
dirty=""; git diff --quiet HEAD -- java examples native || dirty="-dirty"
out="benchmarks/results/$(date -u +%F)-load-${device%%:*}-${model}-${short}${dirty}"
mkdir -p "$out"
body="$out/.body.bin"
python3 - "$body" "$size" <<'PY'
import random, struct, sys
path, s = sys.argv[1], int(sys.argv[2])
random.seed(7)
with open(path, "wb") as f:
    f.write(struct.pack("<%df" % (3 * s * s), *[random.gauss(0, 1) for _ in range(3 * s * s)]))
PY
lua="$out/.post.lua"
cat > "$lua" <<LUA
local f = io.open("$body", "rb"); local b = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = b; wrk.headers["Content-Type"] = "application/octet-stream"
LUA
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
args=(--model "$model" --device "$device" --precision "$precision" --port "$port" --size "$size" --max-wait-ms "$maxw" --http-threads 64)
[ -n "$weights" ] && args+=(--weights "$weights")
[ -n "$maxb" ] && args+=(--max-batch "$maxb")
java -Xms1g -Xmx1g -XX:+AlwaysPreTouch -jar "$jar" "${args[@]}" > "$out/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for i in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" > "$out/health.json" 2>/dev/null && break; sleep 0.5; done
[ -s "$out/health.json" ] || { echo "[load] service did not start"; cat "$out/service.log"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "{\"date\": \"$(date -u +%FT%TZ)\", \"commit\": \"$commit$dirty\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"model\": \"$model\", \"device\": \"$device\", \"precision\": \"$precision\", \"size\": $size, \"duration\": \"$dur\", \"connections\": \"$conns\", \"command\": \"benchmarks/serve/load-test.sh $*\", \"load_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" > "$out/meta.json"
# warm-up (JIT, caches), not recorded
wrk -t2 -c8 -d5s -s "$lua" "http://127.0.0.1:$port/v1/predict" > /dev/null
rss0="$(rss)"
{
  echo "# Load test: $model ($device, $precision, ${size}x${size}), $(date -u +%F)"
  echo
  echo "Service: \`$(cat "$out/health.json")\`; commit \`$commit$dirty\`; wrk -t2 (-t1 for 1 connection), $dur per row, one float32 image per request; wrk and the service share the machine's $(nproc) cores; service JVM -Xms1g -Xmx1g -XX:+AlwaysPreTouch (heap resident from the start, so RSS changes are everything else)."
  echo
  echo "| connections | requests/s | p50 ms | p90 ms | p99 ms | errors | mean batch | RSS MiB after |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$out/summary.md"
for c in ${conns//,/ }; do
  s0="$(curl -sf "http://127.0.0.1:$port/stats")"
  t=2; [ "$c" -lt 2 ] && t=1   # wrk needs connections >= threads
  wrk -t"$t" -c"$c" -d"$dur" --latency -s "$lua" "http://127.0.0.1:$port/v1/predict" > "$out/wrk-c$c.txt"
  s1="$(curl -sf "http://127.0.0.1:$port/stats")"
  echo "{\"before\": $s0, \"after\": $s1}" > "$out/stats-c$c.json"
  python3 - "$out/wrk-c$c.txt" "$out/stats-c$c.json" "$c" "$(rss)" >> "$out/summary.md" <<'PY'
import json, re, sys
txt = open(sys.argv[1]).read()
st = json.load(open(sys.argv[2]))
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v); x = float(m.group(1))
    return x / 1000 if m.group(2) == "us" else x * 1000 if m.group(2) == "s" else x
lat = dict(re.findall(r"^\s+(\d+)%\s+(\S+)", txt, re.M))
rps = re.search(r"Requests/sec:\s+([\d.]+)", txt).group(1)
err = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
sock = re.search(r"Socket errors: (.*)", txt)
b, a = st["before"], st["after"]
mb = (a["images"] - b["images"]) / max(1, a["batches"] - b["batches"])
print(f"| {sys.argv[3]} | {float(rps):.1f} | {ms(lat['50']):.2f} | {ms(lat['90']):.2f} | {ms(lat['99']):.2f} | "
      f"{(err.group(1) if err else '0') + (' (socket: ' + sock.group(1) + ')' if sock else '')} | {mb:.2f} | {int(sys.argv[4]) / 1024:.0f} |")
PY
done
echo >> "$out/summary.md"
echo "Service RSS after warm-up: $((rss0 / 1024)) MiB; after the last row: $(( $(rss) / 1024 )) MiB." >> "$out/summary.md"
rm -f "$body" "$lua"
kill $pid; wait $pid 2>/dev/null || true
trap - EXIT
cat "$out/summary.md"
echo "[load] results in $out"
