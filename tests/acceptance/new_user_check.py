#!/usr/bin/python3
"""New-user acceptance check of `reskern run` against PyTorch float64, independent of tests/golden/.

Everything here is written from scratch as a user would: the PyTorch modules (torchvision models, v1 by moving the
stride, timm-style v1c/v1d/v2 and akamaster CIFAR nets defined below), a random initialisation of its own (BN running
stats far from identity, non-zero biases, num_batches_tracked kept), a hand-written safetensors writer (tensors in
state-dict order, header not padded), odd and tiny input sizes (1x1, 2x3, 7x5), F16/BF16 checkpoints, float64 inputs,
the trained CIFAR-10 nets in ../shared/models. Each case runs `bin/reskern run` and compares ||out-ref||/||ref||.

    /usr/bin/python3 tests/acceptance/new_user_check.py [--out DIR] [--allow-missing-models] [CASE|GROUP ...]    (groups: half tiny trained)

Not part of `bin/test` (about 2.5 min and 1 GB of checkpoints on 2 cores); `.ci/run` runs it after `bin/test`, with
--allow-missing-models. Exit status 1 if any case fails or its relative error is >= 1e-4. Needs Debian's python3-torch / python3-torchvision (torch 1.13, torchvision 0.14).
"""
import argparse
import zlib
import json, shlex, struct, subprocess, sys, os, time
from collections import OrderedDict
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision.models as tvm

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--out", default="/tmp/reskern-acceptance", help="folder for checkpoints, inputs, outputs")
ap.add_argument("--models", default=None, help="trained CIFAR-10 folder (default: ../shared/models/cifar10-resnet)")
ap.add_argument("--allow-missing-models", action="store_true",
                help="without the trained CIFAR-10 folder, list its cases as SKIP instead of failing (CI clones)")
ap.add_argument("only", nargs="*", help="case names or groups (half, tiny, locale, trained); default: all")
ARGS = ap.parse_args()
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = ARGS.out
TRAINED = ARGS.models or os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "cifar10-resnet"))
os.makedirs(OUT, exist_ok=True)
torch.set_grad_enabled(False)

# ---------------------------------------------------------------- safetensors by hand
DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
def save_st(path, sd):
    header, blobs, off = OrderedDict(), [], 0
    for k, t in sd.items():
        t = t.contiguous().cpu()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().astype(
            {torch.float32: "<f4", torch.float16: "<f2", torch.bfloat16: "<i2", torch.int64: "<i8"}[t.dtype]).tobytes()
        header[k] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    h = json.dumps(header).encode()          # deliberately not padded to 8
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)

def load_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
    sd = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        a, b = v["data_offsets"]
        dt = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}[v["dtype"]]
        sd[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"]).copy())
    return sd

# ---------------------------------------------------------------- my own random init (not the repo's)
def randomise(m, g):
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            fan_in = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            if mod.bias is not None: mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.2)
        elif isinstance(mod, nn.BatchNorm2d):
            c = mod.num_features
            mod.weight.copy_(torch.rand(c, generator=g) * 1.2 + 0.4)
            mod.bias.copy_(torch.randn(c, generator=g) * 0.2)
            mod.running_mean.copy_(torch.randn(c, generator=g) * 0.3)
            mod.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.3)
            mod.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
        elif isinstance(mod, nn.Linear):
            b = 1 / mod.in_features ** 0.5
            mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * b)
            mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * b)
    return m

# ---------------------------------------------------------------- models, built here
def v1(depth, classes=1000):
    m = getattr(tvm, f"resnet{depth}")(num_classes=classes)
    for k in (2, 3, 4):
        b = getattr(m, f"layer{k}")[0]
        b.conv1.stride, b.conv2.stride = b.conv2.stride, (1, 1)   # stride moves to the first 1x1
    return m

def deep_stem():
    return nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.Conv2d(32, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.Conv2d(32, 64, 3, 1, 1, bias=False))

def v1cd(depth, d, classes=1000):
    m = getattr(tvm, f"resnet{depth}")(num_classes=classes)
    m.conv1 = deep_stem()
    if d:
        for k in (1, 2, 3, 4):
            b = getattr(m, f"layer{k}")[0]
            if b.downsample is not None:
                c = b.downsample[0]; s = c.stride[0]
                pool = nn.AvgPool2d(2, s, ceil_mode=True, count_include_pad=False) if s > 1 else nn.Identity()
                b.downsample = nn.Sequential(pool, nn.Conv2d(c.in_channels, c.out_channels, 1, bias=False),
                                             nn.BatchNorm2d(c.out_channels))
    return m

