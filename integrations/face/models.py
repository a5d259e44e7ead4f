"""Face tables in the recorder database (revision r0700_face): authorisations, their watchlists, candidate
matches and clip locks. There is no table for faces that matched nothing: they are never stored."""

from __future__ import annotations

from sqlalchemy import Boolean, Double, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.recorder.models import Base

__all__ = ["FaceAuthorisation", "FaceClipLock", "FaceMatch", "FacePerson"]


class FaceAuthorisation(Base):
    """One judicial (or independent authority's) authorisation; the counters survive a purge (for the report)."""

    __tablename__ = "face_authorisations"

    authorisation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    authority: Mapped[str] = mapped_column(String(255))
    reference: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(32))
    use: Mapped[str] = mapped_column(String(16))
    cameras: Mapped[str] = mapped_column(Text)  # JSON list of camera ids (areas resolved when entered)
    start_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float] = mapped_column(Double)
    urgent: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_ts: Mapped[float] = mapped_column(Double, index=True)
    created_by: Mapped[str] = mapped_column(String(255))
    confirmed_by: Mapped[str | None] = mapped_column(String(255))
    confirmed_ts: Mapped[float | None] = mapped_column(Double)
    authority_confirmed_ts: Mapped[float | None] = mapped_column(Double)
    closed_ts: Mapped[float | None] = mapped_column(Double)
    persons_sought: Mapped[int] = mapped_column(Integer, default=0)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    persons_found: Mapped[int] = mapped_column(Integer, default=0)
    purged: Mapped[int] = mapped_column(Integer, default=0)


class FacePerson(Base):
    """A person sought under one authorisation: a case label (no name needed), a reference image, its embedding."""

    __tablename__ = "face_persons"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    authorisation_id: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(255))
    reference_path: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    found: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ts: Mapped[float] = mapped_column(Double)


class FaceMatch(Base):
    """A candidate match and its two verifications (frame crop kept as a file under the config dir)."""

    __tablename__ = "face_matches"

    match_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    authorisation_id: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(String(32))
    camera: Mapped[str] = mapped_column(String(64))
    ts: Mapped[float] = mapped_column(Double)
    distance: Mapped[float] = mapped_column(Double)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    frame_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    first_by: Mapped[str | None] = mapped_column(String(255))
    first_verdict: Mapped[str | None] = mapped_column(String(16))
    second_by: Mapped[str | None] = mapped_column(String(255))
    decided_ts: Mapped[float | None] = mapped_column(Double)


class FaceClipLock(Base):
    """Recording around a candidate match that retention must keep (honoured by the recording subsystem)."""

    __tablename__ = "face_clip_locks"

    lock_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authorisation_id: Mapped[str] = mapped_column(String(32), index=True)
    match_id: Mapped[str] = mapped_column(String(32))
    camera: Mapped[str] = mapped_column(String(64))
    start_ts: Mapped[float] = mapped_column(Double)
    end_ts: Mapped[float] = mapped_column(Double)
