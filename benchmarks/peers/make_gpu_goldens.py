#!/usr/bin/env python3
"""PyTorch goldens for the GPU tests, made on the GPU host with the REAL torchvision and timm model classes.

    python3 make_gpu_goldens.py --out DIR [--quick] [--only CASE ...] [--threads N]

Writes DIR/manifest.json in the format of tests/golden/make_goldens.py (tests/golden/README.md), read by
CudaModelTest.pytorchGoldensOnCuda through -Dreskern.gpuGoldens=DIR, and per case CASE.safetensors (the model's own
state dict: real checkpoint names, num_batches_tracked kept where the model has it), CASE.input.npy (float32 NCHW,
N(0,1)) and CASE.expected.npy (float64 logits of model.double().eval(), weights exactly as stored; computed on the
GPU when there is one (float64 throughout, TF32 off), else on the CPU).

Weights are random but not trivial: tests/golden/golden_models.py `randomize_` (BN statistics that do not
normalise), seeded from a CRC32 of the case name; timm's own init (BN = identity) would hide BN-folding bugs.

Besides the goldens, each timm case is checked against the hand-written reference module of golden_models.py
that the CPU goldens use (same state-dict names and shapes? same float64 output with the same weights?); the
result is the case's `naming_check` in the manifest and a line of the log. A name that differs means reskern's
loader (which follows golden_models.py) would not find that tensor in a real timm checkpoint.

Runs with torch + torchvision (+ timm for the timm cases; without timm they are listed under "skipped").
Looks for golden_models.py / safetensors_io.py next to this file (the GPU bundle) or in tests/golden/.
"""
import argparse
import json
import os
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
for p in (HERE, os.path.join(HERE, "..", "..", "tests", "golden")):
    if os.path.isfile(os.path.join(p, "golden_models.py")):
        sys.path.insert(0, os.path.abspath(p))
        break

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

import golden_models as gm  # noqa: E402
import safetensors_io as st  # noqa: E402

try:
    import timm  # noqa: E402
except Exception as e:  # noqa: BLE001 - any import failure means "no timm"
    timm = None
    TIMM_ERROR = f"{type(e).__name__}: {e}"
else:
    TIMM_ERROR = None

# Published parameter counts (shared/docs/variants.md), at 1000 classes / 10 for CIFAR.
KNOWN_PARAMS = {"resnet18": 11_689_512, "resnet50": 25_557_032, "resnet50c": 25_576_264, "resnet50d": 25_576_264,
                "resnet18d": 11_708_744, "resnetv2_50": 25_549_352, "cifar_resnet20_A": 269_722,
                "cifar_resnet20_B": 272_474}
KNOWN_PARAMS_M = {"resnext50_32x4d": 25.03}


class Case:
    """source: torchvision | timm | reference (golden_models.py); arch: constructor name in that source."""

    def __init__(self, name, source, arch, model, naming, shape, classes=1000, shortcut=None, dtype="F32",
                 quick=False, notes=""):
        self.__dict__.update({k: v for k, v in locals().items() if k != "self"})


CASES = [
    Case("tv_resnet50", "torchvision", "resnet50", "resnet50", "torchvision", [2, 3, 224, 224],
         notes="torchvision resnet50 (v1.5) at 224x224, batch 2"),
    Case("tv_resnet50_f16", "torchvision", "resnet50", "resnet50", "torchvision", [1, 3, 224, 224], dtype="F16",
         notes="torchvision resnet50, every float tensor stored as F16"),
    Case("tv_resnet18", "torchvision", "resnet18", "resnet18", "torchvision", [2, 3, 97, 131], quick=True,
         notes="torchvision resnet18, odd non-square input"),
    Case("tv_resnext50_32x4d", "torchvision", "resnext50_32x4d", "resnext50_32x4d", "torchvision", [1, 3, 129, 97],
         notes="torchvision ResNeXt-50 32x4d: grouped 3x3 convs"),
    Case("timm_resnet50", "timm", "resnet50", "resnet50", "torchvision", [1, 3, 224, 224],
         notes="timm resnet50 (v1.5): the same tensor names as torchvision's"),
    Case("timm_resnet50d", "timm", "resnet50d", "resnet50d", "timm", [2, 3, 193, 171],
         notes="timm resnet50d: deep stem, avg-pool downsample (ceil_mode, count_include_pad=False); odd input"),
    Case("timm_resnet50c", "timm", "resnet50c", "resnet50c", "timm", [1, 3, 160, 160],
         notes="timm resnet50c: deep stem, conv downsample"),
    Case("timm_resnet18d", "timm", "resnet18d", "resnet18d", "timm", [2, 3, 111, 89], quick=True,
         notes="timm resnet18d: basic blocks, avg-pool downsample; odd input"),
    Case("timm_resnetv2_50", "timm", "resnetv2_50", "resnetv2_50", "timm_v2", [2, 3, 224, 224],
         notes="timm resnetv2_50: pre-activation, 1x1-conv head"),
    Case("cifar_resnet20_A", "reference", "cifar_resnet20", "cifar_resnet20", "cifar", [4, 3, 32, 32], classes=10,
         shortcut="A", quick=True, notes="akamaster CIFAR ResNet-20, option A (golden_models.py)"),
    Case("cifar_resnet20_B", "reference", "cifar_resnet20", "cifar_resnet20", "cifar", [4, 3, 32, 32], classes=10,
         shortcut="B", notes="CIFAR ResNet-20, option B projection shortcuts (golden_models.py)"),
]
STORE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def build(c):
    if c.source == "torchvision":
        return getattr(torchvision.models, c.arch)(weights=None, num_classes=c.classes)
    if c.source == "timm":
        return timm.create_model(c.arch, pretrained=False, num_classes=c.classes)
    if c.source == "reference":
        return gm.cifar_resnet(int(c.arch.removeprefix("cifar_resnet")), c.shortcut, c.classes)
    raise ValueError(c.source)


