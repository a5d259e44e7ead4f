"""Tests of NTCIP 1203 MULTI encoding and parsing."""

from __future__ import annotations

import pytest

from integrations.panels.const import Justify, Priority
from integrations.panels.driver_ntcip import message_to_multi
from integrations.panels.message import PanelMessage
from integrations.panels.multi import (
    MultiError,
    MultiLine,
    MultiMessage,
    MultiPage,
    encode,
    multi_from_pages,
    parse,
)


def test_encode_pages_lines_time_and_justification() -> None:
    message = multi_from_pages([["ACCESO PUERTO", "CERRADO"], ["DESVIO", "AV. ESPAÑA"]],
                               page_time=3.0, justify=Justify.CENTER)
    assert encode(message) == "[pt30o0][jl3]ACCESO PUERTO[nl]CERRADO[np]DESVIO[nl]AV. ESPAÑA"


def test_round_trip_keeps_text_timing_justification_and_graphics() -> None:
    pages = [["NIEBLA", "REDUZCA", "VELOCIDAD"], ["[40] KM/H", "]]"], ["FIN"]]
    original = multi_from_pages(pages, page_time=2.5, justify=Justify.LEFT, graphic=7)
    text = encode(original)
    assert "[[40]] KM/H" in text
    parsed = parse(text)
    assert parsed == original
    assert parsed.text_pages == pages
    assert [p.time_on for p in parsed.pages] == [25, 25, 25]
    assert [p.graphics for p in parsed.pages] == [[7], [7], [7]]
    assert encode(parsed) == text


def test_parse_hand_written_message_with_changing_values() -> None:
    text = "[pt20o5][jp2][jl2]LEFT[nl][jl4]RIGHT[np][pt40]PAGE 2[hc41][nl3][g2,1,1]X[fo2]Y[cf255,0,0]"
    parsed = parse(text)
    first, second = parsed.pages
    assert first.time_on == 20 and first.time_off == 5 and first.justify_page == 2
    assert [(line.text, line.justify) for line in first.lines] == [("LEFT", 2), ("RIGHT", 4)]
    # page time and justification carry over to the next page until changed
    assert second.time_on == 40 and second.time_off is None
    assert second.justify_page == 2
    assert [(line.text, line.justify) for line in second.lines] == [("PAGE 2A", 4), ("XY", 4)]
    assert second.graphics == [2]
    assert second.other_tags == ["fo2", "cf255,0,0"]


def test_round_trip_of_a_structure_with_different_page_times() -> None:
    message = MultiMessage([
        MultiPage(lines=[MultiLine("UNO", 3), MultiLine("DOS", 2)], time_on=30, time_off=0),
        MultiPage(lines=[MultiLine("TRES", 2)], time_on=50, time_off=10, graphics=[1]),
    ])
    assert encode(message) == "[pt30o0][jl3]UNO[nl][jl2]DOS[np][pt50o10][g1]TRES"
    assert parse(encode(message)) == message


def test_tags_are_case_insensitive() -> None:
    assert parse("[PT30O0][JL3]A[NL]B[NP]C").text_pages == [["A", "B"], ["C"]]


@pytest.mark.parametrize(("text", "error"), [
    ("ABC[nl", "position 3: tag not closed"),
    ("AB]C", "position 2: ']' without '['"),
    ("[zz]", "position 0: unknown tag [zz]"),
    ("[pt300]", "page times are 0-255"),
    ("[jl[x]", "'[' inside a tag"),
])
def test_malformed_multi_is_rejected_with_position(text: str, error: str) -> None:
    with pytest.raises(MultiError, match=error.replace("[", r"\[").replace("]", r"\]")):
        parse(text)


def test_panel_message_to_multi_uses_the_pictogram_number() -> None:
    message = PanelMessage(pages=(("OBRAS",), ("PRECAUCION",)), priority=Priority.traffic,
                           page_time=4.0, pictogram="roadworks", justify=Justify.RIGHT)
    assert message_to_multi(message, {"fog": 1, "roadworks": 2}) == "[pt40o0][g2][jl4]OBRAS[np][g2]PRECAUCION"
    assert message_to_multi(None) == ""
