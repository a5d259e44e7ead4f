"""The `yolo` plate detector: the torch-free checkpoint reader, the ONNX graph against a numpy reference, and
detection of a plate the simulator draws. The checkpoint comes from scripts/setup-anpr-yolo.sh (make install)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from integrations.anpr.reader import PlateDetector, ReaderError, _iou
from integrations.anpr.sim_camera import SimCamera
from integrations.anpr.yolo import YoloDetector, find_checkpoint
from integrations.anpr.yolo_checkpoint import Checkpoint, CheckpointError, Record, read_checkpoint, restricted_load
from integrations.anpr.yolo_onnx import module_model


class _Shell:
    """Pickled as a call of os.system: what a malicious checkpoint would run on load."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, ("echo pwned",)


@pytest.fixture(scope="module")
def checkpoint() -> Checkpoint:
    return read_checkpoint(find_checkpoint())


def test_the_unpickler_refuses_a_forbidden_global() -> None:
    with pytest.raises(CheckpointError, match=r"refused global (posix|os)\.system"):
        restricted_load(pickle.dumps(_Shell()))
    with pytest.raises(CheckpointError, match=r"refused global builtins\.eval"):
        restricted_load(pickle.dumps(eval))


def test_the_checkpoint_holds_a_yolov8_plate_model(checkpoint: Checkpoint) -> None:
    assert checkpoint.yaml["nc"] == 1
    assert checkpoint.stride == (8.0, 16.0, 32.0)
    assert [layer.kind for layer in checkpoint.layers][:3] == ["Conv", "Conv", "C2f"]
    assert checkpoint.layers[-1].kind == "Detect"
    assert isinstance(checkpoint.layers[0].child("conv"), Record)


def _conv2d(x: np.ndarray, weight: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """A plain convolution (one image, no groups) by explicit sums over the kernel."""
    _channels, height, width = x.shape
    k = weight.shape[2]
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    out_h, out_w = (height + 2 * pad - k) // stride + 1, (width + 2 * pad - k) // stride + 1
    out = np.zeros((weight.shape[0], out_h, out_w))
    for i in range(k):
        for j in range(k):
            window = padded[:, i : i + stride * out_h : stride, j : j + stride * out_w : stride]
            out += np.einsum("oc,chw->ohw", weight[:, :, i, j], window)
    return out


def _conv_reference(module: Record, x: np.ndarray) -> np.ndarray:
    """ultralytics Conv as torch computes it: convolution, batch norm with running statistics, SiLU."""
    conv, bn = module.child("conv"), module.child("bn")
    weight = conv.tensor("weight").astype(np.float64)
    y = _conv2d(x, weight, int(conv.attr("stride")[0]), int(conv.attr("padding")[0]))
    mean, var = bn.tensor("running_mean").astype(np.float64), bn.tensor("running_var").astype(np.float64)
    gamma, beta = bn.tensor("weight").astype(np.float64), bn.tensor("bias").astype(np.float64)
    y = (y - mean[:, None, None]) / np.sqrt(var[:, None, None] + bn.attr("eps")) * gamma[:, None, None] \
        + beta[:, None, None]
    return y / (1 + np.exp(-y))


def _c2f_reference(module: Record, x: np.ndarray) -> np.ndarray:
    first = _conv_reference(module.child("cv1"), x)
    parts = list(np.split(first, 2, axis=0))
    for bottleneck in module.child("m").children().values():
        y = _conv_reference(bottleneck.child("cv2"), _conv_reference(bottleneck.child("cv1"), parts[-1]))
        parts.append(parts[-1] + y if bottleneck.attr("add") else y)
    return _conv_reference(module.child("cv2"), np.concatenate(parts, axis=0))


def _run(module: Record, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(module_model(module).SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x[None].astype(np.float32)})[0][0])


def test_the_graph_matches_a_numpy_reference_for_a_conv_and_a_c2f_block(checkpoint: Checkpoint) -> None:
    rng = np.random.default_rng(18)
    x = rng.random((3, 32, 40))
    conv, c2f = checkpoint.layers[1], checkpoint.layers[2]
    first = _conv_reference(checkpoint.layers[0], x)
    np.testing.assert_allclose(_run(checkpoint.layers[0], x), first, rtol=1e-3, atol=1e-3)
    second = _conv_reference(conv, first)
    np.testing.assert_allclose(_run(conv, first), second, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(_run(c2f, second), _c2f_reference(c2f, second), rtol=1e-3, atol=2e-3)


def test_the_yolo_detector_finds_the_plate_in_a_simulated_frame() -> None:
    camera = SimCamera(seed=4, rate=0, lanes=1, pass_seconds=3.0)
    camera.plant("7391HKL")
    frame, truth = camera.frame(1.2)
    assert truth
    found = YoloDetector()(frame)
    assert found and found[0][2] == "yolo"
    assert any(_iou(box, truth[0][1]) >= 0.3 and score >= 0.25 for box, score, _how in found)


def test_yolo_is_a_plate_detector_method() -> None:
    camera = SimCamera(seed=4, rate=0, lanes=1, pass_seconds=3.0)
    camera.plant("7391HKL")
    frame, truth = camera.frame(1.2)
    boxes = PlateDetector(("yolo",)).detect(frame)
    assert any(_iou(box, truth[0][1]) >= 0.3 for box, _score, how in boxes if how == "yolo")


def test_a_missing_checkpoint_names_the_method_and_the_set_up(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"detector 'yolo'.*setup-anpr-yolo\.sh"):
        PlateDetector(("yolo",), yolo_model=tmp_path / "absent.pt")
