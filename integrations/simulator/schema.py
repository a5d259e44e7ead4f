"""Schemas of the `simulator:` section and of its services (defaults live here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv
from integrations.agencies.signing import WebhookSecret

from .cameras import CAMERAS_SCHEMA
from .city_models import PROFILES
from .const import (
    CONF_AGENCY_RECEIVER,
    CONF_AIR_QUALITY,
    CONF_AREA,
    CONF_BASE_KW,
    CONF_BOLLARDS,
    CONF_BROKER,
    CONF_CALIMA_RATE,
    CONF_CAMERAS,
    CONF_CAPACITY,
    CONF_CLIENT_ID,
    CONF_COUNTERS,
    CONF_DISCOVERY,
    CONF_DISCOVERY_PREFIX,
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
    CONF_LATITUDE,
    CONF_LONGITUDE,
    CONF_LOOP_DWELL,
    CONF_LOOP_RATE,
    CONF_METERS,
    CONF_MODBUS,
    CONF_MODEL,
    CONF_MQTT,
    CONF_NAME,
    CONF_PANELS,
    CONF_PASSWORD,
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
    CONF_TIME_ZONE,
    CONF_TOPIC_PREFIX,
    CONF_TOPICS,
    CONF_TRAFFIC,
    CONF_TRAFFIC_FACTOR,
    CONF_TRANSPORT,
    CONF_TRAVEL_TIME,
    CONF_USERNAME,
    CONF_WEATHER,
    DEFAULT_AGENCY_PORT,
    DEFAULT_GALE_DURATION,
    DEFAULT_LOOP_DWELL,
    DEFAULT_MODBUS_PORT,
    DEFAULT_PANEL_TOPICS,
    DEFAULT_REPAIR_TIME,
    DEFAULT_TRAVEL_TIME,
)

__all__ = ["AGENCY_RECEIVER_SCHEMA", "BOLLARD_FAULT_SCHEMA", "CONFIG_SCHEMA", "STORM_SCHEMA", "VEHICLE_SCHEMA"]

_rate = vol.All(vol.Coerce(float), vol.Range(min=0))  # events per day (or hour where named so)
_seconds = vol.All(vol.Coerce(float), vol.Range(min=0.05))
_interval = vol.All(vol.Coerce(float), vol.Range(min=0.1))


def _span(value: Any) -> tuple[float, float]:
    """A duration range `[low, high]` in seconds (a single number means exactly that)."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise vol.Invalid(f"expected [low, high], got {len(value)} values")
        low, high = (_seconds(item) for item in value)
    else:
        low = high = _seconds(value)
    if low > high:
        raise vol.Invalid(f"expected low <= high, got [{low}, {high}]")
    return float(low), float(high)


def _topic_part(value: Any) -> str:
    text = cv.string(value).strip("/")
    if not text or any(char in text for char in "+#\0"):
        raise vol.Invalid(f"expected an MQTT topic without wildcards, got {value!r}")
    return text


_PLACE = {
    vol.Optional(CONF_LATITUDE): cv.latitude,
    vol.Optional(CONF_LONGITUDE): cv.longitude,
    vol.Optional(CONF_AREA): cv.string,
}


def _device(extra: Mapping[Any, Any]) -> vol.Schema:
    return vol.Schema({
        vol.Required(CONF_ID): cv.slug,
        vol.Optional(CONF_NAME): cv.string,
        vol.Optional(CONF_MODEL): cv.string,
        **_PLACE,
        **extra,
    })


