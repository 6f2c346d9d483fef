#!/usr/bin/env bash
# Files one GPU-bundle run into the repository:
#
#   scripts/gpu-bundle/import-results.sh RESULTS.tar.gz [--command "CMD"] [--dest DIR]
#
# Unpacks RESULTS.tar.gz (made by the bundle's run.sh: one folder results/) into
# benchmarks/results/<run date>-<gpu>-<commit12>/ (or DIR) and writes meta.md there: run date, GPU, driver/CUDA,
# the full commit hash the bundle was built from (and whether it had uncommitted changes), the device command.
# Prints the folder. Refuses to overwrite an existing folder (a second import of the same run gets a suffix).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
tgz=""
cmd='device run: command "bash bundle-out/run.sh", carry ["bundle-out"], timeout_s 600'
dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --command) cmd="$2"; shift ;;
    --dest) dest="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) tgz="$1" ;;
  esac
  shift
done
[ -f "$tgz" ] || { echo "usage: import-results.sh RESULTS.tar.gz [--command CMD] [--dest DIR]" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$tgz"
r="$tmp/results"
[ -f "$r/steps.tsv" ] || { echo "import-results: $tgz holds no results/steps.tsv" >&2; exit 1; }

field() { sed -n "s/^$1:[[:space:]]*//p" "$2" 2>/dev/null | head -n 1; }
commit_line="$(field commit "$r/env/BUNDLE.txt")"
commit="${commit_line%% *}"
run_date="$(field date "$r/env/run-info.txt")"
gpu="$(sed -n 's/^GPU [0-9]*: \(.*\) (UUID.*/\1/p' "$r/env/nvidia-smi-L.txt" 2>/dev/null | head -n 1)"
slug="$(echo "${gpu:-nogpu}" | tr 'A-Z' 'a-z' | sed 's/nvidia//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')"
day="${run_date%%T*}"
[ -n "$day" ] || day="$(date -u +%Y-%m-%d)"
if [ -z "$dest" ]; then
  dest="$root/benchmarks/results/${day}-${slug}-${commit:0:12}"
  base="$dest"; n=2
  while [ -e "$dest" ]; do dest="$base-$n"; n=$((n + 1)); done
fi
[ -e "$dest" ] && { echo "import-results: $dest exists" >&2; exit 1; }
mkdir -p "$dest"
cp -r "$r"/. "$dest"/
{
  echo "# GPU run $day on ${gpu:-no GPU}"
  echo
  echo "- run date (UTC): ${run_date:-unknown}"
  echo "- GPU: ${gpu:-none}; $(cat "$r/env/driver.txt" 2>/dev/null || echo 'driver: unknown')"
  echo "- host software: $(head -n 1 "$r/env/python.txt" 2>/dev/null || echo unknown)"
  echo "- commit: ${commit_line:-unknown}"
  echo "- bundle: built $(field built "$r/env/BUNDLE.txt"); reskern_cuda: $(field 'cuda library' "$r/env/BUNDLE.txt")"
  echo "- command: $cmd"
  echo "- run arguments: $(field args "$r/env/run-info.txt")"
  echo "- elapsed: $(cat "$r/elapsed.txt" 2>/dev/null || echo unknown)"
  echo "- imported: $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(basename "$tgz")"
  echo
  echo "summary.md is the run's own summary; the folders hold the logs (console.log), JUnit XML (tests/),"
  echo "benchmark JSON (bench/, peer/), lab output (labs/), compute-sanitizer logs (sanitizer/) and the environment (env/)."
} > "$dest/meta.md"
echo "$dest"
