"""The FaceManager: owns the face worker and its detection streams, and composes the authorisations' life cycle
(lifecycle.py) and the candidate matches' verification (matches.py). Every step is audited (hub.audit); see
docs/face.md for the legal model."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from hub.audit import audit_record
from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import HubError
from hub.helpers.event import async_track_time_interval
from hub.helpers.workers import MODE_PROCESS, MSG_EXITED, MSG_FATAL, ProcessWorker
from hub.recorder import get_recorder
from integrations.camera.analytics import async_frame_request

from .const import CACHE_DIR
from .lifecycle import LOCK_PREFIX, AuthorisationLifecycle
from .matches import STREAM_REPEAT, MatchVerification
from .store import yearly_report

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

__all__ = ["AUDIT_PREFIX", "LOCK_PREFIX", "STREAM_REPEAT", "FaceManager"]

_LOGGER = logging.getLogger(__name__)

AUDIT_PREFIX: Final = "face."
WORKER_TARGET: Final = "integrations.face.worker:run_face_worker"
CHECK_INTERVAL: Final = 60.0


class FaceManager:
    """Owns the face worker; authorisations and matches are its two parts, reached through it."""

    def __init__(self, hub: Hub, config: dict[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.threshold: float = config["threshold"]
        self.worker: ProcessWorker | None = None
        self.loaded: set[str] = set()  # authorisations whose watchlist the worker reports loaded
        self.loads_sent = 0
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._removers: list[CALLBACK_TYPE] = []
        self.sync_lock = asyncio.Lock()  # one authorisation check at a time
        self._worker_lock = asyncio.Lock()
        self._changed = asyncio.Event()  # set whenever `loaded` changes
        # detection on camera streams: camera id -> the frame request sent to the worker (again after a restart)
        self.watching: dict[str, dict[str, Any]] = {}
        self.streams: dict[str, dict[str, Any]] = {}  # camera id -> availability, frames, faces (no identities)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.authorisations = AuthorisationLifecycle(self)
        self.matches = MatchVerification(self)

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
            worker = await self.async_worker()
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

    async def async_db(self, fn: Callable[[Session], Any]) -> Any:
        """Run a database job in the recorder's thread."""
        return await get_recorder(self.hub).async_db_job(fn)

    def audit(self, action: str, context: Context | None, target: str, outcome: str = "ok",
               **data: Any) -> None:
        """Record a step in the audit log as `face.<action>`."""
        audit_record(self.hub, AUDIT_PREFIX + action, context=context, target=target, outcome=outcome, data=data)

    # ---- the worker

    async def async_worker(self) -> ProcessWorker:
        """The face worker, started at the first call."""
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
            self._spawn(self.matches.async_stream_matches_safe(message), "face stream matches")
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

    async def async_request(self, key: str, item: dict[str, Any]) -> dict[str, Any]:
        """Submit a frame or an enrolment to the worker and wait for its answer (HubError when it is busy)."""
        worker = await self.async_worker()
        future = self._waiter(key)
        if not worker.submit(item):
            self._waiters.pop(key, None)
            raise HubError("the face worker is busy; the frame was dropped")
        try:
            return await asyncio.wait_for(future, self.config["timeout"])
        finally:
            self._waiters.pop(key, None)

    async def async_load_watchlist(self, authorisation_id: str, persons: list[dict[str, Any]],
                                   cameras: list[str]) -> None:
        """Give the worker an active authorisation's watchlist for its cameras, and wait until it has it."""
        worker = await self.async_worker()
        done = self._waiter(f"load:{authorisation_id}")
        self.loads_sent += 1
        worker.send({"type": "load", "authorisation_id": authorisation_id, "persons": persons,
                     "cameras": cameras, "threshold": self.threshold})
        await asyncio.wait_for(done, self.config["timeout"])

    async def async_unload_watchlist(self, authorisation_id: str) -> bool:
        """Take an authorisation's watchlist from the worker; False when it did not hold it."""
        if self.worker is None or authorisation_id not in self.loaded:
            return False
        done = self._waiter(f"unload:{authorisation_id}")
        self.worker.send({"type": "unload", "authorisation_id": authorisation_id})
        await asyncio.wait_for(done, self.config["timeout"])
        return True

    # ---- authorisations (lifecycle.py)

    async def async_create(self, data: dict[str, Any], context: Context) -> dict[str, Any]:
        """Enter an authorisation (AuthorisationLifecycle.async_create)."""
        return await self.authorisations.async_create(data, context)

    async def async_confirm(self, authorisation_id: str, context: Context) -> dict[str, Any]:
        """A second, distinct person confirms a pending authorisation."""
        return await self.authorisations.async_confirm(authorisation_id, context)

    async def async_authority_confirm(self, authorisation_id: str, context: Context) -> dict[str, Any]:
        """Record the authority's confirmation of an urgent authorisation."""
        return await self.authorisations.async_authority_confirm(authorisation_id, context)

    async def async_refuse(self, authorisation_id: str, context: Context) -> dict[str, int]:
        """The authority refused: delete everything made under it."""
        return await self.authorisations.async_refuse(authorisation_id, context)

    async def async_check(self) -> None:
        """Lapse urgent authorisations past 24 h and give the worker exactly the active watchlists."""
        await self.authorisations.async_check()

    async def async_add_person(self, authorisation_id: str, label: str, image: np.ndarray, source: bytes,
                               context: Context) -> dict[str, Any]:
        """Add a person sought to an authorisation's own watchlist."""
        return await self.authorisations.async_add_person(authorisation_id, label, image, source, context)

    urgent_deadline = staticmethod(AuthorisationLifecycle.urgent_deadline)
    retrospective = staticmethod(AuthorisationLifecycle.retrospective)

    # ---- identification and verification (matches.py)

    async def async_identify(self, camera: str, image: np.ndarray, context: Context | None, *,
                             area: str | None = None, recorded: bool = False,
                             ts: float | None = None) -> dict[str, Any]:
        """Compare one RGB frame with the covering authorisation's watchlist (MatchVerification.async_identify)."""
        return await self.matches.async_identify(camera, image, context, area=area, recorded=recorded, ts=ts)

    async def async_candidates(self, context: Context) -> list[dict[str, Any]]:
        """Candidate matches with the reference image and the frame crop side by side (audited as a view)."""
        return await self.matches.async_candidates(context)

    async def async_review(self, match_id: str, verified: bool, context: Context) -> dict[str, Any]:
        """One operator's verdict on a candidate match (two distinct operators verify it)."""
        return await self.matches.async_review(match_id, verified, context)

    # ---- report

    async def async_report(self, year: int) -> dict[str, Any]:
        """The yearly statistics (no personal data)."""
        report: dict[str, Any] = await self.async_db(functools.partial(yearly_report, year=year))
        return report
