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
files: {folded, bn}, expected_absmax, torch_f32_max_abs_err, notes}], "variants": [...]}. Deterministic: seeded from each
case's name.

"variants" are the export styles users write (VARIANTS below), on a CIFAR ResNet-8 (option B, ~80 k parameters) wrapped
in a head written differently: x.view(x.size(0), -1) with and without a dynamic batch, squeeze(-1).squeeze(-1), ...
Each: {case, file, input, expected, ort (whether ONNX Runtime can run the stored input: a fixed-batch export
cannot at another batch), expect: "match" or {"code", "message"} (the ReskernException reskern must throw), notes}.
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


class VariantNet(torch.nn.Module):
    """CIFAR ResNet-8 (option B) whose pooling / flatten / input layout is written in one of the ways users write it."""

    def __init__(self, net, head):
        super().__init__()
        self.net, self.head = net, head
        if head == "grouped":  # a ResNeXt-style grouped 3x3 conv
            c = net.layer2[0].conv2
            net.layer2[0].conv2 = torch.nn.Conv2d(c.in_channels, c.out_channels, 3, 1, 1, groups=4, bias=False)
        if head == "mlp":
            self.fc0 = torch.nn.Linear(64, 64)
        if head == "tv_avgpool7":  # an ImageNet stem (7x7/2 conv, 3x3/2 max-pool) so that 224 gives a 7x7 map
            net.conv1 = torch.nn.Conv2d(3, net.conv1.out_channels, 7, 2, 3, bias=False)
            self.avgpool = torch.nn.AvgPool2d(7, stride=1)  # torchvision's resnet.py before 0.2.1
        if head == "dilated":  # torchvision's replace_stride_with_dilation
            net.layer3[0].conv2.dilation, net.layer3[0].conv2.padding = (2, 2), (2, 2)

    def forward(self, x):
        n, h = self.net, self.head
        if h == "nhwc":
            x = x.permute(0, 3, 1, 2)
        x = torch.relu(n.bn1(n.conv1(x)))
        if h == "tv_avgpool7":
            x = torch.nn.functional.max_pool2d(x, 3, 2, 1)
        elif h == "maxpool_ceil":  # the Caffe / MSRA ResNet stem pool: 3x3/2, no padding, ceil_mode=True
            x = torch.nn.functional.max_pool2d(x, 3, 2, 0, ceil_mode=True)
        elif h == "maxpool_ceil_s3":  # ceil_mode where torch drops the last window (it would start in the padding)
            x = torch.nn.functional.max_pool2d(x, 3, 3, 1, ceil_mode=True)
        x = n.layer3(n.layer2(n.layer1(x)))
        if h == "flatten":
            x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
        elif h in ("view", "nhwc"):
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1)
            x = x.view(x.size(0), -1)
        elif h == "view_unpooled":  # the batch read from the not yet pooled tensor
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1).view(x.size(0), -1)
        elif h == "reshape":
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1).reshape(x.shape[0], -1)
        elif h == "squeeze2":
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)
        elif h == "squeeze_all":
            x = torch.nn.functional.adaptive_avg_pool2d(x, 1).squeeze()
        elif h == "tv_avgpool7":  # 224 -> 7x7 here; the 2x2 max-pool stands for a fourth stage
            x = self.avgpool(torch.nn.functional.max_pool2d(x, 2))
            x = x.view(x.size(0), -1)
        elif h in ("avg_pool_k", "akamaster"):  # akamaster's CIFAR ResNet: F.avg_pool2d(out, out.size()[3]), global at one size only
            x = torch.nn.functional.avg_pool2d(x, int(x.size(3)))
            x = x.view(x.size(0), -1)
        elif h == "view_hw":  # depends on H, W: must be refused, not guessed
            x = x.view(x.size(0), x.size(1), -1).mean(2)
        if h in ("grouped", "dilated", "softmax", "two_outputs", "train", "maxpool_ceil", "maxpool_ceil_s3"):
            x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
        if h == "mlp":  # a fine-tuning head Linear -> ReLU -> Linear
            return n.linear(torch.relu(self.fc0(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))))
        y = n.linear(x)
        if h == "softmax":
            return torch.softmax(y, 1)
        if h == "two_outputs":
            return y, x
        return y


