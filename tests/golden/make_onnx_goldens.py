#!/usr/bin/python3
"""ONNX goldens for reskern's ONNX importer: torch.onnx.export of torchvision and golden_models.py nets with seeded
random weights, and PyTorch's float64 outputs (never computed by reskern itself).

    /usr/bin/python3 tests/golden/make_onnx_goldens.py --out DIR

Each net is exported twice, both opset 13 with a dynamic batch axis, from the same weights:
  - CASE_folded.onnx: do_constant_folding=True, eval mode (torch folds BatchNorm into Conv weights + bias);
  - CASE_bn.onnx:     do_constant_folding=False, training=TrainingMode.PRESERVE on an eval-mode module (Conv and
                      BatchNormalization stay separate nodes; torch's F.pad arithmetic stays as Shape/Gather/... nodes).
Per case: CASE.input.npy (float32 NCHW, N(0,1)), CASE.expected.npy (float64 logits of model.double().eval()), and
manifest.json {"format": 1, "torch", "onnx", "opset", "cases": [{case, model, input, expected, input_shape, classes,
files: {folded, bn}, expected_absmax, torch_f32_max_abs_err, notes}]}. Deterministic: seeded from each case's name.
"""
import argparse
import json
import os
import sys
import time
import zlib

import numpy as np
import onnx
import torch
from torch.onnx import TrainingMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_models as gm  # noqa: E402

OPSET = 13

# name, builder, input shape [N, 3, H, W] (odd sizes), what it exercises
CASES = [
    ("onnx_resnet18", lambda: gm.torchvision_resnet("resnet18", 1000), (2, 3, 61, 47),
     "torchvision v1.5 basic blocks, projection shortcuts, Gemm head"),
    ("onnx_resnet50", lambda: gm.torchvision_resnet("resnet50", 1000), (1, 3, 67, 53),
     "torchvision v1.5 bottleneck"),
    ("onnx_resnet18c", lambda: gm.timm_resnet(18, "c", 100), (1, 3, 65, 59),
     "timm v1c deep stem"),
    ("onnx_resnet18d", lambda: gm.timm_resnet(18, "d", 100), (2, 3, 45, 51),
     "timm v1d: AveragePool 2x2/2 ceil_mode=1 count_include_pad=0 shortcut"),
    ("onnx_resnetv2_18", lambda: gm.timm_resnetv2(18, 100), (1, 3, 63, 57),
     "timm v2 pre-activation: stand-alone BN+ReLU, ReduceMean + 1x1-conv head"),
    ("onnx_cifar_resnet20_A", lambda: gm.cifar_resnet(20, "A", 10), (2, 3, 33, 31),
     "CIFAR option A: Slice ::2 + channel Pad shortcut, ReduceMean, Gemm"),
    ("onnx_cifar_resnet20_B", lambda: gm.cifar_resnet(20, "B", 10), (2, 3, 32, 32),
     "CIFAR option B: 1x1 projection shortcut"),
]


def export(model, x, path, folded):
    kw = dict(opset_version=OPSET, input_names=["input"], output_names=["logits"],
              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    if folded:
        kw.update(do_constant_folding=True, training=TrainingMode.EVAL)
    else:
        kw.update(do_constant_folding=False, training=TrainingMode.PRESERVE)
    torch.onnx.export(model, x, path, **kw)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return sorted({n.op_type for n in m.graph.node})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cases = []
    t0 = time.time()
    for name, make, shape, notes in CASES:
        seed = zlib.crc32(name.encode())
        gen = torch.Generator().manual_seed(seed)
        model = gm.randomize_(make(), gen).eval()
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            y32 = model(torch.from_numpy(x)).numpy().astype(np.float64)
            y64 = model.double()(torch.from_numpy(x).double()).numpy()
        model.float()
        files, ops = {}, {}
        for form in ("folded", "bn"):
            f = f"{name}_{form}.onnx"
            ops[form] = export(model, torch.from_numpy(x), os.path.join(args.out, f), form == "folded")
            files[form] = f
        np.save(os.path.join(args.out, f"{name}.input.npy"), x)
        np.save(os.path.join(args.out, f"{name}.expected.npy"), y64)
        cases.append({
            "case": name, "input": f"{name}.input.npy", "expected": f"{name}.expected.npy",
            "input_shape": list(shape), "classes": int(y64.shape[1]), "files": files, "ops": ops,
            "expected_absmax": float(np.abs(y64).max()), "torch_f32_max_abs_err": float(np.abs(y32 - y64).max()),
            "seed": seed, "notes": notes,
        })
        print(f"[onnx goldens] {name}: {shape}, |y|max {np.abs(y64).max():.3g}, ops folded {ops['folded']}")
    manifest = {"format": 1, "generator": "tests/golden/make_onnx_goldens.py", "torch": torch.__version__,
                "onnx": onnx.__version__, "opset": OPSET, "cases": cases}
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    print(f"[onnx goldens] {len(cases)} cases in {time.time() - t0:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
