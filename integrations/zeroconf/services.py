"""zeroconf.adopt (returns the YAML to paste), zeroconf.ignore and zeroconf.unignore."""

from __future__ import annotations

from typing import Any

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse, callback
from hub.exceptions import ServiceValidationError

from .const import DOMAIN, SERVICE_ADOPT, SERVICE_IGNORE, SERVICE_UNIGNORE
from .registry import DiscoveredService, DiscoveryRegistry
from .schema import ID_SCHEMA
from .snippets import adoption

__all__ = ["async_register_services"]


@callback
def async_register_services(hub: Hub, registry: DiscoveryRegistry) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    def _service(call: ServiceCall) -> DiscoveredService:
        service = registry.get(call.data["id"])
        if service is None:
            known = ", ".join(sorted(registry.services)) or "none"
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: nothing discovered with id "
                                         f"'{call.data['id']}' (known: {known})", path=["id"])
        return service

    @callback
    def adopt(call: ServiceCall) -> dict[str, Any]:
        service = _service(call)
        if service.id in registry.ignored:
            raise ServiceValidationError(f"{DOMAIN}.adopt: '{service.instance}' is ignored; "
                                         f"call {DOMAIN}.{SERVICE_UNIGNORE} first", path=["id"])
        service.adopted = True
        return {"id": service.id, "kind": service.kind, **adoption(service)}

    @callback
    def ignore(call: ServiceCall) -> None:
        registry.async_ignore(_service(call).id)

    @callback
    def unignore(call: ServiceCall) -> None:
        if call.data["id"] not in registry.ignored:
            raise ServiceValidationError(f"{DOMAIN}.unignore: '{call.data['id']}' is not ignored", path=["id"])
        registry.async_ignore(call.data["id"], ignore=False)

    return [
        hub.services.async_register(DOMAIN, SERVICE_ADOPT, adopt, ID_SCHEMA, SupportsResponse.ONLY,
                                    "The configuration to paste for a discovered service"),
        hub.services.async_register(DOMAIN, SERVICE_IGNORE, ignore, ID_SCHEMA,
                                    description="Stop listing a discovered service"),
        hub.services.async_register(DOMAIN, SERVICE_UNIGNORE, unignore, ID_SCHEMA,
                                    description="List an ignored service again"),
    ]
