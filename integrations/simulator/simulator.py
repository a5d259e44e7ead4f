"""The simulated city: builds the seeded models, the Modbus PLC server and the MQTT devices, and runs them.

Every periodic step runs on `hub.clock` (`async_track_time_interval`), so a FakeClock drives the
whole city in tests; every device has its own generator seeded from `seed` and its id, so adding
a device never changes another one's readings.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.helpers.event import async_track_time_interval
from hub.helpers.translation import localized_names
from integrations.bollards.plc_sim import BollardPLCSimulator
from integrations.bollards.registers import BollardState
from integrations.modbus.const import DataType, InputType

from .agency_receiver import AgencyReceiver
from .cameras import SimulatedCameras
from .city_models import AirQualityModel, EnergyMeterModel, LoopCounterModel
from .const import (
    CONF_AGENCY_RECEIVER,
    CONF_AIR_QUALITY,
    CONF_BASE_KW,
    CONF_BOLLARDS,
    CONF_CALIMA_RATE,
    CONF_CAMERAS,
    CONF_CAPACITY,
    CONF_COUNTERS,
    CONF_DISCOVERY,
    CONF_ELEVATION,
    CONF_ENERGY,
    CONF_EXPOSURE,
    CONF_FAULT_RATE,
    CONF_FREE_SPEED,
    CONF_GALE_DURATION,
    CONF_GALE_RATE,
    CONF_HEARTBEAT_PERIOD,
    CONF_HOST,
    CONF_ID,
    CONF_INTERVAL,
    CONF_LANES,
    CONF_LOOP_DWELL,
    CONF_LOOP_RATE,
    CONF_METERS,
    CONF_MODBUS,
    CONF_PANELS,
    CONF_PEAK_KW,
    CONF_PIXEL_ERROR_RATE,
    CONF_PLCS,
    CONF_PORT,
    CONF_PORT_AREA,
    CONF_PROFILE,
    CONF_REMOVE_ON_STOP,
    CONF_REPAIR_TIME,
    CONF_SECRETS,
    CONF_SEED,
    CONF_SLAVE,
    CONF_STATE,
    CONF_STATIONS,
    CONF_STATUS_INTERVAL,
    CONF_TOPIC_PREFIX,
    CONF_TOPICS,
    CONF_TRAFFIC,
    CONF_TRAFFIC_FACTOR,
    CONF_TRANSPORT,
    CONF_TRAVEL_TIME,
    CONF_WEATHER,
    DISCOVERY_NAMES,
    EVENT_SIMULATOR_GALE,
    SDM_IMPORT_ENERGY,
    SDM_TOTAL_POWER,
    SDM_VOLTAGE_L1,
    STATUS_SUFFIX,
)
from .devices import AirQualityStation, EnergyMeter, LoopCounter, MqttDevice, WeatherStation
from .mqtt_link import SimMqttLink
from .signs import SignFleet
from .street import BollardField
from .weather import Gale, RegionalWeather, StationModel

__all__ = ["CitySimulator"]

_LOGGER = logging.getLogger(__name__)

# Where the regional weather is computed (the city centre); stations add their own exposure.
_CITY = (35.8883, -5.3162)


class CitySimulator:
    """All simulated devices of a site, on one seed."""

    def __init__(self, hub: Hub, config: Mapping[str, Any], mqtt: Mapping[str, Any] | None,
                 discovery_prefix: str, tz: ZoneInfo) -> None:
        self.hub = hub
        self.config = config
        self.seed: int = config[CONF_SEED]
        self.tz = tz
        self.prefix: str = config[CONF_TOPIC_PREFIX]
        self.discovery_prefix = discovery_prefix
        self._removers: list[CALLBACK_TYPE] = []
        weather = config[CONF_WEATHER]
        self.region = RegionalWeather(self.rng("region"), tz, *_CITY, weather[CONF_GALE_RATE],
                                      weather[CONF_GALE_DURATION])
        self.stations: dict[str, WeatherStation] = {
            c[CONF_ID]: WeatherStation(c, self.prefix, StationModel(
                self.rng(f"weather:{c[CONF_ID]}"), self.region, exposure=c[CONF_EXPOSURE],
                elevation=c[CONF_ELEVATION]))
            for c in weather[CONF_STATIONS]
        }
        air = config[CONF_AIR_QUALITY]
        self.air: dict[str, AirQualityStation] = {
            c[CONF_ID]: AirQualityStation(c, self.prefix, AirQualityModel(
                self.rng(f"air:{c[CONF_ID]}"), self.region, traffic_factor=c[CONF_TRAFFIC_FACTOR],
                port=c[CONF_PORT_AREA], calima_rate=air[CONF_CALIMA_RATE]))
            for c in air[CONF_STATIONS]
        }
        self.meters: dict[str, EnergyMeter] = {}
        self.modbus_meters: dict[str, tuple[int, EnergyMeterModel]] = {}
        for c in config[CONF_ENERGY][CONF_METERS]:
            model = EnergyMeterModel(self.rng(f"energy:{c[CONF_ID]}"), self.region, profile=c[CONF_PROFILE],
                                     base_kw=c[CONF_BASE_KW], peak_kw=c[CONF_PEAK_KW],
                                     energy_kwh=self.rng(f"energy-start:{c[CONF_ID]}").uniform(2e5, 9e5))
            if isinstance(c[CONF_TRANSPORT], dict):
                self.modbus_meters[c[CONF_ID]] = (c[CONF_TRANSPORT][CONF_SLAVE], model)
            else:
                self.meters[c[CONF_ID]] = EnergyMeter(c, self.prefix, model)
        self.counters: dict[str, LoopCounter] = {
            c[CONF_ID]: LoopCounter(c, self.prefix, LoopCounterModel(
                self.rng(f"traffic:{c[CONF_ID]}"), self.region, lanes=c[CONF_LANES], capacity=c[CONF_CAPACITY],
                free_speed=c[CONF_FREE_SPEED], profile=c[CONF_PROFILE]))
            for c in config[CONF_TRAFFIC][CONF_COUNTERS]
        }
        self.plc: BollardPLCSimulator | None = None
        self.field: BollardField | None = None
        modbus = config.get(CONF_MODBUS)
        if modbus is not None:
            self._build_plcs(modbus)
        self.link: SimMqttLink | None = None
        self.signs: SignFleet | None = None
        if self._mqtt_devices() or config.get(CONF_PANELS) is not None:
            settings = dict(mqtt or {})
            self.link = SimMqttLink(hub, settings["broker"], settings["port"],
                                    status_topic=f"{self.prefix}/{STATUS_SUFFIX}",
                                    username=settings.get("username"), password=settings.get("password"),
                                    client_id=settings.get("client_id"))
            panels = config.get(CONF_PANELS)
            if panels is not None:
                self.signs = SignFleet(hub, self.link, self.rng("signs"), list(panels[CONF_TOPICS]),
                                       panels[CONF_PIXEL_ERROR_RATE], self.region.sun)
        cameras = config.get(CONF_CAMERAS)
        self.cameras = SimulatedCameras(hub, cameras) if cameras is not None else None
        receiver = config.get(CONF_AGENCY_RECEIVER)
        self.receiver: AgencyReceiver | None = None
        if receiver is not None:
            self.receiver = AgencyReceiver(hub, receiver[CONF_HOST], receiver[CONF_PORT], receiver[CONF_SECRETS])

    def rng(self, name: str) -> random.Random:
        """A generator of its own for `name`, derived from the seed (string seeds hash the same every run)."""
        return random.Random(f"{self.seed}:{name}")

    def _mqtt_devices(self) -> list[MqttDevice]:
        return [*self.stations.values(), *self.air.values(), *self.meters.values(), *self.counters.values()]

    def _build_plcs(self, modbus: Mapping[str, Any]) -> None:
        plc = self.plc = BollardPLCSimulator(modbus[CONF_HOST], modbus[CONF_PORT], clock=self.hub.clock,
                                             heartbeat_period=modbus[CONF_HEARTBEAT_PERIOD],
                                             seed=self.seed)
        plc.rng = self.rng("plc-travel")
        self.field = BollardField(self.hub, plc, self.tz, fault_rate=modbus[CONF_FAULT_RATE],
                                  repair_time=modbus[CONF_REPAIR_TIME], loop_dwell=modbus[CONF_LOOP_DWELL])
        for plc_config in modbus[CONF_PLCS]:
            for index, bollard in enumerate(plc_config[CONF_BOLLARDS]):
                state = BollardState.RAISED if bollard[CONF_STATE] == "raised" else BollardState.LOWERED
                sim = plc.add_bollard(plc_config[CONF_SLAVE], index * 16, name=bollard[CONF_ID],
                                      travel_time=modbus[CONF_TRAVEL_TIME], state=state)
                self.field.add(bollard[CONF_ID], sim, self.rng(f"bollard:{bollard[CONF_ID]}"),
                               bollard.get(CONF_LOOP_RATE, modbus[CONF_LOOP_RATE]))

    # ---- lifecycle

    async def async_start(self) -> None:
        """Start the Modbus server and the street, connect the MQTT devices, start the clocks."""
        if self.plc is not None:
            await self.plc.async_start()
            _LOGGER.info("Simulated bollard PLCs on Modbus %s:%s (%d bollards, slaves %s)", self.plc.host,
                         self.plc.port, len(self.plc.bollards), sorted({s for s, _ in self.plc.bollards}))
        if self.field is not None:
            self.field.start()
        if self.receiver is not None:
            await self.receiver.async_start()
        if self.cameras is not None:
            await self.cameras.async_start()
        if self.link is not None:
            self._announce()
            if self.signs is not None:
                self.signs.async_start()
            self.link.add_connect_listener(self._report_last)
            self.link.async_start()
        self._step_all()
        self._every(self.config[CONF_WEATHER][CONF_INTERVAL], self._step_weather)
        self._every(self.config[CONF_AIR_QUALITY][CONF_INTERVAL], self._step_air)
        self._every(self.config[CONF_ENERGY][CONF_INTERVAL], self._step_energy)
        self._every(self.config[CONF_TRAFFIC][CONF_INTERVAL], self._step_traffic)
        if self.signs is not None:
            self._every(self.config[CONF_PANELS][CONF_STATUS_INTERVAL], self._step_signs)

    async def async_stop(self) -> None:
        """Stop the clocks, the street, the server and the MQTT connection."""
        while self._removers:
            self._removers.pop()()
        if self.field is not None:
            self.field.stop()
        if self.plc is not None:
            await self.plc.async_stop()
        if self.receiver is not None:
            await self.receiver.async_stop()
        if self.cameras is not None:
            await self.cameras.async_stop()
        if self.link is not None:
            await self.link.async_stop(remove_retained=self.config[CONF_REMOVE_ON_STOP])

    def _every(self, seconds: float, step: Callable[[float], None]) -> None:
        @callback
        def run(_now: datetime) -> None:
            step(seconds)

        self._removers.append(async_track_time_interval(self.hub, run, seconds))

    # ---- MQTT announcements and readings

    def _announce(self) -> None:
        link = self.link
        assert link is not None
        names = localized_names(self.hub, DISCOVERY_NAMES)  # in the site's language
        for device in self._mqtt_devices():
            link.announce(device.info_topic, json.dumps(device.info(), ensure_ascii=False))
            if self.config[CONF_DISCOVERY]:
                found = device.discovery(self.discovery_prefix, link.status_topic, names)
                if found is not None:
                    topic, payload = found
                    link.announce(topic, json.dumps(payload, ensure_ascii=False))

    def _report_last(self) -> None:
        """On (re)connection every device sends its latest reading rather than wait for the next one."""
        for device in self._mqtt_devices():
            if device.last is not None:
                self._publish(device, json.dumps(device.last, separators=(",", ":")))

    def _publish(self, device: MqttDevice, payload: str) -> None:
        if self.link is not None:
            self.link.publish_nowait(device.topic, payload)

    def _step_all(self) -> None:
        self._step_weather(0.0)
        self._step_air(0.0)
        self._step_energy(0.0)
        self._step_traffic(self.config[CONF_TRAFFIC][CONF_INTERVAL])

    @callback
    def _step_weather(self, _interval: float) -> None:
        now = self.hub.clock.time()
        had_gale = self.region.gale
        self.region.step(now)
        if self.region.gale is not None and self.region.gale is not had_gale:
            self._gale_started(self.region.gale)
        for station in self.stations.values():
            self._publish(station, station.read(now))

    def _gale_started(self, gale: Gale) -> None:
        _LOGGER.info("Simulated Levante gale: %.0f min, mean wind %.0f km/h", gale.duration / 60, gale.strength * 3.6)
        self.hub.bus.async_fire(EVENT_SIMULATOR_GALE, {"duration": round(gale.duration),
                                                       "mean_wind_kmh": round(gale.strength * 3.6, 1)})

    @callback
    def _step_air(self, _interval: float) -> None:
        now = self.hub.clock.time()
        for station in self.air.values():
            self._publish(station, station.read(now))

    @callback
    def _step_energy(self, _interval: float) -> None:
        now = self.hub.clock.time()
        for meter in self.meters.values():
            self._publish(meter, meter.read(now))
        self._write_modbus_meters(now)

    def _write_modbus_meters(self, now: float) -> None:
        if self.plc is None:
            return
        store = self.plc.store
        for _meter_id, (slave, model) in self.modbus_meters.items():
            reading = model.read(now)
            store.set_value(slave, InputType.INPUT, SDM_VOLTAGE_L1, reading["voltage"], DataType.FLOAT32)
            store.set_value(slave, InputType.INPUT, SDM_TOTAL_POWER, reading["power"] * 1000, DataType.FLOAT32)
            store.set_value(slave, InputType.INPUT, SDM_IMPORT_ENERGY, reading["energy"], DataType.FLOAT32)

    @callback
    def _step_traffic(self, interval: float) -> None:
        now = self.hub.clock.time()
        for counter in self.counters.values():
            self._publish(counter, counter.read(now, interval))

    @callback
    def _step_signs(self, interval: float) -> None:
        if self.signs is not None:
            self.signs.tick(interval)

    # ---- what the services do

    @callback
    def start_gale(self, duration: float, strength: float | None = None) -> Gale:
        """A Levante gale from now on (`simulator.storm`); stations see it from their next reading."""
        gale = self.region.start_gale(self.hub.clock.time(), duration, strength)
        self._gale_started(gale)
        return gale

    def diagnostics(self) -> dict[str, Any]:
        """What the simulator is doing, for the log and tests."""
        return {
            "seed": self.seed,
            "gale": None if self.region.gale is None else {"start": self.region.gale.start,
                                                           "duration": self.region.gale.duration},
            "gales_started": self.region.gales_started,
            "modbus": None if self.plc is None else {"host": self.plc.host, "port": self.plc.port},
            "bollards": {} if self.field is None else {
                b.bollard_id: {"state": b.sim.state.name.lower(), "vehicles": b.vehicles, "faults": b.faults}
                for b in self.field.bollards.values()},
            "signs": {} if self.signs is None else {s.panel_id: s.acks for s in self.signs.signs.values()},
            "mqtt": None if self.link is None else self.link.stats(),
            "agencies": None if self.receiver is None else self.receiver.stats(),
        }
