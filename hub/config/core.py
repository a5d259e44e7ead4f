"""The `hub:` section of configuration.yaml, the CoreConfig built from it, and loading configuration.yaml."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import voluptuous as vol

from ..exceptions import ConfigError
from ..helpers import config_validation as cv
from .packages import merge_packages
from .validation import validate
from .yaml_loader import NodeDict, Secrets, load_yaml

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "CONFIG_FILE",
    "CORE_CONFIG_SCHEMA",
    "CORE_DOMAIN",
    "ControlCentre",
    "CoreConfig",
    "async_load_configuration",
    "build_core_config",
    "check_config",
    "load_configuration",
]

_LOGGER = logging.getLogger(__name__)

CONFIG_FILE = "configuration.yaml"
CORE_DOMAIN = "hub"

DEFAULT_NAME = "Hacho"
DEFAULT_SITE = "hacho"
DEFAULT_TIME_ZONE = "UTC"
UNIT_SYSTEMS = ("metric", "imperial")
DEFAULT_CENTRE = {"id": "main", "name": "Main", "areas": [], "default": True}


def _unique_centres(centres: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Centre ids are unique, at most one is the default, and with none marked the first one is."""
    seen: set[str] = set()
    for index, centre in enumerate(centres):
        if centre["id"] in seen:
            raise vol.Invalid(f"duplicate control centre id {centre['id']!r}", path=[index, "id"])
        seen.add(centre["id"])
    defaults = [index for index, centre in enumerate(centres) if centre["default"]]
    if len(defaults) > 1:
        raise vol.Invalid("only one control centre can be the default", path=[defaults[1], "default"])
    if centres and not defaults:
        centres[0]["default"] = True
    return centres


def _centre_name(centre: dict[str, Any]) -> dict[str, Any]:
    if centre.get("name") is None:
        centre["name"] = centre["id"].replace("_", " ").title()
    return centre


CONTROL_CENTRE_SCHEMA = vol.All(
    vol.Schema({
        vol.Required("id"): cv.slug,
        vol.Optional("name"): cv.string,
        vol.Optional("areas", default=list): cv.list_of(cv.slug),
        vol.Optional("default", default=False): cv.boolean,
        # what the other centres may read (read only): area ids, or entity id patterns (with a dot)
        vol.Optional("shares", default=list): cv.list_of(cv.string),
    }),
    _centre_name,
)

_COORDINATES = "coordinates"
_COORDINATES_MSG = "latitude and longitude must be given together"

LANGUAGES: Final = ("en", "es")

CORE_CONFIG_SCHEMA = vol.Schema({
    vol.Optional("name", default=DEFAULT_NAME): cv.string,
    vol.Optional("site", default=DEFAULT_SITE): cv.slug,
    vol.Inclusive("latitude", _COORDINATES, msg=_COORDINATES_MSG): cv.latitude,
    vol.Inclusive("longitude", _COORDINATES, msg=_COORDINATES_MSG): cv.longitude,
    vol.Optional("elevation", default=0): vol.All(vol.Coerce(float), msg="expected elevation in metres"),
    vol.Optional("time_zone", default=DEFAULT_TIME_ZONE): cv.time_zone,
    vol.Optional("unit_system", default="metric"): vol.In(UNIT_SYSTEMS,
                                                          msg="expected 'metric' or 'imperial'"),
    # the language of the names the hub gives what it creates (a fire's entity, a counter); the screens
    # have their own per-user language (frontend: language)
    vol.Optional("language", default="en"): vol.In(LANGUAGES, msg="expected 'en' or 'es'"),
    vol.Optional("control_centres", default=lambda: [dict(DEFAULT_CENTRE)]): vol.All(
        cv.ensure_list, vol.Length(min=1, msg="expected at least one control centre"),
        cv.list_of(CONTROL_CENTRE_SCHEMA), _unique_centres),
    vol.Optional("allowlist_external_dirs", default=list): cv.list_of(cv.string),
})


