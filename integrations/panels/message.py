"""Panel messages: capabilities and fit checks, the message model, and the per-panel priority queue."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.exceptions import ServiceValidationError

from .const import DEFAULT_PAGE_TIME, Justify, Priority

__all__ = [
    "MessageQueue",
    "Pages",
    "PanelCapabilities",
    "PanelMessage",
    "fit_problems",
    "iso_time",
    "new_message_id",
    "normalise_pages",
]

Pages = tuple[tuple[str, ...], ...]


def new_message_id() -> str:
    """A short sortable id for a message: milliseconds then random bits, in hex."""
    return f"{int(time.time() * 1000):011x}{random.getrandbits(32):08x}"


def iso_time(ts: float | None) -> str | None:
    """An epoch timestamp as an ISO 8601 UTC string (None stays None)."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def normalise_pages(pages: Iterable[Any]) -> Pages:
    """Pages as tuples of stripped lines; a page given as one string is split on newlines."""
    result: list[tuple[str, ...]] = []
    for page in pages:
        if isinstance(page, str):
            lines: Iterable[Any] = page.split("\n")
        elif isinstance(page, Iterable):
            lines = page
        else:
            lines = [page]
        result.append(tuple("" if line is None else str(line).strip() for line in lines))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class PanelCapabilities:
    """What one sign can show: its text grid, pages, pictograms, colour, brightness and character set."""

    panel_id: str
    rows: int
    chars_per_row: int
    max_pages: int
    charset: frozenset[str]
    pictograms: Mapping[str, int] = field(default_factory=dict)
    colour: str = "amber"
    brightness_min: int = 0
    brightness_max: int = 100

    def as_dict(self) -> dict[str, Any]:
        """JSON-able description (state attributes, MQTT, API)."""
        return {
            "rows": self.rows,
            "chars_per_row": self.chars_per_row,
            "max_pages": self.max_pages,
            "pictograms": sorted(self.pictograms),
            "colour": self.colour,
            "brightness_min": self.brightness_min,
            "brightness_max": self.brightness_max,
            "charset": "".join(sorted(self.charset)),
        }

    def validate(self, pages: Pages, pictogram: str | None = None) -> None:
        """Raise ServiceValidationError naming every page/line that does not fit and why."""
        problems = fit_problems(self, pages, pictogram)
        if problems:
            raise ServiceValidationError("; ".join(problems))


def fit_problems(caps: PanelCapabilities, pages: Pages, pictogram: str | None = None) -> list[str]:
    """Every reason `pages` (and `pictogram`) cannot be shown on the panel, each naming page and line."""
    pid = caps.panel_id
    problems: list[str] = []
    if not pages:
        problems.append(f"message has no pages (panel {pid})")
    elif len(pages) > caps.max_pages:
        problems.append(f"{len(pages)} pages, panel {pid} shows at most {caps.max_pages}")
    for page_no, page in enumerate(pages, 1):
        if not page:
            problems.append(f"page {page_no}: no lines")
        if len(page) > caps.rows:
            problems.append(f"page {page_no}: {len(page)} lines, panel {pid} has {caps.rows} rows")
        for line_no, line in enumerate(page, 1):
            where = f"page {page_no} line {line_no}"
            if len(line) > caps.chars_per_row:
                problems.append(
                    f"{where}: {len(line)} characters, panel {pid} shows {caps.chars_per_row} per row"
                )
            bad = [char for char in dict.fromkeys(line) if char not in caps.charset]
            if bad:
                chars = ", ".join(repr(char) for char in bad)
                noun = "character" if len(bad) == 1 else "characters"
                problems.append(f"{where}: {noun} {chars} not supported by panel {pid}")
    if pictogram is not None and pictogram not in caps.pictograms:
        supported = ", ".join(sorted(caps.pictograms)) or "none"
        problems.append(f"pictogram {pictogram!r} not supported by panel {pid} (supports: {supported})")
    return problems


@dataclass(frozen=True, slots=True)
class PanelMessage:
    """One message for one panel: rendered pages, timing, priority, expiry, and who set it."""

    pages: Pages
    priority: Priority
    page_time: float = DEFAULT_PAGE_TIME
    pictogram: str | None = None
    justify: Justify = Justify.CENTER
    expires_at: float | None = None
    set_at: float = 0.0
    user_id: str | None = None
    centre: str | None = None
    context_id: str | None = None
    id: str = field(default_factory=new_message_id)

    @property
    def lines(self) -> list[str]:
        """All lines of all pages, in order."""
        return [line for page in self.pages for line in page]

    def expired(self, now: float) -> bool:
        """Whether the message's expiry has passed."""
        return self.expires_at is not None and self.expires_at <= now

    def as_dict(self) -> dict[str, Any]:
        """JSON-able description (attributes, MQTT payloads)."""
        return {
            "id": self.id,
            "priority": self.priority.name,
            "pages": [list(page) for page in self.pages],
            "page_time": self.page_time,
            "pictogram": self.pictogram,
            "justify": self.justify.value,
            "expires": iso_time(self.expires_at),
            "set_at": iso_time(self.set_at),
            "user_id": self.user_id,
            "centre": self.centre,
        }


class MessageQueue:
    """The messages waiting on one panel: one slot per priority, the highest unexpired one is shown.

    A new message replaces the one of the same priority; a higher one pre-empts lower ones, which
    come back when it expires or is cleared (unless they expired meanwhile).
    """

    __slots__ = ("_slots",)

    def __init__(self) -> None:
        self._slots: dict[Priority, PanelMessage] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def __iter__(self) -> Iterator[PanelMessage]:
        """Messages from the highest priority down."""
        return iter([self._slots[p] for p in sorted(self._slots, reverse=True)])

    @property
    def active(self) -> PanelMessage | None:
        """The message the panel should show now (highest priority), or None for blank."""
        if not self._slots:
            return None
        return self._slots[max(self._slots)]

    def get(self, priority: Priority) -> PanelMessage | None:
        """The message waiting at `priority`."""
        return self._slots.get(priority)

    def put(self, message: PanelMessage) -> PanelMessage | None:
        """Add a message; returns the one of the same priority it replaced."""
        old = self._slots.get(message.priority)
        self._slots[message.priority] = message
        return old

    def replace(self, message: PanelMessage) -> bool:
        """Swap in a new version of a queued message (same id); False when it is no longer queued."""
        current = self._slots.get(message.priority)
        if current is None or current.id != message.id:
            return False
        self._slots[message.priority] = message
        return True

    def remove(self, priorities: Sequence[Priority] | None = None,
               message_id: str | None = None) -> list[PanelMessage]:
        """Remove messages of the given priorities (all when None), or only the one with `message_id`."""
        removed = []
        for priority in list(self._slots):
            message = self._slots[priority]
            if priorities is not None and priority not in priorities:
                continue
            if message_id is not None and message.id != message_id:
                continue
            removed.append(self._slots.pop(priority))
        return removed

    def expire(self, now: float) -> list[PanelMessage]:
        """Drop the messages whose expiry has passed; returns them."""
        gone = [m for m in self._slots.values() if m.expired(now)]
        for message in gone:
            del self._slots[message.priority]
        return gone

    def next_expiry(self) -> float | None:
        """The earliest expiry among queued messages."""
        times = [m.expires_at for m in self._slots.values() if m.expires_at is not None]
        return min(times) if times else None
