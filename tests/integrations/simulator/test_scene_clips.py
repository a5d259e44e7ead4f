"""Rendered scenes of the simulated cameras: cached by everything that changes them, a pattern when a scene
cannot be rendered here."""

from __future__ import annotations

import shutil
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
