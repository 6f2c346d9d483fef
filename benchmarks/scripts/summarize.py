#!/usr/bin/python3
"""Turn one results folder of benchmarks/run-cpu.sh into markdown (stdout).

    /usr/bin/python3 benchmarks/scripts/summarize.py benchmarks/results/<date>-cpu-<sha>

Reads meta.json (runner: date, CPU, commit, command, load), env.json (BenchInfo: versions, conv shape table),
model.json and, if present, kernels.json (JMH -rf json). Standard library only.

Model table: one row per model x threads x batch; records from before ModelBenchmark had @Param model count as
resnet50 (the only model it ran then).

Noise column: spread = (max - min) / mean over the measurement iterations of that row, in %.
"""
import json
import os
import sys


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def short(bench):
    return bench.rsplit(".", 2)[-2] + "." + bench.rsplit(".", 1)[-1]


def iters(metric):
    return [v for fork in metric.get("rawData", []) for v in fork]


def spread(values):
    if len(values) < 2:
        return float("nan")
    m = sum(values) / len(values)
    return 100.0 * (max(values) - min(values)) / m if m else float("nan")


def fmt(x, digits=1):
    if x is None or x != x:
        return "–"
    return f"{x:,.{digits}f}"


def model_name(run):
    """The ModelBenchmark model of a JMH run; records from before @Param model ran ResNet-50 only."""
    return run["params"].get("model", "resnet50")


