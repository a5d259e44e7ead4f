"""The device registry: physical devices (cameras, PLCs, panels) that entities belong to."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from ..core import Hub, HubKey, callback
from .entity_registry import UNDEFINED, RegistryError, UndefinedType
from .registry_base import SingletonLoader
from .storage import Store

__all__ = [
    "EVENT_DEVICE_REGISTRY_UPDATED",
    "DeviceEntry",
    "DeviceInfo",
    "DeviceRegistry",
    "async_get",
    "async_get_or_create_for_info",
    "async_load",
]

_LOGGER = logging.getLogger(__name__)

EVENT_DEVICE_REGISTRY_UPDATED: Final = "device_registry_updated"
STORAGE_KEY: Final = "core.device_registry"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0

DATA_REGISTRY: HubKey[DeviceRegistry] = HubKey("device_registry")


class DeviceInfo(TypedDict, total=False):
    """What an entity says about its device (`Entity.device_info`). `identifiers` is required."""

    identifiers: set[tuple[str, str]]  # {(integration domain, id in that domain)}
    name: str
    manufacturer: str
    model: str
    sw_version: str
    area_id: str  # suggested area, used until a user picks one
    via_device: tuple[str, str]  # identifier of the gateway/PLC this device talks through
    configuration_url: str


_INFO_FIELDS = ("name", "manufacturer", "model", "sw_version", "configuration_url")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEntry:
    """A registered device. Immutable: updates make a new entry."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    identifiers: frozenset[tuple[str, str]] = frozenset()
    platforms: frozenset[str] = frozenset()  # integrations that reported it
    name: str | None = None
    name_by_user: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    area_id: str | None = None
    via_device_id: str | None = None
    configuration_url: str | None = None
    created_at: float = 0.0
    modified_at: float = 0.0

    @property
    def display_name(self) -> str:
        """The user's name, else the integration's, else the first identifier."""
        chosen = self.name_by_user or self.name
        if chosen:
            return chosen
        return ":".join(sorted(self.identifiers)[0]) if self.identifiers else self.id

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (storage and API)."""
        data = dataclasses.asdict(self)
        data["identifiers"] = sorted([list(item) for item in self.identifiers])
        data["platforms"] = sorted(self.platforms)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceEntry:
        """Rebuild an entry from storage; unknown keys are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["identifiers"] = frozenset(_identifier(item) for item in values.get("identifiers", ()))
        values["platforms"] = frozenset(values.get("platforms", ()))
        return cls(**values)


def _identifier(item: Any) -> tuple[str, str]:
    if isinstance(item, str) or not isinstance(item, Iterable):
        raise RegistryError(f"Device identifier {item!r} must be a (domain, id) pair")
    parts = tuple(item)
    if len(parts) != 2 or not all(isinstance(p, str | int) for p in parts):
        raise RegistryError(f"Device identifier {item!r} must be a (domain, id) pair")
    return str(parts[0]), str(parts[1])


