"""The Entity base class: one thing in the city with a state; properties read memory only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..const import (
    ATTR_DEVICE_CLASS,
    ATTR_FRIENDLY_NAME,
    ATTR_ICON,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from ..core import CALLBACK_TYPE, Context, Hub, callback

if TYPE_CHECKING:
    from .device_registry import DeviceInfo

__all__ = ["Entity", "EntityDescription"]

_LOGGER = logging.getLogger(__name__)



@dataclass(frozen=True, kw_only=True, slots=True)
class EntityDescription:
    """Static description of an entity kind (frozen, shared between instances)."""

    key: str
    name: str | None = None
    device_class: str | None = None
    unit_of_measurement: str | None = None
    icon: str | None = None


class Entity:
    """Base for every entity. Subclasses set `_attr_*` values or override the properties.

    Lifecycle: the platform assigns `hub` and `entity_id`, calls `async_added_to_hub`, then writes
    the first state. `async_on_remove(remover)` collects removers called on removal. A device that
    fails sets `_attr_available = False` and writes state once; it logs the failure once.
    """

    domain: str = "sensor"  # the entity id's domain (sensor, binary_sensor, switch, bollard, panel...)
    entity_id: str = None  # type: ignore[assignment]
    hub: Hub = None  # type: ignore[assignment]
    entity_description: EntityDescription | None = None
    platform_domain: str | None = None  # the integration that created it (registry key)

    _attr_name: str | None = None
    _attr_unique_id: str | None = None
    _attr_available: bool = True
    _attr_state: Any = None
    _attr_extra_state_attributes: Mapping[str, Any] | None = None
    _attr_unit_of_measurement: str | None = None
    _attr_device_class: str | None = None
    _attr_icon: str | None = None
    _attr_device_info: DeviceInfo | None = None
    _attr_area_id: str | None = None
    _attr_suggested_object_id: str | None = None
    _attr_entity_registry_enabled_default: bool = True

    _removers: list[CALLBACK_TYPE] | None = None
    _context: Context | None = None
    _logged_unavailable: bool = False
    _was_available: bool = False  # written available at least once (unavailable from then on is a warning)
    device_id: str | None = None
    registry_area_id: str | None = None
    registry_name: str | None = None  # the user's name from the entity registry

    # ---- properties (memory only)

    @property
    def name(self) -> str | None:
        """Human name."""
        if self._attr_name is not None:
            return self._attr_name
        if self.entity_description is not None:
            return self.entity_description.name
        return None

    @property
    def unique_id(self) -> str | None:
        """Stable id from the integration; with it the entity registry keeps the entity id stable."""
        return self._attr_unique_id

    @property
    def available(self) -> bool:
        """Whether the device answers."""
        return self._attr_available

    @property
    def state(self) -> Any:
        """The state value (converted to a string when written)."""
        return self._attr_state

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Integration-specific attributes."""
        return self._attr_extra_state_attributes

    @property
    def unit_of_measurement(self) -> str | None:
        """Unit of the state."""
        if self._attr_unit_of_measurement is not None:
            return self._attr_unit_of_measurement
        if self.entity_description is not None:
            return self.entity_description.unit_of_measurement
        return None

    @property
    def device_class(self) -> str | None:
        """What kind of thing this measures (temperature, wind_speed...)."""
        if self._attr_device_class is not None:
            return self._attr_device_class
        if self.entity_description is not None:
            return self.entity_description.device_class
        return None

    @property
    def icon(self) -> str | None:
        """Icon name."""
        return self._attr_icon

    @property
    def device_info(self) -> DeviceInfo | None:
        """Device this entity belongs to (registered in the device registry)."""
        return self._attr_device_info

    @property
    def area_id(self) -> str | None:
        """Area the entity is in (registry override first, then the integration's suggestion)."""
        return self.registry_area_id or self._attr_area_id

    @property
    def suggested_object_id(self) -> str | None:
        """Object id to use when the registry has none yet."""
        return self._attr_suggested_object_id

    @property
    def entity_registry_enabled_default(self) -> bool:
        """Whether a newly registered entity starts enabled (False for noisy diagnostics)."""
        return self._attr_entity_registry_enabled_default

    # ---- lifecycle

    async def async_added_to_hub(self) -> None:
        """Called after the entity got its id, before its first state write."""

    async def async_will_remove_from_hub(self) -> None:
        """Called before removal; release resources here."""

    @callback
    def async_on_remove(self, remover: CALLBACK_TYPE) -> None:
        """Register a remover to call when the entity goes away."""
        if self._removers is None:
            self._removers = []
        self._removers.append(remover)

    async def async_remove(self) -> None:
        """Remove the entity from the hub: run removers, drop its state."""
        await self.async_will_remove_from_hub()
        while self._removers:
            remover = self._removers.pop()
            try:
                remover()
            except Exception:
                _LOGGER.exception("Error removing %s", self.entity_id)
        if self.hub is not None and self.entity_id:
            self.hub.states.async_remove(self.entity_id)

    @callback
    def async_set_context(self, context: Context) -> None:
        """Use `context` for the next state write (so it says who caused it)."""
        self._context = context

    # ---- writing state

    @callback
    def async_write_state(self) -> None:
        """Write the current state to the state machine (reads properties; no I/O)."""
        if self.hub is None or self.entity_id is None:
            raise RuntimeError(f"Entity {self!r} is not added to a hub")
        attrs: dict[str, Any] = {}
        if not self.available:
            state = STATE_UNAVAILABLE
            if not self._logged_unavailable:
                # a device that never reported yet (start-up) is not news; one that stops reporting is
                log = _LOGGER.warning if self._was_available else _LOGGER.debug
                log("%s is unavailable", self.entity_id)
                self._logged_unavailable = True
        else:
            if self._logged_unavailable and self._was_available:
                _LOGGER.info("%s is available again", self.entity_id)
            self._logged_unavailable = False
            self._was_available = True
            value = self.state
            state = STATE_UNKNOWN if value is None else _state_str(value)
            extra = self.extra_state_attributes
            if extra:
                attrs.update(extra)
        unit = self.unit_of_measurement
        if unit is not None:
            attrs[ATTR_UNIT_OF_MEASUREMENT] = unit
        device_class = self.device_class
        if device_class is not None:
            attrs[ATTR_DEVICE_CLASS] = device_class
        icon = self.icon
        if icon is not None:
            attrs[ATTR_ICON] = icon
        name = self.registry_name if self.registry_name is not None else self.name
        if name is not None:
            attrs[ATTR_FRIENDLY_NAME] = name
        area = self.area_id
        if area is not None:
            attrs["area_id"] = area
        context, self._context = self._context, None
        self.hub.states.async_set(self.entity_id, state, attrs, context=context)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity_id or self.name}>"


def _state_str(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return repr(round(value, 6)) if value == value else STATE_UNKNOWN
    return str(value)
