"""Blurring a recorded video segment (fragmented MP4, H.264) for a redacted export: ffmpeg decodes it to raw
frames, `FaceBlurrer.blur_frames` blurs faces and plates, ffmpeg encodes the result (H.264, fragmented MP4,
same size and frame rate). Only redacted exports pay for the decode and encode; exports for the case keep the
segments as recorded. Blocking: run it in an executor.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np
import orjson

from .blur import BlurResult, FaceBlurrer

__all__ = ["blur_video_bytes"]

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
_FRAG = "frag_keyframe+empty_moov+default_base_moof"
_TIMEOUT = 600.0


def _probe(path: Path) -> tuple[int, int, str]:
    run = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,avg_frame_rate,r_frame_rate", "-of", "json", str(path)],
                         capture_output=True, timeout=60, check=False)
    streams = orjson.loads(run.stdout or b"{}").get("streams") if run.returncode == 0 else None
    if not streams:
        raise ValueError("not a video ffprobe can read")
    stream = streams[0]
    rate = next((r for r in (stream.get("avg_frame_rate"), stream.get("r_frame_rate"))
                 if r and r != "0/0" and Fraction(r) > 0), "25/1")
    return int(stream["width"]), int(stream["height"]), str(rate)


def _frames(pipe: IO[bytes], width: int, height: int) -> Iterator[np.ndarray]:
    size = width * height * 3
    while True:
        data = pipe.read(size)
        if len(data) < size:
            return
        yield np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3).copy()


def blur_video_bytes(data: bytes, blurrer: FaceBlurrer | None = None) -> tuple[bytes, BlurResult]:
    """A fragmented-MP4 video with faces and plates blurred, re-encoded as H.264 fragmented MP4.
    ValueError when it cannot be decoded or encoded (the caller withholds it)."""
    blurrer = blurrer or FaceBlurrer()
    total = BlurResult()
    with tempfile.TemporaryDirectory(prefix="hacho-blur-") as folder:
        source, target = Path(folder) / "in.mp4", Path(folder) / "out.mp4"
        source.write_bytes(data)
        width, height, rate = _probe(source)
        gop = max(1, round(float(Fraction(rate))))  # a keyframe a second: each fragment plays on its own
        with (Path(folder) / "decode.log").open("wb") as decode_log, \
                (Path(folder) / "encode.log").open("wb") as encode_log:
            decoder = subprocess.Popen([FFMPEG, "-hide_banner", "-nostdin", "-v", "error", "-i", str(source),
                                        "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
                                       stdout=subprocess.PIPE, stderr=decode_log)
            encoder = subprocess.Popen([FFMPEG, "-hide_banner", "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                                        "-s", f"{width}x{height}", "-r", rate, "-i", "-", "-c:v", "libx264",
                                        "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", str(gop),
                                        "-movflags", _FRAG, "-f", "mp4", "-y", str(target)],
                                       stdin=subprocess.PIPE, stderr=encode_log)
            assert decoder.stdout is not None and encoder.stdin is not None
            try:
                for frame in blurrer.blur_frames(_frames(decoder.stdout, width, height), total):
                    encoder.stdin.write(frame.tobytes())
            finally:
                encoder.stdin.close()
                decoder.stdout.close()
                decoded, encoded = decoder.wait(_TIMEOUT), encoder.wait(_TIMEOUT)
        if total.frames == 0 or decoded != 0 or encoded != 0:
            log = (Path(folder) / ("encode.log" if encoded else "decode.log")).read_text(errors="replace").strip()
            raise ValueError(f"the video could not be blurred ({log.splitlines()[-1] if log else 'no frames'})")
        return target.read_bytes(), total
