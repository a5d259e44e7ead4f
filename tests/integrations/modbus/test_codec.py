"""Register codec: every data type in every byte/word order, and scale/offset/precision."""

from __future__ import annotations

import pytest

from integrations.modbus.codec import apply_swap, decode, encode, register_count, scale_value
from integrations.modbus.const import DataType, Swap

# (data type, value, registers as a big-endian device sends them)
BIG_ENDIAN = [
    (DataType.INT16, -2, [0xFFFE]),
    (DataType.UINT16, 65534, [0xFFFE]),
    (DataType.INT32, -123456, [0xFFFE, 0x1DC0]),
    (DataType.UINT32, 305419896, [0x1234, 0x5678]),
    (DataType.FLOAT32, 21.5, [0x41AC, 0x0000]),
    (DataType.STRING, "B-07", [0x422D, 0x3037]),
]


@pytest.mark.parametrize(("data_type", "value", "registers"), BIG_ENDIAN)
def test_decode_big_endian(data_type: DataType, value: object, registers: list[int]) -> None:
    assert decode(registers, data_type) == value


def test_swaps_reorder_bytes_and_words() -> None:
    regs = [0x1234, 0x5678]
    assert apply_swap(regs, Swap.NONE) == [0x1234, 0x5678]
    assert apply_swap(regs, Swap.BYTE) == [0x3412, 0x7856]
    assert apply_swap(regs, Swap.WORD) == [0x5678, 0x1234]
    assert apply_swap(regs, Swap.WORD_BYTE) == [0x7856, 0x3412]


@pytest.mark.parametrize(
    ("swap", "registers"),
    [
        (Swap.NONE, [0x1234, 0x5678]),
        (Swap.BYTE, [0x3412, 0x7856]),
        (Swap.WORD, [0x5678, 0x1234]),
        (Swap.WORD_BYTE, [0x7856, 0x3412]),
    ],
)
def test_decode_uint32_in_each_order(swap: Swap, registers: list[int]) -> None:
    assert decode(registers, DataType.UINT32, swap) == 0x12345678


@pytest.mark.parametrize("swap", list(Swap))
@pytest.mark.parametrize(
    ("data_type", "value"),
    [(DataType.INT32, -7), (DataType.UINT32, 4_000_000_000), (DataType.FLOAT32, -3.25)],
)
def test_encode_decode_round_trip(data_type: DataType, value: float, swap: Swap) -> None:
    registers = encode(value, data_type, swap)
    assert len(registers) == 2
    assert decode(registers, data_type, swap) == value


def test_float32_reads_as_its_seven_digits() -> None:
    assert decode(encode(21.3, DataType.FLOAT32), DataType.FLOAT32) == 21.3


def test_string_padding_and_byte_swap() -> None:
    registers = encode("PORT", DataType.STRING, Swap.BYTE, count=4)
    assert registers == [0x4F50, 0x5452, 0, 0]
    assert decode(registers, DataType.STRING, Swap.BYTE) == "PORT"


def test_wrong_register_count_and_overflow_are_errors() -> None:
    with pytest.raises(ValueError, match="2 registers"):
        decode([1], DataType.INT32)
    with pytest.raises(ValueError, match="does not fit"):
        encode(70000, DataType.INT16)
    with pytest.raises(ValueError, match="count"):
        register_count(DataType.STRING)


def test_scale_offset_precision() -> None:
    assert scale_value(213, 0.1) == 21.3
    assert scale_value(213, 0.1, precision=0) == 21
    assert isinstance(scale_value(213, 0.1, precision=0), int)
    assert scale_value(1000, 1, -40) == 960
    assert isinstance(scale_value(1000, 1.0, -40.0), int)
    assert scale_value(12.345, 2, 1, precision=2) == 25.69
    assert scale_value(-5, 0.5) == -2.5
