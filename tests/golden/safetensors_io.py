"""Minimal safetensors reader/writer (no `safetensors` package).

Layout: u64 little-endian header length N, then N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, padded with spaces to a
multiple of 8, then the raw little-endian tensor bytes (offsets are relative to the end of the header).
Tensor order follows the reference implementation: by dtype size (largest first), then by name.
"""
import json
import struct

import numpy as np
import torch

_TORCH_TO_ST = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
}
# dtype -> (numpy dtype of the stored bits, element size)
_ST_NP = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),
    "I64": ("<i8", 8),
    "I32": ("<i4", 4),
    "U8": ("u1", 1),
}


def _bytes_of(t: torch.Tensor) -> bytes:
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(_ST_NP[_TORCH_TO_ST[t.dtype]][0]).tobytes()


def write(path, tensors, metadata=None):
    """Write {name: torch.Tensor} to `path`. Returns the file size in bytes."""
    names = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header, blobs, off = {}, [], 0
    for n in names:
        t = tensors[n]
        b = _bytes_of(t)
        header[n] = {"dtype": _TORCH_TO_ST[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}, **header}
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * (-len(hj) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    return 8 + len(hj) + off


def read(path):
    """Read a safetensors file. Returns ({name: torch.Tensor in its stored dtype}, metadata dict)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack_from("<Q", buf, 0)
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out, spans = {}, []
    for name, info in header.items():
        dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        npdt, size = _ST_NP[dt]
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * size:
            raise ValueError(f"{path}: {name}: {e - b} bytes for {dt}{shape}")
        spans.append((b, e))
        arr = np.frombuffer(buf, dtype=npdt, count=count, offset=base + b).reshape(shape).copy()
        if dt == "BF16":
            out[name] = torch.from_numpy(arr.view(np.int16)).view(torch.bfloat16)
        else:
            out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")))
    spans.sort()
    pos = 0
    for b, e in spans:  # the data section must be covered exactly, without gaps or overlaps
        if b != pos:
            raise ValueError(f"{path}: data offsets not contiguous at {b} (expected {pos})")
        pos = e
    if base + pos != len(buf):
        raise ValueError(f"{path}: {len(buf) - base - pos} trailing bytes")
    return out, meta
