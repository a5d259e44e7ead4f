"""Pre-encoded H.264 clips for the simulated cameras: generated once with ffmpeg, cached on disk.

Each scene is an ffmpeg test pattern (a different one per camera so that tiles differ), or a scene rendered
frame by frame in scene_clips.py (a known face in a square, vehicles with plates), with the
camera's name and a burned-in clock (`drawtext` of the clip's running time, hh:mm:ss.mmm, and the
frame number) so that latency and seeks can be read off a frame. Encoded once with x264 (closed
1-second GOPs, no B-frames: every second is a keyframe, where recording segments can cut) into
Annex-B elementary streams that the RTSP server loops without re-encoding. Blocking: run in an
executor or from `tools/make_camera_clips.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PATTERNS", "SCENES", "ClipSpec", "clip_path", "ensure_clip", "ensure_clips", "ensure_clips_in_worker",
           "ffmpeg_available"]

_LOGGER = logging.getLogger(__name__)

SCENES = ("face", "plates")  # rendered by scene_clips.py
SCENE_REVISION = 2  # in a scene clip's cache name: raised when the drawing changes (2: cars' bumpers, headlights)
PATTERNS = ("testsrc2", "smptehdbars", "rgbtestsrc", "testsrc", "pal100bars", "yuvtestsrc")


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """What one camera's clip looks like."""

    name: str
    label: str = ""
    pattern: str = "testsrc2"
    width: int = 640
    height: int = 360
    fps: int = 25
    seconds: int = 20
    bitrate_kbps: int = 800
    scene: str = ""  # a rendered scene (scene_clips.SCENES) instead of an ffmpeg test pattern
    plates: tuple[str, ...] = ()  # the `plates` scene: vehicles with these plates pass (else random ones)
    seed: int = 0

    @property
    def key(self) -> str:
        """The cache file name: changes whenever the clip would."""
        if self.scene:
            extra = "-".join(self.plates)
            return (f"{self.name}-{self.scene}{extra and '-' + extra}-s{self.seed}-r{SCENE_REVISION}-"
                    f"{self.width}x{self.height}-{self.fps}fps-{self.seconds}s-{self.bitrate_kbps}k.h264")
        return (f"{self.name}-{self.pattern}-{self.width}x{self.height}-{self.fps}fps-{self.seconds}s-"
                f"{self.bitrate_kbps}k.h264")


def ffmpeg_available() -> bool:
    """Whether ffmpeg is on PATH."""
    return shutil.which("ffmpeg") is not None


def clip_path(directory: Path, spec: ClipSpec) -> Path:
    """Where the clip of `spec` is cached."""
    return directory / spec.key


def _drawtext(text: str, y: str, size: int) -> str:
    escaped = text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")
    return (f"drawtext=text='{escaped}':x=16:y={y}:fontsize={size}:fontcolor=white:box=1:"
            "boxcolor=black@0.6:boxborderw=6")


def ensure_clip(directory: Path, spec: ClipSpec, timeout: float = 300.0) -> Path:
    """The clip of `spec`, encoded now if it is not cached yet (written atomically)."""
    target = clip_path(directory, spec)
    if _cached(directory, spec):
        return target
    directory.mkdir(parents=True, exist_ok=True)
    size = max(16, spec.height // 14)
    clock = ("drawtext=text='%{pts\\:hms} f%{n}':x=16:y=h-th-16:"
             f"fontsize={size}:fontcolor=yellow:box=1:boxcolor=black@0.6:boxborderw=6")
    filters = ",".join((_drawtext(spec.label or spec.name, "16", size), clock))
    gop = spec.fps
    partial = target.with_suffix(".part")
    if spec.scene:  # rendered here frame by frame (integrations/simulator/scene_clips.py), piped in raw
        source = ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{spec.width}x{spec.height}", "-r", str(spec.fps),
                  "-i", "pipe:0"]
    else:
        source = ["-f", "lavfi", "-i", f"{spec.pattern}=size={spec.width}x{spec.height}:rate={spec.fps}"]
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *source,
        "-t", str(spec.seconds), "-vf", filters,
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
        "-bf", "0", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-b:v", f"{spec.bitrate_kbps}k", "-maxrate", f"{spec.bitrate_kbps}k",
        "-bufsize", f"{spec.bitrate_kbps}k", "-x264-params", "repeat-headers=1:aud=1",
        "-f", "h264", str(partial),
    ]
    if spec.scene:
        from .scene_clips import SceneUnavailable, render_scene

        try:
            frames = render_scene(spec)
        except SceneUnavailable as err:  # e.g. the face scene whose portrait cannot be read
            _LOGGER.warning("Simulated camera %s: %s; showing a test pattern instead", spec.name, err)
            return ensure_clip(directory, dataclasses.replace(spec, scene="", plates=()), timeout)
        returncode, stderr = _encode_frames(command, frames, timeout)
    else:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                start_new_session=True)
        returncode, stderr = result.returncode, result.stderr
    if returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg could not encode the clip {spec.name!r}: {stderr.strip()[-500:]}")
    partial.replace(target)
    return target


def _encode_frames(command: list[str], frames: Iterable[Any], timeout: float) -> tuple[int, str]:
    """Run the encoder with raw frames on its stdin; its exit code and error output."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
                                   start_new_session=True)
        assert process.stdin is not None
        try:
            for frame in frames:
                process.stdin.write(frame.tobytes())
        except BrokenPipeError:
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        try:
            returncode = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
        errors.seek(0)
        return returncode, errors.read().decode("utf-8", "replace")


def ensure_clips(directory: Path, specs: Iterable[ClipSpec]) -> dict[str, Path]:
    """Every clip of `specs`, by camera name (encoded once, then read from the cache)."""
    return {spec.name: ensure_clip(directory, spec) for spec in specs}


def ensure_clips_in_worker(directory: Path, specs: Iterable[ClipSpec], timeout: float = 600.0) -> dict[str, Path]:
    """`ensure_clips`, with clips still to render encoded in a one-shot worker process (blocking: call from an
    executor). Rendering a scene takes OpenCV and numpy and their frames; the hub only reads the cache."""
    specs = list(specs)
    missing = [spec for spec in specs if spec.scene and not _cached(directory, spec)]
    if missing:
        from hub.helpers.workers import run_once

        answer = run_once(f"{__name__}:_render_main", (str(directory), missing), name="simulator_clips",
                          timeout=timeout)
        if answer.get("type") != "done":
            raise RuntimeError(f"the simulated cameras' clips could not be rendered: "
                               f"{answer.get('message', 'the worker gave no answer')}")
    return ensure_clips(directory, specs)  # the rest are patterns (ffmpeg alone) or now cached


def _cached(directory: Path, spec: ClipSpec) -> bool:
    target = clip_path(directory, spec)
    return target.is_file() and target.stat().st_size > 0


def _render_main(io: Any, directory: str, specs: list[ClipSpec]) -> None:
    """A one-shot worker process: render and encode `specs` into `directory`, then say so."""
    try:
        ensure_clips(Path(directory), specs)
        io.emit({"type": "done"})
    except Exception as err:
        io.emit({"type": "fatal", "message": f"{type(err).__name__}: {err}"})
