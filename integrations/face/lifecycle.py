"""The life cycle of authorisations: entry, the second person's and the authority's confirmation, refusal, the
urgent lapse and the purge of everything made under one, and the watchlist the worker holds for each active one."""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import select

from hub.exceptions import ServiceValidationError, Unauthorized
from integrations.camera.analytics import async_release_evidence

from .authorisation import Coverage, acting_user, active, covers, lapse_due, summary
from .const import URGENT_HOURS, AuthorisationStatus, Use
from .files import write_file
from .models import FaceAuthorisation, FacePerson
from .store import evidence_dir, new_id, purge_authorisation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.core import Context

    from .manager import FaceManager

__all__ = ["LOCK_PREFIX", "AuthorisationLifecycle", "get_authorisation"]

_LOGGER = logging.getLogger(__name__)

LOCK_PREFIX: Final = "face:"  # camera evidence locks of matches: face:<authorisation>:<match>
_HOUR: Final = 3600.0
_OPEN: Final = (AuthorisationStatus.PENDING, AuthorisationStatus.CONFIRMED, AuthorisationStatus.URGENT)


class AuthorisationLifecycle:
    """Authorisations from entry to end, lapse or refusal; the worker holds exactly the active ones' watchlists."""

    def __init__(self, manager: FaceManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.max_hours: float = manager.config["max_hours"]

    async def async_rows(self) -> list[FaceAuthorisation]:
        """The authorisations not yet ended by a refusal or a lapse (detached rows)."""
        def _query(session: Session) -> list[FaceAuthorisation]:
            rows = list(session.scalars(select(FaceAuthorisation).where(FaceAuthorisation.status.in_(_OPEN))))
            session.expunge_all()
            return rows

        result: list[FaceAuthorisation] = await self.manager.async_db(_query)
        return result

    async def async_row(self, authorisation_id: str) -> FaceAuthorisation:
        """One authorisation (detached; ServiceValidationError when there is none)."""
        def _get(session: Session) -> FaceAuthorisation:
            row = get_authorisation(session, authorisation_id)
            session.expunge(row)
            return row

        row: FaceAuthorisation = await self.manager.async_db(_get)
        return row

    async def async_covering(self, camera: str, area: str | None, recorded: bool) -> FaceAuthorisation | None:
        """The authorisation that allows identifying a frame of `camera` (in `area`) now, if any."""
        now = self.manager.now()
        for row in await self.async_rows():
            if covers(row, now, camera, area, recorded=recorded) and not lapse_due(row, now):
                return row
        return None

    async def async_create(self, data: dict[str, Any], context: Context) -> dict[str, Any]:
        """Enter an authorisation. Pending until a second person confirms it; urgent ones are active at once."""
        user = acting_user(context, "Entering an authorisation")
        now = self.manager.now()
        hours = float(data["hours"])
        if hours > self.max_hours:
            raise ServiceValidationError(f"'hours': at most {self.max_hours:g} h on this site", path=["hours"])
        start = float(data.get("start") or now)
        if data["urgent"]:
            start = now  # urgent use starts now and its clock runs from entry
        if not data["cameras"] and not data["areas"]:
            raise ServiceValidationError("name the cameras or areas it covers", path=["cameras"])
        row = FaceAuthorisation(
            authorisation_id=new_id(now), authority=data["authority"], reference=data["reference"],
            purpose=data["purpose"], use=data["use"],
            cameras=json.dumps({"cameras": sorted(data["cameras"]), "areas": sorted(data["areas"])}),
            start_ts=start, end_ts=start + hours * _HOUR, urgent=data["urgent"],
            status=AuthorisationStatus.URGENT if data["urgent"] else AuthorisationStatus.PENDING,
            created_ts=now, created_by=user, persons_sought=0, candidates=0, verified=0, rejected=0,
            persons_found=0, purged=0)

        def _add(session: Session) -> dict[str, Any]:
            session.add(row)
            session.flush()
            return summary(row, now)

        answer: dict[str, Any] = await self.manager.async_db(_add)
        self.manager.audit("authorisation_created", context, row.authorisation_id, purpose=row.purpose,
                           use=row.use, urgent=row.urgent, hours=hours, authority=row.authority,
                           reference=row.reference)
        await self.async_check()
        return answer

    async def async_confirm(self, authorisation_id: str, context: Context) -> dict[str, Any]:
        """A second, distinct person confirms a pending authorisation."""
        user = acting_user(context, "Confirming an authorisation")
        now = self.manager.now()

        def _confirm(session: Session) -> dict[str, Any]:
            row = get_authorisation(session, authorisation_id)
            if row.status != AuthorisationStatus.PENDING:
                raise ServiceValidationError(f"authorisation is {row.status}, not pending")
            if row.created_by == user:
                raise Unauthorized("The person who entered an authorisation cannot confirm it: a second person must")
            if not any(Coverage.of(row).cameras | Coverage.of(row).areas):
                raise ServiceValidationError("authorisation covers no camera")
            row.status, row.confirmed_by, row.confirmed_ts = AuthorisationStatus.CONFIRMED, user, now
            return summary(row, now)

        try:
            answer: dict[str, Any] = await self.manager.async_db(_confirm)
        except Unauthorized:
            self.manager.audit("authorisation_confirm_refused", context, authorisation_id, "denied",
                               reason="same person")
            raise
        self.manager.audit("authorisation_confirmed", context, authorisation_id)
        await self.async_check()
        return answer

    async def async_authority_confirm(self, authorisation_id: str, context: Context) -> dict[str, Any]:
        """Record the authority's confirmation of an urgent authorisation (by someone other than who entered it)."""
        user = acting_user(context, "Recording the authority's confirmation")
        now = self.manager.now()

        def _confirm(session: Session) -> dict[str, Any]:
            row = get_authorisation(session, authorisation_id)
            if row.status != AuthorisationStatus.URGENT or lapse_due(row, now):
                raise ServiceValidationError(f"authorisation is {row.status}; only a live urgent one can be confirmed")
            if row.created_by == user:
                raise Unauthorized("The authority's confirmation must be recorded by a second person")
            row.authority_confirmed_ts, row.confirmed_by, row.confirmed_ts = now, user, now
            row.status = AuthorisationStatus.CONFIRMED
            return summary(row, now)

        answer: dict[str, Any] = await self.manager.async_db(_confirm)
        self.manager.audit("authorisation_authority_confirmed", context, authorisation_id)
        await self.async_check()
        return answer

    async def async_refuse(self, authorisation_id: str, context: Context) -> dict[str, int]:
        """The authority refused: delete everything made under it."""
        acting_user(context, "Recording a refusal")
        row = await self.async_row(authorisation_id)
        if row.status not in _OPEN:
            raise ServiceValidationError(f"authorisation is already {row.status}", path=["authorisation_id"])
        return await self._async_purge(authorisation_id, AuthorisationStatus.REFUSED, context)

    async def _async_purge(self, authorisation_id: str, status: str, context: Context | None) -> dict[str, int]:
        await self._async_unload(authorisation_id)
        counts: dict[str, int] = await self.manager.async_db(functools.partial(
            self._purge_job, authorisation_id=authorisation_id, status=status, now=self.manager.now()))
        # the camera evidence locks of its matches go, and the recordings only they kept
        released = await async_release_evidence(self.hub, f"{LOCK_PREFIX}{authorisation_id}:", context,
                                                delete=True, why=f"face authorisation {status}")
        counts.update(camera_locks=released["locks_released"], camera_segments=released["segments_deleted"])
        self.manager.matches.forget(authorisation_id)
        self.manager.audit("data_deleted", context, authorisation_id, "ok", reason=status, **counts)
        _LOGGER.info("face: authorisation %s %s; deleted %s", authorisation_id, status, counts)
        return counts

    def _purge_job(self, session: Session, *, authorisation_id: str, status: str, now: float) -> dict[str, int]:
        return purge_authorisation(session, self.hub.config_dir, authorisation_id, status, now)

    async def async_check(self) -> None:
        """Lapse urgent authorisations past 24 h (purging their data) and give the worker exactly the
        watchlists of the authorisations active now."""
        manager = self.manager
        async with manager.sync_lock:
            now = manager.now()
            rows = await self.async_rows()
            for row in rows:
                if lapse_due(row, now):
                    await self._async_purge(row.authorisation_id, AuthorisationStatus.LAPSED, None)
            wanted = {row.authorisation_id: row for row in rows if active(row, now) and not lapse_due(row, now)}
            for authorisation_id in list(manager.loaded - wanted.keys()):
                await self._async_unload(authorisation_id)
            for authorisation_id, row in wanted.items():
                if authorisation_id not in manager.loaded and row.persons_sought and manager.worker is not None:
                    await self._async_load(row)

    async def _async_load(self, row: FaceAuthorisation) -> None:
        def _persons(session: Session) -> list[dict[str, Any]]:
            return [{"person_id": p.person_id, "embedding": p.embedding} for p in session.scalars(
                select(FacePerson).where(FacePerson.authorisation_id == row.authorisation_id))]

        persons = await self.manager.async_db(_persons)
        coverage = Coverage.of(row)
        await self.manager.async_load_watchlist(row.authorisation_id, persons,
                                                sorted(coverage.cameras | {f"area:{a}" for a in coverage.areas}))
        self.manager.audit("watchlist_loaded", None, row.authorisation_id, persons=len(persons))

    async def _async_unload(self, authorisation_id: str) -> None:
        if await self.manager.async_unload_watchlist(authorisation_id):
            self.manager.audit("watchlist_unloaded", None, authorisation_id)

    async def async_add_person(self, authorisation_id: str, label: str, image: np.ndarray, source: bytes,
                               context: Context) -> dict[str, Any]:
        """Add a person sought (a case label and one reference image) to an authorisation's own watchlist."""
        acting_user(context, "Adding a person to a watchlist")
        row = await self.async_row(authorisation_id)
        if row.status not in _OPEN:
            raise ServiceValidationError(f"authorisation is {row.status}", path=["authorisation_id"])
        now = self.manager.now()
        request_id = new_id(now)
        answer = await self.manager.async_request(f"enrol:{request_id}",
                                                  {"kind": "enrol", "request_id": request_id, "image": image})
        if "error" in answer:
            raise ServiceValidationError(f"'image': {answer['error']}", path=["image"])
        person_id = new_id(now)
        folder = evidence_dir(self.hub.config_dir, authorisation_id)
        reference = folder / f"reference_{person_id}.jpg"
        await self.hub.async_add_executor_job(write_file, reference, source)

        def _add(session: Session) -> None:
            session.add(FacePerson(person_id=person_id, authorisation_id=authorisation_id, label=label,
                                   reference_path=str(reference), embedding=answer["embedding"], found=False,
                                   created_ts=now))
            stored = session.get(FaceAuthorisation, authorisation_id)
            assert stored is not None
            stored.persons_sought += 1

        await self.manager.async_db(_add)
        self.manager.audit("person_added", context, authorisation_id, person_id=person_id)
        await self._async_unload(authorisation_id)  # reloaded with the new person if active
        await self.async_check()
        return {"person_id": person_id, "authorisation_id": authorisation_id}

    @staticmethod
    def urgent_deadline(row: FaceAuthorisation) -> float:
        """When an urgent authorisation lapses without the authority's confirmation."""
        return row.created_ts + URGENT_HOURS * _HOUR

    @staticmethod
    def retrospective(row: FaceAuthorisation) -> bool:
        """Whether past recordings may be searched under it."""
        return row.use == Use.RETROSPECTIVE


def get_authorisation(session: Session, authorisation_id: str) -> FaceAuthorisation:
    """An authorisation's row in a database job (ServiceValidationError when there is none)."""
    row = session.get(FaceAuthorisation, authorisation_id)
    if row is None:
        raise ServiceValidationError(f"No authorisation {authorisation_id!r}", path=["authorisation_id"])
    return row