# case, head, export kwargs, export batch, stored-input shape, expect ("match" or (code, message part)), notes
DYN = {"input": {0: "batch"}, "logits": {0: "batch"}}
DYN_HW = {"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}}
VARIANTS = [
    ("var_view_dyn", "view", dict(dynamic_axes=DYN), 2, (3, 3, 20, 18), "match",
     "x.view(x.size(0), -1), dynamic batch: Shape -> Gather -> Unsqueeze -> Concat -> Reshape"),
    ("var_view_dyn_op11_nofold", "view", dict(dynamic_axes=DYN, opset_version=11, do_constant_folding=False,
                                                   training=TrainingMode.PRESERVE), 2,
     (3, 3, 20, 18), "match", "the same chain unfolded at opset 11 (Unsqueeze axes as an attribute, BN kept)"),
    ("var_view_unpooled", "view_unpooled", dict(dynamic_axes=DYN), 2, (1, 3, 17, 21), "match",
     "adaptive_avg_pool2d(x, 1).view(x.size(0), -1): the batch read from the un-pooled tensor"),
    ("var_reshape_dyn", "reshape", dict(dynamic_axes=DYN, do_constant_folding=False), 2, (2, 3, 16, 16), "match",
     "x.reshape(x.shape[0], -1), dynamic batch, unfolded"),
    ("var_view_fixed1", "view", dict(), 1, (3, 3, 16, 16), "match",
     "x.view(x.size(0), -1) exported at a fixed batch 1 (Reshape to the constant [1, -1]), run at batch 3"),
    ("var_view_fixed4_nofold", "view", dict(do_constant_folding=False), 4, (1, 3, 16, 16), "match",
     "fixed batch 4 unfolded (Concat of constants [4] and [-1]), run at batch 1"),
    ("var_squeeze2", "squeeze2", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16), "match",
     "squeeze(-1).squeeze(-1): two Squeeze nodes of one axis each"),
    ("var_squeeze_all", "squeeze_all", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16),
     ("UNSUPPORTED", "Squeeze without axes"), "x.squeeze(): drops the batch axis at N = 1"),
    ("var_view_hw", "view_hw", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16), ("UNSUPPORTED", "Reshape of a spatial tensor"),
     "x.view(N, C, -1).mean(2): a reshape of an un-pooled tensor"),
    ("var_avg_pool_k", "avg_pool_k", dict(dynamic_axes=DYN), 2, (2, 3, 32, 32), "match",
     "F.avg_pool2d(x, x.size(3)) then x.view(x.size(0), -1): a fixed 8x8 window, the global mean at the declared 32x32"),
    ("var_avg_pool_k_dyn_hw", "avg_pool_k", dict(dynamic_axes=DYN_HW), 2, (2, 3, 32, 32),
     ("UNSUPPORTED", "input H, W are dynamic"), "the same with dynamic H, W axes: the window is global at no one "
     "declared size; refused, naming the fix"),
    ("var_nhwc", "nhwc", dict(), 1, (1, 16, 16, 3), ("UNSUPPORTED", "NHWC"),
     "NHWC input permuted inside the model: refused, naming the layout"),
    ("var_no_params", "view", dict(export_params=False, dynamic_axes=DYN), 2, (2, 3, 16, 16),
     ("UNSUPPORTED", "export_params=False"), "export_params=False: no weights in the file"),
]

VARIANTS += [
    ("var_grouped", "grouped", dict(dynamic_axes=DYN, do_constant_folding=False, training=TrainingMode.PRESERVE), 2,
     (2, 3, 18, 20), "match", "a grouped 3x3 conv (groups 4) with its BatchNormalization"),
    ("var_dilated", "dilated", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16), ("UNSUPPORTED", "dilations [2, 2]"),
     "replace_stride_with_dilation: dilated 3x3 conv, refused naming the attribute"),
    ("var_softmax", "softmax", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16), ("UNSUPPORTED", "Softmax"),
     "softmax after the logits: refused, saying reskern returns logits"),
    ("var_mlp_head", "mlp", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16), ("UNSUPPORTED", "follows a fully connected layer"),
     "a Linear -> ReLU -> Linear head: refused, naming the head"),
    ("var_two_outputs", "two_outputs", dict(dynamic_axes=DYN), 2, (2, 3, 16, 16), ("UNSUPPORTED", "2 outputs"),
     "logits and features as two outputs"),
    ("var_train_mode", "train", dict(dynamic_axes=DYN, do_constant_folding=False, training=TrainingMode.TRAINING), 2,
     (2, 3, 16, 16), ("UNSUPPORTED", "model.eval()"), "exported in training mode (BN with running-statistics outputs)"),
]

VARIANTS += [
    ("var_initializers_as_inputs", "flatten", dict(keep_initializers_as_inputs=True, opset_version=9, dynamic_axes=DYN), 2,
     (1, 3, 16, 16), "match", "keep_initializers_as_inputs=True (IR 3 style: every weight is also a graph input)"),
    ("var_external_data", "flatten", dict(dynamic_axes=DYN, external_data=True), 2, (2, 3, 16, 16), "match",
     "onnx.save_model(save_as_external_data=True): weights in var_external_data.onnx.data beside the model"),
]

