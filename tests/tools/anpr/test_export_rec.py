"""The recogniser exporter: which output columns it keeps, the pinned sources, the cut of a real graph."""

from __future__ import annotations

import numpy as np
import pytest

from integrations.anpr.reader import REC_MODEL, Recognizer, find_model
from tools.anpr.export_rec import DEFAULT_SOURCE, PLATE_CHARS, SOURCES, plate_columns


def test_plate_columns_keep_blank_and_plate_characters_in_source_order() -> None:
    chars = ["一", "a", "B", *"0123456789", "A", "$", *"CDEFGHIJKLMNOPQRSTUVWXYZ", "AB"]
    keep, kept = plate_columns(chars)
    assert keep[0] == 0  # the CTC blank
    assert sorted(kept) == sorted(PLATE_CHARS)
    assert kept[:2] == ["B", "0"]  # the source's order, which the model's metadata then records
    classes = ["<blank>", *chars, " "]
    assert [classes[i] for i in keep[1:]] == kept


def test_plate_columns_refuse_a_list_without_plate_characters() -> None:
    with pytest.raises(SystemExit):
        plate_columns(list("0123456789ABCDEF"))


def test_sources_are_pinned_wheels() -> None:
    assert DEFAULT_SOURCE in SOURCES
    for source in SOURCES.values():
        assert "==" in source.wheel
        assert source.model.endswith(".onnx")


def test_committed_model_came_from_the_default_source() -> None:
    recognizer = Recognizer(find_model(REC_MODEL))
    meta = recognizer._session.get_modelmeta().custom_metadata_map
    source = SOURCES[DEFAULT_SOURCE]
    assert source.wheel in meta["source"]
    assert source.model in meta["source"]


def test_cut_model_keeps_the_logits_of_kept_classes() -> None:
    onnx = pytest.importorskip("onnx")  # only needed to re-export, not at run time
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from tools.anpr.export_rec import cut_model

    chars = ["x", *reversed(PLATE_CHARS), "y"]
    classes = len(chars) + 2
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, classes)).astype(np.float32)
    bias = rng.normal(size=classes).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["m"]),
            helper.make_node("Add", ["m", "b"], ["a"]),
            helper.make_node("Softmax", ["a"], ["p"], axis=-1),
        ],
        "rec",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5, 4])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 5, classes])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = cut_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), chars, "test")
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["character"].splitlines() == list(reversed(PLATE_CHARS))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = rng.normal(size=(1, 5, 4)).astype(np.float32)
    probs = session.run(None, {"x": x})[0]
    keep, _ = plate_columns(chars)
    logits = x @ weight[:, keep] + bias[keep]
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(probs, expected / expected.sum(-1, keepdims=True), rtol=1e-5)
