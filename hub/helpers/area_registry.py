"""The area registry: zones of the city with coordinates, each also a `zone.<id>` state."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import voluptuous as vol

from ..const import ATTR_FRIENDLY_NAME, ATTR_ICON, ATTR_LATITUDE, ATTR_LONGITUDE
from ..core import Hub, HubKey, State, callback
from ..exceptions import ConfigError
from . import config_validation as cv
from .entity_registry import UNDEFINED, RegistryError, UndefinedType
from .geo import distance_m, point_in_polygon, polygon_centroid
from .registry_base import SingletonLoader
from .storage import Store

__all__ = [
    "AREA_SCHEMA",
    "CONFIG_SCHEMA",
    "DEFAULT_RADIUS_M",
    "EVENT_AREA_REGISTRY_UPDATED",
    "ZONE_DOMAIN",
    "AreaEntry",
    "AreaRegistry",
    "async_get",
    "async_load",
    "async_setup_areas",
    "in_zone",
]

_LOGGER = logging.getLogger(__name__)

EVENT_AREA_REGISTRY_UPDATED: Final = "area_registry_updated"
STORAGE_KEY: Final = "core.area_registry"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0
DEFAULT_RADIUS_M: Final = 100.0
ZONE_DOMAIN: Final = "zone"
ZONE_STATE: Final = "zoning"
ATTR_RADIUS: Final = "radius"
ATTR_POLYGON: Final = "polygon"

DATA_REGISTRY: HubKey[AreaRegistry] = HubKey("area_registry")

Source = Literal["yaml", "storage"]

# ---------------------------------------------------------------------------- schema

def _point(value: Any) -> list[float]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise vol.Invalid(f"expected a [latitude, longitude] pair, got {value!r}")
    return [cv.latitude(value[0]), cv.longitude(value[1])]


def _polygon(value: Any) -> list[list[float]]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise vol.Invalid("expected a list of [latitude, longitude] vertices")
    points = []
    for index, item in enumerate(value):
        try:
            points.append(_point(item))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index]) from None
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()  # a closed ring is the same polygon
    if len(points) < 3:
        raise vol.Invalid(f"a polygon needs at least 3 distinct vertices, got {len(points)}")
    return points


def _positive(value: Any) -> float:
    result = cv.positive_float(value)
    if result == 0:
        raise vol.Invalid("expected a distance in metres > 0")
    return result


def _complete(area: dict[str, Any]) -> dict[str, Any]:
    """Fill what can be derived: id from the name, centre and radius from the polygon."""
    area = dict(area)
    if "id" not in area:
        area["id"] = cv.slugify(area["name"])
        if not area["id"]:
            raise vol.Invalid(f"cannot derive an id from name {area['name']!r}; give 'id'", path=["id"])
    has_lat, has_lon = "latitude" in area, "longitude" in area
    if has_lat != has_lon:
        missing = "longitude" if has_lat else "latitude"
        raise vol.Invalid("latitude and longitude go together", path=[missing])
    polygon = area.get("polygon")
    if not has_lat:
        if polygon is None:
            raise vol.Invalid("an area needs latitude and longitude, or a polygon", path=["latitude"])
        area["latitude"], area["longitude"] = polygon_centroid(polygon)
    if "radius_m" not in area:
        if polygon is not None:
            # the circle around the centre that covers the polygon (for zone consumers without polygons)
            area["radius_m"] = float(math.ceil(max(
                distance_m(area["latitude"], area["longitude"], lat, lon) for lat, lon in polygon
            )))
        else:
            area["radius_m"] = DEFAULT_RADIUS_M
    return area


AREA_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional("id"): cv.slug,
            vol.Required("name"): vol.All(cv.string, vol.Length(min=1, max=100)),
            vol.Optional("latitude"): cv.latitude,
            vol.Optional("longitude"): cv.longitude,
            vol.Optional("radius_m"): _positive,
            vol.Optional("polygon"): _polygon,
            vol.Optional("centre", default=None): vol.Any(None, cv.slug),
            vol.Optional("parent", default=None): vol.Any(None, cv.slug),
        }
    ),
    _complete,
)


def _check_references(areas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ids unique; parents name another configured area; no parent cycles."""
    seen: dict[str, int] = {}
    for index, area in enumerate(areas):
        if area["id"] in seen:
            raise vol.Invalid(f"duplicate area id {area['id']!r} (also item {seen[area['id']]})",
                              path=[index, "id"])
        seen[area["id"]] = index
    parents = {area["id"]: area["parent"] for area in areas}
    for index, area in enumerate(areas):
        parent = area["parent"]
        if parent is None:
            continue
        if parent not in parents:
            raise vol.Invalid(f"parent {parent!r} is not a configured area", path=[index, "parent"])
        chain = [area["id"]]
        while parent is not None:
            if parent in chain:
                raise vol.Invalid(f"parent cycle: {' -> '.join([*chain, parent])}", path=[index, "parent"])
            chain.append(parent)
            parent = parents[parent]
    return areas


