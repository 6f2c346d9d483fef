#!/usr/bin/env bash
# Generates the PyTorch golden outputs the end-to-end tests compare against (never from reskern itself).
# Needs Debian's python3-torch + python3-torchvision (installed by .ci/run). Without them it says so and the
# golden tests skip (or fail, under CI=true).
set -euo pipefail
out="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3
if ! "$py" -c "import torch, torchvision" 2>/dev/null; then
  echo "[goldens] /usr/bin/python3 has no torch/torchvision: golden tests will skip (apt-get install python3-torch python3-torchvision)"
  exit 0
fi
# Image goldens (make_image_goldens.py, PNG/JPEG + torch/torchvision/PIL outputs) in $out/images, own stamp.
istamp="$out/images/.stamp"
if [ -f "$istamp" ] && [ ! "$here/make_image_goldens.py" -nt "$istamp" ]; then
  echo "[goldens] image goldens up to date in $out/images"
else
  rm -rf "$out/images"
  "$py" "$here/make_image_goldens.py" --out "$out/images"
  touch "$istamp"
fi
stamp="$out/.stamp"
# The trained CIFAR-10 cases exist only when make_goldens.py finds ../shared/models next to the repository: the stamp
# records whether it did, so goldens made without them are remade once the models appear (and the other way round).
trained=no
[ -f "$here/../../../shared/models/cifar10-resnet/resnet20.safetensors" ] && trained=yes
# Regenerate when a model generator source (make_goldens.py, golden_models.py, safetensors_io.py) is newer.
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "trained=$trained" ] \
   && [ -z "$(find "$here" -maxdepth 1 -name '*.py' ! -name make_image_goldens.py ! -name make_onnx_goldens.py -newer "$stamp")" ]; then
  echo "[goldens] up to date in $out"
else
  mkdir -p "$out"
  "$py" "$here/make_goldens.py" --out "$out"
  echo "trained=$trained" > "$stamp"
fi
# ONNX exports of the same nets + their float64 outputs (ONNX import tests), with their own stamp.
if ! "$py" -c "import onnx" 2>/dev/null; then
  echo "[onnx goldens] /usr/bin/python3 has no onnx: ONNX golden tests will skip (apt-get install python3-onnx)"
  exit 0
fi
ostamp="$out/onnx/.stamp"
if [ -f "$ostamp" ] && [ -z "$(find "$here" -maxdepth 1 \( -name make_onnx_goldens.py -o -name golden_models.py \) -newer "$ostamp")" ]; then
  echo "[onnx goldens] up to date in $out/onnx"
else
  "$py" -W ignore "$here/make_onnx_goldens.py" --out "$out/onnx"
  touch "$ostamp"
fi
