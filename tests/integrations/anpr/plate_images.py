"""Synthetic plate crops of the five UC3M-LP plate types (rendered here, no photos): A one-row white,
B two-row motorcycle, C yellow two-row moped, D blue one-row (taxi/public service), E red two-row trailer."""

from __future__ import annotations

import cv2
import numpy as np

from integrations.anpr.sim_camera import render_plate

__all__ = ["PLATE_TYPES", "render_typed_plate"]

_FONT = cv2.FONT_HERSHEY_DUPLEX
_BAND = (153, 51, 0)
# type: (example plate, background BGR, ink BGR, rows as (start, end) slices of the plate text)
PLATE_TYPES: dict[str, tuple[str, tuple[int, int, int], tuple[int, int, int], tuple[slice, ...]]] = {
    "A": ("4321FGH", (250, 250, 250), (15, 15, 15), (slice(0, 7),)),
    "B": ("6951BDF", (250, 250, 250), (15, 15, 15), (slice(0, 4), slice(4, 7))),
    "C": ("C5482BSK", (40, 215, 240), (15, 15, 15), (slice(0, 5), slice(5, 8))),
    "D": ("7391HKL", (150, 60, 10), (245, 245, 245), (slice(0, 7),)),
    "E": ("R2552BCJ", (40, 40, 200), (15, 15, 15), (slice(0, 5), slice(5, 8))),
}


def _row_text(text: str) -> str:
    """`C5482` -> `C 5482`, `6951` stays: the prefix letter is printed apart, as on the plate."""
    return f"{text[0]} {text[1:]}" if text[:1].isalpha() and text[1:].isdigit() else text


def render_typed_plate(kind: str, height: int = 120) -> tuple[str, np.ndarray]:
    """The example plate of a type and its crop, `height` pixels high."""
    plate, background, ink, rows = PLATE_TYPES[kind]
    if kind == "A":
        return plate, render_plate(plate, width=round(height * 520 / 110))
    if len(rows) == 1:
        crop = render_plate(plate, width=round(height * 520 / 110))
        mask = crop.mean(axis=2) > 128  # white ground -> the type's ground, black ink -> its ink
        out = np.where(mask[..., None], np.array(background, np.uint8), np.array(ink, np.uint8))
        band = crop[..., 0].astype(int) - crop[..., 2].astype(int) > 80
        out[band] = crop[band]
        return plate, out.astype(np.uint8)
    base = np.full((220, 300, 3), background, np.uint8)
    cv2.rectangle(base, (0, 0), (299, 219), (20, 20, 20), 3)
    cv2.rectangle(base, (3, 3), (40, 216), _BAND, -1)
    cv2.putText(base, "E", (10, 200), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
    for i, part in enumerate(rows):
        text = _row_text(plate[part])
        scale = 2.4
        (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 6)
        if tw > 240:
            scale *= 240 / tw
            (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 6)
        y = 55 + i * 105 + th // 2
        cv2.putText(base, text, (45 + (250 - tw) // 2, y), _FONT, scale, ink, 6, cv2.LINE_AA)
    width = round(height * 300 / 220)
    return plate, cv2.resize(base, (width, height), interpolation=cv2.INTER_AREA)
