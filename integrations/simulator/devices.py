"""Simulated MQTT city devices: what each publishes, where, and the discovery configs it announces.

Topics (under the simulator's `topic_prefix`, `ceuta` by default):

- weather station: `<prefix>/weather/<id>` JSON `{"wind_speed", "wind_gust" (m/s), "wind_dir" (°),
  "temperature" (°C), "humidity" (%), "pressure" (hPa), "rain" (mm, total), "rain_rate" (mm/h)}`
- air quality: `<prefix>/air/<id>` JSON `{"pm25", "pm10", "no2", "o3"}` in µg/m³
- energy meter: `<prefix>/energy/<id>` JSON `{"power" (kW), "energy" (kWh), "voltage" (V)}`
- loop counter: `<prefix>/traffic/<id>` JSON `{"vehicles" (in the interval), "flow" (veh/h),
  "occupancy" (%), "speed" (km/h, null when nothing passed), "interval" (s)}`

Every device also publishes, retained, `<topic>/info` with its position and model (the site's
sensors read it as JSON attributes, so the map can place them). Energy meters and loop counters
announce themselves with Home Assistant device-based discovery (`<discovery_prefix>/device/<node>/config`),
as Tasmota or ESPHome devices do; weather and air quality stations are configured in YAML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .city_models import AirQualityModel, EnergyMeterModel, LoopCounterModel
from .const import (
    CONF_AREA,
    CONF_ID,
    CONF_LATITUDE,
    CONF_LONGITUDE,
    CONF_MODEL,
    CONF_NAME,
    DISCOVERY_NAMES,
    PAYLOAD_OFFLINE,
    PAYLOAD_ONLINE,
)
from .weather import StationModel

__all__ = ["AirQualityStation", "EnergyMeter", "LoopCounter", "MqttDevice", "WeatherStation"]


class MqttDevice:
    """A simulated device on MQTT: a state topic, retained info, optional discovery config."""

    kind = "device"
    default_model = "generic"

    def __init__(self, config: Mapping[str, Any], prefix: str) -> None:
        self.id: str = config[CONF_ID]
        self.name: str = config.get(CONF_NAME) or self.id.replace("_", " ").title()
        self.model: str = config.get(CONF_MODEL) or self.default_model
        self.area: str | None = config.get(CONF_AREA)
        self.latitude: float | None = config.get(CONF_LATITUDE)
        self.longitude: float | None = config.get(CONF_LONGITUDE)
        self.topic = f"{prefix}/{self.kind}/{self.id}"
        self.last: dict[str, Any] | None = None

    @property
    def info_topic(self) -> str:
        return f"{self.topic}/info"

    def info(self) -> dict[str, Any]:
        """What the device says about itself (retained on `<topic>/info`)."""
        info: dict[str, Any] = {"device_id": self.id, "name": self.name, "model": self.model}
        if self.latitude is not None and self.longitude is not None:
            info["latitude"] = self.latitude
            info["longitude"] = self.longitude
        if self.area:
            info["area"] = self.area
        return info

    def discovery(self, discovery_prefix: str, status_topic: str,
                  names: Mapping[str, str] = DISCOVERY_NAMES["en"]) -> tuple[str, dict[str, Any]] | None:
        """(topic, config) of the device's discovery announcement, or None for YAML-configured devices."""
        return None

    def payload(self, reading: Mapping[str, Any]) -> str:
        self.last = dict(reading)
        return json.dumps(reading, separators=(",", ":"))

    def _device_discovery(self, discovery_prefix: str, status_topic: str, node: str, manufacturer: str,
                          components: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        config: dict[str, Any] = {
            "dev": {"ids": [f"hacho-sim-{node}"], "name": self.name, "mf": manufacturer, "mdl": self.model},
            "o": {"name": "hacho-simulator"},
            "stat_t": self.topic,
            "json_attr_t": self.info_topic,
            "avty_t": status_topic,
            "pl_avail": PAYLOAD_ONLINE,
            "pl_not_avail": PAYLOAD_OFFLINE,
            "cmps": components,
        }
        if self.area:
            config["dev"]["sa"] = self.area
            config["area"] = self.area
        return f"{discovery_prefix}/device/{node}/config", config


class WeatherStation(MqttDevice):
    """A weather station (wind in m/s, as anemometers send it; the hub converts to km/h)."""

    kind = "weather"
    default_model = "Vaisala WXT536"

    def __init__(self, config: Mapping[str, Any], prefix: str, model: StationModel) -> None:
        super().__init__(config, prefix)
        self.sim = model

    def read(self, now: float) -> str:
        return self.payload(self.sim.read(now).as_payload())


class AirQualityStation(MqttDevice):
    """An air quality station (µg/m³)."""

    kind = "air"
    default_model = "Kunak AIR Pro"

    def __init__(self, config: Mapping[str, Any], prefix: str, model: AirQualityModel) -> None:
        super().__init__(config, prefix)
        self.sim = model

    def read(self, now: float) -> str:
        return self.payload(self.sim.read(now))


class EnergyMeter(MqttDevice):
    """A building's energy meter on MQTT, announced by discovery."""

    kind = "energy"
    default_model = "Circutor CVM-C10"

    def __init__(self, config: Mapping[str, Any], prefix: str, model: EnergyMeterModel) -> None:
        super().__init__(config, prefix)
        self.sim = model

    def read(self, now: float) -> str:
        return self.payload(self.sim.read(now))

    def discovery(self, discovery_prefix: str, status_topic: str,
                  names: Mapping[str, str] = DISCOVERY_NAMES["en"]) -> tuple[str, dict[str, Any]]:
        node = f"energy_{self.id}"
        components: dict[str, dict[str, Any]] = {
            "power": {"p": "sensor", "name": names["power"], "dev_cla": "power", "unit_of_meas": "kW",
                      "stat_cla": "measurement", "sug_dsp_prc": 1, "val_tpl": "{{ value_json.power }}",
                      "uniq_id": f"sim_{node}_power", "def_ent_id": f"sensor.{self.id}_power"},
            "energy": {"p": "sensor", "name": names["energy"], "dev_cla": "energy", "unit_of_meas": "kWh",
                       "stat_cla": "total_increasing", "sug_dsp_prc": 1, "val_tpl": "{{ value_json.energy }}",
                       "uniq_id": f"sim_{node}_energy", "def_ent_id": f"sensor.{self.id}_energy"},
            "voltage": {"p": "sensor", "name": names["voltage"], "dev_cla": "voltage", "unit_of_meas": "V",
                        "stat_cla": "measurement", "ent_cat": "diagnostic", "val_tpl": "{{ value_json.voltage }}",
                        "uniq_id": f"sim_{node}_voltage", "def_ent_id": f"sensor.{self.id}_voltage"},
        }
        return self._device_discovery(discovery_prefix, status_topic, node, "Circutor", components)


class LoopCounter(MqttDevice):
    """A traffic counting station on inductive loops, announced by discovery."""

    kind = "traffic"
    default_model = "Kapsch TLC-2"

    def __init__(self, config: Mapping[str, Any], prefix: str, model: LoopCounterModel) -> None:
        super().__init__(config, prefix)
        self.sim = model

    def read(self, now: float, interval: float) -> str:
        return self.payload(self.sim.read(now, interval))

    def discovery(self, discovery_prefix: str, status_topic: str,
                  names: Mapping[str, str] = DISCOVERY_NAMES["en"]) -> tuple[str, dict[str, Any]]:
        node = f"traffic_{self.id}"
        components: dict[str, dict[str, Any]] = {
            "vehicles": {"p": "sensor", "name": names["vehicles"], "dev_cla": "traffic_count",
                         "unit_of_meas": "vehicles",
                         "stat_cla": "measurement", "ic": "mdi:car-multiple",
                         "val_tpl": "{{ value_json.vehicles }}", "uniq_id": f"sim_{node}_vehicles",
                         "def_ent_id": f"sensor.{self.id}_vehicles"},
            "flow": {"p": "sensor", "name": names["flow"], "dev_cla": "traffic_flow",
                     "unit_of_meas": "vehicles/h",
                     "stat_cla": "measurement", "ic": "mdi:car-multiple", "val_tpl": "{{ value_json.flow }}",
                     "uniq_id": f"sim_{node}_flow", "def_ent_id": f"sensor.{self.id}_flow"},
            "occupancy": {"p": "sensor", "name": names["occupancy"], "dev_cla": "occupancy", "unit_of_meas": "%",
                          "stat_cla": "measurement", "ic": "mdi:car-select", "sug_dsp_prc": 1,
                          "val_tpl": "{{ value_json.occupancy }}", "uniq_id": f"sim_{node}_occupancy",
                          "def_ent_id": f"sensor.{self.id}_occupancy"},
            "speed": {"p": "sensor", "name": names["speed"], "dev_cla": "speed", "unit_of_meas": "km/h",
                      "stat_cla": "measurement", "ic": "mdi:speedometer", "val_tpl": "{{ value_json.speed }}",
                      "uniq_id": f"sim_{node}_speed", "def_ent_id": f"sensor.{self.id}_speed"},
        }
        return self._device_discovery(discovery_prefix, status_topic, node, "Kapsch", components)
