"""Audit trail of webhook refusals, replays and re-enabled endpoints: hub.audit when it runs, else an event."""

from __future__ import annotations

import logging
from typing import Any

from hub.core import Context, Hub, callback

from .const import EVENT_AUDIT

__all__ = ["audit"]

_LOGGER = logging.getLogger(__name__)


@callback
def audit(hub: Hub, action: str, *, target: str, outcome: str, data: dict[str, Any],
          context: Context | None = None, level: int = logging.INFO) -> None:
    """Record in the audit log when hub.audit runs; otherwise fire `audit_event`. Always logged."""
    _LOGGER.log(level, "Audit %s %s: %s (%s)", action, target, outcome, data.get("reason", ""))
    recorded = False
    try:
        from hub.audit import audit_record
    except ImportError:  # a hub built without the audit module
        pass
    else:
        recorded = audit_record(hub, action, context=context, target=target, outcome=outcome, data=data)
    if not recorded:
        hub.bus.async_fire(EVENT_AUDIT, {"action": action, "target": target, "outcome": outcome, **data},
                           context=context)