def reference_module(c):
    """The golden_models.py module reskern's loader and CPU goldens follow, for a timm case (or None)."""
    if c.model.startswith("resnetv2_"):
        return gm.timm_resnetv2(int(c.model.split("_")[1]), c.classes)
    if c.model[-1] in "cd":
        return gm.timm_resnet(int(c.model[len("resnet"):-1]), c.model[-1], c.classes)
    if c.model.startswith("resnet"):
        return gm.torchvision_resnet(c.model, c.classes)
    return None


def naming_check(c, model, x, dev):
    """Compare the timm module's state dict with golden_models.py's (names, shapes, float64 output)."""
    ref = reference_module(c)
    if ref is None:
        return None
    a = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    b = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    out = {
        "reference": "tests/golden/golden_models.py",
        "only_in_timm": sorted(set(a) - set(b)),
        "only_in_reference": sorted(set(b) - set(a)),
        "shape_mismatch": sorted(k for k in set(a) & set(b) if a[k] != b[k]),
    }
    out["same_names"] = not (out["only_in_timm"] or out["only_in_reference"] or out["shape_mismatch"])
    if out["same_names"]:
        ref.load_state_dict(model.state_dict())
        ref.to(dev).double().eval()
        with torch.no_grad():
            xd = torch.from_numpy(x).to(dev).double()
            yr = ref(xd).cpu().numpy()
            yt = model(xd).cpu().numpy()
        out["max_abs_diff_vs_reference"] = float(np.abs(yr - yt).max())
        out["same_function"] = bool(out["max_abs_diff_vs_reference"] <= 1e-9 * max(1.0, float(np.abs(yt).max())))
    return out


