"""The face engine loads its alignment and embedding models only when an embedding is asked for."""

from __future__ import annotations

import cv2
import numpy as np

from integrations.face.engine import FaceEngine

from .conftest import FACES, STRANGER, read_bgr


def test_detection_alone_never_loads_the_embedding_models() -> None:
    rgb = cv2.cvtColor(read_bgr(FACES / "images" / STRANGER), cv2.COLOR_BGR2RGB)
    engine = FaceEngine()
    boxes = engine.detect(rgb)
    assert len(boxes) == 1
    assert engine._models is None  # privacy detection holds neither the landmarks nor the ResNet
    embedding = engine.embed(rgb, boxes[0])
    assert engine._models is not None and embedding.shape == (128,)
    again = FaceEngine()  # the same numbers as an engine that embeds at once
    assert np.array_equal(again.embed(rgb, again.detect(rgb)[0]), embedding)