class BNAct(nn.BatchNorm2d):
    def forward(self, x): return F.relu(super().forward(x))

class Proj(nn.Module):
    def __init__(s, i, o, st): super().__init__(); s.conv = nn.Conv2d(i, o, 1, st, 0, bias=False)
    def forward(s, x): return s.conv(x)

class V2Block(nn.Module):
    def __init__(s, i, o, st, first, basic):
        super().__init__()
        s.downsample = Proj(i, o, st) if first and (not basic or st != 1 or i != o) else None
        if basic:
            s.norm1, s.conv1 = BNAct(i), nn.Conv2d(i, o, 3, st, 1, bias=False)
            s.norm2, s.conv2 = BNAct(o), nn.Conv2d(o, o, 3, 1, 1, bias=False)
            s.convs = ["conv1", "conv2"]
        else:
            mid = o // 4
            s.norm1, s.conv1 = BNAct(i), nn.Conv2d(i, mid, 1, bias=False)
            s.norm2, s.conv2 = BNAct(mid), nn.Conv2d(mid, mid, 3, st, 1, bias=False)
            s.norm3, s.conv3 = BNAct(mid), nn.Conv2d(mid, o, 1, bias=False)
            s.convs = ["conv1", "conv2", "conv3"]
    def forward(s, x):
        xp = s.norm1(x)
        sc = s.downsample(xp) if s.downsample is not None else x
        y = xp
        for j, c in enumerate(s.convs):
            if j: y = getattr(s, f"norm{j+1}")(y)
            y = getattr(s, c)(y)
        return y + sc

class Stage(nn.Module):
    def __init__(s, blocks): super().__init__(); s.blocks = nn.Sequential(*blocks)
    def forward(s, x): return s.blocks(x)

class Head(nn.Module):
    def __init__(s, c, n): super().__init__(); s.fc = nn.Conv2d(c, n, 1)
    def forward(s, x): return s.fc(x.mean((2, 3), keepdim=True)).flatten(1)

class V2(nn.Module):
    LAY = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
    def __init__(s, depth, classes=1000):
        super().__init__()
        basic = depth < 50
        ch = (64, 128, 256, 512) if basic else (256, 512, 1024, 2048)
        s.stem = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 64, 7, 2, 3, bias=False), pool=nn.MaxPool2d(3, 2, 1)))
        st, prev = [], 64
        for k, (n, c) in enumerate(zip(s.LAY[depth], ch)):
            st.append(Stage([V2Block(prev if i == 0 else c, c, (1 if k == 0 else 2) if i == 0 else 1, i == 0, basic)
                             for i in range(n)]))
            prev = c
        s.stages = nn.Sequential(*st)
        s.norm = BNAct(prev)
        s.head = Head(prev, classes)
    def forward(s, x): return s.head(s.norm(s.stages(s.stem(x))))

class CBlock(nn.Module):
    def __init__(s, i, o, st, opt):
        super().__init__()
        s.conv1, s.bn1 = nn.Conv2d(i, o, 3, st, 1, bias=False), nn.BatchNorm2d(o)
        s.conv2, s.bn2 = nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
        s.opt, s.pad = None, 0
        if st != 1 or i != o:
            if opt == "A": s.opt, s.pad = "A", o // 4
            else: s.opt = "B"; s.shortcut = nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x):
        y = s.bn2(s.conv2(F.relu(s.bn1(s.conv1(x)))))
        if s.opt == "A": sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, s.pad, s.pad))
        elif s.opt == "B": sc = s.shortcut(x)
        else: sc = x
        return F.relu(y + sc)

class Cifar(nn.Module):
    def __init__(s, depth, opt="A", classes=10):
        super().__init__()
        n = (depth - 2) // 6
        s.conv1, s.bn1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16)
        prev = 16
        for k, (p, st) in enumerate(((16, 1), (32, 2), (64, 2)), 1):
            bl = []
            for i in range(n):
                bl.append(CBlock(prev, p, st if i == 0 else 1, opt)); prev = p
            setattr(s, f"layer{k}", nn.Sequential(*bl))
        s.linear = nn.Linear(64, classes)
    def forward(s, x):
        y = F.relu(s.bn1(s.conv1(x)))
        y = s.layer3(s.layer2(s.layer1(y)))
        return s.linear(y.mean((2, 3)))   # true global average (akamaster's avg_pool2d(size[3]) = same on squares)

