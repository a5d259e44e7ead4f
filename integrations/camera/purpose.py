"""Why recorded video is played back: the purpose a playback request must state, and its audit.

Every playback of recorded video states its purpose (10 to 500 characters, as a plate search does,
integrations/anpr/search.py); a segment request without one is refused (400 naming `purpose`). The audit
log gets one `camera.playback` row per playback range, not one per segment: a recordings listing asked
with a purpose audits the range it lists (the playback page asks for the day it shows), and a segment is
audited only when it falls outside every range the same user opened on that camera with the same purpose
in the last half hour; such a segment opens a range of its own that the segments after it extend.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from hub.audit import audit_record
from hub.core import Context, Hub, HubKey
from hub.http import ApiError

from .const import DOMAIN

__all__ = ["MAX_PURPOSE", "MIN_PURPOSE", "PlaybackRanges", "audit_playback", "playback_purpose"]

MIN_PURPOSE: Final = 10
MAX_PURPOSE: Final = 500
IDLE_S: Final = 1800.0  # a range not played for this long is closed: the next segment opens (audits) a new one
SLACK_S: Final = 120.0  # a segment starting this close after a range's end continues it
MAX_RANGES: Final = 4096
DATA_RANGES: HubKey[PlaybackRanges] = HubKey(f"{DOMAIN}_playback_ranges")


def playback_purpose(request: web.Request, *, required: bool = True) -> str | None:
    """The stated purpose of a playback (`?purpose=`, stripped); 400 when required and absent, or its length
    is outside 10 to 500 characters."""
    text = request.query.get("purpose", "").strip()
    if not text and not required:
        return None
    if not MIN_PURPOSE <= len(text) <= MAX_PURPOSE:
        raise ApiError(400, "invalid_format",
                       f"query parameter 'purpose' is required: state why you play back this recording "
                       f"({MIN_PURPOSE} to {MAX_PURPOSE} characters)")
    return text


@dataclass(slots=True)
class _Range:
    start: float
    end: float
    seen: float


class PlaybackRanges:
    """The playback ranges audited lately, per (user, camera, purpose)."""

    def __init__(self) -> None:
        self._ranges: dict[tuple[str, str, str], list[_Range]] = {}

    def covers(self, key: tuple[str, str, str], start: float, end: float, now: float) -> bool:
        """Whether [start, end) continues an open range of `key` (which it then extends)."""
        for item in self._ranges.get(key, ()):
            if now - item.seen < IDLE_S and start <= item.end + SLACK_S and end >= item.start:
                item.start, item.end, item.seen = min(item.start, start), max(item.end, end), now
                return True
        return False

    def open(self, key: tuple[str, str, str], start: float, end: float, now: float) -> None:
        """Remember an audited range (and forget the ones idle too long)."""
        if sum(len(items) for items in self._ranges.values()) >= MAX_RANGES:
            self._ranges = {k: kept for k, items in self._ranges.items()
                            if (kept := [i for i in items if now - i.seen < IDLE_S])}
        self._ranges.setdefault(key, []).append(_Range(start, end, now))


def audit_playback(hub: Hub, context: Context, entity_id: str, camera_id: str, purpose: str,
                   start: float, end: float, *, segment_id: int | None = None) -> bool:
    """Audit a playback of camera_id's recordings from start to end with its purpose, unless the range
    continues one already audited for this user, camera and purpose; whether a row was written."""
    ranges = hub.data.setdefault(DATA_RANGES, PlaybackRanges())
    key = (context.user_id or "", camera_id, purpose)
    now = time.monotonic()
    if segment_id is not None and ranges.covers(key, start, end, now):
        return False
    ranges.open(key, start, end, now)
    data: dict[str, object] = {"camera": camera_id, "purpose": purpose, "start": start, "end": end}
    if segment_id is not None:
        data["segment_id"] = segment_id
    audit_record(hub, "camera.playback", context=context, target=entity_id, data=data)
    return True
