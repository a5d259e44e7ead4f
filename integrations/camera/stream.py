"""ffmpeg and ffprobe for cameras: the recorder's command, snapshots, segment checks and hashes.

Everything here either builds arguments or blocks (run it in an executor). Commands carry the
stream URL with credentials; they are never logged (use config.redact_url).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .process import redact_userinfo

__all__ = [
    "FFMPEG",
    "FFPROBE",
    "SegmentCheck",
    "check_segment",
    "input_args",
    "recorder_command",
    "sha256_file",
    "snapshot_jpeg",
    "tools_available",
]

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
FRAG_FLAGS = "movflags=+frag_keyframe+empty_moov+default_base_moof"
_HASH_CHUNK = 1 << 20


def tools_available() -> bool:
    """Whether ffmpeg and ffprobe are on PATH."""
    return shutil.which(FFMPEG) is not None and shutil.which(FFPROBE) is not None


def input_args(url: str, timeout_s: float = 5.0) -> list[str]:
    """Input options for a camera URL: RTSP always over TCP, a socket timeout so a dead camera ends the run."""
    if url.lower().startswith(("rtsp://", "rtsps://")):
        return ["-rtsp_transport", "tcp", "-timeout", str(int(timeout_s * 1_000_000)), "-i", url]
    return ["-rw_timeout", str(int(timeout_s * 1_000_000)), "-i", url]


def recorder_command(url: str, pattern: Path | None, segment_seconds: float, timeout_s: float) -> list[str]:
    """ffmpeg copying the stream (no decoding) into fragmented-MP4 segments named by `pattern` (%06d).

    stdout: one CSV line `file,start,end` per finished segment; stderr: `-progress` key=value lines
    (frame=N twice a second: the camera's liveness) and errors. Without a pattern (recording off)
    the packets go to the null muxer, only for liveness.
    """
    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:2",
               "-stats_period", "0.5", *input_args(url, timeout_s), "-map", "0:v:0", "-c", "copy"]
    if pattern is None:
        return [*command, "-f", "null", "-"]
    return [*command, "-f", "segment", "-segment_time", f"{segment_seconds:g}", "-segment_format", "mp4",
            "-segment_format_options", FRAG_FLAGS, "-reset_timestamps", "1",
            "-segment_list", "pipe:1", "-segment_list_type", "csv", "-segment_list_flags", "live",
            str(pattern)]


@dataclass(frozen=True, slots=True)
class SegmentCheck:
    """What ffprobe found in a segment file."""

    ok: bool
    duration: float = 0.0
    keyframe: bool = False
    error: str = ""


def check_segment(path: Path, timeout: float = 20.0) -> SegmentCheck:
    """Demux a whole segment (no decoding): it must parse without errors, hold video and last > 0 s;
    keyframe = its first packet is one."""
    command = [FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries",
               "format=duration:stream=codec_type:packet=flags",
               "-of", "json", str(path)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as err:
        return SegmentCheck(False, error=f"ffprobe failed: {err}")
    if result.returncode != 0 or result.stderr.strip():
        return SegmentCheck(False, error=(result.stderr.strip() or f"ffprobe exit {result.returncode}")[-300:])
    try:
        info = json.loads(result.stdout)
        duration = float(info.get("format", {}).get("duration") or 0.0)
    except (ValueError, TypeError) as err:
        return SegmentCheck(False, error=f"unreadable ffprobe output: {err}")
    if not any(stream.get("codec_type") == "video" for stream in info.get("streams", [])):
        return SegmentCheck(False, error="no video stream")
    if duration <= 0:
        return SegmentCheck(False, error="no duration")
    packets = info.get("packets") or []
    keyframe = bool(packets) and "K" in str(packets[0].get("flags", ""))
    return SegmentCheck(True, duration, keyframe)


def sha256_file(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def snapshot_jpeg(url: str, timeout: float = 15.0, width: int | None = None) -> bytes:
    """One frame of the stream as JPEG (ffmpeg decodes only until the first picture). Raises OSError."""
    scale = ["-vf", f"scale={width}:-2"] if width else []
    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", *input_args(url, timeout),
               "-frames:v", "1", *scale, "-q:v", "4", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout + 5, check=False,
                                start_new_session=True)
    except subprocess.TimeoutExpired as err:
        raise OSError(f"no frame within {timeout:g} s") from err
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        message = redact_userinfo(result.stderr.decode("utf-8", "replace").strip())[-300:] or \
            f"exit {result.returncode}"
        raise OSError(f"snapshot failed: {message}")
    return result.stdout