VARIANTS += [
    ("var_akamaster", "akamaster", dict(), 1, (1, 3, 32, 32), "match",
     "akamaster/pytorch_resnet_cifar10 as users export it: option-A shortcuts, F.avg_pool2d(out, out.size()[3]), "
     "out.view(out.size(0), -1), exported at 1x3x32x32 without dynamic axes"),
    ("var_akamaster_dyn_nofold", "akamaster", dict(dynamic_axes=DYN, do_constant_folding=False,
                                                     training=TrainingMode.PRESERVE), 2, (3, 3, 32, 32), "match",
     "the same, dynamic batch, unfolded (BatchNormalization and the view's Shape chain kept)"),
    ("var_tv_avgpool7", "tv_avgpool7", dict(dynamic_axes=DYN), 2, (1, 3, 224, 224), "match",
     "nn.AvgPool2d(7, stride=1) on the 7x7 map of a 224 input (torchvision's resnet.py before 0.2.1), then view"),
    ("var_maxpool_ceil", "maxpool_ceil", dict(dynamic_axes=DYN_HW), 2, (2, 3, 16, 17), "match",
     "max_pool2d(3, 2, 0, ceil_mode=True) (Caffe / MSRA ResNet stem pool): 16 -> 8 (floor mode 7), dynamic H, W"),
    ("var_maxpool_ceil_s3", "maxpool_ceil_s3", dict(dynamic_axes=DYN_HW, do_constant_folding=False), 2,
     (1, 3, 17, 16), "match", "max_pool2d(3, 3, 1, ceil_mode=True) at 17: torch drops the window that would start in "
     "the right padding (6, not 7)"),
]

# every opset torch 1.13 writes, folded (torch.flatten) and unfolded with BN kept (the x.view chain)
for _op in range(7, 18):
    VARIANTS.append((f"var_opset{_op}_folded", "flatten", dict(dynamic_axes=DYN, opset_version=_op), 2, (3, 3, 19, 17),
                     "match", f"opset {_op}, constant folding, torch.flatten"))
    VARIANTS.append((f"var_opset{_op}_bn_view", "view", dict(dynamic_axes=DYN, opset_version=_op, do_constant_folding=False,
                                                             training=TrainingMode.PRESERVE), 2, (1, 3, 17, 19),
                     "match", f"opset {_op}, no folding, BatchNormalization kept, x.view(x.size(0), -1)"))

def make_variants(out):
    variants = []
    for name, head, kw, batch, shape, expect, notes in VARIANTS:
        seed = zlib.crc32(name.encode())
        net = gm.randomize_(gm.cifar_resnet(8, "A" if head == "akamaster" else "B", 10), torch.Generator().manual_seed(seed))
        torch.manual_seed(seed)  # layers VariantNet adds (the mlp head) get torch's default init, seeded
        model = VariantNet(net, head).eval()
        if head == "train":
            model.train()
        rng = np.random.default_rng(seed)
        nhwc = head == "nhwc"
        ex_shape = (batch, shape[1], shape[2], shape[3]) if nhwc else (batch, 3, shape[2], shape[3])
        dummy = torch.from_numpy(rng.standard_normal(ex_shape).astype(np.float32))
        x = rng.standard_normal(shape).astype(np.float32)
        f = f"{name}.onnx"
        args = dict(opset_version=OPSET, input_names=["input"], output_names=["logits"], do_constant_folding=True)
        args.update(kw)
        external = args.pop("external_data", False)
        torch.onnx.export(model, dummy, os.path.join(out, f), **args)
        if external:  # the >2 GB layout: tensors in a side file
            onnx.save_model(onnx.load(os.path.join(out, f)), os.path.join(out, f), save_as_external_data=True,
                            all_tensors_to_one_file=True, location=f + ".data", size_threshold=0)
        model.eval()
        if expect == "match":
            with torch.no_grad():
                y64 = model.double()(torch.from_numpy(x).double()).numpy()
            np.save(os.path.join(out, f"{name}.expected.npy"), y64)
        np.save(os.path.join(out, f"{name}.input.npy"), x)
        ops = sorted({n.op_type for n in onnx.load(os.path.join(out, f)).graph.node})
        fixed = "dynamic_axes" not in kw
        variants.append({
            "case": name, "file": f, "input": f"{name}.input.npy",
            "expected": f"{name}.expected.npy" if expect == "match" else None,
            "ort": expect == "match" and (not fixed or shape[0] == batch),
            "expect": expect if expect == "match" else {"code": expect[0], "message": expect[1]},
            "ops": ops, "notes": notes,
        })
        print(f"[onnx goldens] variant {name}: ops {ops}")
    return variants


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
    variants = make_variants(args.out)
    manifest = {"format": 1, "generator": "tests/golden/make_onnx_goldens.py", "torch": torch.__version__,
                "onnx": onnx.__version__, "opset": OPSET, "cases": cases, "variants": variants}
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    print(f"[onnx goldens] {len(cases)} cases in {time.time() - t0:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