def with_conv_bias(m):
    for mod in list(m.modules()):
        for n, c in list(mod.named_children()):
            if isinstance(c, nn.Conv2d) and c.bias is None:
                setattr(mod, n, nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding,
                                          c.dilation, c.groups, bias=True))
    return m

# ---------------------------------------------------------------- run one case
def rel(out, ref): return float(np.linalg.norm(out - ref) / np.linalg.norm(ref))

def reskern(args, env=None, pipe=False):
    t = time.time()
    if pipe:  # `cat X | reskern run … --input - --output - | cat > Y`: standard input and output are pipes
        i, o = args.index("--input"), args.index("--output")
        xpath, ypath = args[i + 1], args[o + 1]
        a = list(args); a[i + 1] = "-"; a[o + 1] = "-"
        cmd = "cat %s | %s run %s | cat > %s" % (shlex.quote(xpath), shlex.quote(f"{ROOT}/bin/reskern"),
                                                 " ".join(shlex.quote(v) for v in a), shlex.quote(ypath))
        p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, env=env)
    else:
        p = subprocess.run([f"{ROOT}/bin/reskern", "run"] + args, capture_output=True, text=True, env=env)
    return p, time.time() - t

rows = []
def case(name, model, cli_model, shape, seed, extra=(), dtype=torch.float32, in_dtype=np.float32, sd_override=None,
         env=None, pipe=False):
    g = torch.Generator().manual_seed(seed)
    m = model.eval()
    if sd_override is None:
        randomise(m, g)
        sd = OrderedDict((k, (v.to(dtype) if v.is_floating_point() else v)) for k, v in m.state_dict().items())
        # reference uses exactly the stored (rounded) weights
        m.load_state_dict(OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in sd.items()))
        wpath = f"{OUT}/{name}.safetensors"; save_st(wpath, sd)
    else:
        wpath = sd_override; m.load_state_dict(load_st(wpath), strict=True)
    x = torch.randn(shape, generator=g)
    xpath, ypath = f"{OUT}/{name}.x.npy", f"{OUT}/{name}.y.npy"
    np.save(xpath, x.numpy().astype(in_dtype))
    ref = m.double()(x.double()).numpy()
    f32 = m.float()(x).numpy()
    if os.path.exists(ypath): os.remove(ypath)
    p, dt = reskern(["--model", cli_model, "--weights", wpath, "--input", xpath, "--output", ypath, *extra], env, pipe)
    if p.returncode != 0:
        rows.append((name, cli_model, str(list(shape)), "FAIL rc=%d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[:300]), "", ""))
    else:
        y = np.load(ypath)
        ok = y.dtype == np.float32 and y.shape == ref.shape
        rows.append((name, cli_model, str(list(shape)), "%.2e" % rel(y, ref) + ("" if ok else f" BAD dtype/shape {y.dtype}{y.shape}"),
                     "%.2e" % rel(f32, ref), "%.1fs" % dt))
    print(rows[-1], flush=True)

IMG = (1, 3, 97, 131)
only = set(ARGS.only)
C = [
    ("resnet18", lambda: tvm.resnet18(), "resnet18", (3, 3, 45, 77), []),
    ("resnet18_c37", lambda: tvm.resnet18(num_classes=37), "resnet18", IMG, ["--classes", "37"]),
    ("resnet18_convbias", lambda: with_conv_bias(tvm.resnet18()), "resnet18", IMG, []),
    ("resnet34", lambda: tvm.resnet34(), "resnet34", IMG, []),
    ("resnet50", lambda: tvm.resnet50(), "resnet50", IMG, []),
    ("resnet50_v1", lambda: v1(50), "resnet50_v1", IMG, []),
    ("resnet101_v1", lambda: v1(101), "resnet101_v1", (1, 3, 71, 53), []),
    ("resnet50c", lambda: v1cd(50, False), "resnet50c", IMG, []),
    ("resnet50d", lambda: v1cd(50, True), "resnet50d", IMG, []),
    ("resnet18d", lambda: v1cd(18, True), "resnet18d", (2, 3, 97, 131), []),
    ("resnet34c", lambda: v1cd(34, False), "resnet34c", (1, 3, 83, 61), []),
    ("resnetv2_50", lambda: V2(50), "resnetv2_50", IMG, []),
    ("resnetv2_18", lambda: V2(18), "resnetv2_18", IMG, []),
    ("resnetv2_34", lambda: V2(34), "resnetv2_34", (1, 3, 75, 99), []),
    ("cifar_resnet20_A", lambda: Cifar(20, "A"), "cifar_resnet20", (2, 3, 37, 45), []),
    ("cifar_resnet20_B", lambda: Cifar(20, "B"), "cifar_resnet20", (2, 3, 37, 45), ["--shortcut", "B"]),
    ("cifar_resnet56_B_c100", lambda: Cifar(56, "B", 100), "cifar_resnet56", (2, 3, 32, 32), ["--shortcut", "B", "--classes", "100"]),
    ("cifar_resnet110_A", lambda: Cifar(110, "A"), "cifar_resnet110", (1, 3, 31, 29), []),
    ("resnext50_32x4d", lambda: tvm.resnext50_32x4d(), "resnext50_32x4d", IMG, []),
    ("wide_resnet50_2", lambda: tvm.wide_resnet50_2(), "wide_resnet50_2", IMG, []),
]
for name, mk, cli, shape, extra in C:
    if only and name not in only: continue
    case(name, mk(), cli, shape, zlib.crc32(name.encode()) % 10000 + 1, extra)
if not only or "half" in only:
    case("resnet50_f16", tvm.resnet50(), "resnet50", IMG, 11, dtype=torch.float16)
    case("resnet50_bf16", tvm.resnet50(), "resnet50", IMG, 12, dtype=torch.bfloat16)
    case("resnet18_f64input", tvm.resnet18(), "resnet18", (2, 3, 57, 41), 13, in_dtype=np.float64)
if not only or "tiny" in only:
    for hw in ((1, 1), (2, 3), (7, 5)):
        for nm, mk, cli, ex in (("resnet18", lambda: tvm.resnet18(), "resnet18", []),
                                ("resnet50_v1", lambda: v1(50), "resnet50_v1", []),
                                ("resnet50d", lambda: v1cd(50, True), "resnet50d", []),
                                ("resnetv2_50", lambda: V2(50), "resnetv2_50", []),
                                ("resnext50_32x4d", lambda: tvm.resnext50_32x4d(), "resnext50_32x4d", []),
                                ("cifar20A", lambda: Cifar(20, "A"), "cifar_resnet20", []),
                                ("cifar20B", lambda: Cifar(20, "B"), "cifar_resnet20", ["--shortcut", "B"])):
            case(f"tiny_{nm}_{hw[0]}x{hw[1]}", mk(), cli, (2, 3) + hw, 7 * hw[0] + hw[1], ex)
if not only or "locale" in only:
    # a non-ASCII path under LANG=C (containers, cron): the JVM refused it ("Malformed input") before bin/reskern ran it
    # in a UTF-8 locale
    case("locale_C_ünï cödé", Cifar(20, "A"), "cifar_resnet20", (1, 3, 32, 32), 21,
         env={**{k: v for k, v in os.environ.items() if not k.startswith("LC_")}, "LANG": "C", "LC_ALL": "C"})
if not only or "pipe" in only:
    # a pipeline: `cat x.npy | reskern run --input - --output - | …` (--input - was refused; - meant a file named "-")
    case("pipe_stdin_stdout", tvm.resnet18(), "resnet18", (2, 3, 45, 37), 22, pipe=True)
if not only or "trained" in only:
    for d in (20, 32, 44, 56):
        w = f"{TRAINED}/resnet{d}.safetensors"
        if not os.path.isfile(w):
            rows.append((f"trained{d}", f"cifar_resnet{d}", "-",
                         f"{'SKIP' if ARGS.allow_missing_models else 'FAIL'}: {w} missing", "", "")); continue
        case(f"trained{d}_32", Cifar(d, "A"), f"cifar_resnet{d}", (4, 3, 32, 32), 100 + d, sd_override=w)
        case(f"trained{d}_odd", Cifar(d, "A"), f"cifar_resnet{d}", (2, 3, 37, 45), 200 + d, sd_override=w)

print("\n| case | --model | input | reskern rel err | torch fp32 rel err | CLI wall |\n|---|---|---|---|---|---|")
for r in rows: print("| " + " | ".join(r) + " |")
skipped = [r[0] for r in rows if r[3].startswith("SKIP")]
bad = [r[0] for r in rows if r[0] not in skipped and (not r[3][:1].isdigit() or "BAD" in r[3]
                                                      or float(r[3].split()[0]) >= 1e-4)]
ran = len(rows) - len(skipped)
print(f"\n{ran - len(bad)} of {ran} cases below 1e-4" + (f"; FAILED: {', '.join(bad)}" if bad else "")
      + (f"; skipped (no trained models): {', '.join(skipped)}" if skipped else ""))
sys.exit(1 if bad else 0)
