#!/usr/bin/python3
"""PyTorch golden outputs for reskern's end-to-end tests (never computed by reskern itself).

    /usr/bin/python3 tests/golden/make_goldens.py --out DIR [--models DIR] [--only CASE ...]

Writes into DIR, per case: CASE.safetensors (state dict, real checkpoint names), CASE.input.npy (float32 NCHW),
CASE.expected.npy (float64 logits of model.double().eval() with the weights exactly as stored); plus
manifest.json, params.json (parameter counts, checked against timm/torchvision's published numbers) and
macs.json. Deterministic: every case is seeded from its name. See tests/golden/README.md for the schema.
"""
import argparse
import json
import os
import re
import sys
import time
import zlib

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_models as gm  # noqa: E402
import safetensors_io as st  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_MODELS = os.path.normpath(os.path.join(REPO, "..", "shared", "models", "cifar10-resnet"))

STORE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}

# Published numbers (shared/docs/variants.md: torchvision / timm / akamaster). make_goldens fails if the
# modules here do not reproduce them exactly.
KNOWN_PARAMS = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
    "resnet152": 60_192_808, "resnet50c": 25_576_264, "resnet50d": 25_576_264, "resnet18d": 11_708_744,
    "resnetv2_50": 25_549_352, "resnetv2_18": 11_687_720,
    "cifar_resnet20_A": 269_722, "cifar_resnet32_A": 464_154, "cifar_resnet44_A": 658_586,
    "cifar_resnet56_A": 853_018, "cifar_resnet110_A": 1_727_962, "cifar_resnet1202_A": 19_421_274,
    "cifar_resnet20_B": 272_474,
}
KNOWN_PARAMS_M = {"resnext50_32x4d": 25.03, "wide_resnet50_2": 68.88}  # given to 2 decimals (millions)
# MACs (conv + fc): variants.md, GMACs at 224^2 / MMACs at 32^2. Those published for the ImageNet nets come
# from profilers that also count BN/pool/add work, so they are matched to MACS_RTOL only.
KNOWN_MACS = {
    "resnet18": 1.82e9, "resnet34": 3.67e9, "resnet50": 4.11e9, "resnet101": 7.83e9, "resnet152": 11.56e9,
    "resnet50d": 4.35e9, "resnetv2_50": 4.11e9,
    "cifar_resnet20_A": 40.55e6, "cifar_resnet56_A": 125.49e6, "cifar_resnet110_A": 252.89e6,
}
MACS_RTOL = 0.01

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float64)
CIFAR_STD = np.array([0.229, 0.224, 0.225], dtype=np.float64)


def build(model, shortcut=None, classes=10):
    """The torch module for a reskern model name."""
    m = re.fullmatch(r"resnet(\d+)", model)
    if m:
        return gm.torchvision_resnet(model, classes)
    m = re.fullmatch(r"resnet(\d+)_v1", model)
    if m:
        return gm.torchvision_resnet_v1(int(m.group(1)), classes)
    m = re.fullmatch(r"resnet(\d+)([cd])", model)
    if m:
        return gm.timm_resnet(int(m.group(1)), m.group(2), classes)
    m = re.fullmatch(r"resnetv2_(\d+)", model)
    if m:
        return gm.timm_resnetv2(int(m.group(1)), classes)
    m = re.fullmatch(r"cifar_resnet(\d+)", model)
    if m:
        return gm.cifar_resnet(int(m.group(1)), shortcut, classes)
    if model in ("resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2"):
        return gm.torchvision_resnet(model, classes)
    raise ValueError(f"unknown model {model!r}")


class Case:
    def __init__(self, name, model, input_shape, naming, shortcut=None, dtype="F32", keep_nbt=True,
                 conv_bias=False, classes=10, notes=""):
        self.__dict__.update(locals())
        del self.__dict__["self"]


