"""Identification under an authorisation and the candidate matches it raises: stored for two distinct operators
to verify side by side (reference image vs. frame) before anyone is told."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import select

from hub.audit import ACTION_VIEW_SENSITIVE, audit_record
from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from integrations.camera.analytics import async_lock_evidence

from .authorisation import Coverage, acting_user
from .const import CLIP_LOCK_MARGIN, EVENT_MATCH_VERIFIED, MatchStatus
from .files import read_b64, write_crop, write_file
from .lifecycle import LOCK_PREFIX
from .models import FaceAuthorisation, FaceClipLock, FaceMatch, FacePerson
from .store import evidence_dir, new_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.core import Context

    from .manager import FaceManager

__all__ = ["STREAM_REPEAT", "MatchVerification"]

_LOGGER = logging.getLogger(__name__)

STREAM_REPEAT: Final = 60.0  # a person still seen on a camera this long after a candidate is the same candidate


class MatchVerification:
    """Frames compared with the covering authorisation's watchlist; candidates held until two operators agree."""

    def __init__(self, manager: FaceManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self._recent: dict[tuple[str, str, str], float] = {}  # (authorisation, person, camera) -> last seen

    def forget(self, authorisation_id: str) -> None:
        """Drop what is remembered of an authorisation's stream candidates (its data was purged)."""
        self._recent = {key: seen for key, seen in self._recent.items() if key[0] != authorisation_id}

    async def async_identify(self, camera: str, image: np.ndarray, context: Context | None, *,
                             area: str | None = None, recorded: bool = False,
                             ts: float | None = None) -> dict[str, Any]:
        """Compare the faces of one RGB frame with the watchlist of the authorisation that covers its camera now.

        Refused (Unauthorized, audited) when none does. Faces that match nothing leave nothing behind: the
        answer carries only counts. A candidate match is stored for two-person verification; nobody is told."""
        manager = self.manager
        row = await manager.authorisations.async_covering(camera, area, recorded)
        if row is None:
            manager.audit("identify_refused", context, camera, "denied", recorded=recorded)
            raise Unauthorized(f"Identification refused: no active authorisation covers camera {camera!r}"
                               + (" for past recordings" if recorded else ""))
        await manager.async_worker()
        await manager.async_check()
        if row.authorisation_id not in manager.loaded:
            raise HubError("the authorisation's watchlist is not loaded (no person on it?)")
        now = manager.now()
        frame_id = new_id(now)
        answer = await manager.async_request(f"frame:{frame_id}", {
            "kind": "identify", "frame_id": frame_id, "authorisation_id": row.authorisation_id,
            "camera": camera if camera in Coverage.of(row).cameras else f"area:{area}", "image": image})
        if answer["type"] == "refused":
            raise Unauthorized(f"Identification refused by the worker: {answer['reason']}")
        match_ids = [await self._async_store_match(row, camera, ts if ts is not None else now, match, image)
                     for match in answer["matches"]]
        manager.audit("identify", context, camera, authorisation_id=row.authorisation_id, faces=answer["faces"],
                      candidates=len(match_ids), recorded=recorded)
        return {"authorisation_id": row.authorisation_id, "faces": answer["faces"], "candidates": match_ids}

    async def async_stream_matches_safe(self, message: dict[str, Any]) -> None:
        """Store the worker's stream matches; a database failure loses them, and says so."""
        try:
            await self._async_stream_matches(message)
        except HubError as err:  # the database: the candidates of this frame are lost, and said so
            _LOGGER.error("face: %d candidate matches on %s not stored: %s", len(message["matches"]),
                          message["camera"], err)

    async def _async_stream_matches(self, message: dict[str, Any]) -> None:
        """Matches the worker found on a camera's stream: stored as candidates only if the authorisation that
        covered the frame still covers the camera now (it may have ended while the frame was looked at)."""
        camera, area = str(message["camera"]), message.get("area")
        row = None
        for name in (camera, f"camera.{camera}"):
            row = row or await self.manager.authorisations.async_covering(name, area, False)
        if row is None or row.authorisation_id != message["authorisation_id"]:
            _LOGGER.debug("face: %d stream matches on %s dropped: no longer authorised", len(message["matches"]),
                          camera)
            return
        ts = float(message["ts"])
        fresh = []
        for match in message["matches"]:  # the same person on the same camera again: the same candidate
            key = (row.authorisation_id, match["person_id"], camera)
            if ts - self._recent.get(key, float("-inf")) >= STREAM_REPEAT:
                fresh.append(match)
            self._recent[key] = ts
        if not fresh:
            return
        match_ids = [await self._async_store_match(row, camera, ts, match) for match in fresh]
        self.manager.audit("identify", None, camera, authorisation_id=row.authorisation_id,
                           candidates=len(match_ids), recorded=False, stream=True)

    async def _async_store_match(self, row: FaceAuthorisation, camera: str, ts: float, match: dict[str, Any],
                                 image: np.ndarray | None = None) -> str:
        """Store a candidate match (its crop from `image`, or the worker's `crop_jpeg`) for two operators to verify
        (face.match_candidates), and lock the camera's recording around it. Nothing goes on the event bus, where
        automations could act on an unverified match."""
        now = self.manager.now()
        match_id = new_id(now)
        path = evidence_dir(self.hub.config_dir, row.authorisation_id) / f"match_{match_id}.jpg"
        if image is not None:
            await self.hub.async_add_executor_job(write_crop, path, image, match["box"])
        elif match.get("crop_jpeg"):
            await self.hub.async_add_executor_job(write_file, path, match["crop_jpeg"])

        def _add(session: Session) -> None:
            session.add(FaceMatch(match_id=match_id, authorisation_id=row.authorisation_id,
                                  person_id=match["person_id"], camera=camera, ts=ts, distance=match["distance"],
                                  embedding=match["embedding"], frame_path=str(path), status=MatchStatus.CANDIDATE))
            session.add(FaceClipLock(authorisation_id=row.authorisation_id, match_id=match_id, camera=camera,
                                     start_ts=ts - CLIP_LOCK_MARGIN, end_ts=ts + CLIP_LOCK_MARGIN))
            stored = session.get(FaceAuthorisation, row.authorisation_id)
            assert stored is not None
            stored.candidates += 1

        await self.manager.async_db(_add)
        self.manager.audit("candidate", None, match_id, authorisation_id=row.authorisation_id, camera=camera)
        await async_lock_evidence(self.hub, camera if camera.startswith("camera.") else f"camera.{camera}",
                                  ts - CLIP_LOCK_MARGIN, ts + CLIP_LOCK_MARGIN,
                                  f"{LOCK_PREFIX}{row.authorisation_id}:{match_id}")
        return match_id

    async def async_candidates(self, context: Context) -> list[dict[str, Any]]:
        """Candidate matches with the reference image and the frame crop side by side (audited as a view)."""
        acting_user(context, "Reviewing candidate matches")

        def _query(session: Session) -> list[dict[str, Any]]:
            out = []
            for match in session.scalars(select(FaceMatch).where(FaceMatch.status == MatchStatus.CANDIDATE)):
                person = session.get(FacePerson, match.person_id)
                out.append({"match_id": match.match_id, "authorisation_id": match.authorisation_id,
                            "camera": match.camera, "ts": match.ts, "distance": round(match.distance, 4),
                            "label": person.label if person else None, "first_by": match.first_by,
                            "reference": read_b64(person.reference_path) if person else None,
                            "frame": read_b64(match.frame_path)})
            return out

        answer: list[dict[str, Any]] = await self.manager.async_db(_query)
        audit_record(self.hub, ACTION_VIEW_SENSITIVE, context=context, target="face/candidates",
                     data={"matches": [m["match_id"] for m in answer]})
        return answer

    async def async_review(self, match_id: str, verified: bool, context: Context) -> dict[str, Any]:
        """One operator's verdict. A match is verified only when two distinct operators both verified it;
        one rejection rejects it (its embedding and crop are deleted). Only then is anyone told."""
        user = acting_user(context, "Verifying a match")
        now = self.manager.now()

        def _review(session: Session) -> dict[str, Any]:
            match = session.get(FaceMatch, match_id)
            if match is None:
                raise ServiceValidationError(f"No match {match_id!r}", path=["match_id"])
            if match.status != MatchStatus.CANDIDATE:
                raise ServiceValidationError(f"match is already {match.status}", path=["match_id"])
            if match.first_by == user:
                raise Unauthorized("A second, distinct operator must verify this match")
            auth = session.get(FaceAuthorisation, match.authorisation_id)
            assert auth is not None
            if not verified:
                match.status, match.decided_ts, match.embedding = MatchStatus.REJECTED, now, b""
                match.second_by = user if match.first_by else None
                match.first_by = match.first_by or user
                Path(match.frame_path).unlink(missing_ok=True)
                auth.rejected += 1
            elif match.first_by is None:
                match.first_by, match.first_verdict = user, "verified"
            else:
                match.status, match.second_by, match.decided_ts = MatchStatus.VERIFIED, user, now
                auth.verified += 1
                person = session.get(FacePerson, match.person_id)
                if person is not None and not person.found:
                    person.found = True
                    auth.persons_found += 1
            return {"match_id": match.match_id, "status": match.status, "authorisation_id": match.authorisation_id,
                    "person_id": match.person_id, "camera": match.camera, "ts": match.ts,
                    "first_by": match.first_by, "second_by": match.second_by}

        answer: dict[str, Any] = await self.manager.async_db(_review)
        self.manager.audit("match_reviewed", context, match_id, verdict="verified" if verified else "rejected",
                           status=answer["status"])
        if answer["status"] == MatchStatus.VERIFIED:
            self.hub.bus.async_fire(EVENT_MATCH_VERIFIED, {
                key: answer[key] for key in ("match_id", "authorisation_id", "person_id", "camera", "ts")},
                context=context)
        return answer
