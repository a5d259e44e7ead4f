"""Incidents shared with the peers: ours go out as they change (with their timelines) and are withdrawn when
unshared; theirs are kept here read-only. Sharing and withdrawing are audited on both sides.

The sharing policy's `incidents` rules decide (default: those marked `shared`). Only the owner changes an
incident: a peer shows it, with its timeline, and cannot write to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from hub.audit import audit_record
from hub.core import CALLBACK_TYPE, Context, Event, EventOrigin, callback

from .const import (
    ATTR_ORIGIN_SITE,
    AUDIT_INCIDENT_RECEIVED,
    AUDIT_INCIDENT_REMOVED,
    AUDIT_INCIDENT_SHARED,
    AUDIT_INCIDENT_WITHDRAWN,
    TOPIC_INCIDENT,
    TYPE_INCIDENT,
)
from .envelope import Envelope
from .remote import context_from
from .store import Outgoing

if TYPE_CHECKING:
    from .manager import FederationManager

__all__ = ["EVENT_INCIDENT_CHANGED", "IncidentSharing", "incident_payload"]

_LOGGER = logging.getLogger(__name__)

EVENT_INCIDENT_CHANGED: Final = "incident_changed"  # the incident integration's event
_FIELDS: Final = ("incident_id", "title", "centre", "status", "owner", "shared", "created_by", "created_ts",
                  "updated_ts")
_ITEM_FIELDS: Final = ("item_id", "ts", "kind", "text", "user_id")


def incident_payload(incident: Mapping[str, Any], centre_name: str | None) -> dict[str, Any]:
    """What a peer gets of an incident: its fields and timeline, without local references (files, alarm and
    read ids mean nothing there); how many files an item has is kept."""
    timeline = [{**{key: item.get(key) for key in _ITEM_FIELDS}, "files": len(item.get("files") or ())}
                for item in incident.get("timeline") or ()]
    return {**{key: incident.get(key) for key in _FIELDS}, "centre_name": centre_name, "timeline": timeline}


class IncidentSharing:
    """Publishes our shared incidents and keeps the peers' (`incidents`: id -> the owner's incident)."""

    def __init__(self, manager: FederationManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.incidents: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()  # one incident read-and-queue at a time: messages leave in change order

    @callback
    def load(self, incidents: Iterable[dict[str, Any]]) -> None:
        """The peers' incidents kept in the database."""
        for incident in incidents:
            self.incidents[incident["incident_id"]] = incident

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Listen to our incidents' changes; returns the remover."""
        return self.hub.bus.async_listen(EVENT_INCIDENT_CHANGED, self._on_changed)

    def open_incidents(self) -> list[dict[str, Any]]:
        """The peers' incidents, open ones first, newest first."""
        return sorted(self.incidents.values(),
                      key=lambda i: (i.get("status") == "closed", -(i.get("created_ts") or 0)))

    # ---- ours, out

    @callback
    def _on_changed(self, event: Event) -> None:
        if event.origin is not EventOrigin.local or not isinstance(event.data.get("incident_id"), str):
            return  # a peer's incident announced here: never passed on
        self.hub.async_create_task(self._async_publish(event.data["incident_id"], dict(event.data), event.context),
                                   "federation incident")

    @staticmethod
    def _store() -> Any:
        try:
            from integrations.incident import get_incidents
        except ImportError:
            return None
        return get_incidents

    async def _async_publish(self, incident_id: str, change: Mapping[str, Any], context: Context) -> None:
        get_incidents = self._store()
        store = get_incidents(self.hub) if get_incidents is not None else None
        if store is None:
            return
        async with self._lock:
            incident = await store.async_get(incident_id)
            if incident is None:
                return
            manager = self.manager
            peers = sorted(manager.peers)
            if manager.sharing.shares_incident(incident):
                manager.publisher.enqueue(self._message(incident))
                if change.get("sharing_changed") or change.get("change") == "created":
                    _LOGGER.info("Federation: incident %s shared with %s", incident_id, ", ".join(peers))
                    audit_record(self.hub, AUDIT_INCIDENT_SHARED, context=context, target=f"incident/{incident_id}",
                                 data={"peers": peers})
            elif change.get("sharing_changed"):
                manager.publisher.enqueue(Outgoing(
                    TYPE_INCIDENT, self._topic(incident_id),
                    {"incident": {"incident_id": incident_id, "updated_ts": incident["updated_ts"]}, "withdrawn": True},
                    correlation_id=incident_id))
                _LOGGER.info("Federation: incident %s withdrawn from %s", incident_id, ", ".join(peers))
                audit_record(self.hub, AUDIT_INCIDENT_WITHDRAWN, context=context, target=f"incident/{incident_id}",
                             data={"peers": peers})

    def _topic(self, incident_id: str) -> str:
        return f"{self.manager.prefix}/{self.manager.site}/{TOPIC_INCIDENT}/{incident_id}"

    def _message(self, incident: Mapping[str, Any], to: str | None = None) -> Outgoing:
        config = self.hub.config
        centre_id = incident.get("centre")
        centre = config.centre(str(centre_id)) if config is not None and centre_id else None
        payload = incident_payload(incident, centre.name if centre is not None else None)
        return Outgoing(TYPE_INCIDENT, self._topic(str(incident["incident_id"])), {"incident": payload}, to=to,
                        correlation_id=str(incident["incident_id"]))

    async def async_snapshot(self, to: str) -> None:
        """Send a peer that joined late every incident we share now."""
        get_incidents = self._store()
        store = get_incidents(self.hub) if get_incidents is not None else None
        if store is None:
            return
        from integrations.incident.manager import IncidentReader

        async with self._lock:
            for row in await store.async_list(IncidentReader(True, None), limit=1000):
                if self.manager.sharing.shares_incident(row):
                    incident = await store.async_get(row["incident_id"])
                    if incident is not None:
                        self.manager.publisher.enqueue(self._message(incident, to))

    # ---- theirs, in

    @callback
    def apply(self, envelope: Envelope) -> None:
        """A peer's incident as it now is (or its withdrawal), already stored: keep it, announce it, audit."""
        incident = envelope.payload.get("incident")
        if not isinstance(incident, Mapping) or not isinstance(incident.get("incident_id"), str):
            return
        incident_id = incident["incident_id"]
        target = f"{envelope.origin}/incident/{incident_id}"
        if envelope.payload.get("withdrawn"):
            if self.incidents.pop(incident_id, None) is not None:
                audit_record(self.hub, AUDIT_INCIDENT_REMOVED, target=target, data={"peer": envelope.origin})
                self._announce(incident_id, "withdrawn", {}, envelope.origin)
            return
        kept = {**incident, ATTR_ORIGIN_SITE: envelope.origin}
        new = incident_id not in self.incidents
        self.incidents[incident_id] = kept
        if new:
            audit_record(self.hub, AUDIT_INCIDENT_RECEIVED, target=target,
                         data={"peer": envelope.origin, "title": str(incident.get("title") or "")[:255]})
        self._announce(incident_id, "shared" if new else "updated", kept, envelope.origin)

    def _announce(self, incident_id: str, change: str, incident: Mapping[str, Any], origin: str) -> None:
        self.hub.bus.async_fire(EVENT_INCIDENT_CHANGED, {
            "incident_id": incident_id, "change": change, "status": incident.get("status"),
            "centre": incident.get("centre"), "shared": True, ATTR_ORIGIN_SITE: origin,
        }, origin=EventOrigin.remote, context=context_from({}))
