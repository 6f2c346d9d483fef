"""PyTorch reference models for the reskern goldens, with the real checkpoint tensor names.

- torchvision ResNet v1.5 (`resnet18` ...), ResNeXt, wide ResNet: torchvision itself.
- v1 (`resnet50_v1`): torchvision with the stride of each downsampling bottleneck moved to its first 1x1 conv.
- timm v1c / v1d (`resnet50c`, `resnet50d`, `resnet18d` ...): torchvision's blocks, with timm's deep stem
  (`conv1.{0,1,3,4,6}`) and, for d, timm's `downsample_avg` (`downsample.{0: pool, 1: conv, 2: BN}`).
- timm ResNetV2 pre-activation (`resnetv2_18` ... `resnetv2_152`): written here after timm's `resnetv2.py` with
  `conv_layer=create_conv2d, norm_layer=BatchNormAct2d` (plain convs without bias, BN+ReLU norms).
- CIFAR ResNets (`cifar_resnet20` ...): akamaster/pytorch_resnet_cifar10 `resnet.py`, option A or B shortcuts.
The parameter counts of all of these are checked against timm/torchvision's numbers in make_goldens.py.
"""
import contextlib
import math
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet as tv

IMAGENET_LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


# ---------------------------------------------------------------- torchvision (v1.5, v1, ResNeXt, wide)
def torchvision_resnet(name, classes):
    """name: resnet18 ... resnet152, resnext50_32x4d, wide_resnet50_2 ... (torchvision's own constructors)."""
    return getattr(tv, name)(num_classes=classes)


def torchvision_resnet_v1(depth, classes):
    """ResNet v1 (paper/Caffe): stride 2 on the first 1x1 conv of a downsampling bottleneck, not on the 3x3."""
    m = torchvision_resnet(f"resnet{depth}", classes)
    if depth >= 50:
        for k in (2, 3, 4):
            b = getattr(m, f"layer{k}")[0]
            b.conv1.stride, b.conv2.stride = (2, 2), (1, 1)
    return m


def with_conv_bias(model):
    """Replace every nn.Conv2d by one with a bias (same config, same weight); biases zero until randomised."""
    for name, mod in list(model.named_modules()):
        for cname, c in list(mod.named_children()):
            if isinstance(c, nn.Conv2d) and c.bias is None:
                n = nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, c.dilation,
                              c.groups, bias=True)
                with torch.no_grad():
                    n.weight.copy_(c.weight)
                    n.bias.zero_()
                setattr(mod, cname, n)
    return model


