"""The entity registry: stable entity ids for (domain, platform, unique_id), and user overrides."""

from __future__ import annotations

import dataclasses
import enum
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..core import Event, Hub, HubKey, callback, split_entity_id, valid_entity_id
from ..exceptions import HubError, InvalidEntityId
from . import config_validation as cv
from .registry_base import SingletonLoader
from .storage import Store

if TYPE_CHECKING:
    from .entity import Entity

__all__ = [
    "EVENT_ENTITY_REGISTRY_UPDATED",
    "UNDEFINED",
    "EntityRegistry",
    "RegistryEntry",
    "RegistryEntryDisabler",
    "RegistryError",
    "UndefinedType",
    "async_get",
    "async_load",
]

_LOGGER = logging.getLogger(__name__)

EVENT_ENTITY_REGISTRY_UPDATED: Final = "entity_registry_updated"
STORAGE_KEY: Final = "core.entity_registry"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0

DATA_REGISTRY: HubKey[EntityRegistry] = HubKey("entity_registry")

# The fields a user (API, frontend, service) may change; the rest belong to the integration.
_USER_FIELDS = ("name", "area_id", "disabled_by")


class RegistryError(HubError, ValueError):
    """A registry change was refused (unknown entry, id in use, bad value); the message says why."""


class RegistryEntryDisabler(enum.StrEnum):
    """Who disabled an entity."""

    USER = "user"
    INTEGRATION = "integration"


class UndefinedType(enum.Enum):
    """The type of UNDEFINED: 'not given', as opposed to None ('clear it')."""

    UNDEFINED = "UNDEFINED"


UNDEFINED: Final = UndefinedType.UNDEFINED


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryEntry:
    """What the registry remembers about one entity. Immutable: updates make a new entry."""

    entity_id: str
    platform: str
    unique_id: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    name: str | None = None  # user's name, shown instead of original_name
    area_id: str | None = None  # user's area, wins over the integration's and the device's
    disabled_by: RegistryEntryDisabler | None = None
    device_id: str | None = None
    original_name: str | None = None
    original_device_class: str | None = None
    original_unit: str | None = None
    created_at: float = 0.0
    modified_at: float = 0.0

    @property
    def domain(self) -> str:
        """The entity id's domain."""
        return self.entity_id.partition(".")[0]

    @property
    def disabled(self) -> bool:
        """Whether the entity is kept out of the hub."""
        return self.disabled_by is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (storage and API)."""
        data = dataclasses.asdict(self)
        data["disabled_by"] = self.disabled_by.value if self.disabled_by is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryEntry:
        """Rebuild an entry from storage; unknown keys (from newer minor versions) are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        disabled_by = values.get("disabled_by")
        values["disabled_by"] = RegistryEntryDisabler(disabled_by) if disabled_by else None
        return cls(**values)