def _unique(key: str) -> Any:
    def check(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[Any] = set()
        for index, item in enumerate(items):
            if item[key] in seen:
                raise vol.Invalid(f"'{item[key]}' is used twice", path=[index, key])
            seen.add(item[key])
        return items

    return check


MQTT_SCHEMA = vol.Schema({
    vol.Optional(CONF_BROKER): cv.string,
    vol.Optional(CONF_PORT): cv.port,
    vol.Optional(CONF_USERNAME): cv.string,
    vol.Optional(CONF_PASSWORD): cv.string,
    vol.Optional(CONF_CLIENT_ID): cv.string,
})

BOLLARD_SCHEMA = vol.All(
    lambda value: {CONF_ID: value} if isinstance(value, str) else value,
    vol.Schema({
        vol.Required(CONF_ID): cv.string,
        vol.Optional(CONF_STATE, default="lowered"): vol.In(["lowered", "raised"]),
        # vehicles an hour over this bollard's loop at the busiest time (deliveries, residents, buses)
        vol.Optional(CONF_LOOP_RATE): _rate,
    }),
)

PLC_SCHEMA = vol.Schema({
    vol.Required(CONF_SLAVE): vol.All(vol.Coerce(int), vol.Range(min=1, max=247)),
    vol.Optional(CONF_NAME): cv.string,
    # Bollards in order: the first at base address 0, the next at 16, 32...
    vol.Required(CONF_BOLLARDS): vol.All(cv.ensure_list, vol.Length(min=1, max=16), [BOLLARD_SCHEMA]),
})

MODBUS_METER_SCHEMA = vol.Schema({vol.Required(CONF_SLAVE): vol.All(vol.Coerce(int), vol.Range(min=1, max=247))})

MODBUS_SCHEMA = vol.Schema({
    vol.Optional(CONF_HOST, default="127.0.0.1"): cv.string,
    vol.Optional(CONF_PORT, default=DEFAULT_MODBUS_PORT): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
    vol.Optional(CONF_HEARTBEAT_PERIOD, default=1.0): _seconds,
    vol.Optional(CONF_TRAVEL_TIME, default=list(DEFAULT_TRAVEL_TIME)): _span,
    vol.Optional(CONF_FAULT_RATE, default=0.0): _rate,  # faults per bollard per day
    vol.Optional(CONF_REPAIR_TIME, default=list(DEFAULT_REPAIR_TIME)): _span,
    vol.Optional(CONF_LOOP_RATE, default=6.0): _rate,  # vehicles per hour per lowered bollard, at the peak
    vol.Optional(CONF_LOOP_DWELL, default=list(DEFAULT_LOOP_DWELL)): _span,
    vol.Optional(CONF_PLCS, default=list): vol.All(cv.ensure_list, [PLC_SCHEMA], _unique(CONF_SLAVE)),
})

STATION_SCHEMA = _device({
    vol.Optional(CONF_EXPOSURE, default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=3)),
    vol.Optional(CONF_ELEVATION, default=10.0): vol.Coerce(float),
})

WEATHER_SCHEMA = vol.Schema({
    vol.Optional(CONF_INTERVAL, default=10.0): _interval,
    vol.Optional(CONF_GALE_RATE, default=1.0): _rate,  # Levante gales per day
    vol.Optional(CONF_GALE_DURATION, default=list(DEFAULT_GALE_DURATION)): _span,
    vol.Optional(CONF_STATIONS, default=list): vol.All(cv.ensure_list, [STATION_SCHEMA], _unique(CONF_ID)),
})

