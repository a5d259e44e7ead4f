"""What the engine adds to dlib's pipeline (docs/face.md "What the pipeline loses"): detection fallbacks for a
still handed in, and the embedding averaged with its mirror's. On the public-domain portrait the simulator
ships; nothing of the measurement set."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from integrations.face.engine import FaceEngine, overlap

PORTRAIT = Path(__file__).resolve().parents[3] / "integrations" / "simulator" / "data" / "grace_hopper.jpg"


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    image = cv2.imread(str(PORTRAIT))
    assert image is not None, PORTRAIT
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine()


def test_a_small_face_is_found_by_upsampling_once_more(engine: FaceEngine, portrait: np.ndarray) -> None:
    [face] = engine.detect(portrait)
    scale = 60 / portrait.shape[1]  # the face becomes about 22 px wide: too small for HOG at upsample 1
    small = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    assert engine.detect(small) == []
    assert FaceEngine(fallback=False).detect_still(small) == []
    [found] = engine.detect_still(small)
    x, y, w, h = (round(v * scale) for v in face)
    assert overlap(found, (x, y, w, h)) > 0.4


def test_a_blurred_face_is_found_by_the_haar_cascades(engine: FaceEngine, portrait: np.ndarray) -> None:
    [face] = engine.detect(portrait)
    blurred = cv2.GaussianBlur(portrait, (0, 0), 11)  # out of focus: HOG misses it even upsampled twice
    assert engine.detect(blurred, 1) == [] and engine.detect(blurred, 2) == []
    [found] = engine.detect_still(blurred)
    assert overlap(found, face) > 0.4
    embedding = engine.embed(blurred, found)  # the 5 landmarks are then found in the Haar box
    assert embedding.shape == (128,) and np.isfinite(embedding).all()


def test_the_mirror_averaged_embedding_is_symmetric(engine: FaceEngine, portrait: np.ndarray) -> None:
    import dlib

    [face] = engine.detect(portrait)
    landmarks, _network = engine._embedding_models()
    x, y, w, h = face
    chip = dlib.get_face_chip(portrait, landmarks(portrait, dlib.rectangle(x, y, x + w, y + h)), size=150,
                              padding=0.25)
    mirrored_chip = np.ascontiguousarray(chip[:, ::-1])
    averaged = engine.embed_chips([chip, mirrored_chip])
    assert float(np.linalg.norm(averaged[0] - averaged[1])) < 1e-5  # the same two views, in either order
    plain = FaceEngine(mirror=False).embed_chips([chip, mirrored_chip])
    assert float(np.linalg.norm(plain[0] - plain[1])) > 0.1  # one view alone is not symmetric
    np.testing.assert_allclose(averaged[0], (plain[0] + plain[1]) / 2, atol=1e-5)  # a plain mean, as dlib's jitter

    # the whole pipeline on the mirrored portrait: its chip is the mirror of the chip up to the landmarks'
    # pixels, so the averaged embeddings of the portrait and of its mirror image are much closer than one view's
    mirrored = np.ascontiguousarray(portrait[:, ::-1])
    box = (portrait.shape[1] - x - w, y, w, h)
    one_view = FaceEngine(mirror=False)
    with_mirror = float(np.linalg.norm(engine.embed(portrait, face) - engine.embed(mirrored, box)))
    without = float(np.linalg.norm(one_view.embed(portrait, face) - one_view.embed(mirrored, box)))
    assert with_mirror < 0.6 * without
