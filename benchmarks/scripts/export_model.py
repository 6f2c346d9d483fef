#!/usr/bin/python3
"""Export a seeded random-weight torchvision ResNet for the benchmarks (reskern vs ONNX Runtime).

    /usr/bin/python3 benchmarks/scripts/export_model.py --model NAME --out DIR [--classes 1000] [--seed 0]

NAME (default resnet50): a torchvision ResNet that reskern also builds by name: resnet18, resnet34, resnet50,
resnet101, resnet152, resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, wide_resnet101_2.

Writes, all with the SAME weights (tests/golden/golden_models.py randomize_: conv kaiming-normal, BN gamma
U(0.5,1.5), beta/mean N(0,0.1^2), var U(0.5,1.5), fc U(+-1/sqrt(in_features)) with the model's own fc in-features,
512 for resnet18/34, 2048 for the others):
  DIR/NAME.onnx            torch.onnx.export, opset 13, input `input` [batch,3,224,224] (dynamic batch),
                           output `logits` [batch,classes]; eval mode, so BN is folded into the convs
  DIR/NAME.safetensors     torchvision state-dict names, F32 (no num_batches_tracked)
  DIR/NAME.input.npy       float32 [1,3,224,224], N(0,1)
  DIR/NAME.expected.npy    float64 [1,classes], torch model.double().eval() on that input
Then checks the ONNX file (onnx.checker) and evaluates its graph with a small torch-op interpreter in float64
(batch 1 against expected.npy, and batch 2 to exercise the dynamic axis).
The seed is used the same way for every NAME (weights, then input), so --model resnet50 writes the same files as
the former export_resnet50.py.
"""
import argparse
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "golden"))
import golden_models as gm  # noqa: E402
import safetensors_io as st  # noqa: E402


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads(a, nd=2):
    p = list(a.get("pads", [0] * 2 * nd))
    if p[:nd] != p[nd:]:
        raise NotImplementedError(f"asymmetric pads {p}")
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("auto_pad")
    return p[:nd]


def run_onnx(model, feeds):
    """Evaluate an ONNX graph (the ops a torchvision ResNet exports to) with torch ops in float64."""
    env = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    env = {k: v.double() if v.is_floating_point() else v for k, v in env.items()}
    env.update({k: torch.from_numpy(v).double() for k, v in feeds.items()})
    for n in model.graph.node:
        a, x = _attrs(n), [env[i] if i else None for i in n.input]
        if n.op_type == "Conv":
            y = F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, stride=a.get("strides", [1, 1]),
                         padding=_pads(a), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif n.op_type == "BatchNormalization":
            y = F.batch_norm(x[0], x[3], x[4], x[1], x[2], False, 0.0, a.get("epsilon", 1e-5))
        elif n.op_type == "Relu":
            y = F.relu(x[0])
        elif n.op_type == "Add":
            y = x[0] + x[1]
        elif n.op_type == "MaxPool":
            y = F.max_pool2d(x[0], a["kernel_shape"], a.get("strides", [1, 1]), _pads(a),
                             ceil_mode=bool(a.get("ceil_mode", 0)))
        elif n.op_type == "GlobalAveragePool":
            y = x[0].mean((2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif n.op_type == "Gemm":
            A = x[0].t() if a.get("transA", 0) else x[0]
            B = x[1].t() if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        else:
            raise NotImplementedError(f"op {n.op_type}")
        env[n.output[0]] = y
    return [env[o.name].numpy() for o in model.graph.output]


# torchvision constructors that reskern's ResNets.byName also knows (same names, same state-dict naming)
MODELS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
          "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="resnet50", choices=MODELS)
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opset", type=int, default=13)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, 8)))
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()

    name = args.model
    files = [f"{name}.onnx", f"{name}.safetensors", f"{name}.input.npy", f"{name}.expected.npy"]
    model = gm.torchvision_resnet(name, args.classes)
    gm.randomize_(model, torch.Generator().manual_seed(args.seed))
    tensors = {k: v.float() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    st_path = os.path.join(args.out, files[1])
    st.write(st_path, tensors, {"format": "pt", "model": name, "naming": "torchvision",
                                "seed": args.seed, "classes": args.classes})
    back, _ = st.read(st_path)
    res = model.load_state_dict(back, strict=False)  # the very weights in the file
    assert not res.unexpected_keys and all(k.endswith("num_batches_tracked") for k in res.missing_keys), res
    model.eval()

    x = np.random.default_rng(args.seed).standard_normal((1, 3, 224, 224), dtype=np.float32)
    with torch.no_grad():
        y = model.double()(torch.from_numpy(x).double()).numpy()
    np.save(os.path.join(args.out, files[2]), x)
    np.save(os.path.join(args.out, files[3]), y)

    onnx_path = os.path.join(args.out, files[0])
    model.float()
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(x), onnx_path, opset_version=args.opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    onnx.checker.check_model(onnx_path)
    om = onnx.load(onnx_path)
    ops = sorted({n.op_type for n in om.graph.node})

    # Same weights? Run the exported graph (float64) against the torch float64 output.
    (yo,) = run_onnx(om, {"input": x})
    err = float(np.abs(yo - y).max())
    x2 = np.concatenate([x, np.random.default_rng(args.seed + 1).standard_normal(x.shape, dtype=np.float32)])
    (yo2,) = run_onnx(om, {"input": x2})
    err2 = float(np.abs(yo2[:1] - y).max())
    scale = float(np.abs(y).max())
    if not (err <= 1e-5 * max(scale, 1.0) and err2 <= 1e-5 * max(scale, 1.0) and yo2.shape == (2, args.classes)):
        raise SystemExit(f"ONNX graph disagrees with torch: max |diff| {err:.3g} / {err2:.3g} (|y|max {scale:.3g})")

    for f in files:
        print(f"[export] {f:32s} {os.path.getsize(os.path.join(args.out, f)) / 2**20:7.1f} MiB")
    print(f"[export] {name}: opset {args.opset}, ops {ops}, |y|max {scale:.3g}, ONNX(float64 eval) vs torch max |diff| "
          f"{err:.2g} (batch 1), {err2:.2g} (batch 2), {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
