"""The integration at run time: towers, workers, the fire registry, events, entities, weather."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from hub.core import CALLBACK_TYPE, Context, Event, Hub, callback
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.event import async_track_state_change_event
from hub.helpers.storage import Store
from hub.helpers.translation import localized_name
from hub.helpers.workers import MSG_EXITED

from .config import processor_spec, terrain_spec
from .const import (
    CAMERA_SCANNING,
    DOMAIN,
    ENTITY_NAMES,
    EVENT_FIRE_CLEARED,
    EVENT_FIRE_DETECTED,
    EVENT_FIRE_UPDATED,
)
from .elevation import Terrain
from .entity import CameraStatusSensor, FireEntity, FireWeatherSensor
from .fires import Fire, FireChange, FireRegistry, nearest_km
from .geolocation import TowerSite
from .processor import TowerProcessor, build_terrain
from .source import SimulatedIgnitions, create_source
from .tower import TowerScanner
from .weather import ffwi, ffwi_class, spread_cone
from .worker import FrameWorker, build_terrain_in_worker, simulator_spec

__all__ = ["ThermalFireManager"]

_LOGGER = logging.getLogger(__name__)
STORAGE_KEY = f"{DOMAIN}.exclusions"
STORAGE_VERSION = 1


class ThermalFireManager:
    """Owns everything the integration runs; `async_setup` / `async_unload` drive it."""

    def __init__(self, hub: Hub, config: dict[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.towers = {t["id"]: t for t in config["towers"]}
        self.world: SimulatedIgnitions | None = None  # when a tower is simulated (its worker renders the scene)
        self.terrain: Terrain | None = None
        self.registry: FireRegistry | None = None
        self.sites: dict[str, TowerSite] = {}
        self.workers: dict[str, FrameWorker] = {}
        self.scanners: dict[str, TowerScanner] = {}
        self.cameras: dict[str, CameraStatusSensor] = {}
        self.fire_entities: dict[str, FireEntity] = {}
        self.weather_sensor = FireWeatherSensor(localized_name(hub, ENTITY_NAMES, "fire_weather_index"))
        self.exclusions: dict[str, dict[str, list[list[int]]]] = {}  # tower -> preset name -> rects
        self.store: Store[dict[str, Any]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self.removers: list[CALLBACK_TYPE] = []
        self.handled: dict[str, int] = {}  # frames whose result (or error) reached the loop, per tower

    # ---- lifecycle

    async def async_setup(self) -> None:
        """Terrain, registry, entities, workers and scan loops."""
        stored = await self.store.async_load() or {}
        self.exclusions = {
            t: {p: [list(r) for r in rects] for p, rects in presets.items()}
            for t, presets in stored.get("exclusions", {}).items()
        }
        spec_terrain = terrain_spec(self.config)
        start_ts = self.hub.clock.time()
        if any(t["camera"]["source"] == "simulator" for t in self.config["towers"]):
            self.world = SimulatedIgnitions()
        if spec_terrain["type"] == "synthetic":  # scipy and its temporaries: built in a one-shot worker process
            self.terrain = await self.hub.async_add_executor_job(build_terrain_in_worker, spec_terrain)
        else:
            self.terrain = await self.hub.async_add_executor_job(build_terrain, spec_terrain)
        specs = {
            tid: processor_spec(t, self.config, spec_terrain, self.exclusions.get(tid))
            for tid, t in self.towers.items()
        }
        for tid, tower in self.towers.items():
            if tower["camera"]["source"] == "simulator":
                specs[tid]["simulator"] = simulator_spec(tower, self.config, start_ts)
        for tid, spec in specs.items():
            self.sites[tid] = await self.hub.async_add_executor_job(self._site, spec)
        self.registry = FireRegistry(self.sites, self.terrain)
        self.cameras = {tid: CameraStatusSensor(t, localized_name(self.hub, ENTITY_NAMES, "thermal_camera",
                                                                     tower=t.get("name") or tid))
                        for tid, t in self.towers.items()}
        await async_add_entities(self.hub, DOMAIN, [*self.cameras.values(), self.weather_sensor])
        self._setup_weather()
        for tid, tower in self.towers.items():
            worker = FrameWorker(specs[tid], self._message_handler(tid), queue_size=tower["camera"]["queue_size"])
            await self.hub.async_add_executor_job(worker.start)
            self.workers[tid] = worker
            source = create_source(self.hub, tower, self.world)
            scanner = TowerScanner(self.hub, tower, source, worker, self._status_writer(tid))
            self.scanners[tid] = scanner
            try:
                await scanner.async_start()
            except Exception as err:  # one broken camera must not stop the others
                _LOGGER.error("Tower %s did not start: %s", tid, err)

    def _site(self, spec: dict[str, Any]) -> TowerSite:
        assert self.terrain is not None
        return TowerProcessor(spec, terrain=self.terrain).site

    async def async_unload(self) -> None:
        """Stop scanners and workers, call removers."""
        for remover in self.removers:
            remover()
        self.removers.clear()
        for scanner in self.scanners.values():
            await scanner.async_stop()
        for worker in self.workers.values():
            await self.hub.async_add_executor_job(worker.stop)
        self.scanners.clear()
        self.workers.clear()

    async def async_wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until every scan loop waits for its next frame time and every worker has caught up.

        For tests and replays on a FakeClock: advance the clock, then wait here.
        """
        loop = self.hub.loop
        deadline = loop.time() + timeout
        while True:
            scanning = [s for s in self.scanners.values() if s.running]
            busy = any(not s.idle.is_set() for s in scanning)
            behind = any(
                w.alive and self.handled.get(tid, 0) + w.stats.dropped < w.stats.submitted
                for tid, w in self.workers.items()
            )
            if not busy and not behind:
                await asyncio.sleep(0)
                return
            if loop.time() > deadline:
                raise TimeoutError(f"{DOMAIN}: towers still busy after {timeout} s")
            await asyncio.sleep(0.005)

    # ---- worker messages

    def _message_handler(self, tower_id: str) -> Any:
        loop = self.hub.loop

        def handle(message: dict[str, Any]) -> None:  # reader thread
            loop.call_soon_threadsafe(self._on_message, tower_id, message)

        return handle

    @callback
    def _on_message(self, tower_id: str, message: dict[str, Any]) -> None:
        kind = message.get("type")
        scanner = self.scanners.get(tower_id)
        if kind == "ready" and scanner is not None:
            scanner.ready = True
            scanner.state = CAMERA_SCANNING if scanner.grabbed else scanner.state
        elif kind == "fatal":
            _LOGGER.error("Tower %s worker failed to start: %s", tower_id, message.get("message"))
            if scanner is not None:
                scanner.last_error = message.get("message")
                scanner.state = "error"
        elif kind == MSG_EXITED and scanner is not None:  # the harness restarts it; "ready" comes again
            scanner.ready = False
            scanner.last_error = f"worker exited ({message.get('exitcode')}); restarting"
            scanner.state = "error"
        elif kind == "error":
            self.handled[tower_id] = self.handled.get(tower_id, 0) + 1
            _LOGGER.warning("Tower %s frame %s failed: %s", tower_id, message.get("seq"), message.get("message"))
        elif kind == "result":
            self.handled[tower_id] = self.handled.get(tower_id, 0) + 1
            for report in message["events"]:
                self._ingest(report)
        self._write_status(tower_id)

    def _status_writer(self, tower_id: str) -> Any:
        @callback
        def write() -> None:
            self._write_status(tower_id)

        return write

    @callback
    def _write_status(self, tower_id: str) -> None:
        sensor = self.cameras.get(tower_id)
        scanner = self.scanners.get(tower_id)
        worker = self.workers.get(tower_id)
        if sensor is None or scanner is None or worker is None or sensor.hub is None:
            return
        sensor.set_status(scanner.state, worker.stats, scanner.details())
        sensor.async_write_state()

    # ---- fires

    @callback
    def _ingest(self, report: dict[str, Any]) -> None:
        assert self.registry is not None
        for change in self.registry.ingest(report):
            self.apply_change(change)

    @callback
    def apply_change(self, change: FireChange, context: Context | None = None) -> None:
        """Fire the event of a change and update the entities (the registry already changed)."""
        assert self.registry is not None
        fire = change.fire
        if change.kind == "detected":
            payload = self.registry.detected_payload(fire)
            tower = payload["properties"]["tower"]
            payload["properties"]["tower_name"] = self.towers.get(tower, {}).get("name") or tower  # for messages
            entity = FireEntity(fire, nearest_km(fire, self.sites),
                                localized_name(self.hub, ENTITY_NAMES, "fire", number=fire.number))
            self.fire_entities[fire.fire_id] = entity
            self._refresh_entity(fire)
            self.hub.async_create_task(async_add_entities(self.hub, DOMAIN, [entity]), f"add {fire.fire_id}")
            self.hub.bus.async_fire(EVENT_FIRE_DETECTED, payload, context=context)
            _LOGGER.warning(
                "Fire %s detected at %.5f, %.5f (+-%.0f m) by %s",
                fire.fire_id,
                payload["properties"]["latitude"],
                payload["properties"]["longitude"],
                payload["properties"]["uncertainty_m"],
                ", ".join(fire.towers),
            )
        elif change.kind == "updated":
            self.hub.bus.async_fire(
                EVENT_FIRE_UPDATED, self.registry.updated_payload(fire, self._wind()), context=context
            )
            self._refresh_entity(fire)
        elif change.kind == "cleared":
            self.hub.bus.async_fire(
                EVENT_FIRE_CLEARED,
                {
                    "fire_id": fire.fire_id,
                    "entity_id": f"geo_location.{fire.fire_id}",
                    "reason": change.reason,
                    "status": fire.status,
                    "first_seen": fire.first_ts,
                    "last_seen": fire.last_ts,
                    "duration_s": round(fire.last_ts - fire.first_ts, 1),
                },
                context=context,
            )
            if fire.fire_id in self.fire_entities:
                entity = self.fire_entities.pop(fire.fire_id)
                self.hub.async_create_task(entity.async_remove(), f"remove {fire.fire_id}")

    @callback
    def _refresh_entity(self, fire: Fire) -> None:
        entity = self.fire_entities.get(fire.fire_id)
        if entity is None or fire.fix is None:
            return
        best = fire.best()
        extra: dict[str, Any] = {
            "confidence": best.report.get("confidence"),
            "temperature_k": best.report["hotspot"]["peak_k"],
            "size_m2": best.report.get("size_m2"),
            "growth_m2_per_min": fire.growth_m2_per_min(),
            "method": "two_towers" if len(fire.fix.towers) > 1 else "terrain_intersection",
        }
        wind = self._wind()
        if wind is not None:
            extra["spread"] = spread_cone(
                fire.fix.lat, fire.fix.lon, wind[0], wind[1], horizon_s=self.config["weather"]["spread_horizon_s"]
            )
        entity.set_details(nearest_km(fire, self.sites), extra)
        if entity.hub is not None and entity.entity_id is not None:
            entity.async_write_state()

    def fire_by_id(self, ident: str) -> Fire | None:
        """A fire by `fire_<n>` or `geo_location.fire_<n>` (the entity's actual id counts too)."""
        assert self.registry is not None
        key = ident.split(".", 1)[1] if ident.startswith("geo_location.") else ident
        fire = self.registry.fires.get(key)
        if fire is not None:
            return fire
        for fid, entity in self.fire_entities.items():
            if entity.entity_id == ident:
                return self.registry.fires.get(fid)
        return None

    async def async_store(self) -> None:
        """Persist run-time exclusions."""
        await self.store.async_save({"exclusions": self.exclusions})

    # ---- weather

    def _setup_weather(self) -> None:
        weather = self.config["weather"]
        ids = [weather[k] for k in ("wind_speed", "wind_direction", "temperature", "humidity") if weather.get(k)]
        if ids:
            self.removers.append(async_track_state_change_event(self.hub, ids, self._weather_changed))
        self._update_weather()
        if self.weather_sensor.hub is not None:
            self.weather_sensor.async_write_state()

    @callback
    def _weather_changed(self, event: Event) -> None:
        self._update_weather()
        if self.weather_sensor.hub is not None:
            self.weather_sensor.async_write_state()

    def _number(self, key: str) -> float | None:
        entity_id = self.config["weather"].get(key)
        state = self.hub.states.get(entity_id) if entity_id else None
        if state is None:
            return None
        try:
            value = float(state.state)
        except ValueError:
            return None
        if not math.isfinite(value):
            return None
        unit = str(state.attributes.get("unit_of_measurement", "")).lower()
        if key == "wind_speed" and unit in ("km/h", "kmh"):
            value /= 3.6
        elif key == "wind_speed" and unit in ("kn", "kt", "knots"):
            value *= 0.514444
        elif key == "temperature" and unit in ("°f", "f"):
            value = (value - 32.0) * 5.0 / 9.0
        elif key == "temperature" and unit in ("k",):
            value -= 273.15
        return value

    def _wind(self) -> tuple[float, float] | None:
        speed, direction = self._number("wind_speed"), self._number("wind_direction")
        if speed is None or direction is None:
            return None
        return speed, direction % 360.0

    @callback
    def _update_weather(self) -> None:
        temp, humidity, wind = self._number("temperature"), self._number("humidity"), self._number("wind_speed")
        direction = self._number("wind_direction")
        details: dict[str, Any] = {
            "temperature_c": temp,
            "humidity_pct": humidity,
            "wind_speed_ms": wind,
            "wind_from_deg": direction,
        }
        value = None
        if temp is not None and humidity is not None and wind is not None:
            value = ffwi(temp, humidity, wind)
            details["class"] = ffwi_class(value)
        if direction is not None:
            details["spread_direction_deg"] = round((direction + 180.0) % 360.0, 1)
        self.weather_sensor.set_value(value, details)
