#!/usr/bin/env python3
"""PyTorch peer for the reskern ResNet-50 benchmark (torchvision resnet50, random weights, 224x224).

    python3 torch_peer.py --out FILE.json [--batches 1,32,256] [--budget SECONDS] [--no-compile] ...

What is timed (each at every batch size; inputs N(0,1), already on the GPU):
  eager          model.half() (or bf16 / fp32 / TF32), channels_last, torch.backends.cudnn.benchmark=True, no_grad
  eager_graph    the same eager fp16 model captured once in a CUDA graph and replayed (no launch overhead, as
                 reskern's own graph replay)
  compile        torch.compile(model, mode="default", dynamic=False) with inductor freezing (BN folded into the
                 convs, weights as constants), fp16 channels_last. "default" rather than "max-autotune-no-cudagraphs":
                 max-autotune benchmarks Triton conv/GEMM templates per shape and takes minutes per batch size,
                 which the one-call budget cannot hold; each batch size compiles once (about 20-60 s)
  eager_e2e      fp16 eager INCLUDING the host side as reskern's `bench` measures it: float32 NCHW input in pinned
                 host memory -> GPU -> fp16 channels_last -> model -> float32 logits back on the host
Timing: CUDA events around each call after warm-up (>= 5 calls and >= 0.5 s), synchronised per call (latency of
one request, as reskern's bench), median of >= --iters calls and >= --seconds; eager_e2e uses the host clock.
The JSON is rewritten after every measurement, so a run stopped by a timeout keeps what it finished. --budget:
no new measurement (and no new compile) starts when it would likely not finish in time; those are listed
under "skipped".
--device cpu is a smoke test of this script on a machine without CUDA (no events, no graphs, no compile).
"""
import argparse
import json
import os
import statistics
import sys
import time

