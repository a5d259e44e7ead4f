"""The face integration as an evidence redactor (hub.evidence.providers): faces and plates blurred in exports,
in stills and in recorded video segments."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # OpenCV loads at the first redaction: the hub imports every evidence platform at setup
    from .blur import FaceBlurrer

__all__ = ["redact_image", "redact_video"]


@cache
def _blurrer() -> FaceBlurrer:
    from .blur import FaceBlurrer

    return FaceBlurrer()  # loads the cascades once per process


def redact_image(data: bytes) -> tuple[bytes, int, int]:
    """A still with faces and plates blurred, and how many of each (blocking; ValueError if unreadable)."""
    from .blur import blur_image_bytes

    blurred, result = blur_image_bytes(data, _blurrer())
    return blurred, result.faces, result.plates


def redact_video(data: bytes) -> tuple[bytes, int, int]:
    """A fragmented-MP4 segment with faces and plates blurred (decoded and re-encoded as H.264 fragmented MP4),
    and how many of each it found (blocking; ValueError if it cannot be decoded)."""
    from .clip import blur_video_bytes

    blurred, result = blur_video_bytes(data, _blurrer())
    return blurred, result.faces, result.plates
