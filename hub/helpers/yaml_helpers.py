"""Helper entities declared in YAML (input_boolean, input_number, counter, timer...): the shared plumbing.

Each helper integration keeps its own schema, entity class and service list; this module gives them
the same shape as Home Assistant's: one entity per key under `<domain>:` (`input_boolean.<key>`),
`name` and `icon` from the config, state restored across restarts (RestoreEntity), and the
integration's entity services registered on setup and removed on unload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import voluptuous as vol

from ..core import Hub
from ..setup_handle import async_drain_setup_handle, async_get_setup_handle
from . import config_validation as cv
from .entity_platform import async_add_entities
from .entity_service import async_register_entity_service
from .restore_state import RestoreEntity

__all__ = [
    "BASE_HELPER_FIELDS",
    "HelperEntity",
    "ServiceSpec",
    "async_setup_helpers",
    "async_unload_helpers",
    "helper_integration",
    "helpers_config_schema",
]

BASE_HELPER_FIELDS: dict[Any, Any] = {
    vol.Optional("name"): cv.string,
    vol.Optional("icon"): cv.icon,
}

# (service, extra fields of its schema, entity method)
ServiceSpec = tuple[str, Mapping[Any, Any], str]

def helpers_config_schema(item_schema: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    """`{key: item or null}` under the domain, keys are slugs (the object ids)."""

    def validate_item(value: Any) -> Any:
        return item_schema({} if value is None else value)

    return vol.Schema({cv.slug: validate_item})


class HelperEntity(RestoreEntity):
    """One helper: `key` is its object id, `config` its validated settings.

    Service methods are @callback functions (nothing to await): the services run inline.
    """

    def __init__(self, key: str, config: Mapping[str, Any]) -> None:
        self._config = config
        self._attr_suggested_object_id = key
        self._attr_name = config.get("name")
        self._attr_icon = config.get("icon")

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """`editable: false` (declared in YAML) and the helper's own attributes."""
        return {"editable": False, **self.helper_attributes()}

    def helper_attributes(self) -> dict[str, Any]:
        """The helper's attributes (min, max, options...)."""
        return {}


async def async_setup_helpers(hub: Hub, domain: str, config: Mapping[str, Any],
                              factory: Callable[[str, Mapping[str, Any]], HelperEntity],
                              services: Sequence[ServiceSpec]) -> bool:
    """Add one entity per key and register the domain's services."""
    handle = async_get_setup_handle(hub, domain)
    for service, fields, method in services:
        handle.async_on_unload(async_register_entity_service(hub, domain, service, method, fields, entity_domain=domain,
                                                             allow_all=True, inline=True))
    await async_add_entities(hub, domain, [factory(key, item) for key, item in config.items()])
    return True


async def async_unload_helpers(hub: Hub, domain: str) -> bool:
    """Remove the services (the loader removes the entities)."""
    await async_drain_setup_handle(hub, domain)  # also when called without the setup manager
    return True


SetupFunc = Callable[[Hub, dict[str, Any]], Awaitable[bool]]
UnloadFunc = Callable[[Hub], Awaitable[bool]]


def helper_integration(domain: str, item_schema: Callable[[Any], Any],
                       factory: Callable[[str, Mapping[str, Any]], HelperEntity],
                       services: Sequence[ServiceSpec]) -> tuple[Callable[[Any], Any], SetupFunc, UnloadFunc]:
    """`CONFIG_SCHEMA, async_setup, async_unload` of a helper integration (they differ only in these four)."""

    async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
        """Add one entity per key and register the services."""
        return await async_setup_helpers(hub, domain, config, factory, services)

    async def async_unload(hub: Hub) -> bool:
        """Remove the services; the loader removes the entities."""
        return await async_unload_helpers(hub, domain)

    return helpers_config_schema(item_schema), async_setup, async_unload
