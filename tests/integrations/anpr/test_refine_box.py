"""The character band inside a loose plate box (refine_box), and the reader reading it for yolo boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from integrations.anpr.reader import PlateReader, _iou
from integrations.anpr.refine_box import morph_boxes, refine_box
from integrations.anpr.sim_camera import render_plate

from .plate_images import render_typed_plate


def _scene(plate: np.ndarray, body: int = 200) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A plate on a dark bumper on a car body, and the loose box a plate model gives it: the whole plate and
    some bumper around it (twice the plate's height, as yolo's boxes on photos)."""
    frame = np.full((360, 640, 3), body, np.uint8)
    cv2.rectangle(frame, (120, 200), (520, 320), (45, 45, 45), -1)
    h, w = plate.shape[:2]
    x, y = (640 - w) // 2, 260 - h // 2
    frame[y : y + h, x : x + w] = plate
    return frame, (x - w // 20, y - h // 2, w + w // 10, h * 2)


def test_the_band_of_a_one_row_plate_is_inside_the_box_and_tight_on_its_characters() -> None:
    plate = render_plate("4321FGH", width=260)
    frame, box = _scene(plate)
    band = refine_box(frame, box)
    assert band is not None
    x, y, w, h = band
    bx, by, bw, bh = box
    assert bx <= x and x + w <= bx + bw and by <= y and y + h <= by + bh
    assert h < bh * 0.6  # about the characters' height, not the box's
    assert w > bw * 0.6  # the whole row of characters


def test_light_characters_on_a_dark_plate_are_found() -> None:
    _plate, crop = render_typed_plate("D", height=55)  # blue taxi plate, white characters
    frame, box = _scene(crop, body=230)
    band = refine_box(frame, box)
    assert band is not None and band[3] < box[3] * 0.7


def test_no_band_in_an_empty_box_or_a_two_row_plate() -> None:
    frame = np.full((200, 400, 3), 180, np.uint8)
    assert refine_box(frame, (100, 50, 200, 60)) is None
    _plate, crop = render_typed_plate("B", height=120)  # motorcycle: two rows
    scene, box = _scene(crop)
    assert box[2] / box[3] < 1.7 and refine_box(scene, box) is None


def test_morph_boxes_find_the_plate_in_a_frame() -> None:
    plate = render_plate("4321FGH", width=120)  # characters about 15 px high, as on the simulator's frames
    frame, _box = _scene(plate)
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    truth = ((640 - 120) // 2, 260 - plate.shape[0] // 2, 120, plate.shape[0])
    assert any(_iou(box, truth) >= 0.3 and how == "morph" for box, _score, how in morph_boxes(gray))


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(detectors=("morph",))


def test_a_yolo_box_is_read_through_its_band(reader: PlateReader) -> None:
    frame, box = _scene(render_plate("4321FGH", width=200))
    read = reader._read_box(frame, box, "yolo")
    assert read is not None
    match, _recognition, crop = read
    assert match.text == "4321FGH"
    assert crop.shape[0] < box[3]  # the band's crop, not the loose box's
    # another detector's box is read as it is
    other = reader._read_box(frame, box, "haar")
    assert other is None or other[2].shape[0] > box[3]
