"""Blurring faces (and plates) in stills and clips for exports to people outside the case.

Blocking (OpenCV): call it from an executor or a worker, never on the event loop. Faces are found with
OpenCV's Haar cascades (`haar`: frontal and profile, shipped with opencv-python-headless 4.x, BSD/Intel licence) on
a copy scaled to at most `max_width`, or with MediaPipe's BlazeFace in onnxruntime (`blazeface`, blazeface.py:
Apache-2.0; live view uses it by default); plates with the ANPR integration's plate detector (its Haar cascade, which
misses Spanish EU plates, and its morphology pass, which finds them). A still that is itself a plate crop (small and
plate-shaped, as the ANPR hits store them) is blurred whole. Boxes are grown by a margin and blurred hard enough
that a face cannot be recognised; when in doubt it blurs more, not less.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

__all__ = ["DETECTORS", "BlurResult", "FaceBlurrer", "blur_image_bytes"]

_LOGGER = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
_CASCADES: Final = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
MIN_FACE: Final = 20  # pixels at the working scale
MARGIN: Final = 0.25
TRACK_FRAMES: Final = 12  # in clips, a box stays blurred this many frames after it was last detected
CROP_MAX_WIDTH: Final = 480  # a still at most this wide and at least CROP_ASPECT times wider than high is a plate crop
CROP_ASPECT: Final = 2.0
DETECTORS: Final = ("haar", "blazeface")  # the face detectors FaceBlurrer can use


@dataclass(slots=True)
class BlurResult:
    """What was blurred."""

    faces: int = 0
    plates: int = 0
    frames: int = 0


def _grow(box: Box, shape: tuple[int, ...], margin: float = MARGIN, extra: int = 0) -> Box:
    x, y, w, h = box
    dx, dy = int(w * margin) + extra, int(h * margin) + extra
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(shape[1], x + w + dx), min(shape[0], y + h + dy)
    return x0, y0, x1 - x0, y1 - y0


def _pixelate(image: np.ndarray, box: Box) -> None:
    """Replace a box by a blurred 12x-smaller copy of itself. The copy is blurred with the sigma the full-size
    box would get (a tenth of its width, at least 2 px), scaled to the copy's pixels: the same detail is lost
    as when the full-size box was pixelated and then blurred, at a small fraction of the cost (a Gaussian over
    a 500 px box with a sigma of 50 px cost about 0.1 s)."""
    x, y, w, h = box
    if w < 2 or h < 2:
        return
    region = image[y:y + h, x:x + w]
    sw, sh = max(1, w // 12), max(1, h // 12)
    small = cv2.resize(region, (sw, sh), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), max(2.0, w / 10) * sw / w)
    image[y:y + h, x:x + w] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _merged(boxes: Iterable[Box]) -> list[Box]:
    """Overlapping boxes replaced by the rectangle that holds them, until none overlap: each pixel is blurred
    once however many detections (a face found by two cascades, carried from six earlier frames) cover it."""
    pending = list(boxes)
    done: list[Box] = []
    while pending:
        x, y, w, h = pending.pop()
        grown = True
        while grown:
            grown = False
            for other in pending:
                ox, oy, ow, oh = other
                if ox < x + w and x < ox + ow and oy < y + h and y < oy + oh:
                    x0, y0 = min(x, ox), min(y, oy)
                    w, h = max(x + w, ox + ow) - x0, max(y + h, oy + oh) - y0
                    x, y = x0, y0
                    pending.remove(other)
                    grown = True
                    break
        box = (x, y, w, h)
        overlapping = [d for d in done if d[0] < x + w and x < d[0] + d[2] and d[1] < y + h and y < d[1] + d[3]]
        if overlapping:  # it grew into a box already done: merge again with it
            for d in overlapping:
                done.remove(d)
            pending.extend([box, *overlapping])
        else:
            done.append(box)
    return done


class FaceBlurrer:
    """Finds faces (and optionally plates) and blurs them in place."""

    def __init__(self, *, plates: bool = True, max_width: int = 960, detector: str = "haar") -> None:
        if detector not in DETECTORS:
            raise ValueError(f"unknown face detector {detector!r} (known: {', '.join(DETECTORS)})")
        self.detector = detector
        self._blazeface: Any = None
        self._cascades: list[Any] = []
        if detector == "blazeface":
            from .blazeface import BlazeFace

            self._blazeface = BlazeFace()
        else:
            base = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
            self._cascades = [cv2.CascadeClassifier(str(base / name)) for name in _CASCADES]
            if any(c.empty() for c in self._cascades):
                raise RuntimeError(f"Cannot load the face cascades from {base} (opencv 5 no longer ships them)")
        self.max_width = max_width
        self._plates: Any = None
        if plates:
            try:
                from integrations.anpr.reader import PlateDetector

                self._plates = PlateDetector(methods=("haar", "morph"))
            except Exception as err:
                _LOGGER.warning("Plate blurring unavailable: %s", err)

    def faces(self, bgr: np.ndarray) -> list[Box]:
        """Face boxes (x, y, w, h) in image pixels."""
        if self._blazeface is not None:
            return list(self._blazeface.faces(bgr))
        h, w = bgr.shape[:2]
        scale = min(1.0, self.max_width / w)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        found: list[Box] = []
        for index, cascade in enumerate(self._cascades):
            for flip in ((False, True) if index == 1 else (False,)):  # profiles: both sides
                source = cv2.flip(gray, 1) if flip else gray
                boxes = cascade.detectMultiScale(source, scaleFactor=1.1, minNeighbors=4,
                                                 minSize=(MIN_FACE, MIN_FACE))
                for x, y, bw, bh in (boxes if len(boxes) else []):
                    if flip:
                        x = source.shape[1] - x - bw
                    found.append((int(x / scale), int(y / scale), int(bw / scale), int(bh / scale)))
        return found

    def plates(self, bgr: np.ndarray) -> list[Box]:
        """Plate boxes, when the plate detector is available."""
        if self._plates is None:
            return []
        return [tuple(int(v) for v in box) for box, _score, _method in self._plates.detect(bgr)]  # type: ignore[misc]

    def blur(self, bgr: np.ndarray, extra: list[Box] = ()) -> BlurResult:  # type: ignore[assignment]
        """Blur every face and plate in place (plus `extra` boxes); returns the counts. A plate crop (a small
        plate-shaped still) is blurred whole."""
        height, width = bgr.shape[:2]
        if self._plates is not None and width <= CROP_MAX_WIDTH and width >= CROP_ASPECT * height:
            _pixelate(bgr, (0, 0, width, height))
            return BlurResult(0, 1, 1)
        faces, plates = self.faces(bgr), self.plates(bgr)
        boxes = [_grow(box, bgr.shape) for box in [*faces, *extra]] + [_grow(box, bgr.shape, 0.1) for box in plates]
        for box in _merged(boxes):
            _pixelate(bgr, box)
        return BlurResult(len(faces), len(plates), 1)

    def blur_frames(self, frames: Iterable[np.ndarray], total: BlurResult, *, every: int = 2) -> Iterator[np.ndarray]:
        """Blur a sequence of frames in place, yielding each (counts added to `total`). Detection runs on every
        `every`-th frame; a box stays blurred, grown by how far it may have moved, for TRACK_FRAMES frames
        after it was last seen, so neither a frame without detection nor a missed one unveils a face or a plate."""
        recent: list[tuple[int, Box]] = []
        for index, frame in enumerate(frames):
            if index % every == 0:
                faces, plates = self.faces(frame), self.plates(frame)
                total.faces += len(faces)
                total.plates += len(plates)
                recent = [(index, b) for b in [*faces, *plates]] + \
                    [(i, b) for i, b in recent if index - i < TRACK_FRAMES]
            # a box from an earlier frame also covers how far its face or plate may have moved since: a
            # quarter of its larger side a frame (a car's plate moves more than its own height in two frames)
            boxes = [_grow(box, frame.shape, extra=min(index - seen, 4) * max(box[2], box[3]) // 4)
                     for seen, box in recent]
            for box in _merged(boxes):
                _pixelate(frame, box)
            total.frames += 1
            yield frame

    def blur_clip(self, source: Path, target: Path, *, every: int = 2) -> BlurResult:
        """Blur a video file into `target` (mp4v), as `blur_frames` does."""
        capture = cv2.VideoCapture(str(source))
        if not capture.isOpened():
            raise ValueError(f"{source}: not a video OpenCV can read")
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        writer: Any = None
        total = BlurResult()

        def frames() -> Iterator[np.ndarray]:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame

        try:
            for frame in self.blur_frames(frames(), total, every=every):
                if writer is None:
                    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), fps,
                                             (frame.shape[1], frame.shape[0]))
                writer.write(frame)
        finally:
            capture.release()
            if writer is not None:
                writer.release()
        if total.frames == 0:
            raise ValueError(f"{source}: no frames")
        return total


def blur_image_bytes(data: bytes, blurrer: FaceBlurrer | None = None) -> tuple[bytes, BlurResult]:
    """A JPEG/PNG still with faces and plates blurred, re-encoded in the same format (blocking)."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not an image OpenCV can read")
    result = (blurrer or FaceBlurrer()).blur(image)
    suffix = ".png" if data[:8] == b"\x89PNG\r\n\x1a\n" else ".jpg"
    ok, encoded = cv2.imencode(suffix, image)
    if not ok:
        raise ValueError("cannot re-encode the blurred image")
    return encoded.tobytes(), result
