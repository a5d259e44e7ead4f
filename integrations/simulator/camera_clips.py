"""Pre-encoded H.264 clips for the simulated cameras: generated once with ffmpeg, cached on disk.

Each scene is an ffmpeg test pattern (a different one per camera so that tiles differ) with the
camera's name and a burned-in clock (`drawtext` of the clip's running time, hh:mm:ss.mmm, and the
frame number) so that latency and seeks can be read off a frame. Encoded once with x264 (closed
1-second GOPs, no B-frames: every second is a keyframe, where recording segments can cut) into
Annex-B elementary streams that the RTSP server loops without re-encoding. Blocking: run in an
executor or from `tools/make_camera_clips.py`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PATTERNS", "ClipSpec", "clip_path", "ensure_clip", "ensure_clips", "ffmpeg_available"]

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

    @property
    def key(self) -> str:
        """The cache file name: changes whenever the clip would."""
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
    if target.is_file() and target.stat().st_size > 0:
        return target
    directory.mkdir(parents=True, exist_ok=True)
    size = max(16, spec.height // 14)
    clock = ("drawtext=text='%{pts\\:hms} f%{n}':x=16:y=h-th-16:"
             f"fontsize={size}:fontcolor=yellow:box=1:boxcolor=black@0.6:boxborderw=6")
    filters = ",".join((_drawtext(spec.label or spec.name, "16", size), clock))
    gop = spec.fps
    partial = target.with_suffix(".part")
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"{spec.pattern}=size={spec.width}x{spec.height}:rate={spec.fps}",
        "-t", str(spec.seconds), "-vf", filters,
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
        "-bf", "0", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-b:v", f"{spec.bitrate_kbps}k", "-maxrate", f"{spec.bitrate_kbps}k",
        "-bufsize", f"{spec.bitrate_kbps}k", "-x264-params", "repeat-headers=1:aud=1",
        "-f", "h264", str(partial),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                start_new_session=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg could not encode the clip {spec.name!r}: {result.stderr.strip()[-500:]}")
    partial.replace(target)
    return target


def ensure_clips(directory: Path, specs: Iterable[ClipSpec]) -> dict[str, Path]:
    """Every clip of `specs`, by camera name (encoded once, then read from the cache)."""
    return {spec.name: ensure_clip(directory, spec) for spec in specs}
