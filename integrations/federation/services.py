"""Federation services: alarm actions on a peer's alarm, and asking for / answering actuation of a peer's device."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.core import CALLBACK_TYPE, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError

from .const import (
    DOMAIN,
    SERVICE_ACKNOWLEDGE_ALARM,
    SERVICE_ALARM_ACTION,
    SERVICE_REQUEST_ACTUATION,
    SERVICE_REQUEST_SNAPSHOT,
    SERVICE_RESPOND_ACTUATION,
)
from .schema import (
    ACKNOWLEDGE_SCHEMA,
    ALARM_ACTION_SCHEMA,
    REQUEST_ACTUATION_SCHEMA,
    REQUEST_SNAPSHOT_SCHEMA,
    RESPOND_ACTUATION_SCHEMA,
)

if TYPE_CHECKING:
    from .manager import FederationManager

__all__ = ["async_register_services"]


def async_register_services(manager: FederationManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""
    hub = manager.hub
    requests = manager.requests

    async def acknowledge(call: ServiceCall) -> dict[str, Any]:
        return await requests.async_alarm_action(call.data["alarm_id"], "acknowledge", call.data.get("note"),
                                                 call.context)

    async def alarm_action(call: ServiceCall) -> dict[str, Any]:
        return await requests.async_alarm_action(call.data["alarm_id"], call.data["action"], call.data.get("note"),
                                                 call.context)

    async def request_actuation(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        return await requests.async_request_actuation(data["entity_id"], data.get("site"), data["service"],
                                                      dict(data["data"]), data["reason"], call.context)

    async def respond_actuation(call: ServiceCall) -> dict[str, Any]:
        return await requests.async_respond(call.data["request_id"], call.data["approve"], call.data.get("note"),
                                            call.context)

    async def request_snapshot(call: ServiceCall) -> dict[str, Any]:
        site = call.data.get("site")
        if site is not None and site not in manager.peers:
            raise ServiceValidationError(f"Unknown peer {site!r} (peers: {', '.join(sorted(manager.peers)) or 'none'})")
        sites = [site] if site is not None else sorted(s for s, peer in manager.peers.items() if peer.connected)
        for each in sites:
            manager.request_snapshot(each)
        return {"asked": sites}

    optional = SupportsResponse.OPTIONAL
    return [
        hub.services.async_register(DOMAIN, SERVICE_ACKNOWLEDGE_ALARM, acknowledge, ACKNOWLEDGE_SCHEMA, optional,
                                    "Ask the centre that owns a shared alarm to acknowledge it"),
        hub.services.async_register(DOMAIN, SERVICE_ALARM_ACTION, alarm_action, ALARM_ACTION_SCHEMA, optional,
                                    "Ask the owning centre to acknowledge, start, resolve or note a shared alarm"),
        hub.services.async_register(DOMAIN, SERVICE_REQUEST_ACTUATION, request_actuation, REQUEST_ACTUATION_SCHEMA,
                                    optional, "Ask the owning centre to actuate one of its devices"),
        hub.services.async_register(DOMAIN, SERVICE_RESPOND_ACTUATION, respond_actuation, RESPOND_ACTUATION_SCHEMA,
                                    optional, "Confirm (and run) or refuse a peer centre's actuation request"),
        hub.services.async_register(DOMAIN, SERVICE_REQUEST_SNAPSHOT, request_snapshot, REQUEST_SNAPSHOT_SCHEMA,
                                    optional, "Ask peer centres to send again every state and alarm they share"),
    ]
