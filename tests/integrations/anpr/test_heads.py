"""The context head of the recogniser (numpy on frozen ONNX features): it starts as the committed model,
learns from rendered plates, and is written back as an ONNX file that onnxruntime runs to the numpy
forward pass's outputs; a model trained with it can be trained again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from integrations.anpr.context_head import ContextTrainer, augment_crop, context_frames
from integrations.anpr.reader import REC_MODEL, PlateReader, crop_variants, find_model
from integrations.anpr.sim_camera import render_plate
from integrations.anpr.training import HeadTrainer

PLATES = ["4321FGH", "0815BCD", "9067WMN", "2288KVB", "5678DFG", "1357XYZ"] * 2


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    return [render_plate(p, width=200 + 10 * i) for i, p in enumerate(PLATES)]


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def _onnx_probs(model: Path, trainer: HeadTrainer, crop: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    prepared = trainer.recognizer._prepare(crop_variants(crop, 1)[0])[None]
    out: np.ndarray = session.run(None, {session.get_inputs()[0].name: prepared})[0][0]
    return out


def test_context_frames_see_the_neighbours() -> None:
    x = np.arange(6.0).reshape(3, 2)
    assert context_frames(x).tolist() == [[0, 0, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5], [2, 3, 4, 5, 0, 0]]


def test_context_head_starts_as_the_committed_model_and_learns(tmp_path: Path, crops: list[np.ndarray]) -> None:
    trainer = ContextTrainer(find_model(REC_MODEL))
    features = [trainer.features(c) for c in crops]
    for x in features:  # the residual path's output layer starts at zero
        assert np.array_equal(trainer.initial.logits(x), x @ trainer.weight + trainer.bias)
    untrained = trainer.save(trainer.initial, tmp_path / "untrained.onnx")
    committed, extended = PlateReader(), PlateReader(rec_model=str(untrained))
    for crop in [*crops[:4], augment_crop(crops[0], np.random.default_rng(1))]:
        assert extended.read_crop(crop).text == committed.read_crop(crop).text

    result = trainer.train_context(features, PLATES, epochs=3, validation=0.0)
    assert trainer.head_loss(features, PLATES, result) < trainer.head_loss(features, PLATES, trainer.initial)
    assert np.abs(result.w2).max() > 0  # the context path itself was trained
    model = trainer.save(result, tmp_path / "context.onnx", "test")
    probs = _onnx_probs(model, trainer, crops[3])
    assert np.abs(probs - _softmax(result.logits(features[3]))).max() < 1e-4
    match = PlateReader(rec_model=str(model))._accept(PlateReader(rec_model=str(model)).read_crop(crops[1]))
    assert match is not None and match.text == PLATES[1]


def test_a_context_model_trained_again_keeps_one_context_head(tmp_path: Path, crops: list[np.ndarray]) -> None:
    first = ContextTrainer(find_model(REC_MODEL))
    features = [first.features(c) for c in crops]
    model = first.save(first.train_context(features, PLATES, epochs=1, validation=0.0), tmp_path / "first.onnx", "1")
    again = ContextTrainer(model)  # starts from the trained head, not from a fresh one
    assert again.head_loss(features, PLATES, again.initial) < first.head_loss(features, PLATES, first.initial)
    second = again.save(again.train_context(features, PLATES, epochs=1, validation=0.0), tmp_path / "second.onnx", "2")
    graph = onnx.load(str(second))
    assert sum(n.output[0] == "ctx_head.logits" for n in graph.graph.node) == 1
    assert [p.value for p in graph.metadata_props if p.key == "fine_tuned"] == ["2"]
    match = PlateReader(rec_model=str(second))._accept(PlateReader(rec_model=str(second)).read_crop(crops[0]))
    assert match is not None and match.text == PLATES[0]
