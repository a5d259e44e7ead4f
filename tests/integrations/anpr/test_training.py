"""Fine-tuning the recogniser's output layer on CPU (numpy CTC on frozen features), on rendered plates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from integrations.anpr.reader import REC_MODEL, PlateReader, find_model
from integrations.anpr.sim_camera import render_plate
from integrations.anpr.training import HEAD_BIAS, HEAD_WEIGHT, HeadTrainer, ctc_loss_and_grad


def test_ctc_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(12, 5))
    target = [1, 2, 2, 3]  # a repeated character needs a blank between
    loss, grad = ctc_loss_and_grad(logits, target)
    assert loss > 0
    numeric = np.zeros_like(logits)
    for i in range(12):
        for j in range(5):
            moved = logits.copy()
            moved[i, j] += 1e-6
            numeric[i, j] = (ctc_loss_and_grad(moved, target)[0] - loss) / 1e-6
    assert np.abs(numeric - grad).max() < 1e-4
    unfit, no_signal = ctc_loss_and_grad(logits[:3], [1, 1, 1, 1])  # 7 frames needed, 3 given
    assert unfit == 0.0 and not no_signal.any()


def test_trained_head_is_written_beside_with_only_the_head_changed(tmp_path: Path) -> None:
    base = find_model(REC_MODEL)
    trainer = HeadTrainer(base)
    plates = ["4321FGH", "0815BCD", "9067WMN", "2288KVB", "5678DFG", "1357XYZ"] * 2
    crops = [render_plate(p, width=200 + 10 * i) for i, p in enumerate(plates)]
    features = [trainer.features(c) for c in crops]
    before = trainer.loss(features, plates, trainer.weight, trainer.bias)
    result = trainer.train(features, plates, epochs=3, validation=0.0)
    assert trainer.loss(features, plates, result.weight, result.bias) < before
    out = trainer.save(result, tmp_path / "plate_rec_v2.onnx", "test")
    old = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(base)).graph.initializer}
    new_model = onnx.load(str(out))
    new = {i.name: numpy_helper.to_array(i) for i in new_model.graph.initializer}
    changed = {k for k in old if not np.array_equal(old[k], new[k])}
    assert changed == {HEAD_WEIGHT, HEAD_BIAS}
    assert {p.key: p.value for p in new_model.metadata_props}["fine_tuned"] == "test"
    reader = PlateReader(rec_model=str(out))  # the new file is a working recogniser
    match = reader._accept(reader.read_crop(render_plate("4321FGH", width=260)))
    assert match is not None and match.text == "4321FGH"