class DeviceRegistry:
    """Devices by id, indexed by identifier; persisted in a Store."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.devices: dict[str, DeviceEntry] = {}
        self._by_identifier: dict[tuple[str, str], str] = {}
        self._store: Store[dict[str, Any]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)

    async def async_load(self) -> None:
        """Read the stored devices and start listening for area removals."""
        data = await self._store.async_load()
        for raw in (data or {}).get("devices", []):
            try:
                entry = DeviceEntry.from_dict(raw)
            except (TypeError, ValueError) as err:
                _LOGGER.error("Skipping invalid device registry entry %s: %s", raw, err)
                continue
            self._add(entry)
        self.hub.bus.async_listen("area_registry_updated", self._on_area_updated)

    @callback
    def async_schedule_save(self) -> None:
        """Write the registry soon (coalesced)."""
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _data_to_save(self) -> dict[str, Any]:
        return {"devices": [entry.as_dict() for entry in self.devices.values()]}

    def _add(self, entry: DeviceEntry) -> None:
        self.devices[entry.id] = entry
        for identifier in entry.identifiers:
            self._by_identifier[identifier] = entry.id

    def _drop(self, entry: DeviceEntry) -> None:
        self.devices.pop(entry.id, None)
        for identifier in entry.identifiers:
            if self._by_identifier.get(identifier) == entry.id:
                del self._by_identifier[identifier]

    # ---- queries

    @callback
    def async_get(self, device_id: str) -> DeviceEntry | None:
        """The device with this registry id, or None."""
        return self.devices.get(device_id)

    @callback
    def async_get_device(self, identifiers: Iterable[Iterable[str]]) -> DeviceEntry | None:
        """The device known by any of `identifiers`, or None."""
        for item in identifiers:
            device_id = self._by_identifier.get(_identifier(item))
            if device_id is not None:
                return self.devices[device_id]
        return None

    @callback
    def async_devices_for_area(self, area_id: str) -> list[DeviceEntry]:
        """Devices placed in one area."""
        return [d for d in self.devices.values() if d.area_id == area_id]

    # ---- changes

    @callback
    def async_get_or_create(self, *, platform: str, identifiers: Iterable[Iterable[str]],
                            name: str | None = None, manufacturer: str | None = None,
                            model: str | None = None, sw_version: str | None = None,
                            area_id: str | None = None, via_device: Iterable[str] | None = None,
                            configuration_url: str | None = None) -> DeviceEntry:
        """The device known by any of `identifiers`, created if new, updated with what is given.

        `area_id` is a suggestion: it only fills an empty area, so a user's choice stays.
        """
        ids = frozenset(_identifier(item) for item in identifiers)
        if not ids:
            raise RegistryError(f"Device info from {platform} has no identifiers")
        via_device_id = None
        if via_device is not None:
            via = self.async_get_device([via_device])
            if via is None:
                _LOGGER.warning("%s: via_device %s is not registered (yet)", platform, tuple(via_device))
            else:
                via_device_id = via.id
        info: dict[str, Any] = {"name": name, "manufacturer": manufacturer, "model": model,
                                "sw_version": sw_version, "configuration_url": configuration_url}
        existing = self.async_get_device(ids)
        if existing is None:
            now = self.hub.clock.time()
            entry = DeviceEntry(identifiers=ids, platforms=frozenset({platform}), area_id=area_id,
                                via_device_id=via_device_id, created_at=now, modified_at=now, **info)
            self._add(entry)
            _LOGGER.debug("Registered device %s (%s)", entry.id, entry.display_name)
            self.async_schedule_save()
            self.hub.bus.async_fire(EVENT_DEVICE_REGISTRY_UPDATED,
                                    {"action": "create", "device_id": entry.id})
            return entry
        changes: dict[str, Any] = {k: v for k, v in info.items() if v is not None}
        changes["identifiers"] = existing.identifiers | ids
        changes["platforms"] = existing.platforms | {platform}
        if via_device_id is not None:
            changes["via_device_id"] = via_device_id
        if area_id is not None and existing.area_id is None:
            changes["area_id"] = area_id
        return self._async_update(existing.id, changes)

    @callback
    def async_update_device(self, device_id: str, *,
                            name_by_user: str | UndefinedType | None = UNDEFINED,
                            area_id: str | UndefinedType | None = UNDEFINED) -> DeviceEntry:
        """The user's changes: a display name and an area."""
        changes: dict[str, Any] = {}
        if name_by_user is not UNDEFINED:
            changes["name_by_user"] = name_by_user
        if area_id is not UNDEFINED:
            if area_id is not None:
                _check_area(self.hub, area_id)
            changes["area_id"] = area_id
        return self._async_update(device_id, changes)

    def _async_update(self, device_id: str, changes: dict[str, Any]) -> DeviceEntry:
        old = self.devices.get(device_id)
        if old is None:
            raise RegistryError(f"Device {device_id} is not in the device registry")
        changed = {key: value for key, value in changes.items() if getattr(old, key) != value}
        if not changed:
            return old
        new = dataclasses.replace(old, **changed, modified_at=self.hub.clock.time())
        self._drop(old)
        self._add(new)
        self.async_schedule_save()
        old_values = {key: _plain(getattr(old, key)) for key in changed}
        self.hub.bus.async_fire(
            EVENT_DEVICE_REGISTRY_UPDATED, {"action": "update", "device_id": device_id, "changes": old_values}
        )
        return new

    @callback
    def async_remove_device(self, device_id: str) -> None:
        """Forget a device; entities keep existing without it, devices routed via it lose the link."""
        entry = self.devices.get(device_id)
        if entry is None:
            raise RegistryError(f"Device {device_id} is not in the device registry")
        self._drop(entry)
        for other in list(self.devices.values()):
            if other.via_device_id == device_id:
                self._async_update(other.id, {"via_device_id": None})
        self.async_schedule_save()
        self.hub.bus.async_fire(EVENT_DEVICE_REGISTRY_UPDATED, {"action": "remove", "device_id": device_id})

    @callback
    def _on_area_updated(self, event: Any) -> None:
        if event.data.get("action") == "remove":
            for device in self.async_devices_for_area(event.data["area_id"]):
                self._async_update(device.id, {"area_id": None})


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(list(item) if isinstance(item, tuple) else item for item in value)
    return value


def _check_area(hub: Hub, area_id: str) -> None:
    from .area_registry import DATA_REGISTRY as AREAS

    areas = hub.data.get(AREAS)
    if areas is not None and areas.async_get_area(area_id) is None:
        raise RegistryError(f"Unknown area {area_id!r}")


_LOADER: SingletonLoader[DeviceRegistry] = SingletonLoader(
    DATA_REGISTRY, DeviceRegistry, what="device registry", module="device_registry")


async def async_load(hub: Hub) -> DeviceRegistry:
    """Load the device registry into `hub.data` (once; concurrent callers share the load)."""
    return await _LOADER.async_load(hub)


@callback
def async_get(hub: Hub) -> DeviceRegistry:
    """The loaded device registry. Raises LookupError when `async_load` has not run."""
    return _LOADER.async_get(hub)


@callback
def async_get_or_create_for_info(hub: Hub, platform: str, info: DeviceInfo) -> DeviceEntry:
    """Register the device an entity describes in `device_info`."""
    if "identifiers" not in info:
        raise RegistryError(f"Device info from {platform} has no identifiers")
    unknown = set(info) - {"identifiers", "area_id", "via_device", *_INFO_FIELDS}
    if unknown:
        raise RegistryError(f"Device info from {platform} has unknown keys: {', '.join(sorted(unknown))}")
    return async_get(hub).async_get_or_create(platform=platform, **info)