# ---------------------------------------------------------------- timm ResNet v1c / v1d (timm/models/resnet.py)
def _deep_stem(stem_width=32, inplanes=64):
    # timm: conv1 = Sequential(conv 3x3/2, BN, ReLU, conv 3x3, BN, ReLU, conv 3x3) -> names conv1.{0,1,3,4,6}
    return nn.Sequential(
        nn.Conv2d(3, stem_width, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(stem_width),
        nn.ReLU(inplace=True),
        nn.Conv2d(stem_width, stem_width, 3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(stem_width),
        nn.ReLU(inplace=True),
        nn.Conv2d(stem_width, inplanes, 3, stride=1, padding=1, bias=False),
    )


def _downsample_avg(in_ch, out_ch, stride):
    # timm downsample_avg: [AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) | Identity], conv 1x1, BN
    pool = nn.Identity() if stride == 1 else nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)
    return nn.Sequential(pool, nn.Conv2d(in_ch, out_ch, 1, stride=1, padding=0, bias=False), nn.BatchNorm2d(out_ch))


def timm_resnet(depth, variant, classes):
    """timm `resnet{depth}c` (deep stem) or `resnet{depth}d` (deep stem + avg-pool downsample)."""
    if variant not in ("c", "d"):
        raise ValueError(f"variant must be 'c' or 'd', got {variant!r}")
    m = torchvision_resnet(f"resnet{depth}", classes)  # same blocks, block names and fc as timm's ResNet
    m.conv1 = _deep_stem(32, 64)  # forward stays conv1 -> bn1 -> relu -> maxpool -> layers -> avgpool -> fc
    if variant == "d":
        for k in (1, 2, 3, 4):
            b = getattr(m, f"layer{k}")[0]
            if b.downsample is not None:
                conv = b.downsample[0]
                b.downsample = _downsample_avg(conv.in_channels, conv.out_channels, conv.stride[0])
    return m


# ---------------------------------------------------------------- timm ResNetV2 (timm/models/resnetv2.py)
class BatchNormAct2d(nn.BatchNorm2d):
    """timm BatchNormAct2d: BN followed by ReLU; tensors named like a plain BatchNorm2d."""

    def __init__(self, c):
        super().__init__(c)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(super().forward(x))


def _conv(i, o, k, stride=1, groups=1):
    # timm create_conv2d with padding='' -> symmetric ((stride - 1) + (k - 1)) // 2, bias=False
    return nn.Conv2d(i, o, k, stride=stride, padding=((stride - 1) + (k - 1)) // 2, groups=groups, bias=False)


class DownsampleConv(nn.Module):
    def __init__(self, in_chs, out_chs, stride):
        super().__init__()
        self.conv = _conv(in_chs, out_chs, 1, stride=stride)  # preact: no norm

    def forward(self, x):
        return self.conv(x)


class PreActBasic(nn.Module):
    def __init__(self, in_chs, out_chs, stride, proj):
        super().__init__()
        # timm: a basic block projects only when the shape changes
        self.downsample = DownsampleConv(in_chs, out_chs, stride) if proj and (stride != 1 or in_chs != out_chs) else None
        self.norm1 = BatchNormAct2d(in_chs)
        self.conv1 = _conv(in_chs, out_chs, 3, stride=stride)
        self.norm2 = BatchNormAct2d(out_chs)
        self.conv2 = _conv(out_chs, out_chs, 3)

    def forward(self, x):
        xp = self.norm1(x)
        s = self.downsample(xp) if self.downsample is not None else x
        return self.conv2(self.norm2(self.conv1(xp))) + s


class PreActBottleneck(nn.Module):
    def __init__(self, in_chs, out_chs, stride, proj):
        super().__init__()
        mid = out_chs // 4
        # timm: the first block of every stage projects (also stage 0: 64 -> 256, stride 1)
        self.downsample = DownsampleConv(in_chs, out_chs, stride) if proj else None
        self.norm1 = BatchNormAct2d(in_chs)
        self.conv1 = _conv(in_chs, mid, 1)
        self.norm2 = BatchNormAct2d(mid)
        self.conv2 = _conv(mid, mid, 3, stride=stride)
        self.norm3 = BatchNormAct2d(mid)
        self.conv3 = _conv(mid, out_chs, 1)

    def forward(self, x):
        xp = self.norm1(x)
        s = self.downsample(xp) if self.downsample is not None else x
        y = self.conv1(xp)
        y = self.conv2(self.norm2(y))
        y = self.conv3(self.norm3(y))
        return y + s


class ResNetStage(nn.Module):
    def __init__(self, block, in_chs, out_chs, stride, depth):
        super().__init__()
        self.blocks = nn.Sequential(*[
            block(in_chs if i == 0 else out_chs, out_chs, stride if i == 0 else 1, proj=(i == 0))
            for i in range(depth)])

    def forward(self, x):
        return self.blocks(x)


class ClassifierHead(nn.Module):
    """timm ClassifierHead(use_conv=True): global average pool, 1x1 conv `fc` (with bias), flatten."""

    def __init__(self, c, classes):
        super().__init__()
        self.fc = nn.Conv2d(c, classes, 1, bias=True)

    def forward(self, x):
        return self.fc(x.mean((2, 3), keepdim=True)).flatten(1)


class ResNetV2(nn.Module):
    def __init__(self, depth, classes):
        super().__init__()
        basic = depth < 50
        block = PreActBasic if basic else PreActBottleneck
        channels = (64, 128, 256, 512) if basic else (256, 512, 1024, 2048)
        # stem: 7x7/2 conv (no norm: preact), then MaxPool2d(3, 2, 1) on the raw conv output (-inf padding)
        self.stem = nn.Sequential(OrderedDict(conv=_conv(3, 64, 7, stride=2),
                                              pool=nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
        stages, prev = [], 64
        for s, (d, c) in enumerate(zip(IMAGENET_LAYERS[depth], channels)):
            stages.append(ResNetStage(block, prev, c, 1 if s == 0 else 2, d))
            prev = c
        self.stages = nn.Sequential(*stages)
        self.norm = BatchNormAct2d(prev)
        self.head = ClassifierHead(prev, classes)

    def forward(self, x):
        return self.head(self.norm(self.stages(self.stem(x))))


def timm_resnetv2(depth, classes):
    return ResNetV2(depth, classes)


# ---------------------------------------------------------------- CIFAR (akamaster/pytorch_resnet_cifar10)
class LambdaLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class CifarBasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride, option):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            if option == "A":  # x[:, :, ::2, ::2] with planes//4 zero channels before and after
                p = planes // 4
                self.shortcut = LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p), "constant", 0))
            elif option == "B":
                self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(planes))
            else:
                raise ValueError(f"option must be 'A' or 'B', got {option!r}")

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth, option="A", classes=10):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        prev = 16
        for k, (planes, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
            blocks = []
            for i in range(n):
                blocks.append(CifarBasicBlock(prev, planes, stride if i == 0 else 1, option))
                prev = planes
            setattr(self, f"layer{k}", nn.Sequential(*blocks))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        # akamaster: F.avg_pool2d(out, out.size()[3]) -- identical for square maps (32x32 input); for
        # non-square maps that window would drop rows, so the goldens use the true global average.
        out = out.mean((2, 3))
        return self.linear(out)


def cifar_resnet(depth, option, classes=10):
    return CifarResNet(depth, option, classes)


# ---------------------------------------------------------------- helpers
@contextlib.contextmanager
def no_init():
    """Skip weight initialisation (for counting parameters / MACs of big models quickly)."""
    saved = {}
    for mod in (nn.Conv2d, nn.Linear, nn.BatchNorm2d):
        saved[mod] = mod.reset_parameters
        mod.reset_parameters = lambda self: None
    inits = {n: getattr(nn.init, n) for n in ("kaiming_normal_", "constant_", "zeros_", "ones_", "normal_",
                                                "uniform_", "kaiming_uniform_")}
    for n in inits:
        setattr(nn.init, n, lambda t, *a, **k: t)
    try:
        yield
    finally:
        for mod, fn in saved.items():
            mod.reset_parameters = fn
        for n, fn in inits.items():
            setattr(nn.init, n, fn)


def param_count(model):
    """Trainable tensors only (BN running stats and num_batches_tracked are buffers, not parameters)."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def randomize_(model, gen, head_names=("fc", "linear", "head.fc")):
    """Seeded random weights: kaiming-normal (fan_out, relu) convs, N(0, 0.1^2) conv biases,
    BN gamma U(0.5,1.5), beta N(0,0.1^2), running_mean N(0,0.1^2), running_var U(0.5,1.5),
    classifier (Linear or 1x1-conv head) U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias."""

    def U(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen, dtype=torch.float64).to(t.dtype) * (hi - lo) + lo)

    def N(t, std):
        t.copy_((torch.randn(t.shape, generator=gen, dtype=torch.float64) * std).to(t.dtype))

    for name, m in model.named_modules():
        if name in head_names and isinstance(m, (nn.Linear, nn.Conv2d)):
            b = 1.0 / math.sqrt(m.weight[0].numel())
            U(m.weight, -b, b)
            U(m.bias, -b, b)
        elif isinstance(m, nn.Conv2d):
            fan_out = m.weight.shape[0] * m.weight[0, 0].numel()
            N(m.weight, math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                N(m.bias, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            U(m.weight, 0.5, 1.5)
            N(m.bias, 0.1)
            N(m.running_mean, 0.1)
            U(m.running_var, 0.5, 1.5)
            m.num_batches_tracked.fill_(int(torch.randint(1, 1 << 20, (1,), generator=gen)))
        elif isinstance(m, nn.Linear):
            raise ValueError(f"unexpected Linear {name}")
    return model


def count_macs(model, input_shape):
    """Multiply-accumulates of conv + fully-connected layers for one sample, by forward hooks."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def fc_hook(m, inp, out):
        total[0] += m.in_features * m.out_features

    hs = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(fc_hook))
    dev = next(model.parameters()).device  # works on the 'meta' device too (shapes only, no arithmetic)
    with torch.no_grad():
        model.eval()(torch.zeros((1,) + tuple(input_shape), device=dev))
    for h in hs:
        h.remove()
    return total[0]
