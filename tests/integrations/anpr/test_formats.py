"""Plate formats and format-aware correction."""

from __future__ import annotations

import pytest

from integrations.anpr.formats import correct, match_format, normalize


def test_normalize_keeps_letters_and_digits_only() -> None:
    assert normalize("ce-1234 ab") == "CE1234AB"
    assert normalize(" 1234·bcd ") == "1234BCD"
    assert normalize("Ñ") == "N"


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("1234BCD", "es_current"),
        ("0000ZZZ", "es_current"),
        ("CE1234AB", "es_provincial"),
        ("ML1234B", "es_provincial"),
        ("M4545V", "es_provincial"),
        ("R1234BCD", "es_special_prefix"),
        ("CNP1234A", "es_state"),
        ("ZG1234AB", "hr"),
        ("1T43213", "cz"),
        ("WOBVWMK4", "eu_generic"),  # a German plate is read generically
    ],
)
def test_formats(text: str, fmt: str) -> None:
    found = match_format(text)
    assert found is not None and found.name == fmt


def test_current_series_has_no_vowels_q_or_n_tilde() -> None:
    for bad in ("1234BAD", "1234BQD", "1234EEE"):
        found = match_format(bad)
        assert found is None or found.name != "es_current"


@pytest.mark.parametrize(
    ("raw", "expected", "changes"),
    [
        ("12O4BCD", "1204BCD", 1),  # O in the digit block is a zero
        ("I234BCD", "1234BCD", 1),  # I in the digit block is a one
        ("1234BC0", "1234BCD", 1),  # 0 in the consonant block is a D
        ("B234BCD", "8234BCD", 1),  # B among the digits is an 8
        ("1234 8CD", "1234BCD", 1),  # 8 among the consonants is a B
        ("CE1234A8", "CE1234AB", 1),  # provincial letters
        ("1234BCD", "1234BCD", 0),
        ("PP587A0", "PP587AO", 1),  # Croatian letters: 0 is an O there
        ("LM298A1", "LM298AI", 1),
        ("S1819AK", "S1819AK", 0),  # Santander (S 1819 AK) before Sisak (SI 819 AK): we are in Spain
    ],
)
def test_correction(raw: str, expected: str, changes: int) -> None:
    match = correct(raw)
    assert match is not None
    assert (match.text, match.corrections) == (expected, changes)


def test_confident_characters_are_not_corrected() -> None:
    """An O read with 0.99 confidence stays an O: the plate is then not a Spanish current one."""
    sure = correct("12O4BCD", [0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99])
    assert sure is not None and sure.text == "12O4BCD" and sure.format == "eu_generic"
    unsure = correct("12O4BCD", [0.99, 0.99, 0.6, 0.99, 0.99, 0.99, 0.99])
    assert unsure is not None and unsure.text == "1204BCD" and unsure.format == "es_current"


def test_too_many_changes_are_not_a_correction() -> None:
    match = correct("OOOOBCD")  # four changes: rather a foreign plate than a Spanish one misread
    assert match is None or match.format != "es_current"


def test_nothing_to_correct() -> None:
    assert correct("") is None
    assert correct("--") is None


def test_czech_region_letter_read_as_a_digit() -> None:
    match = correct("4821875", [0.99, 0.9, 0.99, 0.99, 0.99, 0.99, 0.99])
    assert match is not None
    assert (match.text, match.format, match.corrections) == ("4B21875", "cz", 1)
    sure = correct("4821875", [0.99] * 7)  # read surely: a generic plate, not corrected
    assert sure is not None and (sure.text, sure.format) == ("4821875", "eu_generic")
