"""Peer centres: whether each is heard from (status, heartbeats, messages) and its `federation.<site>` entity."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.core import Hub, callback
from hub.helpers.entity import Entity

from .const import PEER_CONNECTED, PEER_DISCONNECTED, STATUS_OFFLINE, STATUS_ONLINE
from .store import PeerStream

__all__ = ["Peer", "PeerStatusEntity", "parse_status"]


def _iso(ts: float | None) -> str | None:
    return None if not ts else datetime.fromtimestamp(ts, UTC).isoformat()


def parse_status(payload: bytes) -> dict[str, Any] | None:
    """A status or heartbeat payload as a dict (a bare 'online'/'offline' is accepted too); None if unreadable."""
    text = payload.decode("utf-8", "replace").strip()
    if text in (STATUS_ONLINE, STATUS_OFFLINE):
        return {"state": text}
    if not text:
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


class Peer:
    """One peer centre as we see it.

    Connected means: our broker link is up, the peer's last status is not `offline` (its last
    will or goodbye), and we heard from it (status, heartbeat or any message) within the timeout.
    """

    def __init__(self, site: str, name: str, stream: PeerStream | None = None) -> None:
        self.site = site
        self.name = name
        self.stream = stream or PeerStream()
        self.status: str | None = None  # online / offline, as it last said
        self.last_heard_ts = 0.0
        self.connected = False
        self.changed_ts: float | None = None
        self.resend_asked: dict[int, float] = {}  # seq -> when we last asked for it
        self.malformed = 0
        self.entity: PeerStatusEntity | None = None
        self.snapshot_wanted = False  # ask it for a snapshot when it connects (we never heard its stream)
        self.snapshot_sent_ts = 0.0  # when we last answered its snapshot request

    def evaluate(self, link_up: bool, now: float, timeout: float) -> bool:
        """Work out whether the peer is connected; True when that changed."""
        connected = link_up and self.status != STATUS_OFFLINE and self.last_heard_ts > 0 and \
            now - self.last_heard_ts <= timeout
        if connected == self.connected:
            return False
        self.connected = connected
        self.changed_ts = now
        return True

    def as_dict(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """JSON-able (REST, entity attributes)."""
        return {
            "site": self.site,
            "name": self.name,
            "connected": self.connected,
            "status": self.status,
            "last_heard": _iso(self.last_heard_ts),
            "since": _iso(self.changed_ts),
            "epoch": self.stream.epoch,
            "last_seq": self.stream.last_seq,
            "missing_messages": len(self.stream.missing),
            "malformed_messages": self.malformed,
            **(extra or {}),
        }


class PeerStatusEntity(Entity):
    """`federation.<site>`: connected / disconnected, with what we know of the peer in the attributes."""

    domain = "federation"
    _attr_icon = "mdi:lan-connect"

    def __init__(self, peer: Peer, extra: Callable[[str], Mapping[str, Any]]) -> None:
        self.peer = peer
        self._extra = extra
        self._attr_unique_id = f"federation_peer_{peer.site}"
        self._attr_suggested_object_id = peer.site
        self._attr_name = f"Centre {peer.name}"

    @property
    def state(self) -> str:
        return PEER_CONNECTED if self.peer.connected else PEER_DISCONNECTED

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        data = self.peer.as_dict(self._extra(self.peer.site))
        data.pop("connected", None)
        data.pop("last_heard", None)  # changes with every heartbeat: not worth a state change each time
        return data

    @callback
    def async_update_from_peer(self, hub: Hub) -> None:
        """Write the state again (after the peer changed)."""
        if self.hub is hub and self.entity_id is not None:
            self.async_write_state()