CASES = [
    Case("resnet18", "resnet18", [2, 3, 61, 47], "torchvision", notes="v1.5, odd non-square input"),
    Case("resnet50", "resnet50", [1, 3, 67, 53], "torchvision", keep_nbt=False, notes="v1.5, odd input"),
    Case("resnet50_v1", "resnet50_v1", [1, 3, 64, 64], "torchvision",
         notes="v1: stride 2 on conv1 (1x1) of layer{2,3,4}.0, conv2 stride 1; tensors identical in shape to v1.5"),
    Case("resnet50c", "resnet50c", [1, 3, 65, 59], "timm", keep_nbt=False,
         notes="timm v1c: deep stem conv1.{0,1,3,4,6} 32-32-64; downsample.{0,1} = conv, BN"),
    Case("resnet50d", "resnet50d", [1, 3, 65, 59], "timm",
         notes="timm v1d: deep stem; downsample.{1,2} = conv 1x1/1, BN after AvgPool2d(2,2,ceil_mode,"
               "count_include_pad=False) (layer1: Identity, no pool); odd sizes exercise ceil_mode"),
    Case("resnet18d", "resnet18d", [2, 3, 45, 51], "timm", keep_nbt=False,
         notes="timm v1d basic blocks; layer1 has no downsample"),
    Case("resnetv2_50", "resnetv2_50", [1, 3, 63, 57], "timm_v2",
         notes="timm pre-activation; stages.0.blocks.0 has a downsample (64->256); head.fc is a 1x1 conv"),
    Case("resnetv2_18", "resnetv2_18", [1, 3, 63, 57], "timm_v2", keep_nbt=False,
         notes="timm pre-activation basic blocks; downsample only in stages 1-3"),
    Case("cifar_resnet20_A", "cifar_resnet20", [3, 3, 32, 32], "cifar", shortcut="A",
         notes="akamaster option A (parameter-free shortcut)"),
    Case("cifar_resnet20_A_odd", "cifar_resnet20", [2, 3, 33, 31], "cifar", shortcut="A", keep_nbt=False,
         notes="option A on an odd non-square input (x[:, :, ::2, ::2] keeps ceil(H/2)); head = true global "
               "average (akamaster's avg_pool2d(out, out.size(3)) would drop rows for non-square maps)"),
    Case("cifar_resnet20_B", "cifar_resnet20", [2, 3, 32, 32], "cifar", shortcut="B",
         notes="option B: layer{2,3}.0.shortcut.0 = conv 1x1/2, .shortcut.1 = BN"),
    Case("resnext50_32x4d", "resnext50_32x4d", [1, 3, 49, 49], "torchvision",
         notes="grouped 3x3 convs: groups 32, width 4 per group (inner widths 128/256/512/1024)"),
    Case("resnet18_f16", "resnet18", [2, 3, 61, 47], "torchvision", dtype="F16",
         notes="all float tensors stored as F16 (BN stats too); expected uses the F16-rounded values"),
    Case("resnet18_bf16", "resnet18", [2, 3, 61, 47], "torchvision", dtype="BF16", keep_nbt=False,
         notes="all float tensors stored as BF16 (BN stats too); expected uses the BF16-rounded values"),
    Case("resnet18_convbias", "resnet18", [1, 3, 53, 59], "torchvision", conv_bias=True,
         notes="conv biases present: every conv (conv1, layer*.*.conv{1,2}, downsample.0) has a .bias N(0,0.1^2)"
               " that must be folded with the following BN"),
]


def _arr_shape(shape):
    return "x".join(str(s) for s in shape)


def run_case(c, out):
    t0 = time.time()
    seed = zlib.crc32(c.name.encode())
    gen = torch.Generator().manual_seed(seed)
    model = build(c.model, c.shortcut, c.classes)
    if c.conv_bias:
        gm.with_conv_bias(model)
    gm.randomize_(model, gen)
    params = gm.param_count(model)

    tensors = {}
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            if c.keep_nbt:
                tensors[k] = v.clone()
        else:
            tensors[k] = v.to(STORE[c.dtype])
    wfile = f"{c.name}.safetensors"
    wbytes = st.write(os.path.join(out, wfile), tensors,
                      {"format": "pt", "case": c.name, "model": c.model, "naming": c.naming})

    # Expected outputs come from the file as read back (weights exactly as stored, widened to float64).
    back, _ = st.read(os.path.join(out, wfile))
    assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors), c.name
    model.double()
    res = model.load_state_dict(back, strict=False)
    assert not res.unexpected_keys and all(k.endswith("num_batches_tracked") for k in res.missing_keys), res
    model.eval()

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(c.input_shape, dtype=np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x).double()).numpy()
        y32 = model.float()(torch.from_numpy(x)).double().numpy()  # for tolerance calibration only
    assert y.shape == (c.input_shape[0], c.classes) and np.isfinite(y).all(), (c.name, y.shape)
    np.save(os.path.join(out, f"{c.name}.input.npy"), x)
    np.save(os.path.join(out, f"{c.name}.expected.npy"), y.astype(np.float64))

    entry = {
        "case": c.name, "model": c.model, "shortcut": c.shortcut, "classes": c.classes,
        "weights": wfile, "weights_dtype": c.dtype,
        "input": f"{c.name}.input.npy", "expected": f"{c.name}.expected.npy", "input_shape": c.input_shape,
        "naming": c.naming, "params": params, "notes": c.notes,
        "conv_bias": c.conv_bias, "num_batches_tracked": c.keep_nbt, "seed": seed,
        "expected_absmax": float(np.abs(y).max()),
        "torch_f32_max_abs_err": float(np.abs(y32 - y).max()),
    }
    print(f"[goldens] {c.name:22s} {c.model:16s} {_arr_shape(c.input_shape):12s} {c.dtype:4s} "
          f"params={params:>10,d} weights={wbytes / 2**20:6.1f}MiB |y|max={entry['expected_absmax']:9.3g} "
          f"f32err={entry['torch_f32_max_abs_err']:.2g} ({time.time() - t0:.1f}s)", flush=True)
    return entry