def run_case(c, out_dir, dev):
    t0 = time.time()
    seed = zlib.crc32(c.name.encode())
    gen = torch.Generator().manual_seed(seed)
    model = build(c)
    gm.randomize_(model, gen)
    params = gm.param_count(model)
    key = f"{c.model}_{c.shortcut}" if c.shortcut else c.model
    problems = []
    if key in KNOWN_PARAMS and KNOWN_PARAMS[key] != params:
        problems.append(f"params {params:,} != published {KNOWN_PARAMS[key]:,}")
    if key in KNOWN_PARAMS_M and round(params / 1e6, 2) != KNOWN_PARAMS_M[key]:
        problems.append(f"params {params / 1e6:.2f} M != published {KNOWN_PARAMS_M[key]} M")

    tensors = {k: (v.clone() if k.endswith("num_batches_tracked") else v.to(STORE[c.dtype]))
               for k, v in model.state_dict().items()}
    wfile = f"{c.name}.safetensors"
    wbytes = st.write(os.path.join(out_dir, wfile), tensors,
                      {"format": "pt", "case": c.name, "model": c.model, "naming": c.naming,
                       "source": f"{c.source}:{c.arch}"})
    back, _ = st.read(os.path.join(out_dir, wfile))
    model.double()
    res = model.load_state_dict(back, strict=False)
    assert not res.unexpected_keys and all(k.endswith("num_batches_tracked") for k in res.missing_keys), res
    model.to(dev).eval()

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(c.shape, dtype=np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x).to(dev).double()).cpu().numpy()
        y32 = model.float()(torch.from_numpy(x).to(dev)).double().cpu().numpy()
    model.double()
    assert y.shape == (c.shape[0], c.classes) and np.isfinite(y).all(), (c.name, y.shape)
    np.save(os.path.join(out_dir, f"{c.name}.input.npy"), x)
    np.save(os.path.join(out_dir, f"{c.name}.expected.npy"), y.astype(np.float64))

    entry = {
        "case": c.name, "model": c.model, "shortcut": c.shortcut, "classes": c.classes,
        "weights": wfile, "weights_dtype": c.dtype,
        "input": f"{c.name}.input.npy", "expected": f"{c.name}.expected.npy", "input_shape": c.shape,
        "naming": c.naming, "params": params, "notes": c.notes,
        "conv_bias": False, "num_batches_tracked": any(k.endswith("num_batches_tracked") for k in tensors),
        "seed": seed, "source": f"{c.source}:{c.arch}", "reference_device": str(dev),
        "expected_absmax": float(np.abs(y).max()),
        "torch_f32_max_abs_err": float(np.abs(y32 - y).max()),
    }
    if c.source == "timm":
        nc = naming_check(c, model, x, dev)
        if nc is not None:
            entry["naming_check"] = nc
            if not nc["same_names"]:
                problems.append("timm names differ from golden_models.py: "
                                f"only in timm {nc['only_in_timm'][:6]}, only in reference "
                                f"{nc['only_in_reference'][:6]}, shapes {nc['shape_mismatch'][:6]}")
            elif not nc.get("same_function", True):
                problems.append(f"same names but a different function: max |timm - reference| = "
                                f"{nc['max_abs_diff_vs_reference']:.3g}")
    if problems:
        entry["problems"] = problems
    nc_txt = ""
    if "naming_check" in entry:
        nc = entry["naming_check"]
        nc_txt = " names=" + ("same" if nc["same_names"] else "DIFFER") + (
            f" fn={'same' if nc.get('same_function') else 'DIFFERS'}" if nc["same_names"] else "")
    print(f"[gpu-goldens] {c.name:20s} {c.source}:{c.arch:16s} {'x'.join(map(str, c.shape)):12s} {c.dtype} "
          f"params={params:>10,d} {wbytes / 2**20:5.1f}MiB |y|max={entry['expected_absmax']:8.3g}{nc_txt}"
          f"{' PROBLEM: ' + '; '.join(problems) if problems else ''} ({time.time() - t0:.1f}s)", flush=True)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (emptied of earlier goldens)")
    ap.add_argument("--quick", action="store_true", help="only the small cases (for a dry run)")
    ap.add_argument("--only", nargs="*", help="only these cases")
    ap.add_argument("--threads", type=int, default=min(os.cpu_count() or 1, 16), help="CPU threads (default %(default)s)")
    ap.add_argument("--device", default="auto", help="where the float64 reference runs: auto (cuda if available), cpu, cuda")
    args = ap.parse_args()
    torch.set_num_threads(max(1, args.threads))
    dev = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if args.device == "auto" else args.device))
    if dev.type == "cuda":  # float64 has no TF32 path, but the float32 calibration run must not use it either
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):
        if f == "manifest.json" or f.endswith((".safetensors", ".npy")):
            os.remove(os.path.join(args.out, f))
    t0 = time.time()
    entries, skipped = [], []
    for c in CASES:
        if (args.only and c.name not in args.only) or (args.quick and not c.quick):
            continue
        if c.source == "timm" and timm is None:
            skipped.append({"case": c.name, "why": f"timm not importable ({TIMM_ERROR})"})
            print(f"[gpu-goldens] {c.name:20s} skipped: timm not importable ({TIMM_ERROR})", flush=True)
            continue
        try:
            entries.append(run_case(c, args.out, dev))
        except Exception as e:  # noqa: BLE001 - one broken case must not cost the others
            skipped.append({"case": c.name, "why": f"{type(e).__name__}: {e}"})
            print(f"[gpu-goldens] {c.name:20s} FAILED: {type(e).__name__}: {e}", flush=True)
    manifest = {
        "format": 1, "generator": "benchmarks/peers/make_gpu_goldens.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
        "timm": getattr(timm, "__version__", None), "bn_eps": 1e-5,
        "cases": entries, "skipped": skipped,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    problems = [e["case"] for e in entries if e.get("problems")]
    print(f"[gpu-goldens] {len(entries)} cases, {len(skipped)} skipped, {len(problems)} with problems "
          f"{problems if problems else ''}in {time.time() - t0:.1f}s on {dev} -> {args.out}")
    return 1 if (problems or (skipped and not all("timm not importable" in s["why"] for s in skipped))) else 0


if __name__ == "__main__":
    sys.exit(main())
