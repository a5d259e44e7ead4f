"""The `thermal_fire:` configuration section: towers, cameras, presets, detection, weather, simulator."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv

from .const import (
    DEFAULT_DWELL_S,
    DEFAULT_FRAME_INTERVAL_S,
    DEFAULT_HEIGHT,
    DEFAULT_HFOV,
    DEFAULT_POINTING_SIGMA_DEG,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_SPREAD_HORIZON_S,
    DEFAULT_VFOV,
    DEFAULT_WIDTH,
    SOURCE_FILES,
    SOURCE_SIMULATOR,
    SOURCE_SNAPSHOT,
)
from .detection import DetectionProfile

__all__ = ["CONFIG_SCHEMA", "TOWER_SCHEMA", "processor_spec", "terrain_spec"]

_ID = vol.All(str, vol.Match(r"^[a-z0-9_]+$", msg="use lower-case letters, digits and _"))
_LAT = vol.All(vol.Coerce(float), vol.Range(min=-90, max=90))
_LON = vol.All(vol.Coerce(float), vol.Range(min=-180, max=180))
_POS = vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False))


def _rect(value: Any) -> list[int]:
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise vol.Invalid(f"a rect is [x0, y0, x1, y1] in pixels, got {value!r}")
    try:
        x0, y0, x1, y1 = (int(v) for v in value)
    except (TypeError, ValueError):
        raise vol.Invalid(f"a rect is four integers, got {value!r}") from None
    if x1 < x0 or y1 < y0:
        raise vol.Invalid(f"a rect needs x0 <= x1 and y0 <= y1, got {value!r}")
    return [x0, y0, x1, y1]


_RECT_EXCLUSION = vol.Schema({vol.Required("rect"): _rect, vol.Optional("note"): str})
_GEO_EXCLUSION = vol.Schema(
    {
        vol.Required("lat"): _LAT,
        vol.Required("lon"): _LON,
        vol.Optional("radius_m", default=50.0): _POS,
        vol.Optional("height_m", default=0.0): vol.Coerce(float),
        vol.Optional("note"): str,
    }
)


def EXCLUSION_SCHEMA(value: Any) -> dict[str, Any]:
    """A pixel rectangle {rect: [x0, y0, x1, y1]} or a ground circle {lat, lon, radius_m}."""
    if isinstance(value, dict) and "rect" in value:
        return dict(_RECT_EXCLUSION(value))
    if isinstance(value, dict) and "lat" in value:
        return dict(_GEO_EXCLUSION(value))
    raise vol.Invalid(f"an exclusion is {{rect: [x0, y0, x1, y1]}} or {{lat, lon, radius_m}}, got {value!r}")


PRESET_SCHEMA = vol.Schema(
    {
        vol.Required("name"): _ID,
        vol.Required("pan"): vol.All(vol.Coerce(float), vol.Range(min=-360, max=360)),
        vol.Required("tilt"): vol.All(vol.Coerce(float), vol.Range(min=-90, max=90)),
        vol.Optional("dwell_s", default=DEFAULT_DWELL_S): _POS,
        vol.Optional("exclusions", default=list): [EXCLUSION_SCHEMA],
    }
)

CAMERA_SCHEMA = vol.Schema(
    {
        vol.Optional("source", default=SOURCE_SIMULATOR): vol.In([SOURCE_SIMULATOR, SOURCE_FILES, SOURCE_SNAPSHOT]),
        vol.Optional("width", default=DEFAULT_WIDTH): vol.All(int, vol.Range(min=16, max=4096)),
        vol.Optional("height", default=DEFAULT_HEIGHT): vol.All(int, vol.Range(min=16, max=4096)),
        vol.Optional("hfov", default=DEFAULT_HFOV): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=120)),
        vol.Optional("vfov", default=DEFAULT_VFOV): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=120)),
        vol.Optional("pointing_sigma_deg", default=DEFAULT_POINTING_SIGMA_DEG): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=5)
        ),
        vol.Optional("frame_interval_s", default=DEFAULT_FRAME_INTERVAL_S): _POS,
        vol.Optional("move_s", default=2.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("queue_size", default=DEFAULT_QUEUE_SIZE): vol.All(int, vol.Range(min=1, max=64)),
        # files
        vol.Optional("path"): str,
        vol.Optional("pattern", default="{preset}_*"): str,
        vol.Optional("loop", default=True): bool,
        # snapshot (HTTP)
        vol.Optional("url"): vol.All(str, vol.Match(r"^https?://", msg="expected an http(s) URL")),
        vol.Optional("ptz_url"): vol.All(str, vol.Match(r"^https?://", msg="expected an http(s) URL")),
        vol.Optional("format", default="tiff"): vol.In(["tiff", "npy"]),
        vol.Optional("username"): str,
        vol.Optional("password"): str,
        vol.Optional("timeout_s", default=10.0): _POS,
        # pixel values -> kelvin: kelvin = value * scale + offset (after `units`)
        vol.Optional("units", default="kelvin"): vol.In(["kelvin", "celsius", "centikelvin", "decikelvin"]),
        vol.Optional("scale", default=1.0): vol.Coerce(float),
        vol.Optional("offset", default=0.0): vol.Coerce(float),
    }
)


def _camera_complete(camera: dict[str, Any]) -> dict[str, Any]:
    if camera["source"] == SOURCE_FILES and not camera.get("path"):
        raise vol.Invalid("a files camera needs 'path' (a folder of NPY/TIFF frames)", path=["path"])
    if camera["source"] == SOURCE_SNAPSHOT and not camera.get("url"):
        raise vol.Invalid("a snapshot camera needs 'url'", path=["url"])
    return camera


TOWER_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Optional("name"): str,
        vol.Required("lat"): _LAT,
        vol.Required("lon"): _LON,
        vol.Optional("height_m", default=10.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=500)),
        vol.Optional("altitude_m"): vol.Coerce(float),
        vol.Optional("camera", default=dict): vol.All(CAMERA_SCHEMA, _camera_complete),
        vol.Required("presets"): vol.All([PRESET_SCHEMA], vol.Length(min=1)),
    }
)

_PROFILE_KEYS = set(DetectionProfile.__dataclass_fields__)


def _profile(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise vol.Invalid(f"expected a mapping of detection settings, got {value!r}")
    unknown = set(value) - _PROFILE_KEYS
    if unknown:
        raise vol.Invalid(f"unknown detection setting(s) {sorted(unknown)}; known: {sorted(_PROFILE_KEYS)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        field_type = DetectionProfile.__dataclass_fields__[key].type
        try:
            out[key] = bool(item) if field_type == "bool" else int(item) if field_type == "int" else float(item)
        except (TypeError, ValueError):
            raise vol.Invalid(f"{key}: expected a number, got {item!r}", path=[key]) from None
    return out


WEATHER_SCHEMA = vol.Schema(
    {
        vol.Optional("wind_speed"): str,
        vol.Optional("wind_direction"): str,
        vol.Optional("temperature"): str,
        vol.Optional("humidity"): str,
        vol.Optional("spread_horizon_s", default=DEFAULT_SPREAD_HORIZON_S): _POS,
    }
)

SIMULATOR_SCHEMA = vol.Schema(
    {
        vol.Optional("seed", default=1): int,
        vol.Optional("terrain_arcsec", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=10)),
        vol.Optional("ignitions", default=list): [
            vol.Schema(
                {
                    vol.Required("lat"): _LAT,
                    vol.Required("lon"): _LON,
                    vol.Optional("after_s", default=60.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
                    vol.Optional("spread_ms", default=0.01): _POS,
                }
            )
        ],
        vol.Optional("chimneys", default=list): [
            vol.Schema(
                {
                    vol.Required("lat"): _LAT,
                    vol.Required("lon"): _LON,
                    vol.Optional("temp_k", default=460.0): _POS,
                    vol.Optional("area_m2", default=3.0): _POS,
                }
            )
        ],
        vol.Optional("vehicles", default=8): vol.All(int, vol.Range(min=0, max=200)),
        vol.Optional("ships", default=4): vol.All(int, vol.Range(min=0, max=100)),
        vol.Optional("fog_per_km", default=0.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=20)),
        vol.Optional("glint", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=10)),
        vol.Optional("wind_speed_ms", default=4.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=60)),
        vol.Optional("wind_from_deg", default=90.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=360)),
    }
)


CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("towers"): vol.All([TOWER_SCHEMA], vol.Length(min=1), cv.unique("id", "tower id")),
        vol.Optional("detection", default=dict): vol.Schema(
            {
                vol.Optional("day", default=dict): _profile,
                vol.Optional("night", default=dict): _profile,
            }
        ),
        vol.Optional("elevation_grid"): str,
        vol.Optional("water_decimation", default=4): vol.All(int, vol.Range(min=1, max=32)),
        vol.Optional("weather", default=dict): WEATHER_SCHEMA,
        vol.Optional("simulator", default=dict): SIMULATOR_SCHEMA,
    }
)


def terrain_spec(config: dict[str, Any]) -> dict[str, Any]:
    """The picklable terrain spec for this configuration (see `processor.build_terrain`)."""
    if config.get("elevation_grid"):
        return {"type": "grid", "path": config["elevation_grid"]}
    if any(t["camera"]["source"] == "simulator" for t in config["towers"]):
        return {"type": "synthetic", "arcsec": config["simulator"]["terrain_arcsec"]}
    return {"type": "flat", "height_m": 0.0}


def processor_spec(
    tower: dict[str, Any],
    config: dict[str, Any],
    terrain: dict[str, Any],
    extra_exclusions: dict[str, list[list[int]]] | None = None,
) -> dict[str, Any]:
    """The picklable spec a worker builds its TowerProcessor from."""
    camera = tower["camera"]
    presets = []
    for preset in tower["presets"]:
        exclusions = [dict(e) for e in preset["exclusions"]]
        exclusions.extend({"rect": list(r)} for r in (extra_exclusions or {}).get(preset["name"], []))
        presets.append({"name": preset["name"], "pan": preset["pan"], "tilt": preset["tilt"], "exclusions": exclusions})
    spec = {
        "id": tower["id"],
        "lat": tower["lat"],
        "lon": tower["lon"],
        "height_m": tower["height_m"],
        "camera": {
            "width": camera["width"],
            "height": camera["height"],
            "hfov": camera["hfov"],
            "vfov": camera["vfov"],
            "pointing_sigma_deg": camera["pointing_sigma_deg"],
        },
        "presets": presets,
        "terrain": terrain,
        "profiles": dict(config["detection"]),
        "water_decimation": config["water_decimation"],
    }
    if tower.get("altitude_m") is not None:
        spec["altitude_m"] = tower["altitude_m"]
    return spec
