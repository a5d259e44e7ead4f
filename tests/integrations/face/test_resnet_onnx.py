"""dlib's face ResNet converted to ONNX (integrations/face/dlib_dnn.py, resnet_onnx.py): the same embeddings as
dlib's own runtime, a clear error for a damaged .dat, dlib's runtime as the fallback, and the conversion cached
by the .dat's sha256."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import integrations.face.engine as engine_module
import integrations.face.resnet_onnx as resnet_onnx
from integrations.face.dlib_dnn import DlibFormatError, read_network
from integrations.face.engine import MODEL_FILES, FaceEngine, models_dir
from integrations.face.resnet_onnx import ConversionError, OnnxEmbedder, converted_model

ROOT = Path(__file__).resolve().parents[3]
PORTRAIT = ROOT / "integrations" / "simulator" / "data" / "grace_hopper.jpg"  # public domain
RESNET = models_dir() / MODEL_FILES["embedding"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("face_models")


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    image = cv2.imread(str(PORTRAIT))
    assert image is not None, PORTRAIT
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _chips(portrait: np.ndarray) -> list[np.ndarray]:
    """The portrait's aligned chip and synthetic variants of it, a drawn face, and non-faces."""
    import dlib

    landmarks = dlib.shape_predictor(str(models_dir() / MODEL_FILES["landmarks"]))
    [rect] = dlib.get_frontal_face_detector()(portrait, 1)
    chip = dlib.get_face_chip(portrait, landmarks(portrait, rect), size=150, padding=0.25)
    rng = np.random.default_rng(7)
    drawn = np.full((150, 150, 3), (40, 60, 80), dtype=np.uint8)
    cv2.ellipse(drawn, (75, 80), (45, 60), 0, 0, 360, (205, 170, 140), -1)
    for x in (57, 93):
        cv2.circle(drawn, (x, 65), 7, (60, 40, 30), -1)
    cv2.ellipse(drawn, (75, 110), (18, 7), 0, 0, 180, (150, 60, 60), 3)
    noisy = np.clip(chip.astype(np.int16) + rng.integers(-25, 26, chip.shape), 0, 255).astype(np.uint8)
    return [chip, np.ascontiguousarray(chip[:, ::-1]), cv2.convertScaleAbs(chip, alpha=0.6, beta=10),
            cv2.convertScaleAbs(chip, alpha=1.3), noisy, cv2.resize(chip[20:130, 20:130], (150, 150)), drawn,
            np.full((150, 150, 3), 128, dtype=np.uint8), rng.integers(0, 256, (150, 150, 3), dtype=np.uint8)]


def test_the_converted_network_gives_dlibs_embeddings(cache: Path, portrait: np.ndarray) -> None:
    import dlib

    chips = _chips(portrait)
    reference = np.array([dlib.face_recognition_model_v1(str(RESNET)).compute_face_descriptor(chip)
                          for chip in chips], dtype=np.float32)
    embedder = OnnxEmbedder(RESNET, cache)
    batched = embedder(np.stack(chips))  # several faces in one call, as a frame's faces are
    single = np.concatenate([embedder(chip[None]) for chip in chips])
    for ours in (batched, single):
        assert ours.shape == (len(chips), 128)
        assert float(np.abs(ours - reference).max()) < 1e-4
        assert float(np.linalg.norm(ours - reference, axis=1).max()) < 1e-3
    # the chips differ from one another far more than the two runtimes do
    assert float(np.linalg.norm(reference[0] - reference[-1])) > 0.3


def test_the_engine_embeds_the_portrait_as_dlib_does(cache: Path, portrait: np.ndarray) -> None:
    onnx = FaceEngine(cache_dir=cache)
    dlib_engine = FaceEngine(embedder="dlib")
    [ours], [theirs] = onnx.faces(portrait), dlib_engine.faces(portrait)
    assert onnx.embedder == "onnx" and ours.box == theirs.box
    assert ours.embedding is not None and theirs.embedding is not None
    assert float(np.abs(ours.embedding - theirs.embedding).max()) < 1e-4
    assert float(np.linalg.norm(ours.embedding - theirs.embedding)) < 1e-3
    # jitter as dlib makes it: its own random crops (the same sequence), averaged
    jittered = FaceEngine(jitter=3, cache_dir=cache).embed(portrait, ours.box)
    assert float(np.linalg.norm(jittered - FaceEngine(jitter=3, embedder="dlib").embed(portrait, ours.box))) < 1e-3
    assert float(np.linalg.norm(jittered - ours.embedding)) > 1e-3  # jitter did change it


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_a_damaged_dat_gives_an_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    data = bytearray(RESNET.read_bytes())
    if damage == "truncated":
        del data[len(data) // 3:]
    else:
        data[300:340] = bytes(40)  # inside the input layer and the first convolution's header
    dat = tmp_path / RESNET.name
    dat.write_bytes(bytes(data))
    with pytest.raises(DlibFormatError, match=str(dat)):
        read_network(dat)
    with pytest.raises(ConversionError, match=str(dat)):
        converted_model(dat, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.onnx"))


def test_the_engine_falls_back_to_dlib_with_one_warning(tmp_path: Path, portrait: np.ndarray,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # the graph cannot be built (onnx missing)
    engine = FaceEngine(cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger=engine_module.__name__):
        [face] = engine.faces(portrait)
        engine.embed(portrait, face.box)
    assert engine.embedder == "dlib"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "falls back to dlib" in warnings[0].getMessage()
    assert RESNET.name in warnings[0].getMessage()
    [expected] = FaceEngine(embedder="dlib").faces(portrait)
    assert face.embedding is not None and expected.embedding is not None
    assert np.array_equal(face.embedding, expected.embedding)


def test_the_conversion_is_cached_by_the_dat_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conversions: list[Path] = []
    original = resnet_onnx.read_network

    def counting(path: Path) -> object:
        conversions.append(path)
        return original(path)

    monkeypatch.setattr(resnet_onnx, "read_network", counting)
    cache = tmp_path / "cache"
    first = OnnxEmbedder(RESNET, cache)
    again = OnnxEmbedder(RESNET, cache)
    assert len(conversions) == 1 and first.path == again.path and first.path.parent == cache
    chip = np.random.default_rng(3).integers(0, 256, (1, 150, 150, 3), dtype=np.uint8)
    assert np.array_equal(first(chip), again(chip))

    changed = tmp_path / RESNET.name  # one weight's lowest bit flipped: another file, another hash
    data = bytearray(RESNET.read_bytes())
    data[len(data) // 2] ^= 1
    changed.write_bytes(bytes(data))
    other = OnnxEmbedder(changed, cache)
    assert len(conversions) == 2 and other.path != first.path
    assert sorted(cache.glob("*.onnx")) == sorted([first.path, other.path])

    other.path.write_bytes(b"not a model")  # a damaged cache file is converted again, not trusted
    repaired = OnnxEmbedder(changed, cache)
    assert len(conversions) == 3 and np.allclose(repaired(chip), other(chip), atol=1e-6)


def test_only_the_cc0_models_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      portrait: np.ndarray) -> None:
    """The converter reads the ResNet it is given; with only the two CC0 files present it converts and embeds."""
    for name in MODEL_FILES.values():
        shutil.copy(models_dir() / name, tmp_path / name)
    monkeypatch.setattr(engine_module, "models_dir", lambda: tmp_path)
    engine = FaceEngine(cache_dir=tmp_path / "cache")
    [face] = engine.faces(portrait)
    assert engine.embedder == "onnx" and face.embedding is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*MODEL_FILES.values(), "cache"])