@dataclass(frozen=True, slots=True)
class ControlCentre:
    """A police control centre: the areas it watches and whether it takes what no other centre claims."""

    id: str
    name: str
    areas: tuple[str, ...] = ()
    default: bool = False
    shares: tuple[str, ...] = ()  # areas and entity id patterns the other centres may read


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """The validated `hub:` section. `site` is this hub's id in the federation."""

    name: str = DEFAULT_NAME
    site: str = DEFAULT_SITE
    latitude: float | None = None
    longitude: float | None = None
    elevation: float = 0.0
    time_zone: str = DEFAULT_TIME_ZONE
    unit_system: str = "metric"
    language: str = "en"
    control_centres: tuple[ControlCentre, ...] = (ControlCentre("main", "Main", (), True),)
    allowlist_external_dirs: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CoreConfig:
        """Build from the output of CORE_CONFIG_SCHEMA."""
        return cls(
            name=str(config["name"]),
            site=str(config["site"]),
            latitude=config.get("latitude"),
            longitude=config.get("longitude"),
            elevation=float(config["elevation"]),
            time_zone=str(config["time_zone"]),
            unit_system=str(config["unit_system"]),
            language=str(config["language"]),
            control_centres=tuple(
                ControlCentre(str(centre["id"]), str(centre["name"]), tuple(map(str, centre["areas"])),
                              bool(centre["default"]), tuple(map(str, centre["shares"])))
                for centre in config["control_centres"]
            ),
            allowlist_external_dirs=tuple(map(str, config["allowlist_external_dirs"])),
        )

    @property
    def tz(self) -> ZoneInfo:
        """The time zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.time_zone)

    @property
    def default_centre(self) -> ControlCentre:
        """The centre that takes areas no other centre lists."""
        return next((centre for centre in self.control_centres if centre.default), self.control_centres[0])

    def centre(self, centre_id: str) -> ControlCentre | None:
        """The centre with this id, or None."""
        return next((centre for centre in self.control_centres if centre.id == centre_id), None)

    def centre_for_area(self, area: str | None) -> ControlCentre:
        """The centre that watches `area` (the default centre when none lists it)."""
        if area is not None:
            for centre in self.control_centres:
                if area in centre.areas:
                    return centre
        return self.default_centre

    def is_allowed_path(self, path: str | os.PathLike[str]) -> bool:
        """Whether `path` lies inside one of allowlist_external_dirs."""
        resolved = Path(path).resolve()
        return any(resolved.is_relative_to(Path(allowed).resolve())
                   for allowed in self.allowlist_external_dirs)


def build_core_config(section: Any) -> CoreConfig:
    """Validate the raw `hub:` section (None or absent means all defaults); ConfigError names file:line."""
    return CoreConfig.from_config(validate(CORE_CONFIG_SCHEMA, NodeDict() if section is None else section,
                                              CORE_DOMAIN))


def load_configuration(config_dir: str | os.PathLike[str], collect: list[str] | None = None) -> NodeDict:
    """Read configuration.yaml (with secrets and includes) from `config_dir`. Blocking: use an executor.

    With `collect`, included files that fail are reported there and skipped (see yaml_loader.load_yaml).
    """
    directory = os.fspath(config_dir)
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: configuration file not found (is {directory!r} the config directory?)")
    config = load_yaml(path, Secrets(directory), collect)
    if not isinstance(config, dict):
        raise ConfigError(f"{path}:1: the configuration must be a mapping of `domain:` sections")
    if not isinstance(config, NodeDict):
        config = NodeDict(config)
    package_errors = merge_packages(config)
    if package_errors:
        raise ConfigError(f"{path}: {len(package_errors)} package error(s)", package_errors)
    _LOGGER.debug("Loaded %s with sections %s", path, ", ".join(map(str, config)))
    return config


async def async_load_configuration(hub: Hub) -> NodeDict:
    """load_configuration(hub.config_dir) in the executor."""
    return await hub.async_add_executor_job(load_configuration, hub.config_dir)


def check_config(config_dir: str | os.PathLike[str]) -> list[str]:
    """Load configuration.yaml and validate the `hub:` section; every problem found, as lines. Blocking."""
    try:
        config = load_configuration(config_dir)
    except ConfigError as err:
        return list(err.errors)
    try:
        build_core_config(config.get(CORE_DOMAIN))
    except ConfigError as err:
        return list(err.errors)
    return []
