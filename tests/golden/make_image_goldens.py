#!/usr/bin/python3
"""PyTorch / torchvision / PIL goldens for reskern's image input (never computed by reskern itself).

    /usr/bin/python3 tests/golden/make_image_goldens.py --out DIR

Writes image files (PNG by PIL, a few PNGs by the small writer below for 16-bit and 2-bit modes, JPEGs by PIL), the
expected arrays as .npy, and DIR/manifest.json (schema in tests/golden/README.md, section "Image goldens").
Two oracles for preprocessing, both from the uint8 pixels written into the PNG:
  exact: torch F.interpolate(float64 image, mode="bilinear", antialias=True, align_corners=False) to torchvision's
         Resize(int) size, torchvision F.center_crop (zero padding when the crop is larger), / 255, normalise, float64;
  pil:   torchvision's PIL pipeline Resize(S), CenterCrop(C), ToTensor(), Normalize(mean, std), float32 (PIL rounds to
         uint8 after each resampling pass, so this one is only close).
Deterministic: every case is seeded from a CRC32 of its name.
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np
import PIL
import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
PRESETS = {  # name: (resize_shorter or 0, crop (h, w))
    "imagenet": (256, (224, 224)),
    "cifar": (0, (32, 32)),  # the CIFAR-10 nets were trained with the ImageNet mean/std (shared/models README)
    "custom_pad": (200, (224, 224)),  # crop larger than the resized short side: torchvision zero-pads
}


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def content(name, h, w):
    """Random image content: smooth random colour fields (bilinear upsampling of a coarse grid) plus noise."""
    r = rng_for(name)
    gh, gw = max(2, h // 16), max(2, w // 16)
    coarse = torch.from_numpy(r.random((1, 3, gh, gw)) * 255)
    smooth = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()
    noise = r.normal(0, 24, (h, w, 3))
    return np.clip(np.rint(smooth + noise), 0, 255).astype(np.uint8)


def resized_size(h, w, s):
    if s == 0:
        return [h, w]
    return TF._compute_resized_output_size((h, w), [s])  # torchvision's own Resize(int) rule


def exact_oracle(pixels, preset):
    s, crop = PRESETS[preset]
    x = torch.from_numpy(pixels).permute(2, 0, 1).to(torch.float64)[None]
    h, w = pixels.shape[:2]
    nh, nw = resized_size(h, w, s)
    if (nh, nw) != (h, w):
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
    x = TF.center_crop(x, list(crop))[0] / 255.0
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64)[:, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64)[:, None, None]
    return ((x - mean) / std).numpy(), [nh, nw]


def pil_pipeline(img, preset):
    s, crop = PRESETS[preset]
    steps = ([T.Resize(s)] if s else []) + [T.CenterCrop(crop), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return T.Compose(steps)(img).numpy().astype(np.float32)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, rows, w, h, bit_depth, colour_type):
    """Minimal PNG writer (filter 0 on every row) for the modes PIL does not write (16-bit RGB, 2-bit gray)."""
    raw = b"".join(b"\x00" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9))
                + png_chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    man = {"format": 1, "generator": "tests/golden/make_image_goldens.py", "torch": torch.__version__,
           "torchvision": torchvision.__version__, "PIL": PIL.__version__, "numpy": np.__version__,
           "preprocess": [], "png": [], "jpeg": [], "unsupported": []}

    def save(name, arr):
        np.save(os.path.join(out, name), arr)
        return name

    # ---- preprocessing: PNG (lossless) so that both oracles see exactly the pixels reskern decodes
    cases = [("landscape_500x375", 375, 500, "imagenet"), ("portrait_375x500", 500, 375, "imagenet"),
             ("square_300", 300, 300, "imagenet"), ("odd_263x257", 257, 263, "imagenet"),
             ("halfoffset_257x256", 256, 257, "imagenet"),  # no resize; crop offset round(16.5) = 16 (half to even)
             ("halfoffset_256x259", 259, 256, "imagenet"),  # round(17.5) = 18
             ("upscale_200x150", 150, 200, "imagenet"), ("upscale_40x50", 50, 40, "imagenet"),
             ("down4x_1200x1100", 1100, 1200, "imagenet"), ("thin_1000x90", 90, 1000, "imagenet"),
             ("cifar_32", 32, 32, "cifar"), ("cifar_40x28", 28, 40, "cifar"), ("cifar_33x31", 31, 33, "cifar"),
             ("pad_500x375", 375, 500, "custom_pad")]
    for name, h, w, preset in cases:
        px = content(name, h, w)
        img = Image.fromarray(px, "RGB")
        img.save(os.path.join(out, name + ".png"))
        exact, resized = exact_oracle(px, preset)
        pil = pil_pipeline(Image.open(os.path.join(out, name + ".png")), preset)
        s, crop = PRESETS[preset]
        man["preprocess"].append({
            "case": name, "file": name + ".png", "height": h, "width": w, "preset": preset, "resize_shorter": s,
            "crop": list(crop), "mean": IMAGENET_MEAN, "std": IMAGENET_STD, "resized": resized,
            "pixels": save(name + ".pixels.npy", px), "exact": save(name + ".exact.npy", exact),
            "pil": save(name + ".pil.npy", pil),
            "pil_vs_exact_max_abs": float(np.abs(pil.astype(np.float64) - exact).max())})

    # ---- PNG colour modes -> RGB by reskern's documented rules (alpha dropped, gray replicated, palette looked up)
    base = content("png_modes", 37, 45)
    rgb = Image.fromarray(base, "RGB")
    modes = {}
    modes["rgba"] = (rgb.convert("RGBA"), base)
    a = rgb.convert("RGBA")
    a.putalpha(Image.fromarray(rng_for("alpha").integers(0, 256, (37, 45), dtype=np.uint8), "L"))
    modes["rgba_alpha"] = (a, base)  # alpha is dropped, not composited
    g = rgb.convert("L")
    modes["gray"] = (g, np.repeat(np.array(g)[:, :, None], 3, axis=2))
    modes["gray_alpha"] = (rgb.convert("LA"), np.repeat(np.array(g)[:, :, None], 3, axis=2))
    p = rgb.convert("P", palette=Image.ADAPTIVE, colors=61)
    modes["palette"] = (p, np.array(p.convert("RGB")))
    pt = p.copy()
    pt.info["transparency"] = 3
    modes["palette_trns"] = (pt, np.array(p.convert("RGB")))
    bw = rgb.convert("1")
    modes["bilevel"] = (bw, np.repeat(np.array(bw.convert("L"))[:, :, None], 3, axis=2))
    for name, (im, expected) in modes.items():
        f = "png_" + name + ".png"
        im.save(os.path.join(out, f), **({"transparency": 3} if name == "palette_trns" else {}))
        man["png"].append({"case": name, "file": f, "mode": im.mode, "expected": save("png_" + name + ".rgb.npy",
                                                                                     np.ascontiguousarray(expected, np.uint8))})
    r = rng_for("png16")
    v16 = r.integers(0, 65536, (23, 19, 3), dtype=np.uint16)
    write_png(os.path.join(out, "png_rgb16.png"), [v16[y].astype(">u2").tobytes() for y in range(23)], 19, 23, 16, 2)
    man["png"].append({"case": "rgb16", "file": "png_rgb16.png", "mode": "RGB 16-bit",
                       "expected": save("png_rgb16.rgb.npy", ((v16.astype(np.int64) * 255 + 32767) // 65535).astype(np.uint8))})
    g16 = r.integers(0, 65536, (17, 29), dtype=np.uint16)
    write_png(os.path.join(out, "png_gray16.png"), [g16[y].astype(">u2").tobytes() for y in range(17)], 29, 17, 16, 0)
    e16 = ((g16.astype(np.int64) * 255 + 32767) // 65535).astype(np.uint8)
    man["png"].append({"case": "gray16", "file": "png_gray16.png", "mode": "L 16-bit",
                       "expected": save("png_gray16.rgb.npy", np.repeat(e16[:, :, None], 3, axis=2))})
    g2 = r.integers(0, 4, (11, 13), dtype=np.uint8)
    rows2 = []
    for y in range(11):
        vals = list(g2[y]) + [0] * ((-13) % 4)
        rows2.append(bytes((vals[i] << 6) | (vals[i + 1] << 4) | (vals[i + 2] << 2) | vals[i + 3] for i in range(0, len(vals), 4)))
    write_png(os.path.join(out, "png_gray2.png"), rows2, 13, 11, 2, 0)
    man["png"].append({"case": "gray2", "file": "png_gray2.png", "mode": "L 2-bit",
                       "expected": save("png_gray2.rgb.npy", np.repeat((g2 * 85)[:, :, None], 3, axis=2))})

    # ---- JPEG: reskern's decode vs PIL's (libjpeg-turbo) decode of the same file
    jpx = content("jpeg", 120, 160)
    jimg = Image.fromarray(jpx, "RGB")
    jcases = [("q90_420", dict(quality=90)), ("q95_444", dict(quality=95, subsampling=0)),
              ("q75_422", dict(quality=75, subsampling=1)), ("progressive", dict(quality=90, progressive=True)),
              ("optimized", dict(quality=85, optimize=True)), ("gray", dict(quality=90))]
    for name, kw in jcases:
        f = "jpeg_" + name + ".jpg"
        (jimg.convert("L") if name == "gray" else jimg).save(os.path.join(out, f), **kw)
        dec = np.array(Image.open(os.path.join(out, f)).convert("RGB"))
        man["jpeg"].append({"case": name, "file": f, "options": kw, "pil_decoded": save("jpeg_" + name + ".pil.npy", dec),
                            "exact": None})
    # one photo-sized JPEG through the ImageNet transform: exact oracle on PIL's decode of the file
    lpx = content("jpeg_landscape", 375, 500)
    Image.fromarray(lpx, "RGB").save(os.path.join(out, "jpeg_landscape.jpg"), quality=90)
    dec = np.array(Image.open(os.path.join(out, "jpeg_landscape.jpg")).convert("RGB"))
    exact, _ = exact_oracle(dec, "imagenet")
    man["jpeg"].append({"case": "landscape", "file": "jpeg_landscape.jpg", "options": {"quality": 90},
                        "pil_decoded": save("jpeg_landscape.pil.npy", dec), "exact": save("jpeg_landscape.exact.npy", exact)})

    # ---- rejected: CMYK JPEG
    jimg.convert("CMYK").save(os.path.join(out, "jpeg_cmyk.jpg"), quality=90)
    man["unsupported"].append({"case": "cmyk", "file": "jpeg_cmyk.jpg", "why": "CMYK JPEG"})

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
    worst = max(c["pil_vs_exact_max_abs"] for c in man["preprocess"])
    print(f"[image goldens] {len(man['preprocess'])} preprocess, {len(man['png'])} png, {len(man['jpeg'])} jpeg cases "
          f"in {out}; PIL pipeline vs exact oracle: max abs {worst:.4f}")


if __name__ == "__main__":
    main()
