"""Rendered scenes of the simulated cameras: cached by everything that changes them, a pattern when a scene
cannot be rendered here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.simulator import scene_clips
from integrations.simulator.camera_clips import ClipSpec, ensure_clip

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg missing (scripts/setup-video.sh)")


def test_a_scene_clip_is_named_by_what_it_shows() -> None:
    base = ClipSpec(name="lane", scene="plates", plates=("1234BCD",), seed=1)
    assert base.key != ClipSpec(name="lane", scene="plates", plates=("9999ZZZ",), seed=1).key
    assert base.key != ClipSpec(name="lane", scene="plates", plates=("1234BCD",), seed=2).key
    assert base.key != ClipSpec(name="lane", scene="face").key


def test_a_scene_that_cannot_be_rendered_here_becomes_a_test_pattern(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def _missing() -> None:
        raise scene_clips.SceneUnavailable("the portrait cannot be read")

    monkeypatch.setattr(scene_clips, "_portrait", _missing)
    spec = ClipSpec(name="plaza", scene="face", width=160, height=96, fps=5, seconds=2, bitrate_kbps=100)
    clip = ensure_clip(tmp_path, spec)
    assert clip.name == ClipSpec(name="plaza", width=160, height=96, fps=5, seconds=2, bitrate_kbps=100).key
    assert clip.stat().st_size > 0


def test_scene_clips_are_rendered_in_a_worker_process_not_in_the_caller(tmp_path: Path) -> None:
    """The hub asks for its clips through ensure_clips_in_worker: a scene is rendered (OpenCV, numpy) in a one-shot
    worker process; the calling process gets the cached clip without loading OpenCV."""
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from integrations.simulator.camera_clips import ClipSpec, ensure_clips_in_worker\n"
        "specs = [ClipSpec(name='plaza', scene='face', width=160, height=96, fps=5, seconds=2, bitrate_kbps=100),\n"
        "         ClipSpec(name='lane', pattern='testsrc', width=160, height=96, fps=5, seconds=2, bitrate_kbps=100)]\n"
        f"clips = ensure_clips_in_worker(Path({str(tmp_path)!r}), specs)\n"
        "print(json.dumps({'clips': {k: str(v) for k, v in clips.items()}, 'cv2': 'cv2' in sys.modules}))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            check=False, cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["cv2"] is False
    face = Path(answer["clips"]["plaza"])
    assert face.name == ClipSpec(name="plaza", scene="face", width=160, height=96, fps=5, seconds=2,
                                 bitrate_kbps=100).key
    assert face.stat().st_size > 0 and Path(answer["clips"]["lane"]).stat().st_size > 0
