"""Owned events: an event type belongs to the part of the hub that produces it, and nobody else fires it.

Automations treat `thermal_fire_detected` as a tower's word and `agency_webhook_received` as a
signed agency's: a client that could fire them could raise alarms, alert agencies and write to
panels. So an integration declares the event types it produces in its manifest (`"events":
["thermal_fire_*"]`, fnmatch patterns), the hub's own (state changes, service calls, logins,
automations...) are listed here, and the API (`POST /api/events`, websocket `fire_event`) refuses
every owned type, whoever asks. What a person may legitimately cause (a drill, a hotlist entry)
goes through the owning integration's services, where the permission hook and the audit log see it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from ..core import CALLBACK_TYPE, HubKey, callback

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["CORE_OWNED_EVENTS", "CORE_OWNER", "OwnedEvents", "async_get_owned_events"]

CORE_OWNER: Final = "hub"
# The hub's own events (lifecycle, registries, services, sessions, permissions, audit, automations).
CORE_OWNED_EVENTS: Final = (
    "state_changed", "call_service", "service_registered", "service_removed", "hub_*", "integration_*",
    "*_registry_updated", "auth_*", "permission_denied", "audit_*", "automation_*", "script_*", "evidence_*",
)

DATA_OWNED_EVENTS: Final[HubKey[OwnedEvents]] = HubKey("owned_events")


class OwnedEvents:
    """Event type patterns and who owns them (first registered wins a type claimed twice)."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}  # pattern -> owner
        self._cache: dict[str, str | None] = {}

    @callback
    def async_register(self, owner: str, patterns: Iterable[str]) -> CALLBACK_TYPE:
        """Claim event type patterns for `owner`; returns the remover."""
        added = [pattern for pattern in patterns if pattern not in self._owners]
        for pattern in added:
            self._owners[pattern] = owner
        self._cache.clear()

        @callback
        def remove() -> None:
            for pattern in added:
                if self._owners.get(pattern) == owner:
                    del self._owners[pattern]
            self._cache.clear()

        return remove

    @callback
    def owner(self, event_type: str) -> str | None:
        """Who owns `event_type` (an integration's domain, or `hub`), or None for a free event."""
        if event_type not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[event_type] = next(
                (owner for pattern, owner in self._owners.items() if fnmatch.fnmatchcase(event_type, pattern)),
                None)
        return self._cache[event_type]

    def patterns(self) -> dict[str, str]:
        """Every pattern with its owner (documentation, tests)."""
        return dict(self._owners)


async def async_get_owned_events(hub: Hub) -> OwnedEvents:
    """The hub's owned events: its own, and those of every integration it can find, loaded or not (an
    automation may wait for an integration's event even where that integration is not configured)."""
    owned = hub.data.get(DATA_OWNED_EVENTS)
    if owned is None:
        from ..loader import async_get_integrations

        integrations = await async_get_integrations(hub)
        owned = hub.data.get(DATA_OWNED_EVENTS)  # another caller may have finished first
        if owned is None:
            owned = OwnedEvents()
            owned.async_register(CORE_OWNER, CORE_OWNED_EVENTS)
            for domain, integration in sorted(integrations.items()):
                owned.async_register(domain, integration.manifest.events)
            hub.data[DATA_OWNED_EVENTS] = owned
    return owned
