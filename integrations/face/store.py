"""Database work of the face integration (blocking: run through the recorder's `async_db_job`)."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.helpers.ids import uuid7

from .const import AuthorisationStatus, Purpose
from .models import FaceAuthorisation, FaceClipLock, FaceMatch, FacePerson

__all__ = ["evidence_dir", "new_id", "purge_authorisation", "yearly_report"]


def new_id(now: float) -> str:
    """A new record id (time-ordered)."""
    return uuid7(now).hex


def evidence_dir(config_dir: Path, authorisation_id: str) -> Path:
    """The folder of one authorisation's reference images and match crops (deleted with it on a purge)."""
    return config_dir / "face" / authorisation_id


def purge_authorisation(session: Session, config_dir: Path, authorisation_id: str, status: str,
                        now: float) -> dict[str, int]:
    """Delete every match, clip lock, embedding and image made under an authorisation; mark it refused or
    lapsed. Returns what was deleted (counts only)."""
    row = session.get(FaceAuthorisation, authorisation_id)
    if row is None:
        raise KeyError(authorisation_id)
    counts = {
        "matches": session.scalar(select(func.count()).select_from(FaceMatch)
                                  .where(FaceMatch.authorisation_id == authorisation_id)) or 0,
        "clip_locks": session.scalar(select(func.count()).select_from(FaceClipLock)
                                     .where(FaceClipLock.authorisation_id == authorisation_id)) or 0,
        "persons": session.scalar(select(func.count()).select_from(FacePerson)
                                  .where(FacePerson.authorisation_id == authorisation_id)) or 0,
    }
    for table in (FaceMatch, FaceClipLock, FacePerson):
        session.execute(delete(table).where(table.authorisation_id == authorisation_id))
    folder = evidence_dir(config_dir, authorisation_id)
    counts["files"] = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    shutil.rmtree(folder, ignore_errors=True)
    row.status = status
    row.closed_ts = now
    row.purged = counts["matches"] + counts["clip_locks"] + counts["persons"]
    return counts


def _year_bounds(year: int) -> tuple[float, float]:
    return (datetime(year, 1, 1, tzinfo=UTC).timestamp(), datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())


def yearly_report(session: Session, year: int) -> dict[str, Any]:
    """The statistics an authority publishes for one year: counts only, no authority references, cameras,
    persons, labels or images."""
    start, end = _year_bounds(year)
    rows = session.scalars(select(FaceAuthorisation).where(FaceAuthorisation.created_ts >= start,
                                                           FaceAuthorisation.created_ts < end)).all()
    by_purpose: Counter[str] = Counter({purpose.value: 0 for purpose in Purpose})
    by_status: Counter[str] = Counter({status.value: 0 for status in AuthorisationStatus})
    for row in rows:
        by_purpose[row.purpose] += 1
        by_status[row.status] += 1
    hours = sorted((row.end_ts - row.start_ts) / 3600.0 for row in rows)
    return {
        "year": year,
        "authorisations": len(rows),
        "by_purpose": dict(by_purpose),
        "by_status": dict(by_status),
        "urgent": sum(1 for row in rows if row.urgent),
        "retrospective": sum(1 for row in rows if row.use == "retrospective"),
        "hours_authorised_median": hours[len(hours) // 2] if hours else 0.0,
        "persons_sought": sum(row.persons_sought for row in rows),
        "persons_found": sum(row.persons_found for row in rows),
        "candidate_matches": sum(row.candidates for row in rows),
        "matches_verified": sum(row.verified for row in rows),
        "matches_rejected": sum(row.rejected for row in rows),
        "records_deleted_after_refusal_or_lapse": sum(row.purged for row in rows),
    }