T_START = time.time()


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--batches", default="1,32,256")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--precisions", default="fp16,bf16,tf32,fp32", help="eager precisions (fp16 always first)")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--compile-mode", default="default")
    ap.add_argument("--no-freezing", action="store_true", help="torch.compile without inductor freezing")
    ap.add_argument("--no-graph", action="store_true", help="skip the eager CUDA-graph variant")
    ap.add_argument("--no-e2e", action="store_true", help="skip the host-to-host fp16 variant")
    ap.add_argument("--iters", type=int, default=30, help="at least this many timed calls (default %(default)s)")
    ap.add_argument("--seconds", type=float, default=1.0, help="and at least this long (default %(default)s)")
    ap.add_argument("--max-iters", type=int, default=300)
    ap.add_argument("--budget", type=float, default=300.0, help="seconds this script may take (default %(default)s)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    return ap.parse_args()


def main():
    args = parse_args()
    import torch
    import torchvision

    batches = [int(b) for b in args.batches.split(",") if b]
    precs = [p for p in args.precisions.split(",") if p]
    precs = ["fp16"] + [p for p in precs if p != "fp16"] if "fp16" in precs else precs
    cuda = args.device == "cuda"
    doc = {"peer": "torch", "model": "torchvision resnet50 (random weights)", "size": args.size,
           "torch": torch.__version__, "torchvision": torchvision.__version__, "python": sys.version.split()[0],
           "device": args.device, "config": vars(args), "results": [], "skipped": [], "errors": []}

    def save():
        doc["elapsed_s"] = round(time.time() - T_START, 1)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, args.out)

    if cuda and not torch.cuda.is_available():
        doc["errors"].append("torch.cuda.is_available() is False")
        save()
        print("[torch-peer] no CUDA device visible to torch", flush=True)
        return 1
    dev = torch.device(args.device)
    if cuda:
        p = torch.cuda.get_device_properties(0)
        doc.update(gpu=p.name, sm_count=p.multi_processor_count, cuda=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version())
        torch.backends.cudnn.benchmark = True
    save()

    def left():
        return args.budget - (time.time() - T_START)

    def timed(fn, batch, host_clock=False):
        """warm-up, then per-call timing; returns dict of stats (ms)."""
        t_w = time.time()
        n_w = 0
        while n_w < 5 or time.time() - t_w < 0.5:
            fn()
            n_w += 1
        if cuda:
            torch.cuda.synchronize()
        ms = []
        t0 = time.time()
        while len(ms) < args.max_iters and (len(ms) < args.iters or time.time() - t0 < args.seconds):
            if cuda and not host_clock:
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                fn()
                e.record()
                e.synchronize()
                ms.append(s.elapsed_time(e))
            else:
                h0 = time.perf_counter()
                fn()
                if cuda:
                    torch.cuda.synchronize()
                ms.append((time.perf_counter() - h0) * 1e3)
        ms.sort()
        med = statistics.median(ms)
        return {"iterations": len(ms), "warmup": n_w, "median_ms": med, "p90_ms": ms[min(len(ms) - 1, int(0.9 * len(ms)))],
                "min_ms": ms[0], "images_per_s": batch / (med / 1e3)}

    def record(impl, prec, batch, stats, **extra):
        r = {"impl": impl, "precision": prec, "batch": batch, **stats, **extra}
        doc["results"].append(r)
        save()
        print(f"[torch-peer] {impl:12s} {prec:5s} b{batch:<4d} median {stats['median_ms']:8.3f} ms  "
              f"{stats['images_per_s']:9.1f} img/s  ({stats['iterations']} calls)"
              + (f"  compile {extra['compile_s']:.1f}s" if extra.get("compile_s") is not None else ""), flush=True)

    def skip(impl, prec, batch, why):
        doc["skipped"].append({"impl": impl, "precision": prec, "batch": batch, "why": why})
        save()
        print(f"[torch-peer] {impl:12s} {prec:5s} b{batch:<4d} skipped: {why}", flush=True)

    def fail(impl, prec, batch, e):
        msg = f"{impl} {prec} b{batch}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        doc["errors"].append(msg)
        save()
        print(f"[torch-peer] FAILED {msg}", flush=True)
        if cuda:
            torch.cuda.empty_cache()

    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "tf32": torch.float32, "fp32": torch.float32}
    base = torchvision.models.resnet50(weights=None).eval()
    mf = torch.channels_last if cuda else torch.contiguous_format

    def model_for(prec):
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        torch.backends.cudnn.allow_tf32 = prec == "tf32"
        return base.to(device=dev, dtype=dtypes[prec], memory_format=mf)

    def x_for(prec, b):
        g = torch.Generator(device="cpu").manual_seed(b)
        return torch.randn(b, 3, args.size, args.size, generator=g).to(device=dev, dtype=dtypes[prec],
                                                                        memory_format=mf)

    # Rough cost of one measurement (s) for the budget check: warm-up + timed calls + cudnn.benchmark search.
    est = {"eager": 6.0, "eager_graph": 6.0, "eager_e2e": 6.0, "compile": 60.0}
    plan = [("eager", "fp16", b) for b in batches]
    if cuda and not args.no_graph:
        plan += [("eager_graph", "fp16", b) for b in batches]
    if not args.no_e2e:
        plan += [("eager_e2e", "fp16", b) for b in batches]
    if cuda and not args.no_compile:
        plan += [("compile", "fp16", b) for b in batches]
    plan += [("eager", p, b) for p in precs if p != "fp16" for b in batches]
    if not cuda:
        plan = [(i, "fp32" if p == "fp16" else p, b) for i, p, b in plan]

    compiled = None
    with torch.no_grad():
        for impl, prec, b in plan:
            if left() < est[impl]:
                skip(impl, prec, b, f"budget: {left():.0f}s left, needs ~{est[impl]:.0f}s")
                continue
            try:
                model = model_for(prec)
                x = x_for(prec, b)
                if impl == "eager":
                    record(impl, prec, b, timed(lambda: model(x), b))
                elif impl == "eager_graph":
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(3):
                            model(x)
                    torch.cuda.current_stream().wait_stream(s)
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g):
                        model(x)
                    record(impl, prec, b, timed(g.replay, b))
                    del g
                elif impl == "eager_e2e":
                    xh = torch.randn(b, 3, args.size, args.size, generator=torch.Generator().manual_seed(b))
                    if cuda:
                        xh = xh.pin_memory()

                    def e2e():
                        xd = xh.to(dev, non_blocking=True).to(dtype=dtypes[prec], memory_format=mf)
                        return model(xd).float().cpu()
                    record(impl, prec, b, timed(e2e, b, host_clock=True))
                elif impl == "compile":
                    if compiled is None:
                        import torch._inductor.config as icfg
                        if not args.no_freezing:
                            icfg.freezing = True
                        compiled = torch.compile(model, mode=args.compile_mode, dynamic=False)
                    t0 = time.time()
                    compiled(x)
                    torch.cuda.synchronize()
                    cs = time.time() - t0
                    est["compile"] = max(20.0, cs * 1.1)
                    record(impl, prec, b, timed(lambda: compiled(x), b), compile_s=cs, mode=args.compile_mode,
                           freezing=not args.no_freezing)
                del x
            except Exception as e:  # noqa: BLE001 - one failure must not cost the other measurements
                fail(impl, prec, b, e)
    doc["done"] = True
    save()
    print(f"[torch-peer] {len(doc['results'])} measurements, {len(doc['skipped'])} skipped, "
          f"{len(doc['errors'])} errors in {time.time() - T_START:.0f}s -> {args.out}", flush=True)
    return 1 if doc["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
