"""Register codec: decode and encode values by data type and byte/word order; scale, offset, precision."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from .const import DataType, Swap

__all__ = ["apply_swap", "decode", "encode", "register_count", "scale_value"]

_STRUCT: dict[DataType, str] = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.FLOAT32: "f",
}
_WIDTH: dict[DataType, int] = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
}


def register_count(data_type: DataType, count: int | None = None) -> int:
    """How many registers a value of `data_type` takes (`count` is the string length in registers)."""
    if data_type is DataType.STRING:
        if not count:
            raise ValueError("a string needs `count` (its length in registers)")
        return count
    return _WIDTH[data_type]


def apply_swap(registers: Sequence[int], swap: Swap) -> list[int]:
    """Reorder raw registers into Modbus' big-endian order (the operation is its own inverse)."""
    regs = list(registers)
    if swap in (Swap.BYTE, Swap.WORD_BYTE):
        regs = [((r & 0xFF) << 8) | (r >> 8) for r in regs]
    if swap in (Swap.WORD, Swap.WORD_BYTE):
        regs.reverse()
    return regs


def decode(registers: Sequence[int], data_type: DataType, swap: Swap = Swap.NONE) -> int | float | str:
    """Decode registers (as read from the device) into a number or a string."""
    regs = apply_swap(registers, swap)
    raw = b"".join(r.to_bytes(2, "big") for r in regs)
    if data_type is DataType.STRING:
        return raw.split(b"\x00", 1)[0].decode("latin-1").strip()
    width = _WIDTH[data_type]
    if len(regs) != width:
        raise ValueError(f"{data_type} needs {width} registers, got {len(regs)}")
    value: int | float = struct.unpack(f">{_STRUCT[data_type]}", raw)[0]
    if data_type is DataType.FLOAT32 and math.isfinite(value):
        # A float32 carries about 7 significant digits; drop the noise of widening it to a double.
        value = float(f"{value:.7g}")
    return value


def encode(value: int | float | str, data_type: DataType, swap: Swap = Swap.NONE,
           count: int | None = None) -> list[int]:
    """Encode a value into registers in the device's order (inverse of `decode`)."""
    if data_type is DataType.STRING:
        size = register_count(data_type, count)
        raw = str(value).encode("latin-1")[: size * 2].ljust(size * 2, b"\x00")
    else:
        number = float(value) if data_type is DataType.FLOAT32 else int(value)
        try:
            raw = struct.pack(f">{_STRUCT[data_type]}", number)
        except struct.error as err:
            raise ValueError(f"{value!r} does not fit in {data_type}") from err
    regs = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return apply_swap(regs, swap)


def scale_value(raw: int | float, scale: float = 1, offset: float = 0,
                precision: int | None = None) -> int | float:
    """`raw * scale + offset`, rounded to `precision` decimals (an int when precision is 0).

    Without a precision, integers stay integers when scale and offset are whole numbers, and
    floats are rounded to 6 decimals so that 213 * 0.1 reads 21.3, not 21.300000000000001.
    """
    value = raw * scale + offset
    if precision is not None:
        return round(value) if precision == 0 else round(float(value), precision)
    if isinstance(value, int):
        return value
    if isinstance(raw, int) and float(scale).is_integer() and float(offset).is_integer():
        return int(value)
    return round(value, 6) if math.isfinite(value) else value
