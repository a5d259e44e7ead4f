"""The FaceManager: authorisations and their life cycle, the face worker, candidate matches and their
two-person verification. Every step is audited (hub.audit); see docs/face.md for the legal model."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import select

from hub.audit import ACTION_VIEW_SENSITIVE, audit_record
from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import HubError, ServiceValidationError, Unauthorized
from hub.helpers.event import async_track_time_interval
from hub.helpers.ids import uuid7
from hub.helpers.workers import MODE_PROCESS, MSG_EXITED, MSG_FATAL, ProcessWorker
from hub.recorder import get_recorder
from integrations.camera.analytics import async_frame_request, async_lock_evidence, async_release_evidence

from .authorisation import Coverage, active, covers, lapse_due, summary
from .const import (
    CACHE_DIR,
    CLIP_LOCK_MARGIN,
    EVENT_MATCH_VERIFIED,
    URGENT_HOURS,
    AuthorisationStatus,
    MatchStatus,
    Use,
)
from .models import FaceAuthorisation, FaceClipLock, FaceMatch, FacePerson
from .store import evidence_dir, purge_authorisation, yearly_report

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

__all__ = ["AUDIT_PREFIX", "FaceManager"]

_LOGGER = logging.getLogger(__name__)

AUDIT_PREFIX: Final = "face."
WORKER_TARGET: Final = "integrations.face.worker:run_face_worker"
CHECK_INTERVAL: Final = 60.0
STREAM_REPEAT: Final = 60.0  # a person still seen on a camera this long after a candidate is the same candidate
LOCK_PREFIX: Final = "face:"  # camera evidence locks of matches: face:<authorisation>:<match>
_HOUR: Final = 3600.0


def _new_id(now: float) -> str:
    return uuid7(now).hex


def _user(context: Context, what: str) -> str:
    """The person acting: the two-person rules need a named user, never the hub or an automation."""
    if not context.user_id:
        raise Unauthorized(f"{what} needs a signed-in person (not the hub or an automation)")
    return context.user_id


class FaceManager:
    """Owns the face worker and every authorisation's life cycle."""

    def __init__(self, hub: Hub, config: dict[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.max_hours: float = config["max_hours"]
        self.threshold: float = config["threshold"]
        self.worker: ProcessWorker | None = None
        self.loaded: set[str] = set()  # authorisations whose watchlist the worker reports loaded
        self.loads_sent = 0
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._removers: list[CALLBACK_TYPE] = []
        self._sync_lock = asyncio.Lock()
        self._worker_lock = asyncio.Lock()
        self._changed = asyncio.Event()  # set whenever `loaded` changes
        # detection on camera streams: camera id -> the frame request sent to the worker (again after a restart)
        self.watching: dict[str, dict[str, Any]] = {}
        self.streams: dict[str, dict[str, Any]] = {}  # camera id -> availability, frames, faces (no identities)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._recent: dict[tuple[str, str, str], float] = {}  # (authorisation, person, camera) -> last seen

    # ---- life cycle

    async def async_start(self) -> None:
        """Check the authorisations now and every minute (urgent ones lapse, ended ones unload)."""
        self._removers.append(async_track_time_interval(self.hub, self._async_tick, CHECK_INTERVAL))
        await self.async_check()
        if self.config["detection"]["cameras"]:  # a background task: the hub's start does not wait for it
            task = self.hub.async_create_background_task(self._async_watch_cameras(), "face detection streams")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _spawn(self, coro: Any, name: str) -> None:
        task = self.hub.async_create_task(coro, name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _async_watch_cameras(self) -> None:
        """Detection on each configured camera's sub stream, at the configured rate, in the face worker."""
        detection = self.config["detection"]
        try:
            worker = await self._async_worker()
        except (HubError, TimeoutError) as err:
            _LOGGER.error("face: no detection on %s: the face worker did not start (%s)",
                          ", ".join(detection["cameras"]), err or "no answer")
            return
        for entity_id in detection["cameras"]:
            try:
                request = await async_frame_request(self.hub, entity_id, fps=detection["fps"],
                                                    width=detection["width"], stream=detection["stream"])
            except LookupError as err:
                _LOGGER.error("face: no detection on %s: %s", entity_id, err)
                continue
            self.watching[request.camera] = dataclasses.asdict(request)
            self.streams[request.camera] = {"available": None, "frames": 0, "faces": 0, "error": ""}
            worker.send({"type": "watch", "request": self.watching[request.camera]})

    async def async_stop(self) -> None:
        """Stop the timer and the worker."""
        while self._removers:
            self._removers.pop()()
        for task in list(self._tasks):
            task.cancel()
        worker, self.worker = self.worker, None
        if worker is not None:
            await self.hub.async_add_executor_job(worker.stop)
        self.loaded.clear()
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(HubError("face worker stopped"))

    async def _async_tick(self, _now: datetime) -> None:
        await self.async_check()

    def now(self) -> float:
        """The hub's time."""
        return float(self.hub.clock.time())

    async def _db(self, fn: Callable[[Session], Any]) -> Any:
        return await get_recorder(self.hub).async_db_job(fn)

    def _audit(self, action: str, context: Context | None, target: str, outcome: str = "ok",
               **data: Any) -> None:
        audit_record(self.hub, AUDIT_PREFIX + action, context=context, target=target, outcome=outcome, data=data)

    # ---- the worker

    async def _async_worker(self) -> ProcessWorker:
        async with self._worker_lock:  # two first calls at once start one worker
            if self.worker is None:
                await self._async_start_worker()
        assert self.worker is not None
        return self.worker

    async def _async_start_worker(self) -> None:
        options = {"threshold": self.threshold,  # the schema's defaults fill the rest
                   **{key: self.config[key] for key in ("upsample", "embedder", "threads", "mirror", "jitter",
                                                        "fallback")},
                   "cache_dir": str(self.hub.path(*CACHE_DIR))}  # the converted ResNet, made in the worker
        worker = ProcessWorker(WORKER_TARGET, (options,),
                               name="face", on_message=self._on_message, loop=self.hub.loop,
                               queue_size=self.config["queue_size"], mode=self.config.get("mode", MODE_PROCESS))
        self.worker = worker
        ready = self._waiter("ready")
        await self.hub.async_add_executor_job(worker.start)
        await asyncio.wait_for(ready, self.config["timeout"])

    def _waiter(self, key: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = self.hub.loop.create_future()
        self._waiters[key] = future
        return future

    def _resolve(self, key: str, message: dict[str, Any]) -> None:
        future = self._waiters.pop(key, None)
        if future is not None and not future.done():
            future.set_result(message)

    async def async_wait_loaded(self, wanted: set[str]) -> None:
        """Wait until the worker reports exactly these watchlists loaded (tests, diagnostics)."""
        while self.loaded != wanted:
            self._changed.clear()
            await self._changed.wait()

    @callback
    def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("ready", "loaded", "unloaded", MSG_EXITED, MSG_FATAL):
            self._changed.set()
        if kind == "ready":
            self.loaded.clear()
            self._resolve("ready", message)
            if self.worker is not None:  # a restarted worker starts empty: give back what is active
                self.hub.async_create_task(self.async_check(), "face sync after worker start")
                for request in self.watching.values():
                    self.worker.send({"type": "watch", "request": request})
        elif kind == "faces":
            stream = self.streams.setdefault(message["camera"], {"available": True, "frames": 0, "faces": 0})
            stream["frames"] = int(stream.get("frames", 0)) + 1
            stream["faces"] = int(message["faces"])
            stream["ts"] = message["ts"]
        elif kind == "stream":
            self.streams.setdefault(message["camera"], {}).update(available=message["available"],
                                                                  error=message["error"])
        elif kind == "stream_matches":
            self._spawn(self._async_stream_matches_safe(message), "face stream matches")
        elif kind == "loaded":
            self.loaded.add(message["authorisation_id"])
            self._resolve(f"load:{message['authorisation_id']}", message)
        elif kind == "unloaded":
            self.loaded.discard(message["authorisation_id"])
            self._resolve(f"unload:{message['authorisation_id']}", message)
        elif kind in ("identified", "refused"):
            self._resolve(f"frame:{message['frame_id']}", message)
        elif kind == "enrolled":
            self._resolve(f"enrol:{message['request_id']}", message)
        elif kind in (MSG_EXITED, MSG_FATAL):
            self.loaded.clear()
            if kind == MSG_FATAL:
                _LOGGER.error("face: the worker cannot run: %s", message.get("error"))
            for key in [k for k in self._waiters if k != "ready"]:
                future = self._waiters.pop(key)
                if not future.done():
                    future.set_exception(HubError("the face worker stopped; try again"))

    async def _async_request(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        worker = await self._async_worker()
        future = self._waiter(key)
        if not worker.submit(item):
            self._waiters.pop(key, None)
            raise HubError("the face worker is busy; the frame was dropped")
        try:
            return await asyncio.wait_for(future, self.config["timeout"])
        finally:
            self._waiters.pop(key, None)

    # ---- authorisations

    async def _rows(self) -> list[FaceAuthorisation]:
        def _query(session: Session) -> list[FaceAuthorisation]:
            rows = list(session.scalars(select(FaceAuthorisation).where(FaceAuthorisation.status.in_(
                (AuthorisationStatus.PENDING, AuthorisationStatus.CONFIRMED, AuthorisationStatus.URGENT)))))
            session.expunge_all()
            return rows

        result: list[FaceAuthorisation] = await self._db(_query)
        return result

    async def _row(self, authorisation_id: str) -> FaceAuthorisation:
        def _get(session: Session) -> FaceAuthorisation:
            row = _get_authorisation(session, authorisation_id)
            session.expunge(row)
            return row

        row: FaceAuthorisation = await self._db(_get)
        return row

    async def async_create(self, data: dict[str, Any], context: Context) -> dict[str, Any]:
        """Enter an authorisation. Pending until a second person confirms it; urgent ones are active at once."""
        user = _user(context, "Entering an authorisation")
        now = self.now()
        hours = float(data["hours"])
        if hours > self.max_hours:
            raise ServiceValidationError(f"'hours': at most {self.max_hours:g} h on this site", path=["hours"])
        start = float(data.get("start") or now)
        if data["urgent"]:
            start = now  # urgent use starts now and its clock runs from entry
        if not data["cameras"] and not data["areas"]:
            raise ServiceValidationError("name the cameras or areas it covers", path=["cameras"])
        row = FaceAuthorisation(
            authorisation_id=_new_id(now), authority=data["authority"], reference=data["reference"],
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

        answer: dict[str, Any] = await self._db(_add)
        self._audit("authorisation_created", context, row.authorisation_id, purpose=row.purpose, use=row.use,
                    urgent=row.urgent, hours=hours, authority=row.authority, reference=row.reference)
        await self.async_check()
        return answer

    async def async_confirm(self, authorisation_id: str, context: Context) -> dict[str, Any]:
        """A second, distinct person confirms a pending authorisation."""
        user = _user(context, "Confirming an authorisation")
        now = self.now()

        def _confirm(session: Session) -> dict[str, Any]:
            row = _get_authorisation(session, authorisation_id)
            if row.status != AuthorisationStatus.PENDING:
                raise ServiceValidationError(f"authorisation is {row.status}, not pending")
            if row.created_by == user:
                raise Unauthorized("The person who entered an authorisation cannot confirm it: a second person must")
            if not any(Coverage.of(row).cameras | Coverage.of(row).areas):
                raise ServiceValidationError("authorisation covers no camera")
            row.status, row.confirmed_by, row.confirmed_ts = AuthorisationStatus.CONFIRMED, user, now
            return summary(row, now)

        try:
            answer: dict[str, Any] = await self._db(_confirm)
        except Unauthorized:
            self._audit("authorisation_confirm_refused", context, authorisation_id, "denied", reason="same person")
            raise
        self._audit("authorisation_confirmed", context, authorisation_id)
        await self.async_check()
        return answer

    async def async_authority_confirm(self, authorisation_id: str, context: Context) -> dict[str, Any]:
        """Record the authority's confirmation of an urgent authorisation (by someone other than who entered it)."""
        user = _user(context, "Recording the authority's confirmation")
        now = self.now()

        def _confirm(session: Session) -> dict[str, Any]:
            row = _get_authorisation(session, authorisation_id)
            if row.status != AuthorisationStatus.URGENT or lapse_due(row, now):
                raise ServiceValidationError(f"authorisation is {row.status}; only a live urgent one can be confirmed")
            if row.created_by == user:
                raise Unauthorized("The authority's confirmation must be recorded by a second person")
            row.authority_confirmed_ts, row.confirmed_by, row.confirmed_ts = now, user, now
            row.status = AuthorisationStatus.CONFIRMED
            return summary(row, now)

        answer: dict[str, Any] = await self._db(_confirm)
        self._audit("authorisation_authority_confirmed", context, authorisation_id)
        await self.async_check()
        return answer

    async def async_refuse(self, authorisation_id: str, context: Context) -> dict[str, int]:
        """The authority refused: delete everything made under it."""
        _user(context, "Recording a refusal")
        row = await self._row(authorisation_id)
        if row.status not in (AuthorisationStatus.PENDING, AuthorisationStatus.URGENT, AuthorisationStatus.CONFIRMED):
            raise ServiceValidationError(f"authorisation is already {row.status}", path=["authorisation_id"])
        return await self._async_purge(authorisation_id, AuthorisationStatus.REFUSED, context)

    async def _async_purge(self, authorisation_id: str, status: str, context: Context | None) -> dict[str, int]:
        await self._async_unload(authorisation_id)
        counts: dict[str, int] = await self._db(functools.partial(
            self._purge_job, authorisation_id=authorisation_id, status=status, now=self.now()))
        # the camera evidence locks of its matches go, and the recordings only they kept
        released = await async_release_evidence(self.hub, f"{LOCK_PREFIX}{authorisation_id}:", context,
                                                delete=True, why=f"face authorisation {status}")
        counts.update(camera_locks=released["locks_released"], camera_segments=released["segments_deleted"])
        self._recent = {key: seen for key, seen in self._recent.items() if key[0] != authorisation_id}
        self._audit("data_deleted", context, authorisation_id, "ok", reason=status, **counts)
        _LOGGER.info("face: authorisation %s %s; deleted %s", authorisation_id, status, counts)
        return counts

    def _purge_job(self, session: Session, *, authorisation_id: str, status: str, now: float) -> dict[str, int]:
        return purge_authorisation(session, self.hub.config_dir, authorisation_id, status, now)

    async def async_check(self) -> None:
        """Lapse urgent authorisations past 24 h (purging their data) and give the worker exactly the
        watchlists of the authorisations active now."""
        async with self._sync_lock:
            now = self.now()
            rows = await self._rows()
            for row in rows:
                if lapse_due(row, now):
                    await self._async_purge(row.authorisation_id, AuthorisationStatus.LAPSED, None)
            wanted = {row.authorisation_id: row for row in rows if active(row, now) and not lapse_due(row, now)}
            for authorisation_id in list(self.loaded - wanted.keys()):
                await self._async_unload(authorisation_id)
            for authorisation_id, row in wanted.items():
                if authorisation_id not in self.loaded and row.persons_sought and self.worker is not None:
                    await self._async_load(row)

    async def _async_load(self, row: FaceAuthorisation) -> None:
        def _persons(session: Session) -> list[dict[str, Any]]:
            return [{"person_id": p.person_id, "embedding": p.embedding} for p in session.scalars(
                select(FacePerson).where(FacePerson.authorisation_id == row.authorisation_id))]

        persons = await self._db(_persons)
        coverage = Coverage.of(row)
        worker = await self._async_worker()
        done = self._waiter(f"load:{row.authorisation_id}")
        self.loads_sent += 1
        worker.send({"type": "load", "authorisation_id": row.authorisation_id, "persons": persons,
                     "cameras": sorted(coverage.cameras | {f"area:{a}" for a in coverage.areas}),
                     "threshold": self.threshold})
        await asyncio.wait_for(done, self.config["timeout"])
        self._audit("watchlist_loaded", None, row.authorisation_id, persons=len(persons))

    async def _async_unload(self, authorisation_id: str) -> None:
        if self.worker is None or authorisation_id not in self.loaded:
            return
        done = self._waiter(f"unload:{authorisation_id}")
        self.worker.send({"type": "unload", "authorisation_id": authorisation_id})
        await asyncio.wait_for(done, self.config["timeout"])
        self._audit("watchlist_unloaded", None, authorisation_id)

    # ---- watchlist

    async def async_add_person(self, authorisation_id: str, label: str, image: np.ndarray, source: bytes,
                               context: Context) -> dict[str, Any]:
        """Add a person sought (a case label and one reference image) to an authorisation's own watchlist."""
        _user(context, "Adding a person to a watchlist")
        row = await self._row(authorisation_id)
        if row.status not in (AuthorisationStatus.PENDING, AuthorisationStatus.CONFIRMED, AuthorisationStatus.URGENT):
            raise ServiceValidationError(f"authorisation is {row.status}", path=["authorisation_id"])
        now = self.now()
        request_id = _new_id(now)
        answer = await self._async_request(f"enrol:{request_id}",
                                           {"kind": "enrol", "request_id": request_id, "image": image})
        if "error" in answer:
            raise ServiceValidationError(f"'image': {answer['error']}", path=["image"])
        person_id = _new_id(now)
        folder = evidence_dir(self.hub.config_dir, authorisation_id)
        reference = folder / f"reference_{person_id}.jpg"
        await self.hub.async_add_executor_job(_write_file, reference, source)

        def _add(session: Session) -> None:
            session.add(FacePerson(person_id=person_id, authorisation_id=authorisation_id, label=label,
                                   reference_path=str(reference), embedding=answer["embedding"], found=False,
                                   created_ts=now))
            stored = session.get(FaceAuthorisation, authorisation_id)
            assert stored is not None
            stored.persons_sought += 1

        await self._db(_add)
        self._audit("person_added", context, authorisation_id, person_id=person_id)
        await self._async_unload(authorisation_id)  # reloaded with the new person if active
        await self.async_check()
        return {"person_id": person_id, "authorisation_id": authorisation_id}

    # ---- identification

    async def _async_covering(self, camera: str, area: str | None, recorded: bool) -> FaceAuthorisation | None:
        now = self.now()
        for row in await self._rows():
            if covers(row, now, camera, area, recorded=recorded) and not lapse_due(row, now):
                return row
        return None

    async def async_identify(self, camera: str, image: np.ndarray, context: Context | None, *,
                             area: str | None = None, recorded: bool = False,
                             ts: float | None = None) -> dict[str, Any]:
        """Compare the faces of one RGB frame with the watchlist of the authorisation that covers its camera now.

        Refused (Unauthorized, audited) when none does. Faces that match nothing leave nothing behind: the
        answer carries only counts. A candidate match is stored for two-person verification; nobody is told."""
        row = await self._async_covering(camera, area, recorded)
        if row is None:
            self._audit("identify_refused", context, camera, "denied", recorded=recorded)
            raise Unauthorized(f"Identification refused: no active authorisation covers camera {camera!r}"
                               + (" for past recordings" if recorded else ""))
        await self._async_worker()
        await self.async_check()
        if row.authorisation_id not in self.loaded:
            raise HubError("the authorisation's watchlist is not loaded (no person on it?)")
        now = self.now()
        frame_id = _new_id(now)
        answer = await self._async_request(f"frame:{frame_id}", {
            "kind": "identify", "frame_id": frame_id, "authorisation_id": row.authorisation_id,
            "camera": camera if camera in Coverage.of(row).cameras else f"area:{area}", "image": image})
        if answer["type"] == "refused":
            raise Unauthorized(f"Identification refused by the worker: {answer['reason']}")
        match_ids = [await self._async_store_match(row, camera, ts if ts is not None else now, match, image)
                     for match in answer["matches"]]
        self._audit("identify", context, camera, authorisation_id=row.authorisation_id, faces=answer["faces"],
                    candidates=len(match_ids), recorded=recorded)
        return {"authorisation_id": row.authorisation_id, "faces": answer["faces"], "candidates": match_ids}

    async def _async_stream_matches_safe(self, message: dict[str, Any]) -> None:
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
            row = row or await self._async_covering(name, area, False)
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
        self._audit("identify", None, camera, authorisation_id=row.authorisation_id, candidates=len(match_ids),
                    recorded=False, stream=True)

    async def _async_store_match(self, row: FaceAuthorisation, camera: str, ts: float, match: dict[str, Any],
                                 image: np.ndarray | None = None) -> str:
        """Store a candidate match (its crop from `image`, or the worker's `crop_jpeg`) for two operators to verify
        (face.match_candidates), and lock the camera's recording around it. Nothing goes on the event bus, where
        automations could act on an unverified match."""
        now = self.now()
        match_id = _new_id(now)
        path = evidence_dir(self.hub.config_dir, row.authorisation_id) / f"match_{match_id}.jpg"
        if image is not None:
            await self.hub.async_add_executor_job(_write_crop, path, image, match["box"])
        elif match.get("crop_jpeg"):
            await self.hub.async_add_executor_job(_write_file, path, match["crop_jpeg"])

        def _add(session: Session) -> None:
            session.add(FaceMatch(match_id=match_id, authorisation_id=row.authorisation_id,
                                  person_id=match["person_id"], camera=camera, ts=ts, distance=match["distance"],
                                  embedding=match["embedding"], frame_path=str(path), status=MatchStatus.CANDIDATE))
            session.add(FaceClipLock(authorisation_id=row.authorisation_id, match_id=match_id, camera=camera,
                                     start_ts=ts - CLIP_LOCK_MARGIN, end_ts=ts + CLIP_LOCK_MARGIN))
            stored = session.get(FaceAuthorisation, row.authorisation_id)
            assert stored is not None
            stored.candidates += 1

        await self._db(_add)
        self._audit("candidate", None, match_id, authorisation_id=row.authorisation_id, camera=camera)
        await async_lock_evidence(self.hub, camera if camera.startswith("camera.") else f"camera.{camera}",
                                  ts - CLIP_LOCK_MARGIN, ts + CLIP_LOCK_MARGIN,
                                  f"{LOCK_PREFIX}{row.authorisation_id}:{match_id}")
        return match_id

    # ---- verification

    async def async_candidates(self, context: Context) -> list[dict[str, Any]]:
        """Candidate matches with the reference image and the frame crop side by side (audited as a view)."""
        _user(context, "Reviewing candidate matches")

        def _query(session: Session) -> list[dict[str, Any]]:
            out = []
            for match in session.scalars(select(FaceMatch).where(FaceMatch.status == MatchStatus.CANDIDATE)):
                person = session.get(FacePerson, match.person_id)
                out.append({"match_id": match.match_id, "authorisation_id": match.authorisation_id,
                            "camera": match.camera, "ts": match.ts, "distance": round(match.distance, 4),
                            "label": person.label if person else None, "first_by": match.first_by,
                            "reference": _b64(person.reference_path) if person else None,
                            "frame": _b64(match.frame_path)})
            return out

        answer: list[dict[str, Any]] = await self._db(_query)
        audit_record(self.hub, ACTION_VIEW_SENSITIVE, context=context, target="face/candidates",
                     data={"matches": [m["match_id"] for m in answer]})
        return answer

    async def async_review(self, match_id: str, verified: bool, context: Context) -> dict[str, Any]:
        """One operator's verdict. A match is verified only when two distinct operators both verified it;
        one rejection rejects it (its embedding and crop are deleted). Only then is anyone told."""
        user = _user(context, "Verifying a match")
        now = self.now()

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

        answer: dict[str, Any] = await self._db(_review)
        self._audit("match_reviewed", context, match_id, verdict="verified" if verified else "rejected",
                    status=answer["status"])
        if answer["status"] == MatchStatus.VERIFIED:
            self.hub.bus.async_fire(EVENT_MATCH_VERIFIED, {
                key: answer[key] for key in ("match_id", "authorisation_id", "person_id", "camera", "ts")},
                context=context)
        return answer

    # ---- report

    async def async_report(self, year: int) -> dict[str, Any]:
        """The yearly statistics (no personal data)."""
        report: dict[str, Any] = await self._db(functools.partial(yearly_report, year=year))
        return report

    @staticmethod
    def urgent_deadline(row: FaceAuthorisation) -> float:
        """When an urgent authorisation lapses without the authority's confirmation."""
        return row.created_ts + URGENT_HOURS * _HOUR

    @staticmethod
    def retrospective(row: FaceAuthorisation) -> bool:
        """Whether past recordings may be searched under it."""
        return row.use == Use.RETROSPECTIVE


def _get_authorisation(session: Session, authorisation_id: str) -> FaceAuthorisation:
    row = session.get(FaceAuthorisation, authorisation_id)
    if row is None:
        raise ServiceValidationError(f"No authorisation {authorisation_id!r}", path=["authorisation_id"])
    return row


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_crop(path: Path, image: np.ndarray, box: list[int]) -> None:
    import cv2

    x, y, w, h = box
    pad = max(w, h) // 2
    crop = image[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    if ok:
        _write_file(path, encoded.tobytes())


def _b64(path: str) -> str | None:
    try:
        return base64.b64encode(Path(path).read_bytes()).decode()
    except OSError:
        return None
