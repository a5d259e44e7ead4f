"""NTCIP 1203 MULTI (Mark-Up Language for Transportation Information): encode and parse sign messages.

Supported tags: `[nl]`/`[nlS]` new line, `[np]` new page, `[ptXoY]` page on/off time in tenths of a
second, `[jlN]` line justification (2 left, 3 centre, 4 right, 5 full), `[jpN]` page justification
(2 top, 3 middle, 4 bottom), `[gN]`/`[gN,X,Y]` graphic, `[hcN]` a character by hex code, and `[[`/`]]`
for literal brackets. Formatting tags that change no text (font, colours, flashing, spacing, text
rectangles, fields, manufacturer tags) are kept in `MultiPage.other_tags` when parsed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .const import Justify

__all__ = [
    "JL_TO_JUSTIFY",
    "JUSTIFY_TO_JL",
    "MultiError",
    "MultiLine",
    "MultiMessage",
    "MultiPage",
    "encode",
    "escape",
    "multi_from_pages",
    "parse",
]

# [jlN] values (NTCIP 1203 justificationLine): 1 other, 2 left, 3 centre, 4 right, 5 full.
JUSTIFY_TO_JL = {Justify.LEFT: 2, Justify.CENTER: 3, Justify.RIGHT: 4}
JL_TO_JUSTIFY = {v: k for k, v in JUSTIFY_TO_JL.items()}

_KNOWN_FORMAT_TAGS = ("/fl", "/sc", "/ms", "fl", "fo", "cf", "cb", "pb", "sc", "tr", "mv", "cr", "ms", "f")

_RE_PT = re.compile(r"pt(\d{0,3})(?:o(\d{0,3}))?", re.IGNORECASE)
_RE_NL = re.compile(r"nl(\d?)", re.IGNORECASE)
_RE_JL = re.compile(r"jl([1-5]?)", re.IGNORECASE)
_RE_JP = re.compile(r"jp([1-4]?)", re.IGNORECASE)
_RE_G = re.compile(r"g(\d{1,3})(?:,(\d{1,4}),(\d{1,4})(?:,([0-9a-f]{4}))?)?", re.IGNORECASE)
_RE_HC = re.compile(r"hc([0-9a-f]{1,6})", re.IGNORECASE)


class MultiError(ValueError):
    """A MULTI string is malformed; the message names the position and the tag."""


@dataclass(slots=True)
class MultiLine:
    """One line of text and its `[jl]` justification (None: the sign's default)."""

    text: str = ""
    justify: int | None = None


@dataclass(slots=True)
class MultiPage:
    """One page: lines, on/off time in tenths of a second, page justification and graphics."""

    lines: list[MultiLine] = field(default_factory=list)
    time_on: int | None = None
    time_off: int | None = None
    justify_page: int | None = None
    graphics: list[int] = field(default_factory=list)
    other_tags: list[str] = field(default_factory=list)

    @property
    def text_lines(self) -> list[str]:
        """The page's lines as plain strings."""
        return [line.text for line in self.lines]


@dataclass(slots=True)
class MultiMessage:
    """A parsed MULTI message: its pages."""

    pages: list[MultiPage] = field(default_factory=list)

    @property
    def text_pages(self) -> list[list[str]]:
        """Pages of plain lines."""
        return [page.text_lines for page in self.pages]


def escape(text: str) -> str:
    """Text for MULTI: brackets doubled so they are not read as tags."""
    return text.replace("[", "[[").replace("]", "]]")


def multi_from_pages(pages: Sequence[Sequence[str]], *, page_time: float | None = None,
                     justify: Justify | None = None, graphic: int | None = None) -> MultiMessage:
    """A MultiMessage from pages of lines, one page time (seconds), justification and graphic number."""
    tenths = None if page_time is None else max(0, min(255, round(page_time * 10)))
    jl = None if justify is None else JUSTIFY_TO_JL[justify]
    return MultiMessage([
        MultiPage(
            lines=[MultiLine(text, jl) for text in page],
            time_on=tenths,
            time_off=0 if tenths is not None else None,
            graphics=[graphic] if graphic is not None else [],
        )
        for page in pages
    ])


def encode(message: MultiMessage) -> str:
    """The MULTI string for a message. Tags are written only where a value changes, as the standard
    carries page time and justification over to later pages and lines."""
    out: list[str] = []
    time_state: tuple[int | None, int | None] = (None, None)
    jl_state: int | None = None
    jp_state: int | None = None
    for page_no, page in enumerate(message.pages):
        if page_no:
            out.append("[np]")
        page_time = (page.time_on, page.time_off)
        if page_time != (None, None) and page_time != time_state:
            on = "" if page.time_on is None else str(page.time_on)
            off = "" if page.time_off is None else f"o{page.time_off}"
            out.append(f"[pt{on}{off}]")
            time_state = page_time
        if page.justify_page is not None and page.justify_page != jp_state:
            out.append(f"[jp{page.justify_page}]")
            jp_state = page.justify_page
        for graphic in page.graphics:
            out.append(f"[g{graphic}]")
        for line_no, line in enumerate(page.lines):
            if line_no:
                out.append("[nl]")
            if line.justify is not None and line.justify != jl_state:
                out.append(f"[jl{line.justify}]")
                jl_state = line.justify
            out.append(escape(line.text))
    return "".join(out)


class _Parser:
    """A small state machine over the tags and text of one MULTI string."""

    def __init__(self) -> None:
        self.message = MultiMessage()
        self.time: tuple[int | None, int | None] = (None, None)
        self.jl: int | None = None
        self.jp: int | None = None
        self.page = self._new_page()
        self.line = self._new_line()

    def _new_page(self) -> MultiPage:
        page = MultiPage(time_on=self.time[0], time_off=self.time[1], justify_page=self.jp)
        self.message.pages.append(page)
        return page

    def _new_line(self) -> MultiLine:
        line = MultiLine(justify=self.jl)
        self.page.lines.append(line)
        return line

    def text(self, chunk: str) -> None:
        self.line.text += chunk

    def tag(self, body: str, pos: int) -> None:
        lower = body.lower()
        if lower == "np":
            self.page = self._new_page()
            self.line = self._new_line()
        elif _RE_NL.fullmatch(body):
            self.line = self._new_line()
        elif match := _RE_PT.fullmatch(body):
            on = int(match.group(1)) if match.group(1) else None
            off = int(match.group(2)) if match.group(2) else None
            if (on is not None and on > 255) or (off is not None and off > 255):
                raise MultiError(f"position {pos}: [{body}] page times are 0-255 tenths of a second")
            self.time = (on, off)
            self.page.time_on, self.page.time_off = on, off
        elif match := _RE_JL.fullmatch(body):
            self.jl = int(match.group(1)) if match.group(1) else None
            if not self.line.text:
                self.line.justify = self.jl
        elif match := _RE_JP.fullmatch(body):
            self.jp = int(match.group(1)) if match.group(1) else None
            self.page.justify_page = self.jp
        elif match := _RE_HC.fullmatch(body):
            self.text(chr(int(match.group(1), 16)))
        elif match := _RE_G.fullmatch(body):
            self.page.graphics.append(int(match.group(1)))
        elif lower.startswith(_KNOWN_FORMAT_TAGS):
            self.page.other_tags.append(body)
        else:
            raise MultiError(f"position {pos}: unknown tag [{body}]")


def parse(multi: str) -> MultiMessage:
    """Parse a MULTI string. Raises MultiError naming the position of a malformed or unknown tag."""
    parser = _Parser()
    i = 0
    n = len(multi)
    buf: list[str] = []
    while i < n:
        char = multi[i]
        if char == "[":
            if i + 1 < n and multi[i + 1] == "[":
                buf.append("[")
                i += 2
                continue
            end = multi.find("]", i + 1)
            if end < 0:
                raise MultiError(f"position {i}: tag not closed with ']'")
            body = multi[i + 1:end]
            if "[" in body:
                raise MultiError(f"position {i}: '[' inside a tag")
            if buf:
                parser.text("".join(buf))
                buf.clear()
            parser.tag(body, i)
            i = end + 1
        elif char == "]":
            if i + 1 < n and multi[i + 1] == "]":
                buf.append("]")
                i += 2
                continue
            raise MultiError(f"position {i}: ']' without '[' (write ']]' for a bracket)")
        else:
            buf.append(char)
            i += 1
    if buf:
        parser.text("".join(buf))
    return parser.message
