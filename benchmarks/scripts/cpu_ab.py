#!/usr/bin/env python3
"""Interleaved A/B of one environment variable on the CPU backend, through `bin/reskern bench --json`.

    benchmarks/scripts/cpu_ab.py --var RESKERN_CPU_WINOGRAD --a 0 --b "" \
        --models resnet18,resnet34,resnet50 --batches 1,8 [--rounds 3] [--seconds 5] [--precision bf16] --out DIR

On a shared VM two runs of the same build move by +-30 %, so A and B alternate (A, B, A, B, ... per model and batch)
and the table reports each side's best median and the B/A ratio of those, next to the ratio of the means. Writes
DIR/runs.jsonl (every run, with the variable's value), DIR/meta.json (date, CPU, commit, command) and DIR/summary.md.
Standard library only.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(model, batch, seconds, var, value, precision):
    env = dict(os.environ)
    env[var] = value
    out = subprocess.run([os.path.join(ROOT, "bin", "reskern"), "bench", "--model", model, "--device", "cpu",
                          "--batch", str(batch), "--seconds", str(seconds), "--precision", precision, "--json"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--var", required=True)
    ap.add_argument("--a", required=True, help="value of the variable for side A ('' = unset/empty)")
    ap.add_argument("--b", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--batches", default="1")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--precision", default="fp32", help="bin/reskern bench --precision (fp32, or bf16 on AVX512_BF16)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu_model": cpu_model(),
            "nproc": os.cpu_count(), "commit": commit, "command": "benchmarks/scripts/cpu_ab.py " + " ".join(
                f"'{a}'" if (a == "" or " " in a) else a for a in sys.argv[1:]),
            "loadavg_before": open("/proc/loadavg").read().split()[:3]}
    runs = []
    with open(os.path.join(args.out, "runs.jsonl"), "w") as log:
        for model in args.models.split(","):
            for batch in [int(b) for b in args.batches.split(",")]:
                for rnd in range(args.rounds):
                    for side, value in (("A", args.a), ("B", args.b)):
                        r = run(model, batch, args.seconds, args.var, value, args.precision)
                        r.update({"side": side, "value": value, "round": rnd})
                        runs.append(r)
                        log.write(json.dumps(r) + "\n")
                        log.flush()
                        print(f"{model} b{batch} {side} ({args.var}={value!r}): median {r['median_ms']:.2f} ms",
                              file=sys.stderr)
    meta["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    lines = [f"## CPU A/B: {args.var} = {args.a!r} (A) vs {args.b!r} (B) — {meta['date']}", "",
             f"- CPU: {meta['cpu_model']}, {meta['nproc']} cores; commit `{commit}`",
             f"- command: `{meta['command']}`",
             f"- load average before / after: {' '.join(meta['loadavg_before'])} / {' '.join(meta['loadavg_after'])}",
             f"- A and B alternate, {args.rounds} rounds of `reskern bench --device cpu --seconds {args.seconds:g}` each; "
             "ms = that run's median latency per batch", "",
             "| model | batch | A best ms | B best ms | B / A (best) | A mean ms | B mean ms | B / A (mean) | A img/s | B img/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for model in args.models.split(","):
        for batch in [int(b) for b in args.batches.split(",")]:
            a = [r["median_ms"] for r in runs if r["model"] == model and r["batch"] == batch and r["side"] == "A"]
            b = [r["median_ms"] for r in runs if r["model"] == model and r["batch"] == batch and r["side"] == "B"]
            ma, mb = statistics.mean(a), statistics.mean(b)
            lines.append(f"| {model} | {batch} | {min(a):.2f} | {min(b):.2f} | {min(b) / min(a):.2f} | {ma:.2f} | "
                         f"{mb:.2f} | {mb / ma:.2f} | {1000 * batch / min(a):.1f} | {1000 * batch / min(b):.1f} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
