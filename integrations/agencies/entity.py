"""`agency.<id>` entities: how deliveries to each agency are going (ok, failing, disabled) and what waits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.core import callback
from hub.helpers.entity import Entity

from .config import AgencyConfig
from .const import SERVICE_DOMAIN, STATE_DISABLED, STATE_FAILING, STATE_OK

__all__ = ["AgencyEntity"]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


class AgencyEntity(Entity):
    """One agency's delivery status; written by the manager after each delivery report."""

    domain = SERVICE_DOMAIN
    _attr_icon = "mdi:webhook"

    def __init__(self, agency: AgencyConfig) -> None:
        self.agency = agency
        self._attr_name = agency.name
        self._attr_unique_id = f"agencies_{agency.id}"
        self._attr_suggested_object_id = agency.id
        self.disabled_reason: str | None = None if agency.enabled else "disabled in the configuration"
        self.failing = False
        self.last_error: str | None = None
        self.last_status: int | None = None
        self.last_delivered_ts: float | None = None
        self.counts: Mapping[str, int] = {}

    @property
    def state(self) -> str:
        if self.disabled_reason is not None:
            return STATE_DISABLED
        return STATE_FAILING if self.failing else STATE_OK

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "agency_id": self.agency.id,
            "endpoint": self.agency.endpoint,
            "formats": [fmt.value for fmt in self.agency.formats],
            "events": sorted({rule.event_type for rule in self.agency.events}),
            "inbound": self.agency.inbound.webhook_id if self.agency.inbound is not None else None,
            "pending": self.counts.get("pending", 0),
            "dead": self.counts.get("dead", 0),
            "last_delivered": _iso(self.last_delivered_ts),
            "last_error": self.last_error,
            "last_status": self.last_status,
            "disabled_reason": self.disabled_reason,
        }

    @callback
    def async_update_counts(self, counts: Mapping[str, int]) -> None:
        """New message counts by state."""
        if dict(counts) != dict(self.counts):
            self.counts = dict(counts)
            if self.hub is not None:
                self.async_write_state()
