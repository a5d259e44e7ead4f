"""PNG thumbnails and radiometric TIFF reading/writing."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from integrations.thermal_fire.imaging import ImageError, decode_tiff, encode_png, read_tiff, thumbnail, write_tiff


def test_png_is_a_valid_greyscale_image() -> None:
    gray = np.arange(48, dtype=np.uint8).reshape(6, 8)
    png = encode_png(gray)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert (width, height, depth, colour) == (8, 6, 8, 0)
    idat = png.index(b"IDAT")
    length = struct.unpack(">I", png[idat - 4 : idat])[0]
    raw = zlib.decompress(png[idat + 4 : idat + 4 + length])
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(6, 9)
    assert (rows[:, 0] == 0).all() and (rows[:, 1:] == gray).all()


def test_thumbnail_crops_around_the_hotspot() -> None:
    frame = np.full((128, 160), 290.0, dtype=np.float32)
    frame[60, 150] = 400.0
    thumb = thumbnail(frame, (150.0, 60.0), size=32)
    assert thumb["width"] == thumb["height"] == 32
    assert thumb["origin"] == [128, 44]  # clamped at the right edge
    assert thumb["t_min_k"] == 290.0 and thumb["t_max_k"] == 400.0
    assert base64.b64decode(thumb["data"])[:4] == b"\x89PNG"


@pytest.mark.parametrize("dtype", [np.float32, np.uint16])
def test_tiff_round_trip(tmp_path: Path, dtype: type) -> None:
    data: np.ndarray = (np.arange(12 * 10).reshape(12, 10) * 7 + 27000).astype(dtype)
    write_tiff(tmp_path / "f.tif", data)
    back = read_tiff(tmp_path / "f.tif")
    assert back.dtype == dtype and np.array_equal(back, data)


def test_not_a_tiff_is_refused() -> None:
    with pytest.raises(ImageError, match="not a TIFF"):
        decode_tiff(b"GIF89a......")
