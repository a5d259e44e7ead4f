"""Face detection and embedding with dlib (CPU), used inside the face worker process and by the benchmark.

Models come from the face-recognition-models package (CC0): the 5-point landmark model and the ResNet
embedding. The package also holds a 68-point landmark model whose training data bars commercial use: it is
never loaded (`MODEL_FILES` names the only two files this module opens).

The ResNet runs in onnxruntime by default (`embedder="onnx"`): the same weights, converted from the .dat at
first use and cached (resnet_onnx.py), about 18 times faster per core than dlib's BLAS-less build. If that
conversion or loading fails, the engine logs one warning and uses dlib's own runtime; `embedder="dlib"`
chooses dlib's runtime outright. Alignment is dlib's either way (5 landmarks, a 150 px chip, padding 0.25).
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
           "models_dir"]

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
                 cache_dir: Path | None = None, threads: int = 1) -> None:
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
        landmarks, network = self._embedding_models()
        shapes = [landmarks(rgb, self._dlib.rectangle(int(x), int(y), int(x + w), int(y + h)))
                  for x, y, w, h in boxes]
        if self.embedder == "dlib":
            return [np.asarray(network.compute_face_descriptor(rgb, shape, self.jitter), dtype=np.float32)
                    for shape in shapes]
        chips = [self._dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING) for shape in shapes]
        if self.jitter <= 1:  # as dlib: 0 and 1 both mean the chip itself
            return list(network(np.stack(chips)).astype(np.float32))
        # dlib's own jitter (the same random crops and flips compute_face_descriptor makes), averaged
        return [network(np.stack(self._dlib.jitter_image(chip, self.jitter))).mean(axis=0).astype(np.float32)
                for chip in chips]

    def faces(self, rgb: np.ndarray) -> list[Face]:
        """Every face in the image with its embedding."""
        boxes = self.detect(rgb)
        return [Face(box, embedding) for box, embedding in zip(boxes, self.embed_many(rgb, boxes), strict=True)]
