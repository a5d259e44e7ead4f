"""The face integration as an evidence redactor (hub.evidence.providers): faces and plates blurred in exports,
in stills and in recorded video segments."""

from __future__ import annotations

from functools import cache

from .blur import FaceBlurrer, blur_image_bytes
from .clip import blur_video_bytes

__all__ = ["redact_image", "redact_video"]


@cache
def _blurrer() -> FaceBlurrer:
    return FaceBlurrer()  # loads the cascades once per process


def redact_image(data: bytes) -> tuple[bytes, int, int]:
    """A still with faces and plates blurred, and how many of each (blocking; ValueError if unreadable)."""
    blurred, result = blur_image_bytes(data, _blurrer())
    return blurred, result.faces, result.plates


def redact_video(data: bytes) -> tuple[bytes, int, int]:
    """A fragmented-MP4 segment with faces and plates blurred (decoded and re-encoded as H.264 fragmented MP4),
    and how many of each it found (blocking; ValueError if it cannot be decoded)."""
    blurred, result = blur_video_bytes(data, _blurrer())
    return blurred, result.faces, result.plates