def _cifar_images(rng, n):
    """Smooth random RGB images in [0,1] (4x4 colour field upsampled + noise), normalised as in training."""
    low = torch.from_numpy(rng.random((n, 3, 4, 4)))
    img = torch.nn.functional.interpolate(low, size=(32, 32), mode="bilinear", align_corners=False).numpy()
    img = np.clip(img + 0.08 * rng.standard_normal(img.shape), 0.0, 1.0)
    return ((img - CIFAR_MEAN[None, :, None, None]) / CIFAR_STD[None, :, None, None]).astype(np.float32)


def trained_cases(models_dir, out, n_images=4, min_margin=0.25):
    """cifar10_resnet{20,32,44,56}: the trained akamaster weights (option A), referenced in place."""
    depths = [d for d in (20, 32, 44, 56) if os.path.isfile(os.path.join(models_dir, f"resnet{d}.safetensors"))]
    if not depths:
        print(f"[goldens] no trained CIFAR-10 weights in {models_dir}: skipping the cifar10_resnet* cases")
        return []
    t0 = time.time()
    models = {}
    for d in depths:
        path = os.path.abspath(os.path.join(models_dir, f"resnet{d}.safetensors"))
        sd, meta = st.read(path)
        m = gm.cifar_resnet(d, "A", 10).double()
        res = m.load_state_dict(sd, strict=False)
        assert not res.unexpected_keys and all(k.endswith("num_batches_tracked") for k in res.missing_keys), res
        models[d] = (m.eval(), path, meta)

    # Pick images whose top-1 class is clear (margin >= min_margin logits) under every model, so that a
    # float32 implementation must agree on the argmax.
    rng = np.random.default_rng(20261122)
    chosen = []
    with torch.no_grad():
        while len(chosen) < n_images:
            cand = _cifar_images(rng, 16)
            ys = [models[d][0](torch.from_numpy(cand).double()).numpy() for d in depths]
            for i in range(cand.shape[0]):
                if len(chosen) < n_images and all(np.diff(np.sort(y[i])[-2:])[0] >= min_margin for y in ys):
                    chosen.append(cand[i])
    x = np.stack(chosen).astype(np.float32)

    entries = []
    for d in depths:
        m, path, meta = models[d]
        name = f"cifar10_resnet{d}"
        with torch.no_grad():
            y = m(torch.from_numpy(x).double()).numpy()
            y32 = m.float()(torch.from_numpy(x)).double().numpy()
        np.save(os.path.join(out, f"{name}.input.npy"), x)
        np.save(os.path.join(out, f"{name}.expected.npy"), y)
        top2 = np.sort(y, axis=1)[:, -2:]
        argmax = [int(a) for a in y.argmax(1)]
        entries.append({
            "case": name, "model": f"cifar_resnet{d}", "shortcut": "A", "classes": 10,
            "weights": path, "weights_dtype": "F32",
            "input": f"{name}.input.npy", "expected": f"{name}.expected.npy", "input_shape": list(x.shape),
            "naming": "cifar", "params": gm.param_count(m),
            "notes": f"trained CIFAR-10 weights ({meta.get('source', 'akamaster')}), referenced in place (absolute "
                     "path), num_batches_tracked absent; input = 4 smooth random images in [0,1] normalised with "
                     "mean (0.485,0.456,0.406) std (0.229,0.224,0.225); argmax must match",
            "conv_bias": False, "num_batches_tracked": False, "seed": 20261122,
            "expected_absmax": float(np.abs(y).max()),
            "torch_f32_max_abs_err": float(np.abs(y32 - y).max()),
            "argmax": argmax, "argmax_labels": [CIFAR10_CLASSES[a] for a in argmax],
            "top2_margin": [float(v) for v in (top2[:, 1] - top2[:, 0])],
        })
        print(f"[goldens] {name:22s} {'cifar_resnet%d' % d:16s} {_arr_shape(x.shape):12s} F32  "
              f"params={entries[-1]['params']:>10,d} argmax={argmax} "
              f"margin>={min(entries[-1]['top2_margin']):.2f}", flush=True)
    print(f"[goldens] trained CIFAR-10 cases: {time.time() - t0:.1f}s")
    return entries


