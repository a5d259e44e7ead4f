"""ffmpeg for cameras: the recorder's command and snapshots; segment checks and hashes in Python.

Everything here either builds arguments or blocks (run it in an executor). Commands carry the
stream URL with credentials; they are never logged (use config.redact_url).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from .process import redact_userinfo

__all__ = [
    "FFMPEG",
    "HASH_BUFFER",
    "SegmentCheck",
    "check_segment",
    "fetch_snapshot",
    "input_args",
    "recorder_command",
    "sha256_file",
    "snapshot_jpeg",
    "tools_available",
]

FFMPEG = "ffmpeg"
FRAG_FLAGS = "movflags=+frag_keyframe+empty_moov+default_base_moof"
_HASH_CHUNK = 1 << 20
HASH_BUFFER = _HASH_CHUNK  # bytes of the buffer a batch of segment checks reads into


def tools_available() -> bool:
    """Whether ffmpeg is on PATH."""
    return shutil.which(FFMPEG) is not None


def input_args(url: str, timeout_s: float = 5.0) -> list[str]:
    """Input options for a camera URL: RTSP always over TCP, a socket timeout so a dead camera ends the run."""
    if url.lower().startswith(("rtsp://", "rtsps://")):
        return ["-rtsp_transport", "tcp", "-timeout", str(int(timeout_s * 1_000_000)), "-i", url]
    # HTTP MJPEG (multipart/x-mixed-replace) carries no timestamps: without the arrival time ffmpeg assumes
    # 25 fps, and a 10 fps camera's "1 s" segments would hold 2.5 s of video, indexed at the wrong times
    return ["-use_wallclock_as_timestamps", "1", "-rw_timeout", str(int(timeout_s * 1_000_000)), "-i", url]


def progress_period(timeout_s: float) -> float:
    """Seconds between ffmpeg's progress reports: a quarter of the silence that makes a camera unavailable,
    between 0.5 and 2 s (each report is a dozen lines the hub reads: fewer reports, less hub CPU)."""
    return min(2.0, max(0.5, timeout_s / 4))


def recorder_command(url: str, pattern: Path | None, segment_seconds: float, timeout_s: float) -> list[str]:
    """ffmpeg copying the stream (no decoding) into fragmented-MP4 segments named by `pattern` (%06d).

    stdout: one CSV line `file,start,end` per finished segment; stderr: `-progress` key=value lines
    (frame=N every `progress_period(timeout_s)`: the camera's liveness) and errors. Without a pattern
    (recording off) the packets go to the null muxer, only for liveness.
    """
    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:2",
               "-stats_period", f"{progress_period(timeout_s):g}", *input_args(url, timeout_s),
               "-map", "0:v:0", "-c", "copy"]
    if pattern is None:
        return [*command, "-f", "null", "-"]
    return [*command, "-f", "segment", "-segment_time", f"{segment_seconds:g}", "-segment_format", "mp4",
            "-segment_format_options", FRAG_FLAGS, "-reset_timestamps", "1",
            "-segment_list", "pipe:1", "-segment_list_type", "csv", "-segment_list_flags", "live",
            str(pattern)]


@dataclass(frozen=True, slots=True)
class SegmentCheck:
    """What the walk over a segment's boxes found, with its sha256 and size."""

    ok: bool
    sha256: str
    size: int
    fragments: int = 0
    keyframe: bool = False
    error: str = ""


_TOP_LEVEL = {b"ftyp", b"moov", b"moof", b"mdat", b"free", b"skip", b"styp", b"sidx", b"mfra", b"uuid"}


def check_segment(path: Path, buffer: bytearray | None = None) -> SegmentCheck:
    """Hash a fragmented-MP4 segment and walk its top-level boxes in the same read (no process, no decoding).

    It must start with `ftyp`, hold a `moov` and at least one `moof` + `mdat` fragment, and its boxes
    must add up to the file's size exactly: a truncated file (a box running past the end) or garbage
    fails. With `frag_keyframe` every fragment starts at a keyframe, so a valid segment with a
    fragment starts with one (`keyframe`). The file is read into `buffer` (reused across a batch of
    segments: no allocation, no fresh pages per read) and its size is what was read (no stat).
    FileNotFoundError when the file is gone.
    """
    chunk_buffer = buffer if buffer is not None else bytearray(_HASH_CHUNK)
    whole = memoryview(chunk_buffer)
    digest = hashlib.sha256()
    size = 0
    boxes: list[bytes] = []
    error = ""
    pending = b""  # bytes of a box header split across reads
    skip = 0  # bytes of the current box's body still to pass
    with path.open("rb", buffering=0) as handle:
        while read := handle.readinto(whole):
            chunk = whole[:read]
            digest.update(chunk)
            size += read
            if error:  # finish the hash (and the size) of what is there
                continue
            pos = 0
            if skip >= read:  # inside a box's body (the mdat): nothing to walk in this read
                skip -= read
                continue
            view: bytes | memoryview = pending + bytes(chunk) if pending else chunk
            pending = b""
            while pos < len(view):
                if skip:
                    step = min(skip, len(view) - pos)
                    skip -= step
                    pos += step
                    continue
                if len(view) - pos < 16:
                    pending = bytes(view[pos:])
                    break
                box_size = int.from_bytes(view[pos:pos + 4], "big")
                box_type = bytes(view[pos + 4:pos + 8])
                header = 8
                if box_size == 1:
                    box_size, header = int.from_bytes(view[pos + 8:pos + 16], "big"), 16
                if box_type not in _TOP_LEVEL or box_size < header:
                    error = f"unexpected box {box_type!r} of {box_size} bytes at offset {size - len(view) + pos}"
                    break
                boxes.append(box_type)
                skip = box_size
    if not error and pending:  # a last box smaller than 16 bytes
        box_size = int.from_bytes(pending[:4], "big")
        if box_size == len(pending) and bytes(pending[4:8]) in _TOP_LEVEL:
            boxes.append(bytes(pending[4:8]))
            pending = b""
    if not error and (pending or skip):
        error = "truncated: the last box runs past the end of the file"
    if not error and (not boxes or boxes[0] != b"ftyp"):
        error = "does not start with an ftyp box"
    fragments = sum(1 for box in boxes if box == b"moof")
    if not error and (b"moov" not in boxes or not fragments or b"mdat" not in boxes):
        error = "no moov or no moof/mdat fragment"
    ok = not error
    return SegmentCheck(ok, digest.hexdigest(), size, fragments, ok and fragments > 0, error)


def sha256_file(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and size in bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def snapshot_jpeg(url: str, timeout: float = 15.0, width: int | None = None, data: bytes | None = None) -> bytes:
    """One frame of the stream as JPEG (ffmpeg decodes only until the first picture), or, with `data`
    (a JPEG fetched from a snapshot URL), that picture scaled to `width`. Raises OSError."""
    scale = ["-vf", f"scale={width}:-2"] if width else []
    source = ["-f", "image2pipe", "-i", "pipe:0"] if data is not None else input_args(url, timeout)
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", *source,
               "-frames:v", "1", *scale, "-q:v", "4", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    try:
        result = subprocess.run(command, input=data or b"", capture_output=True, timeout=timeout + 5,
                                check=False, start_new_session=True)
    except subprocess.TimeoutExpired as err:
        raise OSError(f"no frame within {timeout:g} s") from err
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        message = redact_userinfo(result.stderr.decode("utf-8", "replace").strip())[-300:] or \
            f"exit {result.returncode}"
        raise OSError(f"snapshot failed: {message}")
    return result.stdout


async def fetch_snapshot(url: str, username: str | None, password: str | None, timeout: float = 15.0) -> bytes:
    """GET a camera's snapshot URL: one JPEG. Credentials answer the camera's challenge, Digest (most IP
    cameras) or Basic; they are never put in the URL. Raises OSError (the URL's user info cut)."""
    middlewares = (aiohttp.DigestAuthMiddleware(username, password or ""),) if username else ()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout),
                                         middlewares=middlewares) as session:
            async with session.get(url) as resp:
                challenge = resp.headers.get("WWW-Authenticate", "")
                if resp.status == 401 and username and challenge.lower().startswith("basic"):
                    resp.release()
                    basic_auth = {"Authorization": aiohttp.encode_basic_auth(username, password or "")}
                    async with session.get(url, headers=basic_auth) as basic:
                        return _jpeg_body(basic.status, await basic.read())
                return _jpeg_body(resp.status, await resp.read())
    except (aiohttp.ClientError, TimeoutError) as err:
        raise OSError(f"snapshot URL failed: {redact_userinfo(str(err)) or type(err).__name__}") from err


def _jpeg_body(status: int, body: bytes) -> bytes:
    if status != 200:
        raise OSError(f"snapshot URL answered HTTP {status}")
    if not body.startswith(b"\xff\xd8"):
        raise OSError("snapshot URL did not answer a JPEG")
    return body
