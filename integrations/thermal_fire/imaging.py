"""Small image codecs without extra dependencies: PNG thumbnails and baseline radiometric TIFF.

TIFF support covers what radiometric cameras and tools export uncompressed: one grey channel,
8/16/32-bit unsigned integers or 32/64-bit floats, strips, either byte order. Compressed TIFFs are
read through `tifffile` when it is installed.
"""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["ImageError", "decode_tiff", "encode_png", "read_tiff", "thumbnail", "write_tiff"]


class ImageError(ValueError):
    """A file is not an image this module can read (the message says why)."""


def encode_png(gray: npt.NDArray[np.uint8]) -> bytes:
    """An 8-bit greyscale PNG of a 2-D uint8 array."""
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ImageError(f"expected a 2-D uint8 array, got {gray.ndim}-D {gray.dtype}")
    height, width = gray.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 (None) per row
    raw[:, 1:] = gray

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def thumbnail(frame: npt.NDArray[Any], centre: tuple[float, float], size: int = 48) -> dict[str, Any]:
    """A `size` x `size` crop around (u, v) as a base64 PNG with its kelvin scale (min, max)."""
    height, width = frame.shape
    half = size // 2
    u, v = round(centre[0]), round(centre[1])
    c0, r0 = min(max(0, u - half), max(0, width - size)), min(max(0, v - half), max(0, height - size))
    crop = np.asarray(frame[r0 : r0 + size, c0 : c0 + size], dtype=np.float64)
    lo, hi = float(crop.min()), float(crop.max())
    scaled = (
        np.zeros(crop.shape, dtype=np.uint8)
        if hi <= lo
        else (np.clip((crop - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8))
    )
    return {
        "format": "png",
        "encoding": "base64",
        "width": int(crop.shape[1]),
        "height": int(crop.shape[0]),
        "origin": [c0, r0],
        "t_min_k": round(lo, 2),
        "t_max_k": round(hi, 2),
        "data": base64.b64encode(encode_png(scaled)).decode("ascii"),
    }


# --------------------------------------------------------------------------- TIFF

_TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}
_DTYPES = {(1, 8): "u1", (1, 16): "u2", (1, 32): "u4", (3, 32): "f4", (3, 64): "f8", (2, 16): "i2", (2, 32): "i4"}


def read_tiff(path: str | Path) -> npt.NDArray[Any]:
    """The first image of a TIFF file as a 2-D array. Blocking."""
    data = Path(path).read_bytes()
    try:
        return _decode_tiff(data)
    except ImageError as err:
        try:
            import tifffile
        except ImportError:
            raise ImageError(f"{path}: {err}") from err
        return np.asarray(tifffile.imread(str(path)))
    except (struct.error, IndexError, KeyError) as err:
        raise ImageError(f"{path}: malformed TIFF: {err}") from err


def decode_tiff(data: bytes) -> npt.NDArray[Any]:
    """The first image of TIFF bytes (baseline, uncompressed) as a 2-D array."""
    try:
        return _decode_tiff(data)
    except (struct.error, IndexError, KeyError) as err:
        raise ImageError(f"malformed TIFF: {err}") from err


def _decode_tiff(data: bytes) -> npt.NDArray[Any]:
    endian: Literal["<", ">"]
    if data[:2] == b"II":
        endian = "<"
    elif data[:2] == b"MM":
        endian = ">"
    else:
        raise ImageError("not a TIFF file (no II/MM byte-order mark)")
    if struct.unpack(endian + "H", data[2:4])[0] != 42:
        raise ImageError("not a classic TIFF (BigTIFF needs tifffile)")
    offset = struct.unpack(endian + "I", data[4:8])[0]
    count = struct.unpack(endian + "H", data[offset : offset + 2])[0]
    tags: dict[int, list[int]] = {}
    for i in range(count):
        entry = data[offset + 2 + 12 * i : offset + 14 + 12 * i]
        tag, kind, n = struct.unpack(endian + "HHI", entry[:8])
        if kind not in _TYPES:
            continue
        code, size = _TYPES[kind]
        raw = entry[8:12] if size * n <= 4 else data[(p := struct.unpack(endian + "I", entry[8:12])[0]) : p + size * n]
        tags[tag] = list(struct.unpack(endian + code * n, raw[: size * n]))
    width, height = tags[256][0], tags[257][0]
    bits = tags.get(258, [1])[0]
    compression = tags.get(259, [1])[0]
    samples = tags.get(277, [1])[0]
    fmt = tags.get(339, [1])[0]
    if compression != 1:
        raise ImageError(f"compression {compression} is not supported without tifffile")
    if samples != 1:
        raise ImageError(f"{samples} samples per pixel; a radiometric frame has one")
    if (fmt, bits) not in _DTYPES:
        raise ImageError(f"sample format {fmt} with {bits} bits is not supported")
    dtype = np.dtype(_DTYPES[(fmt, bits)]).newbyteorder(endian)
    offsets, counts = tags[273], tags[279]
    buffer = b"".join(data[o : o + c] for o, c in zip(offsets, counts, strict=True))
    array = np.frombuffer(buffer, dtype=dtype, count=width * height)
    return array.reshape(height, width).astype(dtype.newbyteorder("="))


def write_tiff(path: str | Path, array: npt.NDArray[Any]) -> None:
    """Write a 2-D uint16/float32 array as an uncompressed little-endian TIFF (one strip). Blocking."""
    arr = np.ascontiguousarray(array)
    if arr.dtype == np.uint16:
        bits, fmt = 16, 1
    elif arr.dtype == np.float32:
        bits, fmt = 32, 3
    else:
        raise ImageError(f"write_tiff supports uint16 and float32, got {arr.dtype}")
    height, width = arr.shape
    pixels = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, bits),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 0),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, len(pixels)),
        (339, 3, 1, fmt),
    ]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    out = bytearray(b"II" + struct.pack("<HI", 42, ifd_offset) + struct.pack("<H", len(entries)))
    for tag, kind, n, value in entries:
        if tag == 273:
            value = data_offset
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, n) + packed
    out += struct.pack("<I", 0) + pixels
    Path(path).write_bytes(bytes(out))