CONFIG_SCHEMA = vol.All(cv.list_of(AREA_SCHEMA), _check_references)


# ---------------------------------------------------------------------------- entries


@dataclass(frozen=True, slots=True, kw_only=True)
class AreaEntry:
    """An area of the city. `polygon`, when given, is its exact shape; else the circle counts."""

    id: str
    name: str
    latitude: float
    longitude: float
    radius_m: float = DEFAULT_RADIUS_M
    polygon: tuple[tuple[float, float], ...] | None = None
    centre: str | None = None  # the control centre that owns it
    parent: str | None = None
    source: Source = "storage"

    @property
    def zone_entity_id(self) -> str:
        """The `zone.<id>` state that mirrors this area."""
        return f"{ZONE_DOMAIN}.{self.id}"

    def contains(self, latitude: float, longitude: float) -> bool:
        """Whether a point is inside the polygon, or within radius_m of the centre."""
        if self.polygon is not None:
            return point_in_polygon(latitude, longitude, self.polygon)
        return distance_m(self.latitude, self.longitude, latitude, longitude) <= self.radius_m

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (storage and API)."""
        data = dataclasses.asdict(self)
        data["polygon"] = [list(p) for p in self.polygon] if self.polygon is not None else None
        return data

    @classmethod
    def from_config(cls, config: Mapping[str, Any], source: Source) -> AreaEntry:
        """Build from a dict validated by AREA_SCHEMA."""
        polygon = config.get("polygon")
        return cls(
            id=config["id"], name=config["name"], latitude=config["latitude"],
            longitude=config["longitude"], radius_m=config["radius_m"],
            polygon=tuple((float(p[0]), float(p[1])) for p in polygon) if polygon else None,
            centre=config.get("centre"), parent=config.get("parent"), source=source,
        )

    def zone_attributes(self) -> dict[str, Any]:
        """Attributes of the `zone.<id>` state (what zone triggers read)."""
        attrs: dict[str, Any] = {
            ATTR_FRIENDLY_NAME: self.name,
            ATTR_LATITUDE: self.latitude,
            ATTR_LONGITUDE: self.longitude,
            ATTR_RADIUS: self.radius_m,
            ATTR_ICON: "mdi:map-marker-radius",
            "area_id": self.id,
        }
        if self.polygon is not None:
            attrs[ATTR_POLYGON] = [list(p) for p in self.polygon]
        if self.centre is not None:
            attrs["centre"] = self.centre
        if self.parent is not None:
            attrs["parent"] = self.parent
        return attrs


def in_zone(zone: State, latitude: float, longitude: float, accuracy_m: float = 0.0) -> bool:
    """Whether a point (with a GPS accuracy radius) is in a `zone.*` state's polygon or circle."""
    polygon = zone.attributes.get(ATTR_POLYGON)
    if polygon:
        return point_in_polygon(latitude, longitude, polygon)
    try:
        centre_lat = float(zone.attributes[ATTR_LATITUDE])
        centre_lon = float(zone.attributes[ATTR_LONGITUDE])
        radius = float(zone.attributes.get(ATTR_RADIUS, 0.0))
    except (KeyError, TypeError, ValueError):
        return False
    return distance_m(centre_lat, centre_lon, latitude, longitude) - accuracy_m <= radius


# ---------------------------------------------------------------------------- registry


