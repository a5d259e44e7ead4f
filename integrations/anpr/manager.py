"""The ANPR manager: runs the camera workers, turns their observations into vehicle passes, checks each
against the hotlists, fires events, feeds traffic figures, stores reads and evidence, purges."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

from hub.core import CALLBACK_TYPE, Context, Hub, callback
from hub.exceptions import ServiceValidationError
from hub.helpers.event import async_track_time_interval
from integrations.camera.analytics import async_frame_request, async_lock_evidence

from .config import CameraConfig, JourneyConfig, ListConfig
from .const import (
    EVENT_HOTLIST_HIT,
    EVENT_PLATE_READ,
    EVENT_SHADOW_REPORT,
    HIT_LOCK_AFTER,
    HIT_LOCK_BEFORE,
    TRAFFIC_TICK,
    WORKER_SHARED,
)
from .entity import CameraEntity, CountSensor
from .formats import correct
from .hotlist import HotlistMatch, Hotlists
from .learning import (
    MODELS_SUBDIR,
    SHADOW_FILE,
    TRAINING_KIND,
    ModelRefused,
    PromotedModel,
    TrainingSet,
    candidate_model,
    update_model_metrics,
)
from .privacy import MediaStore, PlateHasher, redact
from .records import Hit, HitLog, ReadLog
from .shadow import SHADOW_KEY, ShadowRun
from .tracking import PlateTracker, Track, TrackObservation
from .traffic import JourneyStats, JourneyTracker, RollingCounter
from .worker import CameraWorker, SharedView, SharedWorker, WorkerSpec, worker_backoff

__all__ = ["AnprManager", "CameraState", "HotlistHitData", "PlateReadData"]

_LOGGER = logging.getLogger(__name__)

TRACK_TICK = 0.2  # seconds between checks for passes that ended
FLUSH_INTERVAL = 2.0  # seconds between database writes of reads
MODEL_POLL = 2.0  # seconds between looks at anpr_models/ for a promotion or shadow request from the CLI


class PlateReadData(TypedDict, total=False):
    """`anpr_plate_read`: one vehicle pass (the plate itself only for hits, or where privacy allows)."""

    camera: str
    camera_name: str
    area: str | None
    lane: int
    direction: str
    heading: str | None
    plate_hash: str
    plate: str
    format: str
    country: str
    confidence: float
    frames: int
    first_seen: float
    last_seen: float
    hit: bool
    lists: list[str]


class HotlistHitData(TypedDict, total=False):
    """`anpr_hotlist_hit`: a read matched a hotlist entry."""

    hit_id: str
    list: str
    list_name: str
    list_kind: str
    priority: int
    entry: dict[str, Any]
    plate: str
    confidence: float
    distance: float
    camera: str
    camera_name: str
    area: str | None
    lane: int
    direction: str
    location: dict[str, float] | None
    evidence: dict[str, str | None]
    frame_ts: float
    latency_ms: float


@dataclass(slots=True)
class CameraState:
    """One camera: its config, worker, tracker, counters and what its worker last reported."""

    config: CameraConfig
    tracker: PlateTracker
    counters: dict[int, RollingCounter]
    worker: CameraWorker | SharedView | None = None
    available: bool = False
    fps: float = 0.0
    frames: int = 0
    processed: int = 0
    dropped: int = 0
    queue: int = 0
    passes: int = 0
    hits: int = 0
    restarts: int = 0
    error: str | None = None
    last_pass_ts: float | None = None
    entities: list[Any] = field(default_factory=list)
    _last_stats: tuple[float, int] | None = None


@dataclass(slots=True)
class _Journey:
    config: JourneyConfig
    tracker: JourneyTracker
    entities: list[Any] = field(default_factory=list)


class AnprManager:
    """Everything the integration runs, for one hub."""

    def __init__(self, hub: Hub, conf: dict[str, Any]) -> None:
        self.hub = hub
        self.conf = conf
        self.hasher = PlateHasher(conf.get("hash_key"))
        self.media = MediaStore(hub.path(conf["media_dir"]) if not Path(conf["media_dir"]).is_absolute()
                                else Path(conf["media_dir"]))
        self.hotlists = Hotlists(hub, [ListConfig.from_config(c) for c in conf["lists"]],
                                 conf["matching"]["max_distance"], conf["matching"]["confusion_cost"])
        self.hit_log = HitLog(hub)
        self.training = TrainingSet(self.media)
        self.models = PromotedModel(hub.path(MODELS_SUBDIR))
        self.read_log = ReadLog(hub)
        self.cameras: dict[str, CameraState] = {}
        for cam_conf in conf["cameras"]:
            cfg = CameraConfig.from_config(cam_conf)
            tracker = PlateTracker(cfg.id, conf["tracking"]["timeout"],
                                   dedupe_seconds=conf["tracking"]["dedupe_seconds"])
            self.cameras[cfg.id] = CameraState(cfg, tracker,
                                               {60: RollingCounter(60), 900: RollingCounter(900)})
        self.journeys: dict[str, _Journey] = {}
        for j_conf in conf["journeys"]:
            jcfg = JourneyConfig.from_config(j_conf)
            self.journeys[jcfg.id] = _Journey(jcfg, JourneyTracker(jcfg))
        self.plate_in_events: bool = conf["privacy"]["plate_in_events"]
        self.retention = conf["retention"]
        self.acceptance_entity: Any = None
        self.list_entities: dict[str, Any] = {}
        self._removers: list[CALLBACK_TYPE] = []
        self._pending: set[asyncio.Task[Any]] = set()
        self._resolving: set[asyncio.Task[Any]] = set()  # waiting for a camera entity's stream
        self._shared: SharedWorker | None = None  # `workers: shared`: the one worker of every camera
        self._stopping = False
        self.model: str | None = None  # the promoted recogniser the workers read with (config-relative)
        self.shadow: ShadowRun | None = None
        self._shadow_request: Any = None  # the last shadow request file handled
        self._model_lock = asyncio.Lock()

    def now(self) -> float:
        return self.hub.clock.time()

    # ---- lifecycle

    async def async_start(self) -> None:
        """Load lists and statistics, start the workers and the timers."""
        await self.hotlists.async_load()
        await self.hit_log.async_load()
        promoted = await self.hub.async_add_executor_job(self.models.current)
        self.model = promoted.get("model") if promoted else None  # relative to the config dir
        self._shadow_request = await self.hub.async_add_executor_job(self._read_json, SHADOW_FILE)
        await self._async_start_workers()
        self._removers.append(async_track_time_interval(self.hub, self._async_tick_tracks, TRACK_TICK))
        self._removers.append(async_track_time_interval(self.hub, self._async_tick_traffic, TRAFFIC_TICK))
        self._removers.append(async_track_time_interval(self.hub, self._async_flush, FLUSH_INTERVAL))
        self._removers.append(async_track_time_interval(self.hub, self._async_purge_timer,
                                                        self.retention["purge_interval"]))
        self._removers.append(async_track_time_interval(self.hub, self._async_model_timer, MODEL_POLL))

    async def _async_start_workers(self) -> None:
        """Start one worker per camera; the recogniser is the configured one, else the promoted one, with
        the shadow candidate beside it while a shadow run lasts."""
        promoted = str(self.hub.path(self.model)) if self.model else None
        reader = {"min_confidence": self.conf["reader"]["min_confidence"],
                  "variants": self.conf["reader"]["variants"], "threads": self.conf["reader"]["threads"],
                  "rec_model": self.conf["reader"].get("rec_model") or promoted,
                  "det_model": self.conf["reader"].get("det_model"),
                  "yolo_model": self.conf["reader"].get("yolo_model"),
                  "upscale": self.conf["reader"]["upscale"]}
        if self.shadow is not None:
            reader["shadow_model"] = str(self.hub.path(self.shadow.model))
        for camera in self.cameras.values():
            if camera.config.camera:  # a camera entity's stream: its URL once the camera integration serves it
                # (a background task: the hub's start does not wait for the stream)
                task = self.hub.async_create_background_task(self._async_start_stream_worker(camera, reader),
                                                             f"anpr frames {camera.config.id}")
                self._resolving.add(task)
                task.add_done_callback(self._resolving.discard)
            else:
                await self._async_start_worker(camera, camera.config.source, reader)

    async def _async_start_worker(self, camera: CameraState, source: str, reader: dict[str, Any]) -> None:
        cfg = camera.config
        spec = WorkerSpec(cfg.id, source, cfg.type, cfg.fps, cfg.roi, cfg.queue_size, cfg.unavailable_after,
                          cfg.retry_interval, cfg.loop, cfg.detectors, reader, cfg.width)
        if self.conf["workers"] == WORKER_SHARED:
            if self._shared is None:
                self._shared = SharedWorker(self.hub.loop, worker_backoff(spec))
            camera.worker = self._shared.add(spec, self._make_handler(camera))
        else:
            camera.worker = CameraWorker(self.hub.loop, spec, self._make_handler(camera), self.conf["workers"])
        await self.hub.async_add_executor_job(camera.worker.start)

    async def _async_start_stream_worker(self, camera: CameraState, reader: dict[str, Any]) -> None:
        """Frames from a camera entity: the camera integration says which stream (with credentials) to decode."""
        cfg = camera.config
        assert cfg.camera is not None
        try:
            request = await async_frame_request(self.hub, cfg.camera, fps=cfg.fps, width=cfg.width,
                                                stream=cfg.stream, stall_after=cfg.unavailable_after)
        except LookupError as err:
            camera.available, camera.error = False, str(err)
            _LOGGER.error("anpr: camera %s cannot read plates: %s", cfg.id, err)
            self._write(camera.entities[:1])
            return
        if not self._stopping:
            await self._async_start_worker(camera, request.url, reader)

    async def _async_stop_workers(self) -> None:
        workers = [c.worker for c in self.cameras.values() if c.worker is not None]
        await asyncio.gather(*(self.hub.async_add_executor_job(w.stop) for w in workers))
        self._shared = None

    async def _async_restart_workers(self) -> None:
        for task in list(self._resolving):
            task.cancel()
        await self._async_stop_workers()
        await self._async_start_workers()

    async def async_switch_model(self, model: str | None) -> None:
        """Restart the workers reading with another recogniser (config-relative; None: the committed one)."""
        async with self._model_lock:
            if model == self.model and self.cameras and all(c.worker is not None for c in self.cameras.values()):
                return  # already reading with it (a promotion seen both by the service and the file check)
            self.model = model
            await self._async_restart_workers()

    # ---- shadow reading

    async def async_start_shadow(self, model: str, minutes: float, by: str | None = None) -> ShadowRun:
        """Read live traffic with `model` (config-relative, checked) beside the model in use for `minutes`;
        a run already going is ended (and reported) first."""
        async with self._model_lock:
            if self.shadow is not None:
                await self._async_end_shadow(restart=False)
            now = self.now()
            self.shadow = ShadowRun(model, now, now + minutes * 60.0, by)
            _LOGGER.info("anpr: shadow reading with %s for %.0f min", model, minutes)
            await self._async_restart_workers()
            return self.shadow

    async def async_stop_shadow(self) -> dict[str, Any] | None:
        """End the shadow run now; its report (None when none runs)."""
        async with self._model_lock:
            return await self._async_end_shadow(restart=True)

    async def _async_end_shadow(self, restart: bool) -> dict[str, Any] | None:
        run, self.shadow = self.shadow, None
        if run is None:
            return None
        if restart and not self._stopping:
            await self._async_restart_workers()
        report = run.report(self.now())
        try:
            await self.hub.async_add_executor_job(update_model_metrics, self.hub.path(run.model), "shadow", report)
        except OSError as err:
            _LOGGER.warning("anpr: shadow report for %s not written: %s", run.model, err.strerror or err)
        _LOGGER.info("anpr: shadow reading with %s ended: %s passes, %s agree, %s differ, %s unread",
                     run.model, report["passes"], report["agree"], report["differ"], report["candidate_unread"])
        self.hub.bus.async_fire(EVENT_SHADOW_REPORT, dict(report), context=Context())
        return report

    def _read_json(self, name: str) -> Any:
        """A control file in anpr_models/ (None when absent or unreadable). Blocking."""
        import json

        try:
            return json.loads((self.hub.path(MODELS_SUBDIR) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @callback
    def _async_model_timer(self, _now: datetime) -> None:
        if not self._model_lock.locked():
            self._spawn(self._async_check_models(), "anpr model check")

    async def _async_check_models(self) -> None:
        """Apply what the CLI asked through anpr_models/ (a promotion or rollback, a shadow run), and end a
        shadow run whose time is up."""
        promoted = await self.hub.async_add_executor_job(self.models.current)
        model = promoted.get("model") if promoted else None
        if model != self.model and not self._stopping:
            _LOGGER.info("anpr: recogniser switched from the command line (%s): restarting the workers",
                         model or "the committed model")
            await self.async_switch_model(model)
        request = await self.hub.async_add_executor_job(self._read_json, SHADOW_FILE)
        if request and request != self._shadow_request and not self._stopping:
            self._shadow_request = request
            await self._async_shadow_request(request)
        if self.shadow is not None and self.now() >= self.shadow.until:
            await self.async_stop_shadow()

    async def _async_shadow_request(self, request: dict[str, Any]) -> None:
        try:
            minutes = float(request["minutes"])
            left = float(request["requested"]) + minutes * 60.0 - self.now()
            model = await self.hub.async_add_executor_job(
                functools.partial(candidate_model, self.hub.config_dir, str(request["model"]), evaluated=False))
        except (KeyError, TypeError, ValueError) as err:  # ModelRefused is a ValueError
            reason = err if isinstance(err, ModelRefused) else f"malformed request ({err})"
            _LOGGER.warning("anpr: shadow request in %s/%s ignored: %s", MODELS_SUBDIR, SHADOW_FILE, reason)
            return
        if left > 0:
            await self.async_start_shadow(model, left / 60.0, request.get("by"))

    async def async_stop(self) -> None:
        """Stop the timers and workers, close open passes, write what is pending."""
        self._stopping = True
        while self._removers:
            self._removers.pop()()
        for task in list(self._resolving):
            task.cancel()
        await self._async_end_shadow(restart=False)
        await self._async_stop_workers()
        for camera in self.cameras.values():
            for track in camera.tracker.close_all():
                await self._async_finish_pass(camera, track)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.read_log.async_flush()

    def _spawn(self, coro: Any, name: str) -> None:
        task = self.hub.async_create_task(coro, name)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # ---- worker messages (on the loop)

    def _make_handler(self, camera: CameraState) -> Any:
        @callback
        def _on_message(message: dict[str, Any]) -> None:
            if self._stopping:
                return
            kind = message.get("type")
            if kind == "stats":
                self._on_stats(camera, message)
            elif kind == "frame":
                self._on_frame(camera, message)
            elif kind == "fatal":
                camera.available = False
                camera.error = message.get("error")
                _LOGGER.error("anpr: camera %s cannot read plates: %s", camera.config.id, camera.error)
                self._write(camera.entities[:1])

        return _on_message

    def _on_stats(self, camera: CameraState, msg: dict[str, Any]) -> None:
        was = camera.available
        camera.available = bool(msg.get("available"))
        camera.error = msg.get("error")
        if "processed" in msg:
            ts, processed = float(msg["ts"]), int(msg["processed"])
            if camera._last_stats is not None and ts > camera._last_stats[0]:
                camera.fps = round((processed - camera._last_stats[1]) / (ts - camera._last_stats[0]), 2)
            camera._last_stats = (ts, processed)
            camera.frames, camera.processed = int(msg["frames"]), processed
            camera.dropped, camera.queue = int(msg["dropped"]), int(msg["queue"])
        if camera.worker is not None:
            camera.restarts = camera.worker.restarts
        if was != camera.available:
            _LOGGER.info("anpr: camera %s is %s%s", camera.config.id,
                         "available" if camera.available else "unavailable",
                         f" ({camera.error})" if camera.error and not camera.available else "")
        self._write(camera.entities[:1])

    def _on_frame(self, camera: CameraState, msg: dict[str, Any]) -> None:
        now = self.now()
        observations = []
        for plate in msg["observations"]:
            observations.append(TrackObservation(
                now, plate["text"], tuple(plate["char_confidences"]) if len(plate["char_confidences"]) ==
                len(plate["text"]) else tuple([plate["confidence"]] * len(plate["text"])),
                tuple(plate["box"]), {"crop": plate.get("crop_jpeg"), "frame": msg.get("frame_jpeg"),
                                      "frame_ts": msg["ts"], "format": plate["format"],
                                      "country": plate["country"], SHADOW_KEY: plate.get(SHADOW_KEY)}))
        for track in camera.tracker.update(observations):
            self._check_hotlists(camera, track)

    # ---- hotlists

    def _check_hotlists(self, camera: CameraState, track: Track) -> None:
        if track.duplicate:
            return
        text, _confs = track.voted()
        confidence = track.confidence
        for match in self.hotlists.match(text, self.now()):
            key = (match.list.id, match.entry.plate)
            if key in track.fired or confidence < match.list.min_confidence:
                continue
            track.fired.add(key)
            self._spawn(self._async_fire_hit(camera, track, match, text, confidence), "anpr hotlist hit")

    async def _async_fire_hit(self, camera: CameraState, track: Track, match: HotlistMatch, text: str,
                              confidence: float) -> None:
        cfg = camera.config
        best = track.best()
        hit_id = uuid.uuid4().hex
        frame_ts = float(track.observations[-1].extra.get("frame_ts") or self.hub.clock.time())
        crop_path, frame_path = await self.hub.async_add_executor_job(
            self._save_evidence, "hits", cfg.id, hit_id, best.extra.get("crop"), best.extra.get("frame"),
            frame_ts)
        hit = Hit(hit_id, self.now(), cfg.id, match.list.id, match.entry.plate, text, confidence,
                  match.distance, crop_path=crop_path, frame_path=frame_path)
        camera.hits += 1
        data: HotlistHitData = {
            "hit_id": hit_id, "list": match.list.id, "list_name": match.list.name, "list_kind": match.list.kind,
            "priority": match.entry.priority, "entry": match.entry.as_dict(), "plate": text,
            "confidence": confidence, "distance": round(match.distance, 3), "camera": cfg.id,
            "camera_name": cfg.name, "area": cfg.area, "lane": cfg.lane, "direction": track.direction(),
            "location": cfg.location, "evidence": {"crop": crop_path, "frame": frame_path},
            "frame_ts": frame_ts,
        }
        data["latency_ms"] = round((time.time() - frame_ts) * 1000.0, 1)
        _LOGGER.debug("anpr: hit on %s at %s (%s)", match.list.id, cfg.id, redact(text))
        self.hub.bus.async_fire(EVENT_HOTLIST_HIT, dict(data), context=Context())
        await self.hit_log.async_add(hit)
        if cfg.camera:  # the camera's recording around the hit is evidence
            await async_lock_evidence(self.hub, cfg.camera, frame_ts - HIT_LOCK_BEFORE, frame_ts + HIT_LOCK_AFTER,
                                      f"anpr:{hit_id}")
        self._write([self.acceptance_entity, *camera.entities[:1]])

    def _save_evidence(self, kind: str, camera: str, name: str, crop: bytes | None, frame: bytes | None,
                       ts: float) -> tuple[str | None, str | None]:
        """Write the crop and the full frame; paths relative to the config dir (blocking)."""
        paths: list[str | None] = []
        for suffix, data in (("crop", crop), ("frame", frame)):
            if not data:
                paths.append(None)
                continue
            path = self.media.save(kind, camera, f"{name}_{suffix}", data, ts)
            try:
                paths.append(str(path.relative_to(self.hub.config_dir)))
            except ValueError:
                paths.append(str(path))
        return paths[0], paths[1]

    # ---- passes

    @callback
    def _async_tick_tracks(self, _now: datetime) -> None:
        now = self.now()
        for camera in self.cameras.values():
            for track in camera.tracker.expire(now):
                self._spawn(self._async_finish_pass(camera, track), "anpr pass")

    async def _async_finish_pass(self, camera: CameraState, track: Track) -> None:
        """A vehicle has gone: one read for the pass; counts, journeys, storage, event."""
        cfg = camera.config
        self._check_hotlists(camera, track)  # the vote over every frame may match where single frames did not
        text, _confs = track.voted()
        if len(text) < 4 or track.duplicate:
            return
        if self.shadow is not None:  # counted only: the candidate's read never reaches hits or storage
            self.shadow.add(cfg.id, track, text)
        confidence = track.confidence
        plate_hash = self.hasher(text)
        hit = bool(track.fired)
        ts = track.last_ts
        camera.passes += 1
        camera.last_pass_ts = ts
        for counter in camera.counters.values():
            counter.add(ts)
        for journey in self.journeys.values():
            if journey.config.destination == cfg.id and journey.tracker.destination(plate_hash, ts) is not None:
                self._write(journey.entities)
            if journey.config.origin == cfg.id:
                journey.tracker.origin(plate_hash, ts)
        direction = track.direction()
        match = correct(text)
        data: PlateReadData = {
            "camera": cfg.id, "camera_name": cfg.name, "area": cfg.area, "lane": cfg.lane,
            "direction": direction, "heading": cfg.direction if direction == "approaching" else None,
            "plate_hash": plate_hash, "format": match.format if match else "unknown",
            "country": match.country if match else "", "confidence": confidence,
            "frames": len(track.observations), "first_seen": track.first_ts, "last_seen": ts, "hit": hit,
            "lists": sorted({lst for lst, _plate in track.fired}),
        }
        if hit or self.plate_in_events:
            data["plate"] = text
        self.read_log.add(ts=ts, camera=cfg.id, plate_hash=plate_hash, plate=text if hit else None, hit=hit,
                          direction=direction, lane=cfg.lane, confidence=confidence)
        if not hit and self.retention["non_hit_images_hours"] > 0:
            best = track.best()
            await self.hub.async_add_executor_job(self._save_evidence, "reads", cfg.id,
                                                  f"{int(ts * 1000)}_{plate_hash[:12]}", best.extra.get("crop"),
                                                  None, ts)
        _LOGGER.debug("anpr: pass at %s (%s, %d frames)", cfg.id, redact(text), len(track.observations))
        self.hub.bus.async_fire(EVENT_PLATE_READ, dict(data), context=Context())
        self._write(camera.entities)

    # ---- periodic work

    @callback
    def _async_tick_traffic(self, _now: datetime) -> None:
        for camera in self.cameras.values():
            self._write(camera.entities[1:])
        for journey in self.journeys.values():
            self._write(journey.entities)

    @callback
    def _async_flush(self, _now: datetime) -> None:
        if self.read_log.pending:
            self._spawn(self.read_log.async_flush(), "anpr flush reads")

    @callback
    def _async_purge_timer(self, _now: datetime) -> None:
        self._spawn(self.async_purge(), "anpr purge")

    async def async_purge(self) -> dict[str, int]:
        """Apply retention: non-hit reads and images, hits and their evidence, expired list entries."""
        now = self.now()
        hours = 3600.0
        keep_hits = now - self.retention["hits_days"] * 24 * hours
        await self.read_log.async_flush()
        reads = await self.read_log.async_purge(now - self.retention["reads_hours"] * hours, keep_hits)
        hits = await self.hit_log.async_purge(keep_hits)
        images = await self.hub.async_add_executor_job(
            self.media.purge, "reads", now - self.retention["non_hit_images_hours"] * hours)
        images += await self.hub.async_add_executor_job(self.media.purge, "hits", keep_hits)
        # the site's training samples are hit crops: they go with their hits
        images += await self.hub.async_add_executor_job(self.media.purge, TRAINING_KIND, keep_hits)
        expired = await self.hotlists.async_purge_expired()
        if expired:
            self._write(list(self.list_entities.values()))
        return {"reads": reads, "hits": hits, "images": images, "expired_entries": expired}

    # ---- helpers for services and entities

    def journey_stats(self, journey_id: str) -> JourneyStats:
        return self.journeys[journey_id].tracker.stats(self.now())

    def camera(self, camera_id: str) -> CameraState:
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise ServiceValidationError(f"'camera': no ANPR camera {camera_id!r}") from None

    def plant(self, camera_id: str, plate: str) -> None:
        """Send a vehicle with this plate past a simulated camera."""
        camera = self.camera(camera_id)
        if camera.config.type != "sim" or camera.worker is None:
            raise ServiceValidationError(f"'camera': {camera_id} is not a simulated camera")
        camera.worker.send({"type": "plant", "plate": plate})

    def write_lists(self) -> None:
        self._write(list(self.list_entities.values()))

    def write_acceptance(self) -> None:
        self._write([self.acceptance_entity])

    def _write(self, entities: list[Any]) -> None:
        for entity in entities:
            if entity is not None and entity.hub is not None and entity.entity_id is not None:
                entity.async_write_state()

    def camera_entities(self, camera: CameraState) -> list[Any]:
        """The camera entity first, then its count sensors."""
        camera.entities = [CameraEntity(self, camera), CountSensor(self, camera, 60), CountSensor(self, camera, 900)]
        return camera.entities
