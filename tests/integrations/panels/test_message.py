"""Tests of the message model: fit checks against a panel's capabilities and the priority queue."""

from __future__ import annotations

import pytest

from hub.exceptions import ServiceValidationError
from integrations.panels.const import DEFAULT_CHARSET, Priority
from integrations.panels.message import (
    MessageQueue,
    PanelCapabilities,
    PanelMessage,
    fit_problems,
    normalise_pages,
)

CAPS = PanelCapabilities(
    panel_id="P-PORT-1", rows=3, chars_per_row=18, max_pages=2,
    charset=frozenset(DEFAULT_CHARSET), pictograms={"roadworks": 1},
)


def test_a_message_that_fits_passes() -> None:
    CAPS.validate((("ACCESO PUERTO", "CERRADO"), ("DESVIO POR", "AV. ESPAÑA")), "roadworks")


def test_line_too_wide_names_page_line_and_width() -> None:
    with pytest.raises(ServiceValidationError) as err:
        CAPS.validate((("OK", "ESTA LINEA ES DEMASIADO"),))
    assert str(err.value) == "page 1 line 2: 23 characters, panel P-PORT-1 shows 18 per row"


def test_too_many_rows_and_pages() -> None:
    problems = fit_problems(CAPS, (("A",), ("B",), ("C", "D", "E", "F")))
    assert problems == [
        "3 pages, panel P-PORT-1 shows at most 2",
        "page 3: 4 lines, panel P-PORT-1 has 3 rows",
    ]


def test_unsupported_characters_are_named_once_per_line() -> None:
    problems = fit_problems(CAPS, (("MAÑANA", "Mañana"), ("HOLA", "[X] Ñ ñ")))
    assert problems == [
        "page 1 line 2: characters 'a', 'ñ', 'n' not supported by panel P-PORT-1",
        "page 2 line 2: characters '[', ']', 'ñ' not supported by panel P-PORT-1",
    ]
    assert fit_problems(CAPS, (("AÑO ñ",),)) == [
        "page 1 line 1: character 'ñ' not supported by panel P-PORT-1"
    ]


def test_spanish_capitals_and_punctuation_are_in_the_default_charset() -> None:
    assert fit_problems(CAPS, (("¡ATENCIÓN! PEATÓN", "¿NIEBLA? 50% -10"),)) == []


def test_unknown_pictogram_and_empty_page() -> None:
    problems = fit_problems(CAPS, (("A",), ()), "fog")
    assert problems == [
        "page 2: no lines",
        "pictogram 'fog' not supported by panel P-PORT-1 (supports: roadworks)",
    ]


def test_normalise_pages_splits_text_and_strips() -> None:
    assert normalise_pages(["  UNO \nDOS", ["TRES ", 4, None]]) == (("UNO", "DOS"), ("TRES", "4", ""))


def _msg(priority: Priority, expires_at: float | None = None) -> PanelMessage:
    return PanelMessage(pages=((priority.name.upper(),),), priority=priority, expires_at=expires_at)


def test_queue_highest_priority_wins_and_lower_returns() -> None:
    queue = MessageQueue()
    info = _msg(Priority.information)
    queue.put(info)
    assert queue.active is info
    emergency = _msg(Priority.emergency, expires_at=100.0)
    queue.put(emergency)
    traffic = _msg(Priority.traffic)
    queue.put(traffic)
    assert queue.active is emergency
    assert [m.priority for m in queue] == [Priority.emergency, Priority.traffic, Priority.information]
    assert queue.next_expiry() == 100.0
    assert queue.expire(99.9) == []
    assert queue.expire(100.0) == [emergency]
    assert queue.active is traffic
    assert queue.remove([Priority.traffic]) == [traffic]
    assert queue.active is info


def test_queue_same_priority_replaces_and_remove_by_id() -> None:
    queue = MessageQueue()
    first = _msg(Priority.security)
    second = _msg(Priority.security)
    assert queue.put(first) is None
    assert queue.put(second) is first
    assert len(queue) == 1
    assert queue.remove(message_id=first.id) == []
    assert queue.remove(message_id=second.id) == [second]
    assert queue.active is None


def test_priority_parse() -> None:
    assert Priority.parse("Emergency") is Priority.emergency
    assert Priority.emergency > Priority.security > Priority.traffic > Priority.information
    with pytest.raises(ValueError, match="expected one of emergency, security, traffic, information"):
        Priority.parse("urgent")
