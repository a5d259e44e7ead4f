"""The `panels:` configuration section: schema (defaults in it) and the typed panel config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.config.core import DEFAULT_SITE
from hub.helpers import config_validation as cv
from integrations.mqtt.instance import expand_topic

from .const import (
    DEFAULT_BRIGHTNESS_MAX,
    DEFAULT_BRIGHTNESS_MIN,
    DEFAULT_CHARS_PER_ROW,
    DEFAULT_CHARSET,
    DEFAULT_COLOUR,
    DEFAULT_DATEX_COUNTRY,
    DEFAULT_DATEX_LANG,
    DEFAULT_DATEX_NATIONAL_ID,
    DEFAULT_MAX_PAGES,
    DEFAULT_ROWS,
    DEFAULT_TOPIC,
    DRIVER_MQTT_JSON,
    DRIVERS,
)
from .message import PanelCapabilities

__all__ = ["COLOURS", "CONFIG_SCHEMA", "PANEL_SCHEMA", "DatexSettings", "PanelConfig"]

COLOURS = ("amber", "white", "red", "green", "blue", "white_yellow", "full_colour")


def _pictograms(value: Any) -> dict[str, int]:
    """A list of pictogram names (numbered 1, 2, ... for MULTI `[gN]`) or a mapping name -> number."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        result = {}
        for name, number in value.items():
            if not isinstance(name, str) or not name:
                raise vol.Invalid(f"pictogram name must be a non-empty string, got {name!r}")
            try:
                graphic = int(number)
            except (TypeError, ValueError):
                raise vol.Invalid(
                    f"pictogram {name!r}: graphic number must be an int, got {number!r}"
                ) from None
            if not 1 <= graphic <= 255:
                raise vol.Invalid(f"pictogram {name!r}: graphic number must be 1-255, got {graphic}")
            result[name] = graphic
        return result
    if isinstance(value, list):
        names = [str(v) for v in value]
        if len(set(names)) != len(names):
            raise vol.Invalid("pictogram names must be unique")
        return {name: index for index, name in enumerate(names, 1)}
    raise vol.Invalid(f"expected a list of pictogram names or a mapping name: number, got {value!r}")


def _brightness(value: dict[str, int]) -> dict[str, int]:
    if value["min"] >= value["max"]:
        raise vol.Invalid(f"brightness min ({value['min']}) must be below max ({value['max']})")
    return value


_BRIGHTNESS = vol.All(
    vol.Schema({
        vol.Optional("min", default=DEFAULT_BRIGHTNESS_MIN): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("max", default=DEFAULT_BRIGHTNESS_MAX): vol.All(vol.Coerce(int), vol.Range(min=1)),
    }),
    _brightness,
)

PANEL_SCHEMA = vol.Schema({
    vol.Required("id"): vol.All(str, vol.Length(min=1, max=64)),
    vol.Optional("name"): str,
    vol.Optional("area"): str,
    vol.Optional("location"): vol.Schema({
        vol.Required("lat"): vol.All(vol.Coerce(float), vol.Range(min=-90, max=90)),
        vol.Required("lon"): vol.All(vol.Coerce(float), vol.Range(min=-180, max=180)),
    }),
    vol.Optional("driver", default=DRIVER_MQTT_JSON): vol.In(DRIVERS),
    vol.Optional("topic"): vol.All(str, vol.Length(min=1)),
    vol.Optional("rows", default=DEFAULT_ROWS): vol.All(int, vol.Range(min=1, max=16)),
    vol.Optional("chars_per_row", default=DEFAULT_CHARS_PER_ROW): vol.All(int, vol.Range(min=1, max=255)),
    vol.Optional("max_pages", default=DEFAULT_MAX_PAGES): vol.All(int, vol.Range(min=1, max=32)),
    vol.Optional("charset", default=DEFAULT_CHARSET): vol.All(str, vol.Length(min=1)),
    vol.Optional("pictograms", default=list): _pictograms,
    vol.Optional("colour", default=DEFAULT_COLOUR): vol.In(COLOURS),
    vol.Optional("brightness", default=dict): _BRIGHTNESS,
})


def _section(value: Any) -> dict[str, Any]:
    """`panels:` may be the list of panels itself, or a mapping with `panels:` and `datex2:`."""
    if value is None:
        return {}
    if isinstance(value, list):
        return {"panels": value}
    if isinstance(value, Mapping):
        return dict(value)
    raise vol.Invalid(f"expected a list of panels, got {type(value).__name__}")


DATEX_SCHEMA = vol.Schema({
    vol.Optional("country", default=DEFAULT_DATEX_COUNTRY): vol.All(str, vol.Length(min=2, max=2)),
    vol.Optional("national_identifier", default=DEFAULT_DATEX_NATIONAL_ID): vol.All(str, vol.Length(min=1)),
    vol.Optional("lang", default=DEFAULT_DATEX_LANG): vol.All(str, vol.Length(min=2, max=8)),
    vol.Optional("public", default=False): bool,
})

CONFIG_SCHEMA = vol.All(
    _section,
    vol.Schema({
        vol.Optional("panels", default=list): vol.All([PANEL_SCHEMA], cv.unique("id", "panel id")),
        vol.Optional("datex2", default=dict): DATEX_SCHEMA,
    }),
)


@dataclass(frozen=True, slots=True)
class DatexSettings:
    """Who publishes the DATEX II document and in which language."""

    country: str = DEFAULT_DATEX_COUNTRY
    national_identifier: str = DEFAULT_DATEX_NATIONAL_ID
    lang: str = DEFAULT_DATEX_LANG
    public: bool = False  # serve /api/datex2/vms without a token

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DatexSettings:
        """From the validated `datex2:` mapping."""
        return cls(config["country"], config["national_identifier"], config["lang"], config["public"])


@dataclass(frozen=True, slots=True)
class PanelConfig:
    """One validated panel entry."""

    id: str
    name: str
    area: str | None
    latitude: float | None
    longitude: float | None
    driver: str
    topic: str
    capabilities: PanelCapabilities

    @classmethod
    def from_config(cls, config: Mapping[str, Any], topic_prefix: str = DEFAULT_SITE) -> PanelConfig:
        """From one validated entry of PANEL_SCHEMA; `topic_prefix` is the site's MQTT prefix (`~`)."""
        panel_id = config["id"]
        location = config.get("location") or {}
        caps = PanelCapabilities(
            panel_id=panel_id,
            rows=config["rows"],
            chars_per_row=config["chars_per_row"],
            max_pages=config["max_pages"],
            charset=frozenset(config["charset"]),
            pictograms=dict(config["pictograms"]),
            colour=config["colour"],
            brightness_min=config["brightness"]["min"],
            brightness_max=config["brightness"]["max"],
        )
        return cls(
            id=panel_id,
            name=config.get("name") or panel_id,
            area=config.get("area"),
            latitude=location.get("lat"),
            longitude=location.get("lon"),
            driver=config["driver"],
            topic=expand_topic(config.get("topic") or f"{DEFAULT_TOPIC}/{panel_id}", topic_prefix),
            capabilities=caps,
        )
