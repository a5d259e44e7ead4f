#!/usr/bin/env bash
# opencv-python and opencv-python-headless both install the same cv2 package; with both in one
# environment the last one installed wins, and removing either breaks `import cv2`. The hub uses the
# headless build (pyproject). This checks that cv2 imports and that no GUI build sits beside it;
# with --fix it removes a GUI build that something pulled in (rapidocr-onnxruntime depends on
# opencv-python) and reinstalls the headless one over it.
# Usage: bash scripts/check-opencv.sh [--fix] [PYTHON]   (PYTHON defaults to .venv/bin/python)
set -euo pipefail
fix=0
if [ "${1:-}" = --fix ]; then
  fix=1
  shift
fi
python="${1:-.venv/bin/python}"
installed() {
  "$python" - <<'PY'
import importlib.metadata as md
names = ("opencv-python", "opencv-contrib-python", "opencv-python-headless", "opencv-contrib-python-headless")
for name in names:
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        pass
PY
}
dists=$(installed)
gui=$(printf '%s\n' "$dists" | grep -E '^opencv-(contrib-)?python==' | cut -d= -f1 | paste -sd' ' - || true)
headless=$(printf '%s\n' "$dists" | grep -E '^opencv-(contrib-)?python-headless==' | head -n1 || true)
if [ -n "$gui" ]; then
  if [ "$fix" = 0 ]; then
    echo "check-opencv: $gui installed beside ${headless:-no headless build}; cv2 breaks with both" \
         "(fix: bash scripts/check-opencv.sh --fix $python)" >&2
    exit 1
  fi
  echo "check-opencv: removing $gui (the hub uses opencv-python-headless; both at once break cv2)" >&2
  # shellcheck disable=SC2086  # one word per distribution
  "$python" -m pip uninstall -q -y $gui
  if [ -n "$headless" ]; then
    "$python" -m pip install -q --force-reinstall --no-deps "$headless"
  fi
fi
if ! "$python" -c "import cv2" 2>/dev/null; then
  echo "check-opencv: 'import cv2' fails in $python:" >&2
  "$python" -c "import cv2" >&2 || true
  exit 1
fi