def param_table():
    """{model: parameter count} at 1000 classes (ImageNet) / 10 classes (CIFAR), checked against KNOWN_*."""
    names = []
    for d in (18, 34, 50, 101, 152):
        names += [(f"resnet{d}", None, 1000), (f"resnet{d}_v1", None, 1000)]
    names += [("resnext50_32x4d", None, 1000), ("wide_resnet50_2", None, 1000)]
    for d in (18, 34, 50, 101, 152):
        names += [(f"resnet{d}c", None, 1000), (f"resnet{d}d", None, 1000)]
    names += [(f"resnetv2_{d}", None, 1000) for d in (18, 34, 50, 101, 152)]
    for d in (20, 32, 44, 56, 110, 1202):
        names += [(f"cifar_resnet{d}", "A", 10), (f"cifar_resnet{d}", "B", 10)]
    table, bad = {}, []
    with gm.no_init():
        for model, sc, classes in names:
            key = f"{model}_{sc}" if sc else model
            table[key] = n = gm.param_count(build(model, sc, classes))
            if key in KNOWN_PARAMS and KNOWN_PARAMS[key] != n:
                bad.append(f"{key}: {n:,} != published {KNOWN_PARAMS[key]:,}")
            if key in KNOWN_PARAMS_M and round(n / 1e6, 2) != KNOWN_PARAMS_M[key]:
                bad.append(f"{key}: {n / 1e6:.2f} M != published {KNOWN_PARAMS_M[key]} M")
    if bad:
        raise SystemExit("[goldens] parameter counts differ from timm/torchvision:\n  " + "\n  ".join(bad))
    print(f"[goldens] params.json: {len(table)} models; all {len(KNOWN_PARAMS) + len(KNOWN_PARAMS_M)} "
          "published counts reproduced")
    return table


def macs_table():
    """{model: {"input": [3,H,W], "macs": conv+fc MACs per image, "published": ..., "rel_diff": ...}}."""
    todo = [(f"resnet{d}", None, 1000, 224) for d in (18, 34, 50, 101, 152)]
    todo += [("resnet50_v1", None, 1000, 224), ("resnet50d", None, 1000, 224), ("resnetv2_50", None, 1000, 224),
             ("resnext50_32x4d", None, 1000, 224), ("wide_resnet50_2", None, 1000, 224)]
    todo += [(f"cifar_resnet{d}", "A", 10, 32) for d in (20, 56, 110)]
    table, bad = {}, []
    for model, sc, classes, hw in todo:
        key = f"{model}_{sc}" if sc else model
        with gm.no_init():
            m = build(model, sc, classes).to("meta")
        macs = gm.count_macs(m, (3, hw, hw))
        e = {"input": [3, hw, hw], "macs": macs}
        if key in KNOWN_MACS:
            e["published"] = KNOWN_MACS[key]
            e["rel_diff"] = round(macs / KNOWN_MACS[key] - 1, 5)
            if abs(e["rel_diff"]) > MACS_RTOL:
                bad.append(f"{key}: {macs:,} vs published {KNOWN_MACS[key]:,.0f}")
        table[key] = e
    if bad:
        raise SystemExit("[goldens] MAC counts differ from the published ones:\n  " + "\n  ".join(bad))
    print("[goldens] macs.json: " + ", ".join(f"{k} {v['macs'] / 1e9:.3f}G" for k, v in table.items()))
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--models", default=DEFAULT_MODELS,
                    help="folder with the trained CIFAR-10 resnet{20,32,44,56}.safetensors (default %(default)s)")
    ap.add_argument("--only", nargs="*", help="only these cases (for debugging; the manifest lists only them)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, 8)))
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    params = param_table()
    macs = macs_table()
    entries = [run_case(c, args.out) for c in CASES if not args.only or c.name in args.only]
    if not args.only or any(o.startswith("cifar10_") for o in args.only):
        entries += trained_cases(args.models, args.out)

    for n, obj in (("params.json", params), ("macs.json", macs)):
        with open(os.path.join(args.out, n), "w") as f:
            json.dump(obj, f, indent=1)
    manifest = {
        "format": 1,
        "generator": "tests/golden/make_goldens.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
        "bn_eps": 1e-5,
        "cases": entries,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"[goldens] {len(entries)} cases in {args.out} ({size / 2**20:.0f} MiB) in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