class AreaRegistry:
    """Areas by id, persisted; YAML areas are authoritative and re-synced at every start."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.areas: dict[str, AreaEntry] = {}
        self._store: Store[dict[str, Any]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)

    async def async_load(self) -> None:
        """Read the stored areas and write their zone states."""
        data = await self._store.async_load()
        for raw in (data or {}).get("areas", []):
            try:
                config = AREA_SCHEMA({k: v for k, v in raw.items() if k != "source" and v is not None})
                entry = AreaEntry.from_config(config, "yaml" if raw.get("source") == "yaml" else "storage")
            except vol.Invalid as err:
                _LOGGER.error("Skipping invalid stored area %s: %s", raw.get("id"), err)
                continue
            self.areas[entry.id] = entry
            self._write_zone(entry)

    @callback
    def async_schedule_save(self) -> None:
        """Write the registry soon (coalesced)."""
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _data_to_save(self) -> dict[str, Any]:
        return {"areas": [entry.as_dict() for entry in self.areas.values()]}

    # ---- queries

    @callback
    def async_get_area(self, area_id: str) -> AreaEntry | None:
        """The area with this id, or None."""
        return self.areas.get(area_id)

    @callback
    def async_list_areas(self) -> list[AreaEntry]:
        """All areas."""
        return list(self.areas.values())

    @callback
    def areas_containing(self, latitude: float, longitude: float) -> list[AreaEntry]:
        """Areas that contain a point, the smallest (most specific) first."""
        found = [area for area in self.areas.values() if area.contains(latitude, longitude)]
        return sorted(found, key=lambda area: (area.radius_m, area.id))

    @callback
    def in_area(self, area_id: str, latitude: float, longitude: float) -> bool:
        """Whether a point is in area `area_id`. Raises RegistryError for an unknown area."""
        area = self.areas.get(area_id)
        if area is None:
            raise RegistryError(f"Unknown area {area_id!r}")
        return area.contains(latitude, longitude)

    @callback
    def async_children(self, area_id: str) -> list[AreaEntry]:
        """Areas whose parent is `area_id`."""
        return [area for area in self.areas.values() if area.parent == area_id]

    # ---- changes

    @callback
    def async_sync_yaml(self, areas: list[dict[str, Any]]) -> None:
        """Make the YAML areas (validated by CONFIG_SCHEMA) exactly what configuration.yaml says."""
        wanted = {area["id"]: AreaEntry.from_config(area, "yaml") for area in areas}
        for area_id, entry in wanted.items():
            current = self.areas.get(area_id)
            if current is None:
                self._set(entry, "create")
            elif current != entry:
                self._set(entry, "update")
        for entry in list(self.areas.values()):
            if entry.source == "yaml" and entry.id not in wanted:
                self._delete(entry)

    @callback
    def async_create(self, name: str, latitude: float | None = None, longitude: float | None = None, *,
                     area_id: str | None = None, radius_m: float | None = None,
                     polygon: list[list[float]] | None = None, centre: str | None = None,
                     parent: str | None = None) -> AreaEntry:
        """Create an area at run time (API); it is stored, and YAML wins if it defines the same id."""
        raw: dict[str, Any] = {"name": name, "centre": centre, "parent": parent}
        for key, value in (("id", area_id), ("latitude", latitude), ("longitude", longitude),
                           ("radius_m", radius_m), ("polygon", polygon)):
            if value is not None:
                raw[key] = value
        entry = self._validated(raw)
        if entry.id in self.areas:
            raise RegistryError(f"Area {entry.id!r} already exists")
        self._set(entry, "create")
        return entry

    @callback
    def async_update(self, area_id: str, *, name: str | UndefinedType = UNDEFINED,
                     latitude: float | UndefinedType = UNDEFINED,
                     longitude: float | UndefinedType = UNDEFINED,
                     radius_m: float | UndefinedType = UNDEFINED,
                     polygon: list[list[float]] | UndefinedType | None = UNDEFINED,
                     centre: str | UndefinedType | None = UNDEFINED,
                     parent: str | UndefinedType | None = UNDEFINED) -> AreaEntry:
        """Change a run-time area. Areas from configuration.yaml can only change there."""
        current = self._editable(area_id)
        raw = current.as_dict()
        raw.pop("source")
        changes = {"name": name, "latitude": latitude, "longitude": longitude, "radius_m": radius_m,
                   "polygon": polygon, "centre": centre, "parent": parent}
        for key, value in changes.items():
            if value is not UNDEFINED:
                raw[key] = value
        if raw["polygon"] is None:
            raw.pop("polygon")
        entry = self._validated(raw)
        if entry != current:
            self._set(entry, "update")
        return entry

    @callback
    def async_delete(self, area_id: str) -> None:
        """Delete a run-time area; entities and devices in it lose their area."""
        self._delete(self._editable(area_id))

    def _editable(self, area_id: str) -> AreaEntry:
        current = self.areas.get(area_id)
        if current is None:
            raise RegistryError(f"Unknown area {area_id!r}")
        if current.source == "yaml":
            raise RegistryError(f"Area {area_id!r} is defined in configuration.yaml; change it there")
        return current

    def _validated(self, raw: dict[str, Any]) -> AreaEntry:
        try:
            config = AREA_SCHEMA(raw)
        except vol.Invalid as err:
            path = ".".join(str(p) for p in err.path)
            raise RegistryError(f"Invalid area: {path + ': ' if path else ''}{err.msg}") from err
        parent = config["parent"]
        if parent is not None:
            if parent not in self.areas:
                raise RegistryError(f"Invalid area: parent {parent!r} does not exist")
            ancestor: str | None = parent
            while ancestor is not None:
                if ancestor == config["id"]:
                    raise RegistryError(f"Invalid area: {parent!r} is inside {config['id']!r}, "
                                        "so it cannot be its parent")
                ancestor = self.areas[ancestor].parent if ancestor in self.areas else None
        return AreaEntry.from_config(config, "storage")

    def _set(self, entry: AreaEntry, action: str) -> None:
        self.areas[entry.id] = entry
        self._write_zone(entry)
        self.async_schedule_save()
        self.hub.bus.async_fire(EVENT_AREA_REGISTRY_UPDATED, {"action": action, "area_id": entry.id})

    def _delete(self, entry: AreaEntry) -> None:
        del self.areas[entry.id]
        for child in self.async_children(entry.id):
            self.areas[child.id] = dataclasses.replace(child, parent=None)
            self._write_zone(self.areas[child.id])
        self.hub.states.async_remove(entry.zone_entity_id)
        self.async_schedule_save()
        self.hub.bus.async_fire(EVENT_AREA_REGISTRY_UPDATED, {"action": "remove", "area_id": entry.id})

    def _write_zone(self, entry: AreaEntry) -> None:
        self.hub.states.async_set(entry.zone_entity_id, ZONE_STATE, entry.zone_attributes())


# ---------------------------------------------------------------------------- setup


_LOADER: SingletonLoader[AreaRegistry] = SingletonLoader(
    DATA_REGISTRY, AreaRegistry, what="area registry", module="area_registry")


async def async_load(hub: Hub) -> AreaRegistry:
    """Load the area registry into `hub.data` (once; concurrent callers share the load)."""
    return await _LOADER.async_load(hub)


@callback
def async_get(hub: Hub) -> AreaRegistry:
    """The loaded area registry. Raises LookupError when `async_load` has not run."""
    return _LOADER.async_get(hub)


async def async_setup_areas(hub: Hub, config: Any) -> AreaRegistry:
    """Load the registry and sync it with the `areas:` section of configuration.yaml.

    `config` is that section (validated by CONFIG_SCHEMA or raw; it is validated again, which is
    idempotent). Invalid configuration raises ConfigError naming each problem.
    """
    try:
        areas = CONFIG_SCHEMA(config)
    except vol.MultipleInvalid as err:
        raise ConfigError(
            "Invalid areas configuration",
            [f"areas/{'/'.join(str(p) for p in e.path)}: {e.msg}" for e in err.errors],
        ) from err
    except vol.Invalid as err:
        raise ConfigError(f"Invalid areas configuration: areas/{'/'.join(str(p) for p in err.path)}: "
                          f"{err.msg}") from err
    registry = await async_load(hub)
    registry.async_sync_yaml(areas)
    _LOGGER.info("%d areas configured", len(areas))
    return registry
