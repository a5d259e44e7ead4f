"""Live view without faces: the process behind a camera's blurred live stream (docs/face.md).

`python -m integrations.face.live URL [--detector blazeface|haar] -- <ffmpeg output options>` runs one ffmpeg
that decodes the camera stream at URL (the sub stream) into raw frames (YUV4MPEG on a pipe, whose header gives
the size and frame rate), blurs faces in every frame with `FaceBlurrer.blur_frames` (the face integration's
`live_detector`, BlazeFace unless configured otherwise; detection on every frame (LIVE_EVERY), a box
kept for TRACK_FRAMES frames so a missed detection unveils nothing), and pipes the frames to a second ffmpeg
that encodes H.264 (libx264 ultrafast, zerolatency, a keyframe a second) with the given output options:
fragmented MP4 on stdout for the websocket player, or HLS into a folder. All of it runs in that process, never
in the hub's event loop; the camera integration starts and shares it (privacy.py) and its children die with
it (PR_SET_PDEATHSIG). A frame that cannot be blurred is never passed on: an error ends the stream.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import numpy as np

from hub.core import Hub
from integrations.camera.live import copy_input_args
from integrations.camera.process import _die_with_parent

if TYPE_CHECKING:  # OpenCV loads in the blurring process (main), never in the hub that imports LiveBlur
    from .blur import BlurResult, FaceBlurrer

__all__ = ["LiveBlur", "blurred_frames", "main"]

FFMPEG = "ffmpeg"
# Detection on every frame: a live stream can skip frames before they reach this process (the RTSP server or
# the decoder dropping what a loaded machine cannot take), so a box carried from the frame before may no longer
# cover a face that moved in between (a clip's frames are consecutive: exports detect every other frame).
LIVE_EVERY = 1
MAX_WIDTH = 1280  # a sub stream wider than this is scaled down before blurring (cost grows with pixels)
DEFAULT_DETECTOR = "blazeface"  # docs/face.md "Live blurring": measured faster than Haar, same recall at 720p


class LiveBlur:
    """The camera integration's face blurrer (camera.privacy.FaceBlurProvider)."""

    def __init__(self, hub: Hub | None, detector: str = DEFAULT_DETECTOR) -> None:
        self.hub = hub
        self.detector = detector

    def live_command(self, url: str, output: list[str]) -> list[str]:
        """This module as a process, reading `url` and writing with the ffmpeg options `output`."""
        return [sys.executable, "-m", "integrations.face.live", url, "--detector", self.detector, "--", *output]

    async def async_blur_jpeg(self, jpeg: bytes) -> bytes:
        """The still with faces (and plates) blurred, in an executor."""
        from .blur import blur_image_bytes

        assert self.hub is not None
        data, _result = await self.hub.async_add_executor_job(blur_image_bytes, jpeg)
        return data


def _y4m_header(pipe: IO[bytes]) -> tuple[int, int, str]:
    line = pipe.readline()
    if not line.startswith(b"YUV4MPEG2 "):
        raise ValueError("no video from the camera")
    fields = {part[:1]: part[1:] for part in line.decode("ascii").split()[1:]}
    rate = fields.get("F", "25:1").replace(":", "/")
    return int(fields["W"]), int(fields["H"]), rate


def blurred_frames(pipe: IO[bytes], width: int, height: int, blurrer: FaceBlurrer,
                   total: BlurResult, every: int = LIVE_EVERY) -> Iterator[np.ndarray]:
    """YUV4MPEG 4:2:0 frames from `pipe` as BGR, faces blurred."""
    import cv2

    size = width * height * 3 // 2

    def frames() -> Iterator[np.ndarray]:
        while pipe.readline().startswith(b"FRAME"):
            data = pipe.read(size)
            if len(data) < size:
                return
            yuv = np.frombuffer(data, np.uint8).reshape(height * 3 // 2, width)
            yield cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)

    yield from blurrer.blur_frames(frames(), total, every=every)


def main(argv: list[str]) -> int:
    """Run one blurred stream until the camera's stream ends or the process is stopped."""
    from .blur import DETECTORS, BlurResult, FaceBlurrer

    detector = DEFAULT_DETECTOR
    if argv[1:2] == ["--detector"] and len(argv) > 2:
        detector, argv = argv[2], argv[:1] + argv[3:]
    if "--" not in argv or argv.index("--") != 1 or detector not in DETECTORS:
        print("usage: python -m integrations.face.live URL [--detector blazeface|haar] -- OUTPUT-OPTIONS",
              file=sys.stderr)
        return 2
    url, output = argv[0], argv[2:]
    decoder = subprocess.Popen(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", *copy_input_args(url),
         "-map", "0:v:0", "-vf", f"scale='min({MAX_WIDTH},iw)':-2", "-pix_fmt", "yuv420p",
         "-f", "yuv4mpegpipe", "pipe:1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, preexec_fn=_die_with_parent)
    assert decoder.stdout is not None
    encoder = None
    try:
        width, height, rate = _y4m_header(decoder.stdout)
        gop = max(1, round(eval_rate(rate)))
        encoder = subprocess.Popen(
            [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
             "-s", f"{width}x{height}", "-r", rate, "-i", "pipe:0", "-c:v", "libx264", "-preset", "ultrafast",
             "-tune", "zerolatency", "-g", str(gop), "-pix_fmt", "yuv420p", *output],
            stdin=subprocess.PIPE, preexec_fn=_die_with_parent)
        assert encoder.stdin is not None
        for frame in blurred_frames(decoder.stdout, width, height, FaceBlurrer(plates=False, detector=detector),
                                     BlurResult()):
            encoder.stdin.write(frame.tobytes())
            encoder.stdin.flush()
    except (ValueError, BrokenPipeError) as err:
        print(f"blurred live stream: {err}", file=sys.stderr)
    finally:
        decoder.kill()
        if encoder is not None and encoder.stdin is not None:
            encoder.stdin.close()
            encoder.wait(10)
        decoder.wait()
    return 1 if encoder is None else (encoder.returncode or 0)


def eval_rate(rate: str) -> float:
    """A frame rate written as 'N/D' (or 'N')."""
    num, _, den = rate.partition("/")
    return float(num) / float(den or 1) if float(den or 1) else 25.0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
