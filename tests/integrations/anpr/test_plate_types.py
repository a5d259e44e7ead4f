"""Plate types A-E (one-row and two-row) read through the same refinement, on crops the tests render."""

from __future__ import annotations

import pytest

from integrations.anpr.reader import PlateReader, Recognition, join_rows, split_rows

from .plate_images import PLATE_TYPES, render_typed_plate


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader(detectors=("morph",))


@pytest.mark.parametrize("kind", sorted(PLATE_TYPES))
@pytest.mark.parametrize("height", [120, 60])
def test_each_plate_type_reads_in_order(reader: PlateReader, kind: str, height: int) -> None:
    plate, crop = render_typed_plate(kind, height)
    two_rows = len(PLATE_TYPES[kind][3]) == 2
    assert (split_rows(crop) is not None) == two_rows
    match = reader._accept(reader.read_crop(crop))
    assert match is not None
    assert match.text == plate
    assert match.format == ("es_special_prefix" if plate[0].isalpha() else "es_current")


def _rec(text: str, confs: list[float], positions: list[float]) -> Recognition:
    return Recognition(text, tuple(confs), tuple(positions))


def test_two_row_read_is_corrected_by_row_like_a_one_row_plate() -> None:
    # top row: the band's faint E, then digits with an O; bottom row: consonants with an 8
    top = _rec("E69O1", [0.5, 0.99, 0.99, 0.6, 0.99], [0.03, 0.25, 0.45, 0.65, 0.85])
    bottom = _rec("8DF", [0.7, 0.99, 0.99], [0.2, 0.5, 0.8])
    joined = join_rows(top, bottom)
    assert joined.text == "6901BDF"
    assert len(joined.confidences) == len(joined.positions) == 7
    assert list(joined.positions) == sorted(joined.positions)  # top row first, then the bottom row


def test_two_row_read_keeps_sure_characters_and_prefixes() -> None:
    # a moped's C before the digits is kept (five characters on the top row: no digit-block correction)
    top = _rec("C5482", [0.99] * 5, [0.1, 0.3, 0.5, 0.7, 0.9])
    bottom = _rec("BSK", [0.99] * 3, [0.2, 0.5, 0.8])
    assert join_rows(top, bottom).text == "C5482BSK"
    # a sure O in the digit row is not changed
    sure = join_rows(_rec("69O1", [0.99] * 4, [0.2, 0.4, 0.6, 0.8]), bottom)
    assert sure.text == "69O1BSK"
