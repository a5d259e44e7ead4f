"""Face detection and embedding with dlib (CPU), used inside the face worker process and by the benchmark.

Models come from the face-recognition-models package (CC0): the 5-point landmark model and the ResNet
embedding. The package also holds a 68-point landmark model whose training data bars commercial use: it is
never loaded (`MODEL_FILES` names the only two files this module opens).

The ResNet runs in onnxruntime by default (`embedder="onnx"`): the same weights, converted from the .dat at
first use and cached (resnet_onnx.py), about 18 times faster per core than dlib's BLAS-less build. If that
conversion or loading fails, the engine logs one warning and uses dlib's own runtime; `embedder="dlib"`
chooses dlib's runtime outright. Alignment is dlib's either way (5 landmarks, a 150 px chip, padding 0.25:
what dlib's compute_face_descriptor and its LFW evaluation use; the network's input is locked to 150 px).

Two additions to dlib's pipeline (docs/face.md "What the pipeline loses"): `mirror` averages the embedding of
the aligned chip with that of its left-right mirror (a plain mean, as dlib averages its jitter; dlib's
descriptors are not unit length, so neither is the mean), and `detect_still` (stills handed in for enrolment
or identification, not stream frames) falls back, when HOG finds nothing, to HOG with one more upsampling and
then to the blurring detector's Haar cascades, the 5 landmarks then being found in that box.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from .const import EMBEDDERS

__all__ = ["EMBEDDERS", "MODEL_FILES", "EngineError", "Face", "FaceEngine", "default_cache_dir", "distances",
           "models_dir", "overlap"]

_LOGGER = logging.getLogger(__name__)

MODEL_FILES: Final = {
    "landmarks": "shape_predictor_5_face_landmarks.dat",  # CC0 (face-recognition-models LICENSE)
    "embedding": "dlib_face_recognition_resnet_model_v1.dat",  # CC0
}
EMBEDDING_SIZE: Final = 128
CHIP_SIZE: Final = 150  # dlib's compute_face_descriptor: a 150 px chip with 25% padding around the landmarks
CHIP_PADDING: Final = 0.25


class EngineError(Exception):
    """The face models or dlib are missing (install the `face` extra)."""


@dataclass(slots=True)
class Face:
    """One detected face: its box (x, y, w, h) in image pixels and, when computed, its embedding."""

    box: tuple[int, int, int, int]
    embedding: np.ndarray | None = None


def models_dir() -> Path:
    """The folder of the face-recognition-models package."""
    try:
        import face_recognition_models
    except ImportError as err:
        raise EngineError("face-recognition-models is not installed (pip install 'hacho[face]')") from err
    return Path(face_recognition_models.__file__).parent / "models"


def default_cache_dir() -> Path:
    """Where a FaceEngine not given a folder caches the converted network (the hub gives its own)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hacho" / "face"


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def distances(gallery: np.ndarray, embedding: np.ndarray) -> np.ndarray:
    """Euclidean distances of one embedding to each row of a gallery."""
    if len(gallery) == 0:
        return np.zeros(0)
    return np.asarray(np.linalg.norm(gallery - embedding[None, :], axis=1))


