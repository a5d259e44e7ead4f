"""The face integration as an evidence redactor (hub.evidence.providers): faces and plates blurred in exports."""

from __future__ import annotations

from functools import cache

from .blur import FaceBlurrer, blur_image_bytes

__all__ = ["redact_image"]


@cache
def _blurrer() -> FaceBlurrer:
    return FaceBlurrer()  # loads the cascades once per process


def redact_image(data: bytes) -> tuple[bytes, int, int]:
    """A still with faces and plates blurred, and how many of each (blocking; ValueError if unreadable)."""
    blurred, result = blur_image_bytes(data, _blurrer())
    return blurred, result.faces, result.plates
