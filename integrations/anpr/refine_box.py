"""Plate boxes from morphology: the `morph` detector's pass over a frame, and the same pass inside another
detector's loose box (yolo) to find the plate's character band.

The reader was tuned on `morph` boxes, which hug the characters. A YOLO plate box holds the whole plate and
some of the car around it (its boxes are about twice the character band's height), so the recogniser, which
scales every crop to 48 px high, sees smaller characters, the plate's frame and the EU band's country
letters. `refine_box` looks for the character band inside the (slightly enlarged) box, at a fixed size
whatever the plate's size in the frame, so that the morphology kernel always meets characters of the size
it was made for.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

__all__ = ["Box", "morph_boxes", "refine_box", "text_mask"]

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels

KERNEL: Final = (13, 5)  # wider than a character's stroke gap, lower than a character: joins a row of text
MIN_RATIO: Final = 2.0  # a plate's (or its character band's) width over height: one-row plates are 2-7
MAX_RATIO: Final = 7.0
MIN_FILL: Final = 0.45  # share of its bounding box a plate-shaped component fills
# Refinement: the box is resized to this width (the plate widths at which `morph` finds plates in frames
# shrunk to 960 px, where its kernel meets characters about 20 px high), enlarged by this share per side
# first (a tight box may cut the first or last character).
REFINE_WIDTH: Final = 160
REFINE_PAD: Final = 0.1
# A character band spans most of the plate: narrower components are a group of characters, a sticker or
# the dealer's line under the plate (the box is a little wider than the plate, the band about 85% of it).
MIN_BAND_SHARE: Final = 0.6
# Character groups of one row (`VW 4X4 WP`) are up to about a character apart, a tenth of the plate: a
# closing this wide joins them into one band (one pixel high, so it never joins two rows).
GROUP_GAP: Final = round(0.15 * REFINE_WIDTH)
# Below this width over height the box is a two-row plate (motorcycles, trailers, as split_rows decides):
# one row's band would drop the other row.
TWO_ROW_RATIO: Final = 1.7


def text_mask(gray: np.ndarray) -> np.ndarray:
    """Where rows of dark characters on a lighter ground are: black-hat, horizontal gradient, closing,
    Otsu's threshold, and an opening that drops thin edges."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, KERNEL)
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel)
    grad = cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=3)
    grad = cv2.convertScaleAbs(grad)
    grad = cv2.GaussianBlur(grad, (5, 5), 0)
    grad = cv2.morphologyEx(grad, cv2.MORPH_CLOSE, kernel)
    _t, mask = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    square = np.ones((3, 3), np.uint8)
    mask = cv2.erode(mask, square, iterations=2)
    return cv2.dilate(mask, square, iterations=2)


def _plate_shaped(mask: np.ndarray) -> list[tuple[Box, float]]:
    """Bounding boxes of the mask's plate-shaped components, with their fill."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not MIN_RATIO <= w / max(h, 1) <= MAX_RATIO:
            continue
        fill = cv2.contourArea(contour) / float(w * h)
        if fill >= MIN_FILL:
            out.append(((x, y, w, h), fill))
    return out


def morph_boxes(gray: np.ndarray) -> list[tuple[Box, float, str]]:
    """The `morph` detector: plate-shaped text regions of a grey frame, between a thirtieth and half of
    its width, scored by how much of their box they fill."""
    width = gray.shape[1]
    return [(box, 0.5 + 0.4 * fill, "morph") for box, fill in _plate_shaped(text_mask(gray))
            if width // 30 <= box[2] <= width // 2]


def refine_box(view: np.ndarray, box: Box) -> Box | None:
    """The character band inside a plate box (frame pixels), or None when none is found (no plate-shaped
    component spanning most of the box with its centre inside it) or the box is a two-row plate's."""
    x, y, w, h = box
    if w < 8 or w / max(h, 1) < TWO_ROW_RATIO:
        return None
    pad_x, pad_y = round(w * REFINE_PAD), round(h * REFINE_PAD)
    x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
    x1, y1 = min(view.shape[1], x + w + pad_x), min(view.shape[0], y + h + pad_y)
    region = view[y0:y1, x0:x1]
    if region.ndim == 3:
        region = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    scale = REFINE_WIDTH / w
    size = (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale)))
    resized = cv2.resize(region, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    join = np.ones((1, GROUP_GAP), np.uint8)
    # dark characters on a light plate first; light ones on a dark plate (blue, black) when none is found
    for gray in (resized, 255 - resized):
        mask = cv2.morphologyEx(text_mask(gray), cv2.MORPH_CLOSE, join)
        best: tuple[float, Box] | None = None
        for (bx, by, bw, bh), fill in _plate_shaped(mask):
            cx, cy = x0 + (bx + bw / 2) / scale, y0 + (by + bh / 2) / scale
            if bw < MIN_BAND_SHARE * REFINE_WIDTH or not (x <= cx <= x + w and y <= cy <= y + h):
                continue
            if best is None or bw * fill > best[0]:
                band = (x0 + round(bx / scale), y0 + round(by / scale), round(bw / scale), round(bh / scale))
                best = (bw * fill, band)
        if best is not None:
            return best[1]
    return None