class FaceEngine:
    """dlib's HOG face detector, 5-point alignment and ResNet embedding (128 floats, compare by distance).

    The alignment and embedding models (~35 MiB in memory) are loaded on the first embedding: a worker that
    only detects faces for privacy (no authorisation active, nothing enrolled) never holds them; the ResNet's
    conversion for onnxruntime (seconds, once per .dat) happens then too, in the process that embeds."""

    def __init__(self, upsample: int = 1, jitter: int = 0, *, embedder: str = "onnx",
                 cache_dir: Path | None = None, threads: int = 1, mirror: bool = True,
                 fallback: bool = True) -> None:
        try:
            import dlib
        except ImportError as err:
            raise EngineError("dlib is not installed (pip install 'hacho[face]')") from err
        if embedder not in EMBEDDERS:
            raise EngineError(f"unknown embedder {embedder!r} (one of {', '.join(EMBEDDERS)})")
        folder = models_dir()
        self._paths = {name: folder / file for name, file in MODEL_FILES.items()}
        missing = [str(path) for path in self._paths.values() if not path.is_file()]
        if missing:  # fail when the engine is made, not at the first embedding
            raise EngineError(f"face models missing: {', '.join(missing)}")
        self._dlib: Any = dlib
        self.upsample = upsample
        self.jitter = jitter
        self.embedder = embedder  # "onnx" until a failed conversion falls back to "dlib"
        self.cache_dir = cache_dir or default_cache_dir()
        self.threads = threads
        self.mirror = mirror  # average with the mirrored chip's embedding (ignored when jitter > 1: it mirrors)
        self.fallback = fallback  # detect_still's fallbacks (HOG upsampled once more, then Haar)
        self._haar: Any = None  # the blurring detector, made at the first fallback that needs it
        self._detector: Any = dlib.get_frontal_face_detector()
        # (landmarks, network) once an embedding is asked for; the network is an OnnxEmbedder or dlib's model
        self._models: tuple[Any, Any] | None = None

    def _embedding_models(self) -> tuple[Any, Any]:
        if self._models is None:
            landmarks = self._dlib.shape_predictor(str(self._paths["landmarks"]))
            self._models = (landmarks, self._network())
        return self._models

    def _network(self) -> Any:
        if self.embedder == "onnx":
            from .resnet_onnx import ConversionError, OnnxEmbedder

            try:
                return OnnxEmbedder(self._paths["embedding"], self.cache_dir, self.threads)
            except ConversionError as err:
                _LOGGER.warning("Face embedding falls back to dlib's runtime (several times slower): %s", err)
                self.embedder = "dlib"
        return self._dlib.face_recognition_model_v1(str(self._paths["embedding"]))

    def detect(self, rgb: np.ndarray, upsample: int | None = None) -> list[tuple[int, int, int, int]]:
        """Face boxes (x, y, w, h) in an RGB image."""
        rects = self._detector(rgb, self.upsample if upsample is None else upsample)
        return [(r.left(), r.top(), r.width(), r.height()) for r in rects]

    def embed(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The embedding of the face in `box` (aligned on its 5 landmarks)."""
        return self.embed_many(rgb, [box])[0]

    def embed_many(self, rgb: np.ndarray, boxes: Sequence[tuple[int, int, int, int]]) -> list[np.ndarray]:
        """The embeddings of several faces of one image, in one call to the network where it can batch."""
        if not boxes:
            return []
        landmarks, _network = self._embedding_models()
        shapes = [landmarks(rgb, self._dlib.rectangle(int(x), int(y), int(x + w), int(y + h)))
                  for x, y, w, h in boxes]
        return self.embed_chips([self._dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
                                 for shape in shapes])

    def embed_chips(self, chips: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The embeddings of aligned 150x150 RGB chips (as dlib.get_face_chip makes them), with the engine's
        test-time augmentation: dlib's jitter when `jitter` > 1, else the mirror's average when `mirror`."""
        if not chips:
            return []
        _landmarks, network = self._embedding_models()
        if self.jitter > 1:  # dlib's own jitter (random crops, rotations and mirrors of the chip), averaged
            if self.embedder == "dlib":
                return [np.asarray(network.compute_face_descriptor(chip, self.jitter), dtype=np.float32)
                        for chip in chips]
            return [network(np.stack(self._dlib.jitter_image(chip, self.jitter))).mean(axis=0).astype(np.float32)
                    for chip in chips]
        views = [view for chip in chips for view in (chip, np.ascontiguousarray(chip[:, ::-1]))] \
            if self.mirror else list(chips)  # each chip and its mirror, in one batch
        if self.embedder == "dlib":
            found = np.stack([np.asarray(network.compute_face_descriptor(view), dtype=np.float32) for view in views])
        else:
            found = np.asarray(network(np.stack(views)), dtype=np.float32)
        if self.mirror:  # the plain mean of the two, as dlib averages its jitter (no renormalisation)
            found = found.reshape(len(chips), 2, -1).mean(axis=1)
        return list(found.astype(np.float32))

    def detect_still(self, rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes in a still handed in (a reference image, a frame to identify): HOG as `detect`; when it
        finds nothing and `fallback` is on, HOG upsampled once more (at most 2), then the Haar cascades of the
        blurring detector (frontal, then profiles; overlapping boxes merged, the first kept)."""
        boxes = self.detect(rgb)
        if boxes or not self.fallback:
            return boxes
        if self.upsample < 2:
            boxes = self.detect(rgb, self.upsample + 1)
            if boxes:
                return boxes
        if self._haar is None:
            from .blur import FaceBlurrer

            self._haar = FaceBlurrer(plates=False)
        kept: list[tuple[int, int, int, int]] = []
        for box in self._haar.faces(np.ascontiguousarray(rgb[:, :, ::-1])):
            if all(overlap(box, other) < 0.3 for other in kept):
                kept.append(box)
        return kept

    def faces(self, rgb: np.ndarray) -> list[Face]:
        """Every face in the image with its embedding."""
        boxes = self.detect(rgb)
        return [Face(box, embedding) for box, embedding in zip(boxes, self.embed_many(rgb, boxes), strict=True)]