class EntityRegistry:
    """Entries by entity id, indexed by (domain, platform, unique_id); persisted in a Store.

    The key includes the domain so that one device may expose, say, `bollard.b7` and
    `sensor.b7_position` under the same unique id (a PLC serial number).
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.entities: dict[str, RegistryEntry] = {}
        self._index: dict[tuple[str, str, str], str] = {}
        self._store: Store[dict[str, Any]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)

    # ---- persistence

    async def async_load(self) -> None:
        """Read the stored entries and start listening for device and area removals."""
        data = await self._store.async_load()
        for raw in (data or {}).get("entities", []):
            try:
                entry = RegistryEntry.from_dict(raw)
            except (TypeError, ValueError) as err:
                _LOGGER.error("Skipping invalid entity registry entry %s: %s", raw, err)
                continue
            self._add(entry)
        self.hub.bus.async_listen("device_registry_updated", self._on_device_updated)
        self.hub.bus.async_listen("area_registry_updated", self._on_area_updated)

    @callback
    def async_schedule_save(self) -> None:
        """Write the registry soon (coalesced)."""
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _data_to_save(self) -> dict[str, Any]:
        return {"entities": [entry.as_dict() for entry in self.entities.values()]}

    def _add(self, entry: RegistryEntry) -> None:
        self.entities[entry.entity_id] = entry
        self._index[(entry.domain, entry.platform, entry.unique_id)] = entry.entity_id

    def _drop(self, entry: RegistryEntry) -> None:
        self.entities.pop(entry.entity_id, None)
        self._index.pop((entry.domain, entry.platform, entry.unique_id), None)

    # ---- queries

    @callback
    def async_get(self, entity_id: str) -> RegistryEntry | None:
        """The entry of `entity_id`, or None."""
        return self.entities.get(entity_id)

    @callback
    def async_get_entity_id(self, domain: str, platform: str, unique_id: str) -> str | None:
        """The entity id registered for (domain, platform, unique_id), or None."""
        return self._index.get((domain, platform, str(unique_id)))

    @callback
    def async_is_registered(self, entity_id: str) -> bool:
        """Whether `entity_id` belongs to a registry entry."""
        return entity_id in self.entities

    @callback
    def async_entries_for_platform(self, platform: str) -> list[RegistryEntry]:
        """Entries created by one integration."""
        return [e for e in self.entities.values() if e.platform == platform]

    @callback
    def async_entries_for_device(self, device_id: str) -> list[RegistryEntry]:
        """Entries of one device."""
        return [e for e in self.entities.values() if e.device_id == device_id]

    @callback
    def async_entries_for_area(self, area_id: str) -> list[RegistryEntry]:
        """Entries the user placed in one area."""
        return [e for e in self.entities.values() if e.area_id == area_id]

    @callback
    def async_generate_entity_id(self, domain: str, suggested_object_id: str) -> str:
        """A free `domain.object_id` (not registered, not in the state machine)."""
        object_id = cv.slugify(suggested_object_id) or "unnamed"
        candidate = f"{domain}.{object_id}"
        n = 2
        while candidate in self.entities or not self.hub.states.async_available(candidate):
            candidate = f"{domain}.{object_id}_{n}"
            n += 1
        return candidate

    # ---- changes

    @callback
    def async_get_or_create(self, domain: str, platform: str, unique_id: str, *,
                            suggested_object_id: str | None = None,
                            original_name: str | None = None,
                            original_device_class: str | None = None,
                            original_unit: str | None = None,
                            device_id: str | None = None,
                            disabled_by: RegistryEntryDisabler | None = None) -> RegistryEntry:
        """The entry for (domain, platform, unique_id), created if new.

        For an existing entry the integration's own fields (original_*, device_id) are refreshed;
        the user's choices (entity id, name, area, disabled) are kept.
        """
        unique_id = str(unique_id)
        entity_id = self._index.get((domain, platform, unique_id))
        if entity_id is not None:
            return self._async_update(
                entity_id,
                {
                    "original_name": original_name,
                    "original_device_class": original_device_class,
                    "original_unit": original_unit,
                    "device_id": device_id,
                },
            )
        entity_id = self.async_generate_entity_id(
            domain, suggested_object_id or original_name or f"{platform}_{unique_id}"
        )
        now = self.hub.clock.time()
        entry = RegistryEntry(
            entity_id=entity_id, platform=platform, unique_id=unique_id,
            original_name=original_name, original_device_class=original_device_class,
            original_unit=original_unit, device_id=device_id, disabled_by=disabled_by,
            created_at=now, modified_at=now,
        )
        self._add(entry)
        _LOGGER.debug("Registered %s for %s/%s", entity_id, platform, unique_id)
        self.async_schedule_save()
        self.hub.bus.async_fire(EVENT_ENTITY_REGISTRY_UPDATED, {"action": "create", "entity_id": entity_id})
        return entry

    @callback
    def async_get_or_create_for_entity(self, hub: Hub, platform: str, entity: Entity) -> str:
        """Register `entity` (which has a unique_id) and return its entity id."""
        if entity.unique_id is None:
            raise RegistryError(f"{entity!r} from {platform} has no unique_id to register")
        disabled_by = None
        if not entity.entity_registry_enabled_default:
            disabled_by = RegistryEntryDisabler.INTEGRATION
        entry = self.async_get_or_create(
            entity.domain, platform, entity.unique_id,
            suggested_object_id=entity.suggested_object_id,
            original_name=entity.name,
            original_device_class=entity.device_class,
            original_unit=entity.unit_of_measurement,
            device_id=entity.device_id,
            disabled_by=disabled_by,
        )
        return entry.entity_id

    @callback
    def async_update_entity(self, entity_id: str, *,
                            new_entity_id: str | UndefinedType = UNDEFINED,
                            name: str | UndefinedType | None = UNDEFINED,
                            area_id: str | UndefinedType | None = UNDEFINED,
                            disabled_by: RegistryEntryDisabler | str | UndefinedType | None = UNDEFINED,
                            device_id: str | UndefinedType | None = UNDEFINED) -> RegistryEntry:
        """Change an entry: rename its entity id (same domain), set name/area overrides, disable.

        Fires `entity_registry_updated` with `changes` holding the old values (and `old_entity_id`
        on a rename); the entity platform applies the change to the live entity.
        """
        changes: dict[str, Any] = {}
        if new_entity_id is not UNDEFINED:
            changes["entity_id"] = new_entity_id
        if name is not UNDEFINED:
            changes["name"] = name
        if area_id is not UNDEFINED:
            changes["area_id"] = area_id
        if disabled_by is not UNDEFINED:
            changes["disabled_by"] = RegistryEntryDisabler(disabled_by) if disabled_by else None
        if device_id is not UNDEFINED:
            changes["device_id"] = device_id
        return self._async_update(entity_id, changes)

    def _async_update(self, entity_id: str, changes: dict[str, Any]) -> RegistryEntry:
        old = self.entities.get(entity_id)
        if old is None:
            raise RegistryError(f"Entity {entity_id} is not in the entity registry")
        changed = {key: value for key, value in changes.items() if getattr(old, key) != value}
        if not changed:
            return old
        new_entity_id = changed.get("entity_id")
        if new_entity_id is not None:
            self._check_new_entity_id(old, new_entity_id)
        area_id = changed.get("area_id")
        if area_id is not None:
            self._check_area(area_id)
        new = dataclasses.replace(old, **changed, modified_at=self.hub.clock.time())
        self._drop(old)
        self._add(new)
        self.async_schedule_save()
        data: dict[str, Any] = {
            "action": "update",
            "entity_id": new.entity_id,
            "changes": {key: _plain(getattr(old, key)) for key in changed},
        }
        if new_entity_id is not None:
            data["old_entity_id"] = old.entity_id
        self.hub.bus.async_fire(EVENT_ENTITY_REGISTRY_UPDATED, data)
        return new

    def _check_new_entity_id(self, old: RegistryEntry, new_entity_id: str) -> None:
        if not valid_entity_id(new_entity_id):
            raise InvalidEntityId(f"Invalid entity id {new_entity_id!r}: expected 'domain.object_id'")
        if split_entity_id(new_entity_id)[0] != old.domain:
            raise InvalidEntityId(
                f"Cannot rename {old.entity_id} to {new_entity_id}: the domain must stay {old.domain}"
            )
        if new_entity_id in self.entities or not self.hub.states.async_available(new_entity_id):
            raise InvalidEntityId(f"Cannot rename {old.entity_id} to {new_entity_id}: the id is in use")

    def _check_area(self, area_id: str) -> None:
        from .area_registry import DATA_REGISTRY as AREAS

        areas = self.hub.data.get(AREAS)
        if areas is not None and areas.async_get_area(area_id) is None:
            raise RegistryError(f"Unknown area {area_id!r}")

    @callback
    def async_remove(self, entity_id: str) -> None:
        """Forget an entity (its id becomes free; a new entity with its unique_id gets a new id)."""
        entry = self.entities.get(entity_id)
        if entry is None:
            raise RegistryError(f"Entity {entity_id} is not in the entity registry")
        self._drop(entry)
        self.async_schedule_save()
        self.hub.bus.async_fire(EVENT_ENTITY_REGISTRY_UPDATED, {"action": "remove", "entity_id": entity_id})

    @callback
    def _clear(self, field_name: str, value: str, entries: Iterable[RegistryEntry]) -> None:
        for entry in list(entries):
            self._async_update(entry.entity_id, {field_name: None})
        _LOGGER.debug("Cleared %s %s from entities", field_name, value)

    @callback
    def _on_device_updated(self, event: Event) -> None:
        if event.data.get("action") == "remove":
            device_id = event.data["device_id"]
            self._clear("device_id", device_id, self.async_entries_for_device(device_id))

    @callback
    def _on_area_updated(self, event: Event) -> None:
        if event.data.get("action") == "remove":
            area_id = event.data["area_id"]
            self._clear("area_id", area_id, self.async_entries_for_area(area_id))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


_LOADER: SingletonLoader[EntityRegistry] = SingletonLoader(
    DATA_REGISTRY, EntityRegistry, what="entity registry", module="entity_registry")


async def async_load(hub: Hub) -> EntityRegistry:
    """Load the entity registry into `hub.data` (once; concurrent callers share the load)."""
    return await _LOADER.async_load(hub)


@callback
def async_get(hub: Hub) -> EntityRegistry:
    """The loaded entity registry. Raises LookupError when `async_load` has not run."""
    return _LOADER.async_get(hub)
