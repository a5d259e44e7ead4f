"""Plate formats (Spanish current, provincial, special series, generic EU) and format-aware correction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product

__all__ = [
    "CONSONANTS",
    "FORMATS",
    "PROVINCES",
    "TO_CONSONANT",
    "TO_DIGIT",
    "FormatMatch",
    "PlateFormat",
    "correct",
    "match_format",
    "normalize",
]

# Current series (since 2000): four digits and three consonants; no vowels, no Ñ, no Q.
CONSONANTS = "BCDFGHJKLMNPRSTVWXYZ"
# Provincial codes of the 1971-2000 series (and their older variants still on the road).
PROVINCES = (
    "A AB AL AV B BA BI BU C CA CC CE CO CR CS CU GC GE GI GR GU H HU IB J L LE LO LU M MA ML MU NA "
    "O OR OU P PM PO S SA SE SG SO SS T TE TF TO V VA VI Z ZA"
).split()
_PROV = "|".join(sorted(PROVINCES, key=len, reverse=True))

# What a misread character was most likely meant to be, by the kind of slot it sits in.
TO_DIGIT = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "T": "7",
    "Z": "2",
    "S": "5",
    "B": "8",
    "G": "6",
    "A": "4",
}
_TO_LETTER = {"0": "D", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "7": "T"}
_TO_VOWEL_LETTER = {**_TO_LETTER, "0": "O", "1": "I"}
# Letters never used in the current series, mapped to the consonant they are mistaken for.
TO_CONSONANT = {
    "O": "D",
    "Q": "D",
    "0": "D",
    "I": "L",
    "1": "L",
    "2": "Z",
    "5": "S",
    "8": "B",
    "6": "G",
    "7": "T",
    "A": "R",
    "E": "F",
    "U": "V",
}


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """One plate format: a regular expression and, for correction, a slot template (D digit, L letter,
    A letter where 0 is an O, C consonant of the current series, * anything)."""

    name: str
    country: str
    pattern: re.Pattern[str]
    templates: tuple[str, ...] = ()
    prior: float = 1.0  # how much to prefer this format when a read fits several

    def matches(self, text: str) -> bool:
        """Whether a normalised plate text has this format."""
        return self.pattern.fullmatch(text) is not None


def _fmt(name: str, country: str, regex: str, templates: tuple[str, ...] = (), prior: float = 1.0) -> PlateFormat:
    return PlateFormat(name, country, re.compile(regex), templates, prior)


FORMATS: tuple[PlateFormat, ...] = (
    _fmt("es_current", "ES", rf"\d{{4}}[{CONSONANTS}]{{3}}", ("DDDDCCC",), 1.0),
    # Trailers (R), mopeds (C), historic (H), temporary (P, S, V), special vehicles (E): a letter before.
    _fmt("es_special_prefix", "ES", rf"[RCHPSVE]\d{{4}}[{CONSONANTS}]{{3}}", ("LDDDDCCC",), 0.6),
    _fmt("es_provincial", "ES", rf"(?:{_PROV})\d{{4}}[A-Z]{{1,2}}", ("LDDDDL", "LDDDDLL", "LLDDDDL", "LLDDDDLL"), 0.8),
    _fmt("es_provincial_numeric", "ES", rf"(?:{_PROV})\d{{6}}", ("LDDDDDD", "LLDDDDDD"), 0.5),
    # Police, Guardia Civil, armed forces, state fleet, diplomatic and consular series.
    _fmt("es_state", "ES", r"(?:CNP|PGC|DGP|MMA|PME|FN|EA|ET|MF)\d{4,5}[A-Z]{0,2}", (), 0.5),
    _fmt("es_diplomatic", "ES", r"(?:CD|CC|OI|TA)\d{4,6}", (), 0.5),
    # Neighbours whose layout is known: the letter and digit blocks correct O/0 and I/1 as in Spain.
    _fmt("hr", "HR", r"[A-Z]{2}\d{3,4}[A-Z]{1,2}", ("AADDDAA", "AADDDDA", "AADDDDAA", "AADDDA"), 0.6),
    # Czech/Slovak: the region letter (B, the most common, read as 8) is a letter whatever the read says.
    _fmt("cz", "CZ", r"\d[A-Z][A-Z0-9]\d{4}", ("DL*DDDD",), 0.5),
    # Any European plate: 4 to 10 letters and digits with at least one digit.
    _fmt("eu_generic", "EU", r"(?=.*\d)[A-Z0-9]{4,10}", (), 0.3),
)
_BY_NAME = {f.name: f for f in FORMATS}

_CLEAN_RE = re.compile(r"[^A-Z0-9]")


def normalize(text: str) -> str:
    """Upper case letters and digits only (`ce-1234 ab` -> `CE1234AB`); Ñ is read as N."""
    return _CLEAN_RE.sub("", text.upper().replace("Ñ", "N"))


@dataclass(frozen=True, slots=True)
class FormatMatch:
    """A plate text after correction: the format it fits and what was changed."""

    text: str
    raw: str
    format: str
    country: str
    corrections: int
    score: float

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "format": self.format, "country": self.country, "corrections": self.corrections}


def match_format(text: str) -> PlateFormat | None:
    """The first (most specific) format a normalised text fits, or None."""
    for fmt in FORMATS:
        if fmt.matches(text):
            return fmt
    return None


def _fit_template(text: str, template: str) -> tuple[str, int] | None:
    """Force `text` into the slot template; None when a character cannot be mapped."""
    if len(text) != len(template):
        return None
    out = []
    changes = 0
    for char, slot in zip(text, template, strict=True):
        if slot == "D":
            new = char if char.isdigit() else TO_DIGIT.get(char)
        elif slot == "C":
            new = char if char in CONSONANTS else TO_CONSONANT.get(char)
        elif slot == "L":
            new = char if char.isalpha() else _TO_LETTER.get(char)
        elif slot == "A":  # a letter of an alphabet with vowels: 0 is an O, 1 an I
            new = char if char.isalpha() else _TO_VOWEL_LETTER.get(char)
        else:
            new = char
        if new is None:
            return None
        changes += new != char
        out.append(new)
    return "".join(out), changes


def correct(
    raw: str, confidences: tuple[float, ...] | list[float] | None = None, max_corrections: int = 2
) -> FormatMatch | None:
    """The most likely plate for a raw read: the read itself when it fits a format, else the fit with the
    fewest (and least confident) changes into a format's slot template; None when nothing fits.

    `O` in the digit block becomes `0`, `1` in the consonant block `L`... only at low-confidence
    positions when confidences are given: a character read with confidence above 0.97 is kept.
    """
    text = normalize(raw)
    if not text:
        return None
    confs = list(confidences) if confidences is not None and len(confidences) == len(text) else None
    best: FormatMatch | None = None
    for fmt in FORMATS:
        if fmt.matches(text):
            candidate = FormatMatch(text, text, fmt.name, fmt.country, 0, fmt.prior)
            if best is None or candidate.score > best.score:
                best = candidate
            continue
        for template in fmt.templates:
            fitted = _fit_template(text, template)
            if fitted is None:
                continue
            new, changes = fitted
            if changes > max_corrections or not fmt.matches(new):
                continue
            if confs is not None and any(c != n and conf > 0.97 for c, n, conf in zip(text, new, confs, strict=True)):
                continue
            score = fmt.prior - 0.15 * changes
            if best is None or score > best.score:
                best = FormatMatch(new, text, fmt.name, fmt.country, changes, score)
    return best


def count_confusions(text: str, table: dict[str, str] | None = None) -> int:
    """How many variants `expand_confusions` would give (without building them)."""
    table = table or {**TO_DIGIT, **_TO_LETTER}
    return 2 ** sum(char in table for char in text)


def expand_confusions(text: str, table: dict[str, str] | None = None) -> list[str]:
    """Every variant of `text` with confusable characters swapped (small inputs only)."""
    table = table or {**TO_DIGIT, **_TO_LETTER}
    options = [(c, table[c]) if c in table else (c,) for c in text]
    return ["".join(p) for p in product(*options)]
