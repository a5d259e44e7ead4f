"""The legal rules of an authorisation, as pure functions of its record and the time (no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.core import Context
from hub.exceptions import Unauthorized

from .const import URGENT_HOURS, AuthorisationStatus, Purpose, Use
from .models import FaceAuthorisation

__all__ = ["Coverage", "acting_user", "active", "covers", "lapse_due", "summary"]

_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Coverage:
    """Where an authorisation applies: camera ids and area ids."""

    cameras: frozenset[str]
    areas: frozenset[str]

    @classmethod
    def of(cls, row: FaceAuthorisation) -> Coverage:
        """The coverage stored in a row (JSON {"cameras": [...], "areas": [...]})."""
        data = json.loads(row.cameras)
        return cls(frozenset(data.get("cameras", ())), frozenset(data.get("areas", ())))

    def includes(self, camera: str, area: str | None) -> bool:
        """Whether a frame of `camera` (in `area`) is covered."""
        return camera in self.cameras or (area is not None and area in self.areas)


def acting_user(context: Context, what: str) -> str:
    """The person acting: the two-person rules need a named user, never the hub or an automation."""
    if not context.user_id:
        raise Unauthorized(f"{what} needs a signed-in person (not the hub or an automation)")
    return context.user_id


def active(row: FaceAuthorisation, now: float) -> bool:
    """Whether identification may run under this authorisation now.

    Confirmed by a second person: between its start and end. Urgent: from entry, for at most 24 h unless the
    authority's confirmation was recorded, and never past its end. Anything else (pending, refused, lapsed):
    never."""
    if not row.start_ts <= now < row.end_ts:
        return False
    if row.status == AuthorisationStatus.CONFIRMED:
        return True
    if row.status == AuthorisationStatus.URGENT:
        return row.authority_confirmed_ts is not None or now < row.created_ts + URGENT_HOURS * _HOUR
    return False


def lapse_due(row: FaceAuthorisation, now: float) -> bool:
    """An urgent authorisation whose 24 h passed without the authority's confirmation: it lapses (and is purged)."""
    return (row.status == AuthorisationStatus.URGENT and row.authority_confirmed_ts is None
            and now >= row.created_ts + URGENT_HOURS * _HOUR)


def covers(row: FaceAuthorisation, now: float, camera: str, area: str | None, *, recorded: bool) -> bool:
    """Whether this authorisation allows identifying a frame of `camera` now; frames from past recordings
    need an authorisation for retrospective use."""
    if recorded and row.use != Use.RETROSPECTIVE:
        return False
    return active(row, now) and Coverage.of(row).includes(camera, area)


def summary(row: FaceAuthorisation, now: float) -> dict[str, Any]:
    """The authorisation as services answer it (no watchlist contents)."""
    coverage = Coverage.of(row)
    return {
        "authorisation_id": row.authorisation_id, "authority": row.authority, "reference": row.reference,
        "purpose": Purpose(row.purpose).value, "use": row.use, "cameras": sorted(coverage.cameras),
        "areas": sorted(coverage.areas), "start_ts": row.start_ts, "end_ts": row.end_ts, "urgent": row.urgent,
        "status": row.status, "active": active(row, now), "created_by": row.created_by,
        "confirmed_by": row.confirmed_by, "authority_confirmed_ts": row.authority_confirmed_ts,
        "persons_sought": row.persons_sought, "candidates": row.candidates, "verified": row.verified,
        "rejected": row.rejected,
    }
