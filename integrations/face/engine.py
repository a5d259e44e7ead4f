"""Face detection and embedding with dlib (CPU), used inside the face worker process and by the benchmark.

Models come from the face-recognition-models package (CC0): the 5-point landmark model and the ResNet
embedding. The package also holds a 68-point landmark model whose training data bars commercial use: it is
never loaded (`MODEL_FILES` names the only two files this module opens).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = ["MODEL_FILES", "EngineError", "Face", "FaceEngine", "distances", "models_dir"]

MODEL_FILES: Final = {
    "landmarks": "shape_predictor_5_face_landmarks.dat",  # CC0 (face-recognition-models LICENSE)
    "embedding": "dlib_face_recognition_resnet_model_v1.dat",  # CC0
}
EMBEDDING_SIZE: Final = 128


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


def distances(gallery: np.ndarray, embedding: np.ndarray) -> np.ndarray:
    """Euclidean distances of one embedding to each row of a gallery."""
    if len(gallery) == 0:
        return np.zeros(0)
    return np.asarray(np.linalg.norm(gallery - embedding[None, :], axis=1))


class FaceEngine:
    """dlib's HOG face detector, 5-point alignment and ResNet embedding (128 floats, compare by distance).

    The alignment and embedding models (~35 MiB in memory) are loaded on the first embedding: a worker that
    only detects faces for privacy (no authorisation active, nothing enrolled) never holds them."""

    def __init__(self, upsample: int = 1, jitter: int = 0) -> None:
        try:
            import dlib
        except ImportError as err:
            raise EngineError("dlib is not installed (pip install 'hacho[face]')") from err
        folder = models_dir()
        self._paths = {name: folder / file for name, file in MODEL_FILES.items()}
        missing = [str(path) for path in self._paths.values() if not path.is_file()]
        if missing:  # fail when the engine is made, not at the first embedding
            raise EngineError(f"face models missing: {', '.join(missing)}")
        self._dlib: Any = dlib
        self.upsample = upsample
        self.jitter = jitter
        self._detector: Any = dlib.get_frontal_face_detector()
        self._models: tuple[Any, Any] | None = None  # (landmarks, embedder) once an embedding is asked for

    def _embedding_models(self) -> tuple[Any, Any]:
        if self._models is None:
            self._models = (self._dlib.shape_predictor(str(self._paths["landmarks"])),
                            self._dlib.face_recognition_model_v1(str(self._paths["embedding"])))
        return self._models

    def detect(self, rgb: np.ndarray, upsample: int | None = None) -> list[tuple[int, int, int, int]]:
        """Face boxes (x, y, w, h) in an RGB image."""
        rects = self._detector(rgb, self.upsample if upsample is None else upsample)
        return [(r.left(), r.top(), r.width(), r.height()) for r in rects]

    def embed(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The embedding of the face in `box` (aligned on its 5 landmarks)."""
        x, y, w, h = box
        rect = self._dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
        landmarks, embedder = self._embedding_models()
        shape = landmarks(rgb, rect)
        vector = embedder.compute_face_descriptor(rgb, shape, self.jitter)
        return np.asarray(vector, dtype=np.float32)

    def faces(self, rgb: np.ndarray) -> list[Face]:
        """Every face in the image with its embedding."""
        return [Face(box, self.embed(rgb, box)) for box in self.detect(rgb)]
