"""Evidence for Justice: an alarm or a time window exported as a zip signed with the hub's Ed25519 key.

Usage: after the recorder (and the audit log), `async_setup_evidence(hub)` registers the service
`evidence.export` (alarm_id, or start + end [+ entity_id]; reason and case_reference required;
answers the zip's name, path, download url and SHA-256) and, when HTTP is set up and not started,
GET /api/evidence and /api/evidence/{name}. Exports and downloads are for supervisors and admins,
and every one is audited. The zip holds the events, states, alarm and images involved, the recorded video of
the cameras in its scope (clip providers: the camera integration), a manifest with each file's SHA-256,
source devices, time range, exporter, reason and case reference (and per camera its clip's segments), its
signature, and the public key; `hacho evidence verify FILE.zip` checks it, video included (hub.evidence.cli).
The key is made on first use in `<config>/.storage/evidence_ed25519.pem` (mode 0600).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import voluptuous as vol

from ..core import CALLBACK_TYPE, Hub, HubKey, ServiceCall, SupportsResponse
from ..helpers import config_validation as cv
from .const import AUDIENCE_CASE, AUDIENCES, DOMAIN, SERVICE_EXPORT
from .export import EVENT_EVIDENCE_EXPORTED, ExportResult, async_export, build_export, public_key_fingerprint
from .http import async_register_views, check_exporter
from .verify import VerifyResult, verify_bundle

__all__ = [
    "EVENT_EVIDENCE_EXPORTED",
    "EXPORT_SCHEMA",
    "ExportResult",
    "VerifyResult",
    "async_export",
    "async_setup_evidence",
    "build_export",
    "public_key_fingerprint",
    "verify_bundle",
]

_DATA: HubKey[list[CALLBACK_TYPE]] = HubKey("evidence")


def _timestamp(value: Any) -> float:
    """Epoch seconds, or an ISO 8601 time (UTC when it names no zone)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(cv.string(value).strip())
        except ValueError:
            raise vol.Invalid("expected epoch seconds or an ISO 8601 time") from None
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


EXPORT_SCHEMA = vol.Schema({
    vol.Exclusive("alarm_id", "what"): cv.string,
    vol.Exclusive("start", "what"): _timestamp,
    vol.Optional("end"): _timestamp,
    vol.Optional("entity_id", default=list): cv.entity_ids,
    vol.Required("reason"): vol.All(cv.string, vol.Length(min=1, max=2000)),
    vol.Required("case_reference"): vol.All(cv.string, vol.Length(min=1, max=255)),
    # who receives it: the case (court, police) sees everything; the public and the press get faces and
    # plates blurred unless `blur_faces: false` says otherwise (docs/face.md)
    vol.Optional("audience", default=AUDIENCE_CASE): vol.In(AUDIENCES),
    vol.Optional("blur_faces"): cv.boolean,
})


async def async_setup_evidence(hub: Hub) -> None:
    """Register `evidence.export` and the REST views (once)."""
    if _DATA in hub.data:
        return

    async def export(call: ServiceCall) -> dict[str, Any]:
        check_exporter(hub, call.context.user_id)
        data = call.data
        result = await async_export(hub, reason=data["reason"], case_reference=data["case_reference"],
                                    context=call.context, alarm_id=data.get("alarm_id"), start=data.get("start"),
                                    end=data.get("end"), entity_ids=data["entity_id"],
                                    blur=data.get("blur_faces", data["audience"] != AUDIENCE_CASE),
                                    audience=data["audience"])
        return result.as_dict()

    hub.data[_DATA] = [hub.services.async_register(
        DOMAIN, SERVICE_EXPORT, export, EXPORT_SCHEMA, SupportsResponse.OPTIONAL,
        "Export an alarm or a time window as a signed evidence zip (reason and case reference required)")]
    async_register_views(hub)