def model_table(runs, out):
    rows = {}
    for r in runs:
        if not r["benchmark"].endswith(("ModelBenchmark.reskern", "ModelBenchmark.reskernBf16", "ModelBenchmark.ort")):
            continue
        rt = r["benchmark"].rsplit(".", 1)[-1]
        m = model_name(r)
        b = int(r["params"]["batch"])
        t = r["params"]["threads"]
        pm = r["primaryMetric"]
        it = iters(pm)
        rows.setdefault((m, t, b), {})[rt] = (pm["score"], min(it) if it else float("nan"), spread(it))
    if not rows:
        return
    out.append("| model | threads | batch | reskern ms/batch mean (best) | ORT ms/batch mean (best) "
               "| reskern / ORT mean (best) | reskern img/s | ORT img/s | spread reskern / ORT |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    order = {m: i for i, m in enumerate(dict.fromkeys(k[0] for k in rows))}  # models in run order
    for (m, t, b) in sorted(rows, key=lambda k: (order[k[0]], int(k[1]), k[2])):
        v = rows[(m, t, b)]
        rk, ort = v.get("reskern"), v.get("ort")
        cell = lambda m: f"{fmt(m[0])} ({fmt(m[1])})" if m else "–"
        ratio = f"{fmt(rk[0] / ort[0], 2)} ({fmt(rk[1] / ort[1], 2)})" if rk and ort else "–"
        out.append(f"| {m} | {t} | {b} | {cell(rk)} | {cell(ort)} | {ratio} | {fmt(1000 * b / rk[0], 2) if rk else '–'} | "
                   f"{fmt(1000 * b / ort[0], 1) if ort else '–'} | "
                   f"{fmt(rk[2] if rk else None, 0)}% / {fmt(ort[2] if ort else None, 0)}% |")
    out.append("")
    out.append("ms/batch = one forward pass of the whole batch (float[] NCHW in, float[] logits out): JMH mean of the "
               "measurement iterations, and in brackets the best iteration (less sensitive to other processes on "
               "the cores); reskern / ORT > 1 means reskern is slower; img/s from the mean.")
    bf = {k: v for k, v in rows.items() if v.get("reskernBf16")}
    if bf:
        out.append("")
        out.append("reskern with `--precision bf16` (dense convs on the AVX512_BF16 kernel; logits checked against torch "
                   "float64 and ORT within 3e-2 before timing), same run:")
        out.append("")
        out.append("| model | threads | batch | reskern bf16 ms/batch mean (best) | bf16 / fp32 mean (best) "
                   "| bf16 / ORT mean (best) | bf16 img/s | spread |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for (m, t, b) in sorted(bf, key=lambda k: (order[k[0]], int(k[1]), k[2])):
            v = bf[(m, t, b)]
            bb, rk, ort = v["reskernBf16"], v.get("reskern"), v.get("ort")
            rel = lambda o: f"{fmt(bb[0] / o[0], 2)} ({fmt(bb[1] / o[1], 2)})" if o else "–"
            out.append(f"| {m} | {t} | {b} | {fmt(bb[0])} ({fmt(bb[1])}) | {rel(rk)} | {rel(ort)} | "
                       f"{fmt(1000 * b / bb[0], 2)} | {fmt(bb[2], 0)}% |")


def kernel_tables(runs, env, meta, out):
    shapes = {s["id"]: s for s in (env or {}).get("conv_shapes", [])}
    loop_all = loop_one = None  # best iteration of each FMA loop (the mean is dragged down by other processes)
    for r in runs:
        if r["benchmark"].endswith("PeakBenchmark.fmaAllCores"):
            loop_all = max([loop_all or 0] + (iters(r["secondaryMetrics"]["gflops"]) or [r["secondaryMetrics"]["gflops"]["score"]]))
        elif r["benchmark"].endswith("PeakBenchmark.fmaOneCore"):
            loop_one = max([loop_one or 0] + (iters(r["secondaryMetrics"]["gflops"]) or [r["secondaryMetrics"]["gflops"]["score"]]))
    cores = int(meta.get("nproc") or 1)
    # The roof: what every core sustains when it has the core to itself. On a shared machine the all-cores loop
    # rarely gets every core at once, so cores x the one-core best is the tighter (higher) measured figure.
    peak_all = max([v for v in (loop_all, loop_one * cores if loop_one else None) if v] or [0]) or None
    allconv = [r for r in runs if r["benchmark"].endswith("CpuConvBenchmark.conv")]
    conv = [r for r in allconv if r["params"].get("precision", "fp32") == "fp32"]
    bf16 = [r for r in allconv if r["params"].get("precision") == "bf16"]
    if conv:
        out.append("### Conv kernels (`rk_cpu_conv2d`, fused epilogue), GFLOP/s")
        out.append("")
        if peak_all:
            out.append(f"Measured roof: {fmt(peak_all)} GFLOP/s = the larger of the fp32 FMA loop's best iteration on "
                       f"all cores ({fmt(loop_all)}) and {cores} × its best on one core ({fmt(loop_one)}); "
                       f"`% peak` is against it.")
            out.append("")
        out.append("| layer | role | shape (C×H×W → K×P×Q, R×S/stride) | ×in net | N | ms | GFLOP/s | % peak | GB/s "
                   "| FLOP/B | spread |")
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        order = list(shapes) or sorted({r["params"]["layer"] for r in conv})
        per_batch = {}
        above = []  # layers measured above the roof: the roof loop ran in a worse window than they did
        wino = set()  # Winograd tile sizes seen
        for r in sorted(conv, key=lambda r: (int(r["params"]["batch"]), order.index(r["params"]["layer"])
                                             if r["params"]["layer"] in order else 999)):
            lid, b = r["params"]["layer"], int(r["params"]["batch"])
            s = shapes.get(lid, {})
            ops = r["primaryMetric"]["score"]
            ms = 1000.0 / ops if ops else float("nan")
            gf = r["secondaryMetrics"]["gflops"]["score"]
            gb = r["secondaryMetrics"]["gbytes"]["score"]
            cnt = s.get("count", 0)
            per_batch.setdefault(b, 0.0)
            per_batch[b] += cnt * ms
            role = s.get("role", "?")
            algo = s.get("cpu_algo", "direct")
            if algo.startswith("winograd"):
                # GFLOP/s are direct-conv equivalent; % peak counts the FLOPs Winograd executes: (m+2)^2 taps per m x m
                # tile ("winograd" in records before F(4x4,3x3) existed = F(2x2,3x3))
                m = 4 if algo == "winograd4x4" else 2
                th, tw = (s.get("p", 0) + m - 1) // m, (s.get("q", 0) + m - 1) // m
                exec_frac = (m + 2) ** 2 * th * tw / (9.0 * s["p"] * s["q"]) if s.get("p") and s.get("q") else 1.0
                pct = 100.0 * gf * exec_frac / peak_all if peak_all else None
                role += " W4" if m == 4 else " W"
                wino.add(m)
            else:
                pct = 100.0 * gf / peak_all if peak_all else None
            if pct and pct > 100:
                above.append(f"{lid} N={b}")
            out.append(f"| {lid} | {role} | {s.get('describe', '?')} | {cnt} | {b} | {fmt(ms, 2)} | "
                       f"{fmt(gf, 2)} | {fmt(pct, 1)} | {fmt(gb, 2)} | {fmt(gf / gb if gb else None, 1)} | "
                       f"{fmt(spread(iters(r['primaryMetric'])), 0)}% |")
        out.append("")
        if wino:
            kinds = " and ".join(k for m, k in ((2, "`W`: the Winograd F(2x2,3x3) kernel (16 transformed taps per 2x2 "
                                                 "output tile instead of 9 per pixel: 2.25x fewer)"),
                                                (4, "`W4`: F(4x4,3x3) (36 per 4x4 tile: 4x fewer)")) if m in wino)
            out.append(f"- role {kinds}. Their GFLOP/s count the direct convolution's FLOPs (comparable with other "
                       "records and peers); their `% peak` counts the FLOPs they execute (fewer savings at sizes that "
                       "are not a multiple of the tile).")
        if above:
            out.append(f"- **The roof is measured low**: {len(above)} layer(s) ran above it ({', '.join(above[:6])}"
                       f"{', …' if len(above) > 6 else ''}). The FMA loop ran while other processes took core time, "
                       f"so `% peak` overstates every layer here; compare the GFLOP/s columns between records instead.")
        for b, total in sorted(per_batch.items()):
            out.append(f"- Σ (×in net · ms) at N={b}: {fmt(total)} ms — the conv share of one ResNet-50 forward pass "
                       f"if each layer ran as fast as in isolation (hot caches).")
        out.append("")
    if bf16:
        fp32 = {(r["params"]["layer"], r["params"]["batch"]): r["primaryMetric"]["score"] for r in conv}
        out.append("### Conv kernels with `precision=bf16` (the AVX512_BF16 kernel), GFLOP/s")
        out.append("")
        if peak_all:
            out.append(f"`% bf16 roof` is against 2 × the fp32 roof above ({fmt(2 * peak_all)} GFLOP/s: vdpbf16ps does two "
                       "multiply-adds per fp32 lane where an FMA does one).")
            out.append("")
        out.append("| layer | runs as | ×in net | N | ms | GFLOP/s | % bf16 roof | speed vs fp32 | GB/s | spread |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        order = list(shapes) or sorted({r["params"]["layer"] for r in bf16})
        per_batch = {}
        for r in sorted(bf16, key=lambda r: (int(r["params"]["batch"]), order.index(r["params"]["layer"])
                                             if r["params"]["layer"] in order else 999)):
            lid, b = r["params"]["layer"], int(r["params"]["batch"])
            s = shapes.get(lid, {})
            ops = r["primaryMetric"]["score"]
            ms = 1000.0 / ops if ops else float("nan")
            gf = r["secondaryMetrics"]["gflops"]["score"]
            gb = r["secondaryMetrics"]["gbytes"]["score"]
            # which shapes the bf16 packing keeps in fp32 (reskern_cpu.h): env.json says since it records cpu_bf16;
            # records before that ran with the first rule (Winograd F(4x4) and grouped convs kept)
            kept = (s["cpu_bf16"] == "fp32") if "cpu_bf16" in s else (s.get("cpu_algo") == "winograd4x4"
                                                                      or s.get("groups", 1) > 1)
            per_batch[b] = per_batch.get(b, 0.0) + s.get("count", 0) * ms
            f32 = fp32.get((lid, r["params"]["batch"]))
            out.append(f"| {lid} | {'fp32 (kept)' if kept else 'bf16'} | {s.get('count', 0)} | {b} | {fmt(ms, 2)} | "
                       f"{fmt(gf, 2)} | {'–' if kept or not peak_all else fmt(100.0 * gf / (2 * peak_all), 1)} | "
                       f"{fmt(ops / f32, 2) + '×' if f32 else '–'} | {fmt(gb, 2)} | "
                       f"{fmt(spread(iters(r['primaryMetric'])), 0)}% |")
        out.append("")
        for b, total in sorted(per_batch.items()):
            out.append(f"- Σ (×in net · ms) at N={b}, bf16: {fmt(total)} ms (hot caches, as above).")
        out.append("")
    ops = [r for r in runs if "CpuOpsBenchmark." in r["benchmark"]]
    if ops:
        out.append("### Memory-bound ops, GB/s of compulsory traffic")
        out.append("")
        out.append("| op | N | ms | GB/s | spread |")
        out.append("|---|---:|---:|---:|---:|")
        for r in sorted(ops, key=lambda r: (r["benchmark"], int(r["params"]["batch"]))):
            ops_s = r["primaryMetric"]["score"]
            out.append(f"| {r['benchmark'].rsplit('.', 1)[-1]} | {r['params']['batch']} | {fmt(1000 / ops_s, 3)} | "
                       f"{fmt(r['secondaryMetrics']['gbytes']['score'], 2)} | "
                       f"{fmt(spread(iters(r['primaryMetric'])), 0)}% |")
        out.append("")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    meta = load(os.path.join(d, "meta.json")) or {}
    env = load(os.path.join(d, "env.json")) or {}
    model = load(os.path.join(d, "model.json")) or []
    kernels = load(os.path.join(d, "kernels.json")) or []
    kernels += load(os.path.join(d, "kernels-bf16.json")) or []  # run-cpu.sh --kernels --bf16
    # the FMA roof loop: peak-1.json / peak-2.json (before and after the kernels); older records have it in kernels.json
    for f in sorted(os.listdir(d)):
        if f.startswith("peak-") and f.endswith(".json"):
            kernels += load(os.path.join(d, f)) or []
    out = [f"## reskern CPU benchmarks — {meta.get('date', '?')}", ""]
    out.append(f"- CPU: {meta.get('cpu_model', '?')}, {meta.get('nproc', '?')} cores visible; "
               f"threads: {meta.get('threads', '?')}")
    out.append(f"- commit: `{meta.get('commit', '?')}`{' (dirty tree)' if meta.get('dirty') else ''}; "
               f"reskern kernel ISA: {env.get('reskern_kernel_isa', '?')}; ONNX Runtime {env.get('onnxruntime', '?')}; "
               f"{env.get('java', '?')}")
    out.append(f"- command: `{meta.get('command', '?')}`")
    jmh = []
    if model:
        jmh.append(f"model `{meta.get('model_jmh_args', '?').strip()}`")
    if kernels:
        jmh.append(f"kernels `{meta.get('kernel_jmh_args', '?').strip()}`")
        if meta.get("peak_jmh_args"):
            jmh.append(f"roof loop (before and after the kernels) `{meta['peak_jmh_args'].strip()}`")
    out.append(f"- JMH options: {'; '.join(jmh) or '–'}; wall time {meta.get('wall_seconds', '?')} s")
    out.append(f"- load average before / after: {meta.get('loadavg_before', '?')} / {meta.get('loadavg_after', '?')}"
               f" (other processes share the cores: read the spread column)")
    out.append("")
    if model:
        names = ", ".join(dict.fromkeys(model_name(r) for r in model if "ModelBenchmark." in r["benchmark"]))
        out.append(f"### {names or '–'} fp32, 224², reskern vs ONNX Runtime (CPU EP), same weights, same JMH run")
        out.append("")
        model_table(model, out)
        out.append("")
    if kernels:
        kernel_tables(kernels, env, meta, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
