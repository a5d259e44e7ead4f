"""The face engine loads only the CC0 models of face-recognition-models: the 5-point landmarks and the ResNet
embedding, never the 68-point landmark model (its training data bars commercial use; docs/face.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from integrations.face.engine import MODEL_FILES, FaceEngine, models_dir

ROOT = Path(__file__).resolve().parents[3]
PORTRAIT = ROOT / "integrations" / "simulator" / "data" / "grace_hopper.jpg"  # public domain
BARRED = "shape_predictor_68_face_landmarks.dat"
LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"

_opened: list[str] | None = None  # the audit hook records Python-level opens while this is a list


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event == "open" and args and isinstance(args[0], str | bytes | Path):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one only records while a test asks it to


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every model path the process opens while the test runs: Python opens (audit hook) and the paths given
    to dlib's model constructors (which read the files in C++, out of the audit hook's sight)."""
    import dlib

    global _opened
    paths: list[str] = []
    for name in ("shape_predictor", "face_recognition_model_v1", "cnn_face_detection_model_v1"):
        original = getattr(dlib, name)

        def recording(path: str, *args: Any, _original: Any = original) -> Any:
            paths.append(str(path))
            return _original(path, *args)

        monkeypatch.setattr(dlib, name, recording)
    _opened = paths
    try:
        yield paths
    finally:
        _opened = None


def _portrait() -> np.ndarray:
    image = cv2.imread(str(PORTRAIT))
    assert image is not None, PORTRAIT
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def test_engine_never_opens_the_68_point_model(opened: list[str]) -> None:
    assert (models_dir() / BARRED).is_file()  # the package does ship it: the test would see it if it were read
    engine = FaceEngine()
    [face] = engine.faces(_portrait())
    assert face.embedding is not None and face.embedding.shape == (128,)
    assert np.isfinite(face.embedding).all() and float(np.linalg.norm(face.embedding)) > 0.1
    names = [Path(path).name for path in opened]
    assert BARRED not in names
    assert LANDMARKS_5 in names and RESNET in names
    assert set(MODEL_FILES.values()) == {LANDMARKS_5, RESNET}


def test_engine_works_without_the_68_point_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a models folder that holds only the two CC0 files the engine detects and embeds as before."""
    import integrations.face.engine as engine_module

    for name in (LANDMARKS_5, RESNET):
        shutil.copy(models_dir() / name, tmp_path / name)
    reference = FaceEngine().faces(_portrait())
    monkeypatch.setattr(engine_module, "models_dir", lambda: tmp_path)
    [face] = FaceEngine().faces(_portrait())
    [expected] = reference
    assert face.box == expected.box
    assert face.embedding is not None and expected.embedding is not None
    assert np.allclose(face.embedding, expected.embedding, atol=1e-5)


_PROBE = """
import cv2
from integrations.face.engine import FaceEngine
from integrations.face import evidence, worker  # noqa: F401 - the whole integration, as the worker imports it
image = cv2.cvtColor(cv2.imread({portrait!r}), cv2.COLOR_BGR2RGB)
[face] = FaceEngine().faces(image)
assert face.embedding is not None and face.embedding.shape == (128,)
print("embedded")
"""


def test_no_process_file_open_of_the_68_point_model(tmp_path: Path) -> None:
    """Under strace: every file the engine's process opens, C++ reads included, leaves the 68-point model out."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    trace = tmp_path / "trace.txt"
    run = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(trace),
                          sys.executable, "-c", _PROBE.format(portrait=str(PORTRAIT))],
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                        "XDG_CACHE_HOME": str(tmp_path / "cache")},
                         capture_output=True, timeout=300, check=False)
    if run.returncode != 0 and b"ptrace" in run.stderr:
        pytest.skip("ptrace is not allowed here")
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert b"embedded" in run.stdout
    opens = trace.read_text()
    assert BARRED not in opens
    assert LANDMARKS_5 in opens and RESNET in opens
