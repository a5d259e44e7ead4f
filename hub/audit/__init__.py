"""The audit log: an append-only, hash-chained record of logins, commands, exports and views of sensitive data.

Usage: after the recorder, `await async_setup_audit(hub)`; from then on every actuation, alarm,
automation on/off and configuration service call, every refused call and every login, failed
login and logout is recorded. Record exports and views of sensitive data yourself::

    audit_record(hub, ACTION_EXPORT, context=request_context(request), target="anpr/reads",
                 data={"rows": 120, "format": "csv"})

`hacho audit verify -c DIR` checks the chain offline (see hub.audit.cli).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import Context, Hub, HubKey, callback
from .chain import GENESIS_HASH, VerifyResult, canonical_json, entry_hash, verify_chain
from .log import (
    ACTION_COMMAND,
    ACTION_COMMAND_DENIED,
    ACTION_EXPORT,
    ACTION_LOGIN,
    ACTION_LOGIN_FAILED,
    ACTION_LOGOUT,
    ACTION_VIEW_SENSITIVE,
    AuditLog,
    redact,
    require_recorder,
)
from .models import AuditEntry

__all__ = [
    "ACTION_COMMAND",
    "ACTION_COMMAND_DENIED",
    "ACTION_EXPORT",
    "ACTION_LOGIN",
    "ACTION_LOGIN_FAILED",
    "ACTION_LOGOUT",
    "ACTION_VIEW_SENSITIVE",
    "DATA_AUDIT",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditLog",
    "VerifyResult",
    "async_setup_audit",
    "audit_record",
    "canonical_json",
    "entry_hash",
    "get_audit",
    "redact",
    "verify_chain",
]

DATA_AUDIT: HubKey[AuditLog] = HubKey("audit")


async def async_setup_audit(hub: Hub, *, register_views: bool = True) -> AuditLog:
    """Start the audit log (the recorder must be set up); also adds GET /api/audit when http is set up
    and not started yet. Calling it again returns the running log."""
    audit = hub.data.get(DATA_AUDIT)
    if audit is not None:
        return audit
    require_recorder(hub)
    audit = hub.data[DATA_AUDIT] = AuditLog(hub)
    audit.async_start()
    if register_views:
        from .http import async_register_views

        async_register_views(hub)
    return audit


@callback
def get_audit(hub: Hub) -> AuditLog | None:
    """The audit log, or None when it is not set up."""
    return hub.data.get(DATA_AUDIT)


@callback
def audit_record(hub: Hub, action: str, *, context: Context | None = None, target: str | None = None,
                 outcome: str = "ok", data: Mapping[str, Any] | None = None, user_id: str | None = None,
                 centre: str | None = None) -> bool:
    """Record an entry if the audit log runs (exports, views of sensitive data); whether it was queued."""
    audit = hub.data.get(DATA_AUDIT)
    if audit is None:
        return False
    audit.record(action, context=context, user_id=user_id, centre=centre, target=target, outcome=outcome,
                 data=data)
    return True
