#!/usr/bin/env python3
"""Summary of one GPU-bundle run: reads the results folder written by run.sh, prints Markdown (summary.md).

    python3 summarize.py RESULTS_DIR > summary.md

Standard library only (runs with any python3). Sections: steps, GPU tests per class, labs, ResNet-50 reskern vs
PyTorch (fp16 eager / CUDA graph / torch.compile; other precisions vs eager), sanitizer findings, goldens.
"""
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def fmt(v, nd=1):
    return "—" if v is None else f"{v:,.{nd}f}"


def steps(R):
    rows = []
    for line in read(os.path.join(R, "steps.tsv")).splitlines()[1:]:
        p = (line.split("\t") + [""] * 5)[:5]
        rows.append([p[0], p[1], p[3] + " s" if p[3] not in ("", "0") or p[1] != "skipped" else "", p[4]])
    return rows


def tests(R):
    """Per class from JUnit XML; classes without XML (killed) from the console tree."""
    rows, failures = [], []
    for d in sorted(glob.glob(os.path.join(R, "tests", "*"))):
        if not os.path.isdir(d):
            continue
        cls = os.path.basename(d)
        rc = read(os.path.join(d, "rc")).strip()
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        secs = 0.0
        xmls = glob.glob(os.path.join(d, "TEST-*.xml"))
        skip_reasons = {}
        for x in xmls:
            try:
                root = ET.parse(x).getroot()
            except ET.ParseError:
                continue
            for tc in root.iter("testcase"):
                secs += float(tc.get("time", "0") or 0)
                name = tc.get("name", "?")
                f = tc.find("failure")
                if f is None:
                    f = tc.find("error")
                if f is not None:
                    counts["failed"] += 1
                    msg = f.get("message") or ((f.text or "").strip().splitlines() or [""])[0]
                    failures.append(f"{cls} › {name}: {msg[:200]}")
                elif tc.find("skipped") is not None:
                    counts["skipped"] += 1
                    s = tc.find("skipped")
                    why = (s.get("message") or (s.text or "")).strip().splitlines()
                    why = why[0][:120] if why else ""
                    skip_reasons[why] = skip_reasons.get(why, 0) + 1
                else:
                    counts["passed"] += 1
        note = ""
        if not xmls:
            # killed (timeout / crash): count the streamed "--details testfeed" lines (method-level test
            # factories count as tests here)
            lines = read(os.path.join(d, "console.txt")).splitlines()
            running = []
            for i, ln in enumerate(lines):
                m = re.match(r"^JUnit \w+ > (.+) :: (STARTED|SUCCESSFUL|FAILED|ABORTED|SKIPPED)\s*$", ln)
                if not m or " > " not in m.group(1):
                    continue
                path, status = m.group(1), m.group(2)
                if status == "STARTED":
                    running.append(path)
                    continue
                if path in running:
                    running.remove(path)
                if status == "SUCCESSFUL":
                    counts["passed"] += 1
                elif status == "FAILED":
                    counts["failed"] += 1
                    msg = lines[i + 1].strip() if i + 1 < len(lines) else ""
                    failures.append(f"{path}: {msg[:200]}")
                else:
                    counts["skipped"] += 1
            note = f"no XML report (rc={rc}{', timeout' if rc in ('124', '137') else ''}); counts from the console"
            if running:
                note += f"; unfinished: {running[-1][:80]}"
        elif rc not in ("0", ""):
            note = f"rc={rc}"
        if skip_reasons:
            top = max(skip_reasons, key=skip_reasons.get)
            note = (note + "; " if note else "") + f"skip: {top}"
        rows.append([cls, counts["passed"], counts["failed"], counts["skipped"], f"{secs:.0f} s", note])
    return rows, failures


def labs(R):
    rows = []
    for rcf in sorted(glob.glob(os.path.join(R, "labs", "*.rc"))):
        name = os.path.basename(rcf)[:-3]
        parts = read(rcf).split(maxsplit=2)
        rc = parts[0] if parts else "?"
        secs = parts[1] if len(parts) > 1 else "?"
        log = read(os.path.join(R, "labs", name + ".txt"))
        lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
        fails = [ln for ln in lines if re.search(r"\bFAIL", ln)]
        passed = re.findall(r"(\d+) passed, (\d+) failed", log)
        res = ("pass" if rc == "0" else "timeout" if rc in ("124", "137") else
               "no GPU / setup error (rc=2)" if rc == "2" else f"FAIL (rc={rc})")
        note = f"{passed[-1][0]} passed, {passed[-1][1]} failed" if passed else (lines[-1][:100] if lines else "")
        if fails and rc == "0":
            res += f" ({len(fails)} FAIL lines)"
        rows.append([name, res, secs + " s", note])
    return rows


