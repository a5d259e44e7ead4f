"""Scenes rendered frame by frame for the simulated cameras (encoded once by camera_clips.ensure_clip).

- `face`: a square seen from a lamp post, with one person whose face is known: the portrait of Grace Hopper
  (US Navy photograph, public domain), shipped in `data/` (its NOTICE says where it comes from). Nothing of
  the measurement set (../shared/data/faces) is used. The person drifts slowly across the view;
  `face_reference_jpeg()` is the same person's photograph as a case file would hold it (the original picture,
  cropped), for a watchlist.
- `plates`: the ANPR integration's simulated road (integrations/anpr/sim_camera.py) with vehicles carrying the
  given plates (or random Spanish ones from the seed).

Blocking and deterministic for a spec (the cached clip's name holds everything that changes it).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from .camera_clips import SCENES, ClipSpec

__all__ = ["SCENES", "SceneUnavailable", "face_image_path", "face_reference_jpeg", "render_scene"]

FACE_SAMPLE: Final = Path(__file__).parent / "data" / "grace_hopper.jpg"
PLATE_EVERY: Final = 4.0  # seconds between planted vehicles in the `plates` scene


class SceneUnavailable(RuntimeError):
    """A scene cannot be rendered here (what it needs is not installed)."""


def face_image_path() -> Path:
    """The public-domain portrait that ships with this package (data/grace_hopper.jpg, see data/NOTICE)."""
    return FACE_SAMPLE


@lru_cache(maxsize=1)
def _portrait() -> np.ndarray:
    path = face_image_path()
    image = cv2.imread(str(path))
    if image is None:
        raise SceneUnavailable(f"cannot read the portrait {path}")
    return image


def face_reference_jpeg() -> bytes:
    """The known person's reference photograph (head and shoulders of the original picture) as JPEG."""
    image = _portrait()
    crop = image[60:420, 80:440]
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise RuntimeError("cannot encode the reference image")
    return data.tobytes()


def _square(width: int, height: int) -> np.ndarray:
    """Paving, a building front and a bench: a plain static background."""
    img = np.zeros((height, width, 3), np.uint8)
    horizon = height // 3
    img[:horizon] = (170, 190, 205)  # a building front
    for x in range(0, width, max(8, width // 12)):
        cv2.rectangle(img, (x + 6, horizon // 4), (x + width // 24 + 6, horizon - 10), (110, 120, 135), -1)
    img[horizon:] = (128, 132, 136)
    for y in range(horizon, height, max(6, height // 18)):
        cv2.line(img, (0, y), (width, y), (112, 116, 120), 1)
    cv2.rectangle(img, (width // 20, height - height // 6), (width // 4, height - height // 9), (60, 70, 90), -1)
    return img


def _face_frames(spec: ClipSpec) -> Iterator[np.ndarray]:
    background = _square(spec.width, spec.height)
    person = _portrait()
    scale = 0.62 * spec.height / person.shape[0]
    person = cv2.resize(person, (int(person.shape[1] * scale), int(person.shape[0] * scale)),
                        interpolation=cv2.INTER_AREA)
    ph, pw = person.shape[:2]
    # an oval mask: the portrait's own backdrop blends into the square
    oval = np.zeros((ph, pw), np.float32)
    cv2.ellipse(oval, (pw // 2, ph // 2), (int(pw * 0.46), int(ph * 0.5)), 0, 0, 360, 1.0, -1)
    mask = np.asarray(cv2.GaussianBlur(oval, (0, 0), max(1.0, pw / 30)), np.float32)[:, :, None]
    frames = spec.seconds * spec.fps
    span = max(0, spec.width - pw)
    top = spec.height - ph - spec.height // 20
    for n in range(frames):
        phase = n / frames  # one full walk back and forth per clip: the loop has no jump
        x = int(span * (0.5 - 0.35 * math.cos(2 * math.pi * phase)))
        y = top + int(3 * math.sin(4 * math.pi * phase))
        frame = background.copy()
        area = frame[y:y + ph, x:x + pw].astype(np.float32)
        frame[y:y + ph, x:x + pw] = (area * (1 - mask) + person.astype(np.float32) * mask).astype(np.uint8)
        yield frame


def _plate_frames(spec: ClipSpec) -> Iterator[np.ndarray]:
    from integrations.anpr.sim_camera import SimCamera

    camera = SimCamera(seed=spec.seed, rate=0.0 if spec.plates else 6.0, lanes=1, width=spec.width,
                       height=spec.height, pass_seconds=3.0)
    planted = 0
    for n in range(spec.seconds * spec.fps):
        t = n / spec.fps
        if spec.plates and t >= planted * PLATE_EVERY and t <= spec.seconds - 3.5:
            camera.plant(spec.plates[planted % len(spec.plates)])
            planted += 1
        frame, _truth = camera.frame(t)
        yield frame


def render_scene(spec: ClipSpec) -> Iterator[np.ndarray]:
    """The BGR frames of a rendered scene, `spec.seconds * spec.fps` of them at the spec's size."""
    if spec.scene == "face":
        _portrait()  # SceneUnavailable now, not halfway through the encoding
        return _face_frames(spec)
    if spec.scene == "plates":
        return _plate_frames(spec)
    raise ValueError(f"unknown scene {spec.scene!r} (known: {', '.join(SCENES)})")