AIR_STATION_SCHEMA = _device({
    vol.Optional(CONF_TRAFFIC_FACTOR, default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional(CONF_PORT_AREA, default=False): cv.boolean,
})

AIR_SCHEMA = vol.Schema({
    vol.Optional(CONF_INTERVAL, default=60.0): _interval,
    vol.Optional(CONF_CALIMA_RATE, default=0.04): _rate,  # Saharan dust episodes per day
    vol.Optional(CONF_STATIONS, default=list): vol.All(cv.ensure_list, [AIR_STATION_SCHEMA], _unique(CONF_ID)),
})


def _meter_limits(meter: dict[str, Any]) -> dict[str, Any]:
    if meter[CONF_PEAK_KW] < meter[CONF_BASE_KW]:
        raise vol.Invalid("peak_kw must be at least base_kw", path=[CONF_PEAK_KW])
    return meter


METER_SCHEMA = vol.All(_device({
    vol.Optional(CONF_PROFILE, default="office"): vol.In(sorted(PROFILES)),
    vol.Required(CONF_BASE_KW): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Required(CONF_PEAK_KW): vol.All(vol.Coerce(float), vol.Range(min=0)),
    # mqtt: JSON on <prefix>/energy/<id> with a discovery config; modbus: float32 input registers of `slave`
    vol.Optional(CONF_TRANSPORT, default="mqtt"): vol.Any("mqtt", MODBUS_METER_SCHEMA),
}), _meter_limits)

ENERGY_SCHEMA = vol.Schema({
    vol.Optional(CONF_INTERVAL, default=15.0): _interval,
    vol.Optional(CONF_METERS, default=list): vol.All(cv.ensure_list, [METER_SCHEMA], _unique(CONF_ID)),
})

COUNTER_SCHEMA = _device({
    vol.Optional(CONF_LANES, default=2): vol.All(vol.Coerce(int), vol.Range(min=1, max=8)),
    vol.Optional(CONF_CAPACITY, default=1700.0): vol.All(vol.Coerce(float), vol.Range(min=1)),  # veh/h/lane
    vol.Optional(CONF_FREE_SPEED, default=50.0): vol.All(vol.Coerce(float), vol.Range(min=5, max=130)),
    vol.Optional(CONF_PROFILE, default="urban"): vol.In(["urban", "border"]),
})

TRAFFIC_SCHEMA = vol.Schema({
    vol.Optional(CONF_INTERVAL, default=60.0): _interval,
    vol.Optional(CONF_COUNTERS, default=list): vol.All(cv.ensure_list, [COUNTER_SCHEMA], _unique(CONF_ID)),
})

PANELS_SCHEMA = vol.Schema({
    # The topics the hub's panel drivers publish on (one level per sign); <topic>/status is the reply.
    vol.Optional(CONF_TOPICS, default=list(DEFAULT_PANEL_TOPICS)): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(CONF_STATUS_INTERVAL, default=60.0): _interval,
    vol.Optional(CONF_PIXEL_ERROR_RATE, default=0.0): _rate,  # per sign per day
})


def _webhook_secret(value: Any) -> WebhookSecret:
    if isinstance(value, WebhookSecret):
        return value  # validated already
    try:
        return WebhookSecret.parse(cv.string(value))
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


AGENCY_RECEIVER_SCHEMA = vol.Schema({
    vol.Optional(CONF_HOST, default="127.0.0.1"): cv.string,
    vol.Optional(CONF_PORT, default=DEFAULT_AGENCY_PORT): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
    # Per agency id, the key(s) its signatures must verify with; an agency not listed is not checked.
    vol.Optional(CONF_SECRETS, default=dict): vol.Schema({cv.slug: vol.All(cv.ensure_list, [_webhook_secret])}),
})


def _nothing_twice(config: dict[str, Any]) -> dict[str, Any]:
    modbus = config.get(CONF_MODBUS)
    meters_on_modbus = [m for m in config[CONF_ENERGY][CONF_METERS] if isinstance(m[CONF_TRANSPORT], dict)]
    if meters_on_modbus and modbus is None:
        raise vol.Invalid("energy meters on Modbus need the `modbus:` server of the simulator",
                          path=[CONF_ENERGY])
    if modbus is not None:
        seen: set[str] = set()
        for plc in modbus[CONF_PLCS]:
            for bollard in plc[CONF_BOLLARDS]:
                if bollard[CONF_ID] in seen:
                    raise vol.Invalid(f"bollard '{bollard[CONF_ID]}' is played twice", path=[CONF_MODBUS, CONF_PLCS])
                seen.add(bollard[CONF_ID])
        plc_slaves = {plc[CONF_SLAVE] for plc in modbus[CONF_PLCS]}
        for meter in meters_on_modbus:
            if meter[CONF_TRANSPORT][CONF_SLAVE] in plc_slaves:
                raise vol.Invalid(f"energy meter {meter[CONF_ID]}: slave {meter[CONF_TRANSPORT][CONF_SLAVE]} "
                                  "is a bollard PLC", path=[CONF_ENERGY, CONF_METERS])
    return config


CONFIG_SCHEMA = vol.All(
    lambda value: {} if value is None else value,
    vol.Schema({
        vol.Optional(CONF_SEED, default=2026): vol.Coerce(int),
        vol.Optional(CONF_TIME_ZONE): cv.time_zone,
        # Where the simulated devices connect; by default the broker of the `mqtt:` section.
        vol.Optional(CONF_MQTT, default=dict): MQTT_SCHEMA,
        # Devices publish under <topic_prefix>/weather/<id>...; default: the `mqtt:` section's (the site id).
        vol.Optional(CONF_TOPIC_PREFIX): _topic_part,
        vol.Optional(CONF_DISCOVERY, default=True): cv.boolean,
        vol.Optional(CONF_DISCOVERY_PREFIX): _topic_part,  # default: the `mqtt:` section's
        # Clear every retained message the simulator published when it stops (tests, short demos).
        vol.Optional(CONF_REMOVE_ON_STOP, default=False): cv.boolean,
        vol.Optional(CONF_MODBUS): MODBUS_SCHEMA,
        vol.Optional(CONF_WEATHER, default=dict): WEATHER_SCHEMA,
        vol.Optional(CONF_AIR_QUALITY, default=dict): AIR_SCHEMA,
        vol.Optional(CONF_ENERGY, default=dict): ENERGY_SCHEMA,
        vol.Optional(CONF_TRAFFIC, default=dict): TRAFFIC_SCHEMA,
        vol.Optional(CONF_PANELS): vol.All(lambda value: {} if value is None else value, PANELS_SCHEMA),
        # Plays the agencies' servers (what agency.notify sends is received and verified).
        vol.Optional(CONF_AGENCY_RECEIVER): vol.All(lambda value: {} if value is None else value,
                                                    AGENCY_RECEIVER_SCHEMA),
        # Real RTSP streams of the camera scenes (cameras.py).
        vol.Optional(CONF_CAMERAS): vol.All(lambda value: {} if value is None else value, CAMERAS_SCHEMA),
    }),
    _nothing_twice,
)

STORM_SCHEMA = vol.Schema({
    vol.Optional("duration", default=3600): vol.All(vol.Coerce(float), vol.Range(min=60, max=86400)),
    vol.Optional("strength"): vol.All(vol.Coerce(float), vol.Range(min=5, max=40)),  # mean wind, m/s
})

BOLLARD_FAULT_SCHEMA = vol.Schema({
    vol.Required("bollard"): cv.string,
    vol.Optional("code", default="hydraulic_pressure_low"): cv.string,
    vol.Optional("repair_after"): vol.All(vol.Coerce(float), vol.Range(min=1)),
})

VEHICLE_SCHEMA = vol.Schema({
    vol.Required("bollard"): cv.string,
    vol.Optional("seconds", default=5): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=3600)),
})