def bench(R):
    """{(precision, batch): result dict} for reskern resnet50 on cuda, plus other reskern runs."""
    out, other = {}, []
    for f in sorted(glob.glob(os.path.join(R, "bench", "reskern_*.json"))):
        j = load_json(f)
        base = f[:-5]
        if not j:
            err = read(base + ".err").strip().splitlines()
            other.append((os.path.basename(base), "rc=" + read(base + ".rc").strip() + ": " + (err[-1][:140] if err else "")))
            continue
        key = (str(j.get("precision", "")).lower(), int(j.get("batch", 0)))
        if j.get("model") == "resnet50" and str(j.get("device", "")).startswith("cuda"):
            out[key] = j
        else:
            other.append((os.path.basename(base), f"{j.get('model')} on {j.get('device')} {j.get('precision')} "
                          f"b{j.get('batch')}: {fmt(j.get('median_ms'), 2)} ms, {fmt(j.get('images_per_s'))} img/s"))
    return out, other


def peer(R):
    j = load_json(os.path.join(R, "peer", "torch_peer.json"))
    res = {}
    if j:
        for r in j.get("results", []):
            res[(r["impl"], r["precision"], int(r["batch"]))] = r
    return j, res


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def perf_tables(rk, pj, pr):
    lines = []
    batches = sorted({b for _, b in rk} | {b for (_, _, b) in pr} | {1, 32, 256})
    rows = []
    for b in batches:
        r = rk.get(("fp16", b))
        e, g, c, h = (pr.get((i, "fp16", b)) for i in ("eager", "eager_graph", "compile", "eager_e2e"))
        ips = lambda x: x.get("images_per_s") if x else None  # noqa: E731
        ms = lambda x: x.get("median_ms") if x else None  # noqa: E731
        rows.append([b, f"{fmt(ips(r))} ({fmt(ms(r), 2)} ms)", f"{fmt(ips(e))} ({fmt(ms(e), 2)})",
                     f"{fmt(ips(g))} ({fmt(ms(g), 2)})", f"{fmt(ips(c))} ({fmt(ms(c), 2)})",
                     f"{fmt(ips(h))} ({fmt(ms(h), 2)})",
                     ratio(ips(r), ips(e)), ratio(ips(r), ips(g)), ratio(ips(r), ips(c)), ratio(ips(r), ips(h))])
    lines.append("## ResNet-50 224², fp16: images/s (median ms)")
    lines.append("")
    lines += table(["batch", "reskern", "torch eager", "eager+graph", "torch.compile", "eager e2e",
                    "rk/eager", "rk/graph", "rk/compile", "rk/e2e"], rows)
    lines.append("")
    lines.append("reskern = `bench`: float32 NCHW input on the host → logits on the host (H2D, layout conversion and "
                 "D2H included, CUDA-graph replay). torch eager / eager+graph / compile: input already on the GPU in "
                 "fp16 channels_last, model only. eager e2e: torch eager fp16 with the same host-to-host work as "
                 "reskern (the fair ratio for large batches).")
    if pj:
        comp = [r for r in pr.values() if r["impl"] == "compile"]
        if comp:
            lines.append(f"torch.compile: mode={comp[0].get('mode')}, freezing={comp[0].get('freezing')}, "
                         "compile s per batch: " + ", ".join(f"b{r['batch']} {r['compile_s']:.0f}" for r in comp))
        lines.append(f"torch {pj.get('torch')}, cuDNN {pj.get('cudnn')}, CUDA {pj.get('cuda')}, {pj.get('gpu')}.")
        for s in pj.get("skipped", []):
            lines.append(f"- torch skipped: {s['impl']} {s['precision']} b{s['batch']}: {s['why']}")
        for e in pj.get("errors", []):
            lines.append(f"- torch error: {e}")
    rows = []
    for p in ("bf16", "tf32", "fp32"):
        for b in batches:
            r, e = rk.get((p, b)), pr.get(("eager", p, b))
            if r is None and e is None:
                continue
            rows.append([p, b, fmt(r and r.get("median_ms"), 2), fmt(r and r.get("images_per_s")),
                         fmt(e and e.get("median_ms"), 2), fmt(e and e.get("images_per_s")),
                         ratio(r and r.get("images_per_s"), e and e.get("images_per_s"))])
    if rows:
        lines.append("")
        lines.append("## Other precisions: reskern vs torch eager (fp32 = no TF32 on either side)")
        lines.append("")
        lines += table(["precision", "batch", "reskern ms", "reskern img/s", "eager ms", "eager img/s", "rk/eager"], rows)
    return lines


