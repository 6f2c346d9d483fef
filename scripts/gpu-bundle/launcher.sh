#!/usr/bin/env bash
# reskern GPU bundle launcher (installed as bundle-out/run.sh by make-bundle.sh). Unpacks reskern-gpu.tar.xz
# (next to this file) into $RESKERN_BUNDLE_DIR (default /tmp/reskern-gpu) unless the same archive is already
# unpacked there, then runs the bundle's run.sh with the same arguments (run.sh --help lists them).
set -euo pipefail
export RESKERN_T0="${RESKERN_T0:-$(date +%s)}"   # the run's time budget counts from here
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
archive="$here/reskern-gpu.tar.xz"
dest="${RESKERN_BUNDLE_DIR:-/tmp/reskern-gpu}"
[ -f "$archive" ] || { echo "reskern-gpu: $archive missing (scripts/gpu-bundle/make-bundle.sh makes it)" >&2; exit 2; }
id="$(stat -c '%s-%Y' "$archive")-$(cksum < "$archive" | cut -d' ' -f1)"
if [ "$(cat "$dest/.bundle-id" 2>/dev/null)" != "$id" ] || [ ! -x "$dest/reskern-gpu/run.sh" ]; then
  rm -rf "$dest"
  mkdir -p "$dest"
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$archive" | tar -C "$dest" -xf -
  else  # no xz binary: Python's lzma
    python3 -c 'import sys, tarfile
kw = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2], **kw)' "$archive" "$dest"
  fi
  echo "$id" > "$dest/.bundle-id"
  echo "[reskern-gpu] unpacked $(basename "$archive") into $dest in $(( $(date +%s) - RESKERN_T0 )) s"
fi
exec bash "$dest/reskern-gpu/run.sh" "$@"