def serve(R):
    """The serve step: SoakRun verdict and the example service's load table."""
    L = ["## Serving (Predictor soak + example HTTP service)", ""]
    soak = load_json(os.path.join(R, "serve", "soak.json"))
    if soak:
        gpu = [s["gpuUsedBytes"] for s in soak.get("samples", []) if s.get("gpuUsedBytes", -1) >= 0]
        L.append(f"- soak: {soak['predictor']}: {soak['predictions']} predictions by {soak['threads']} callers in "
                 f"{soak['seconds']:.1f} s ({soak['predictionsPerSecond']:.0f}/s, mean batch {soak['meanBatch']:.2f}), "
                 f"**{soak['mismatches']} mismatches**, {soak['failedRequests']} failed; RSS {soak['rssAfterWarmupMiB']:.0f} → "
                 f"max {soak['rssMaxMiB']:.0f} MiB" + (f"; GPU used {min(gpu[1:] or gpu) / 2**20:.0f}..{max(gpu[1:] or gpu) / 2**20:.0f} MiB"
                                                      if gpu else ""))
    else:
        last = (read(os.path.join(R, "serve", "soak.txt")).strip().splitlines() or ["no output"])[-1]
        L.append(f"- soak: no result ({last})")
    load = load_json(os.path.join(R, "serve", "load.json"))
    if load:
        L.append("")
        L += table(["connections", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"],
                   [[r["connections"], fmt(r["requestsPerSecond"]), fmt(r["p50Ms"], 2), fmt(r["p90Ms"], 2), fmt(r["p99Ms"], 2),
                     fmt(r["maxMs"], 2), r["errors"]] for r in load.get("rows", [])])
    elif soak is None:
        return L + ["", "(not run)"]
    return L


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    if not xs:
        return None
    import math
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def jmh_rows(path, key):
    """{(param[key], impl): (ops/s, gflops, roofPct)} of a JMH JSON result file."""
    out = {}
    for r in load_json(path) or []:
        prm = r.get("params", {})
        sec = r.get("secondaryMetrics", {})
        g = sec.get("gflops", {}).get("score")
        roof = sec.get("roofPct", {}).get("score")
        out[(prm.get(key), prm.get("impl"))] = (r.get("primaryMetric", {}).get("score"), g, roof, prm)
    return out


def cudnn_section(R, rk, pr):
    """Per-shape own / cuDNN fused / cuDNN unfused, blocks, the model with --conv best, compare (the cudnn step)."""
    L = []
    d = os.path.join(R, "cudnn")
    if not os.path.isdir(d):
        return L
    conv = {}
    for f in sorted(glob.glob(os.path.join(d, "conv*.json"))):  # conv-own.json, conv-cudnn.json, conv-cudnn_unfused.json
        conv.update(jmh_rows(f, "layer"))
    L.append("## reskern vs cuDNN: every ResNet-50 conv shape + v1d/v2 launches (fp16, batch 32, GFLOP/s; % of the measured roofline)")
    L.append("")
    if conv:
        layers = list(dict.fromkeys(k[0] for k in conv))
        rows, r_cud, r_unf = [], [], []
        for lay in layers:
            o, c, u = (conv.get((lay, i)) for i in ("own", "cudnn", "cudnn_unfused"))
            g = lambda x: x[1] if x else None  # noqa: E731
            pct = lambda x: x[2] if x else None  # noqa: E731
            oc = g(o) / g(c) if g(o) and g(c) else None
            ou = g(o) / g(u) if g(o) and g(u) else None
            best = max([v for v in (g(o), g(c)) if v] or [0]) or None
            if not (lay.startswith("d.") or lay.startswith("v2.")):  # the geomean is over the ResNet-50 shapes
                r_cud.append(oc)
                r_unf.append(ou)
            rows.append([lay, f"{fmt(g(o))} ({fmt(pct(o))} %)", f"{fmt(g(c))} ({fmt(pct(c))} %)", f"{fmt(g(u))} ({fmt(pct(u))} %)",
                         "—" if oc is None else f"{oc:.2f}", "—" if ou is None else f"{ou:.2f}", fmt(best)])
        L += table(["layer", "own", "cuDNN fused", "cuDNN unfused", "own/cuDNN", "own/unfused", "best of both"], rows)
        gc, gu = geomean(r_cud), geomean(r_unf)
        L.append("")
        L.append(f"Geometric mean own/cuDNN fused: **{'—' if gc is None else f'{gc:.3f}'}** (target ≥ 0.9); own/cuDNN unfused: "
                 f"**{'—' if gu is None else f'{gu:.3f}'}** (target ≥ 1.2); over the {sum(1 for x in r_cud if x)} / "
                 f"{sum(1 for x in r_unf if x)} ResNet-50 shapes (d.pool.* / v2.post.* rows not included).")
        logs = "".join(read(f) for f in sorted(glob.glob(os.path.join(d, "conv*.log"))))
        roof = [ln for ln in logs.splitlines() if ln.startswith("# roofline")]
        if roof:
            L.append(roof[0].lstrip("# ") + ".")
    else:
        L.append("(no per-shape results: see cudnn/conv-*.log)")
    blk = jmh_rows(os.path.join(d, "block.json"), "block")
    if blk:
        L.append("")
        L.append("Blocks (fp16, batch 32): blocks/s (GFLOP/s)")
        L.append("")
        rows = []
        for b in dict.fromkeys(k[0] for k in blk):
            cells = [blk.get((b, i)) for i in ("own", "cudnn", "cudnn_unfused")]
            rows.append([b] + [f"{fmt(c[0])} ({fmt(c[1])})" if c else "—" for c in cells]
                        + [ratio(cells[0] and cells[0][0], cells[1] and cells[1][0]),
                           ratio(cells[0] and cells[0][0], cells[2] and cells[2][0])])
        L += table(["block", "own", "cuDNN fused", "cuDNN unfused", "own/cuDNN", "own/unfused"], rows)
    rows = []
    for b in (1, 32, 256):
        j = load_json(os.path.join(d, f"reskern_best_resnet50_fp16_b{b}.json"))
        o = rk.get(("fp16", b))
        e, c = pr.get(("eager", "fp16", b)), pr.get(("compile", "fp16", b))
        ips = lambda x: x.get("images_per_s") if x else None  # noqa: E731
        if j or o:
            rows.append([b, fmt(ips(o)), fmt(ips(j)), fmt(ips(e)), fmt(ips(c)), ratio(ips(j), ips(o)), ratio(ips(j), ips(e)),
                         ratio(ips(j), ips(c))])
    if rows:
        L.append("")
        L.append("ResNet-50 224² fp16, images/s: reskern `--conv own` (bench step) and `--conv best` (this step) next to "
                 "torch eager and torch.compile of the same run")
        L.append("")
        L += table(["batch", "own", "best", "torch eager", "torch.compile", "best/own", "best/eager", "best/compile"], rows)
    cmp_txt = read(os.path.join(d, "compare.txt")).strip().splitlines()
    tab = []
    for ln in cmp_txt:  # the table, up to the JSON dump
        if ln.startswith("[") or ln.startswith("{"):
            break
        if ln.strip():
            tab.append(ln)
    if tab:
        L.append("")
        L.append("`reskern compare --conv own,cudnn,best` (fp16):")
        L.append("")
        L.append("```")
        L += tab[:14]
        L.append("```")
    return L


def sanitizer(R):
    rows = []
    for rcf in sorted(glob.glob(os.path.join(R, "sanitizer", "*.rc"))):
        base = rcf[:-3]
        name, tool = os.path.basename(base).rsplit(".", 1)
        rc = read(rcf).strip()
        log = read(base + ".txt")
        m = re.findall(r"ERROR SUMMARY: (\d+) error", log)
        m2 = re.findall(r"RACECHECK SUMMARY: (\d+) hazards? displayed \((\d+) errors?, (\d+) warnings?\)", log)
        if m2:
            found = f"{m2[-1][0]} hazards ({m2[-1][1]} errors, {m2[-1][2]} warnings)"
        elif m:
            found = f"{m[-1]} errors"
        else:
            found = "no summary line"
        first = re.findall(r"========= (Invalid .*|Race reported .*|Error: .*|Program hit .*)", log)
        res = "clean" if rc == "0" else ("timeout" if rc in ("124", "137") else f"rc={rc}")
        rows.append([name, tool, res, found, first[0][:120] if first else ""])
    return rows


def goldens(R):
    m = load_json(os.path.join(R, "goldens", "manifest.json"))
    if not m:
        return ["Goldens: none (see goldens/log.txt)."]
    cases = m.get("cases", [])
    out = [f"Goldens: {len(cases)} cases (torch {m.get('torch')}, torchvision {m.get('torchvision')}, "
           f"timm {m.get('timm')}): " + ", ".join(c["case"] for c in cases) + "."]
    nc = [(c["case"], c["naming_check"]) for c in cases if c.get("naming_check")]
    if nc:
        same = [k for k, v in nc if v.get("same_names") and v.get("same_function", True)]
        diff = [(k, v) for k, v in nc if not (v.get("same_names") and v.get("same_function", True))]
        out.append(f"timm vs golden_models.py: same names and function for {', '.join(same) or 'none'}"
                   + ("" if not diff else "; DIFFER: " + "; ".join(
                       f"{k} (only timm {v['only_in_timm'][:4]}, only ref {v['only_in_reference'][:4]}, "
                       f"shapes {v['shape_mismatch'][:4]}, max diff {v.get('max_abs_diff_vs_reference')})"
                       for k, v in diff)) + ".")
    for s in m.get("skipped", []):
        out.append(f"- golden skipped: {s['case']}: {s['why']}")
    for c in cases:
        for p in c.get("problems", []):
            out.append(f"- golden problem: {c['case']}: {p}")
    return out


def main():
    R = sys.argv[1]
    info = read(os.path.join(R, "env", "run-info.txt"))
    gpu = read(os.path.join(R, "env", "nvidia-smi-L.txt")).strip().splitlines()
    bundle = read(os.path.join(R, "env", "BUNDLE.txt"))
    commit = re.search(r"commit:\s+(\S+)(.*)", bundle)
    date = re.search(r"date:\s+(\S+)", info)
    dry = re.search(r"dry-run:\s+1", info)
    L = [f"# reskern GPU run{' (DRY RUN, no GPU)' if dry else ''}", ""]
    L.append(f"- GPU: {gpu[0] if gpu else '?'}")
    L.append(f"- {read(os.path.join(R, 'env', 'driver.txt')).strip() or 'driver: ?'}; "
             f"{read(os.path.join(R, 'env', 'python.txt')).strip().splitlines()[0] if read(os.path.join(R, 'env', 'python.txt')).strip() else 'python: ?'}")
    L.append(f"- commit {commit.group(1) + commit.group(2) if commit else '?'}; run {date.group(1) if date else '?'}; "
             f"{read(os.path.join(R, 'elapsed.txt')).strip()}")
    info_j = read(os.path.join(R, "env", "reskern-info.txt"))
    cl = [ln.strip() for ln in info_j.splitlines() if ln.startswith("cuda") or ln.startswith("            ")]
    if cl:
        L.append("- reskern info: " + " / ".join(cl))
    L.append("")
    L += table(["step", "status", "time", "note"], steps(R))
    L.append("")
    rows, failures = tests(R)
    L.append("## GPU tests (JUnit, tag gpu)")
    L.append("")
    L += table(["class", "passed", "failed", "skipped", "time", "note"], rows) if rows else ["(not run)"]
    for f in failures[:12]:
        L.append(f"- FAIL {f}")
    if len(failures) > 12:
        L.append(f"- … {len(failures) - 12} more failures (results/tests/)")
    L.append("")
    lr = labs(R)
    L.append("## Labs")
    L.append("")
    L += table(["lab", "result", "time", "last line / counts"], lr) if lr else ["(no lab executables run)"]
    L.append("")
    rk, other = bench(R)
    pj, pr = peer(R)
    L += perf_tables(rk, pj, pr)
    for name, txt in other:
        L.append(f"- {name}: {txt}")
    L.append("")
    L += serve(R)
    L.append("")
    cs = cudnn_section(R, rk, pr)
    if cs:
        L += cs
        L.append("")
    sr = sanitizer(R)
    L.append("## compute-sanitizer")
    L.append("")
    L += table(["target", "tool", "result", "found", "first report"], sr) if sr else ["(not run)"]
    L.append("")
    L += goldens(R)
    print("\n".join(L))


if __name__ == "__main__":
    main()
