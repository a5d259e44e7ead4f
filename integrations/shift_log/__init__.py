"""Shift log and hand-over: a log per control centre and shift, a hand-over summary (open alarms, pending
two-person confirmations, open incidents) that the incoming operator acknowledges (see docs/shift-log.md).

Configuration::

    shift_log:
      shift_starts: ["07:00", "15:00", "23:00"]   # local times (the site's time zone) when shifts begin

Services (class `alarm`: the centre's operators and supervisors, and admins; audited as commands):
shift_log.add_note (`text`), shift_log.hand_over (`note`), shift_log.acknowledge (`entry_id`, by another
user than the one who handed over).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, Final

import voluptuous as vol
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.auth.permissions import async_register_target_resolver, entity_centre, get_permissions
from hub.core import CALLBACK_TYPE, Context, Hub, HubKey, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.recorder import get_recorder
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .models import ShiftLogEntry

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "ShiftLog", "async_setup", "async_unload", "get_shift_log"]

DOMAIN: Final = "shift_log"
KIND_NOTE: Final = "note"
KIND_HANDOVER: Final = "handover"
KIND_ACK: Final = "acknowledged"
DATA_SHIFT_LOG: Final[HubKey[ShiftLog]] = HubKey(DOMAIN)

CONFIG_SCHEMA: Final = vol.Schema(vol.Any(None, vol.Schema({
    vol.Optional("shift_starts", default=["07:00", "15:00", "23:00"]): vol.All(
        cv.ensure_list, [cv.time], vol.Length(min=1, max=6)),
})))
NOTE_SCHEMA: Final = vol.Schema({vol.Required("text"): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=5000))})
HANDOVER_SCHEMA: Final = vol.Schema({vol.Optional("note", default=""): vol.All(cv.string, vol.Length(max=5000))})
ACK_SCHEMA: Final = vol.Schema({vol.Required("entry_id"): vol.All(vol.Coerce(int), vol.Range(min=1))})


def _entry(row: ShiftLogEntry) -> dict[str, Any]:
    return {"entry_id": row.entry_id, "centre": row.centre, "shift": row.shift, "ts": row.ts, "kind": row.kind,
            "user_id": row.user_id, "text": row.text, "data": json.loads(row.data) if row.data else None,
            "ref": row.ref}


class ShiftLog:
    """The centres' shift logs in the recorder database."""

    def __init__(self, hub: Hub, shift_starts: list[time]) -> None:
        self.hub = hub
        self.shift_starts = sorted(shift_starts)
        self._handover_centres: dict[int, str] = {}

    def shift_of(self, ts: float) -> str:
        """The shift a moment belongs to, as `YYYY-MM-DD HH:MM` (its start, local time)."""
        zone = self.hub.config.tz if self.hub.config is not None else None
        local = datetime.fromtimestamp(ts, zone)
        starts = [datetime.combine(local.date() + timedelta(days=d), s, local.tzinfo)
                  for d in (-1, 0) for s in self.shift_starts]
        return max(s for s in starts if s <= local).strftime("%Y-%m-%d %H:%M")

    def centre_of(self, context: Context) -> str | None:
        """The centre a call acts for: its context's, else its user's, else the site's default."""
        if context.centre:
            return context.centre
        policy = get_permissions(self.hub)
        principal = policy.principal(context.user_id) if policy is not None and context.user_id else None
        if principal is not None and principal.centre:
            return principal.centre
        return self.hub.config.default_centre.id if self.hub.config is not None else None

    def handover_centre(self, entry_id: int) -> str | None:
        return self._handover_centres.get(entry_id)

    async def async_load(self) -> None:
        def _load(session: Session) -> dict[int, str]:
            rows = session.execute(select(ShiftLogEntry.entry_id, ShiftLogEntry.centre)
                                   .where(ShiftLogEntry.kind == KIND_HANDOVER))
            return {entry_id: centre for entry_id, centre in rows}

        self._handover_centres = await get_recorder(self.hub).async_db_job(_load)

    async def async_entries(self, centre: str, limit: int = 200) -> list[dict[str, Any]]:
        """The centre's log, newest first."""
        def _get(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(select(ShiftLogEntry).where(ShiftLogEntry.centre == centre)
                                   .order_by(ShiftLogEntry.ts.desc(), ShiftLogEntry.entry_id.desc()).limit(limit))
            return [_entry(row) for row in rows]

        found: list[dict[str, Any]] = await get_recorder(self.hub).async_db_job(_get)
        return found

    @staticmethod
    def pending_handover(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The newest hand-over of `entries` (newest first) that nobody has acknowledged yet."""
        acknowledged = {e["ref"] for e in entries if e["kind"] == KIND_ACK}
        return next((e for e in entries if e["kind"] == KIND_HANDOVER and e["entry_id"] not in acknowledged), None)

    async def async_summary(self, centre: str) -> dict[str, Any]:
        """What the incoming shift takes over: open alarms, pending two-person confirmations, open incidents."""
        hub = self.hub
        alarms: list[dict[str, Any]] = []
        try:
            from integrations.alarm.manager import get_manager
        except ImportError:
            get_manager = None  # type: ignore[assignment]
        manager = get_manager(hub) if get_manager is not None else None
        if manager is not None:
            alarms = [{"alarm_id": a.id, "title": a.title, "state": a.state.value, "severity": a.severity.value,
                       "raised_ts": a.raised_ts} for a in manager.active([centre])]
        pending = []
        for state in hub.states.async_all():
            command = state.attributes.get("pending_command")
            if isinstance(command, dict) and entity_centre(hub, state.entity_id) == centre:
                pending.append({"entity_id": state.entity_id,
                                "name": state.attributes.get("friendly_name") or state.entity_id,
                                "command": command.get("command"), "requested_by": command.get("requested_by"),
                                "expires_at": command.get("expires_at")})
        incidents: list[dict[str, Any]] = []
        try:
            from integrations.incident import get_incidents
        except ImportError:
            get_incidents = None  # type: ignore[assignment]
        store = get_incidents(hub) if get_incidents is not None else None
        if store is not None:
            from integrations.incident.manager import IncidentReader

            incidents = [{"incident_id": i["incident_id"], "title": i["title"], "status": i["status"],
                          "owner": i["owner"]} for i in await store.async_list(IncidentReader(False, centre))
                         if i["status"] != "closed" and i["centre"] == centre]
        return {"open_alarms": alarms, "pending_confirmations": pending, "incidents": incidents}

    async def async_add(self, centre: str, kind: str, context: Context, *, text: str | None = None,
                        data: dict[str, Any] | None = None, ref: int | None = None) -> dict[str, Any]:
        now = self.hub.clock.time()
        row = ShiftLogEntry(centre=centre, shift=self.shift_of(now), ts=now, kind=kind, user_id=context.user_id,
                            text=text, data=json.dumps(data, ensure_ascii=False, default=str) if data else None,
                            ref=ref)

        def _save(session: Session) -> dict[str, Any]:
            session.add(row)
            session.flush()
            return _entry(row)

        saved: dict[str, Any] = await get_recorder(self.hub).async_db_job(_save)
        if kind == KIND_HANDOVER:
            self._handover_centres[saved["entry_id"]] = centre
        self.hub.bus.async_fire(f"{DOMAIN}_{kind}", {"centre": centre, "entry_id": saved["entry_id"],
                                                     "shift": saved["shift"]}, context=context)
        return saved

    async def async_acknowledge(self, entry_id: int, context: Context) -> dict[str, Any]:
        """The incoming operator takes the hand-over; refused for the one who handed over, or twice."""
        centre = self.handover_centre(entry_id)
        if centre is None:
            raise ServiceValidationError(f"'entry_id': no hand-over {entry_id}")
        entries = await self.async_entries(centre, limit=1000)
        handover = next((e for e in entries if e["entry_id"] == entry_id), None)
        if handover is None or any(e["kind"] == KIND_ACK and e["ref"] == entry_id for e in entries):
            raise ServiceValidationError(f"'entry_id': hand-over {entry_id} is already acknowledged")
        if context.user_id is not None and handover["user_id"] == context.user_id:
            raise ServiceValidationError("'entry_id': the incoming operator acknowledges a hand-over, "
                                         "not the one who handed over")
        return await self.async_add(centre, KIND_ACK, context, ref=entry_id,
                                    text=f"hand-over of {handover['user_id'] or '—'} ({handover['shift']})")


def _targets(log: ShiftLog) -> Callable[[Hub, ServiceCall], dict[str, str | None] | None]:
    """A note or hand-over acts on the caller's centre's log; an acknowledgement on the hand-over's."""

    def resolve(hub: Hub, call: ServiceCall) -> dict[str, str | None] | None:
        if "entry_id" in call.data:
            centre = log.handover_centre(int(call.data["entry_id"]))
            return {f"shift log of {centre}": centre} if centre is not None else {}
        centre = log.centre_of(call.context)
        return {f"shift log of {centre}": centre}

    return resolve


def _register(hub: Hub, log: ShiftLog) -> list[CALLBACK_TYPE]:
    async def _note(call: ServiceCall) -> dict[str, Any]:
        return await log.async_add(_centre(call), KIND_NOTE, call.context, text=call.data["text"])

    async def _hand_over(call: ServiceCall) -> dict[str, Any]:
        centre = _centre(call)
        summary = await log.async_summary(centre)
        return await log.async_add(centre, KIND_HANDOVER, call.context, text=call.data["note"] or None, data=summary)

    async def _acknowledge(call: ServiceCall) -> dict[str, Any]:
        return await log.async_acknowledge(call.data["entry_id"], call.context)

    def _centre(call: ServiceCall) -> str:
        centre = log.centre_of(call.context)
        if centre is None:
            raise ServiceValidationError("no control centre to log for (configure hub: control_centres)")
        return centre

    register = hub.services.async_register
    optional = SupportsResponse.OPTIONAL
    return [
        register(DOMAIN, "add_note", _note, NOTE_SCHEMA, optional, "Write in your centre's shift log"),
        register(DOMAIN, "hand_over", _hand_over, HANDOVER_SCHEMA, optional,
                 "Hand the shift over: records open alarms, pending confirmations and open incidents"),
        register(DOMAIN, "acknowledge", _acknowledge, ACK_SCHEMA, optional,
                 "Acknowledge a hand-over (the incoming operator)"),
        async_register_target_resolver(hub, DOMAIN, _targets(log)),
    ]


async def async_setup(hub: Hub, config: dict[str, Any] | None) -> bool:
    """Load the hand-overs' centres and register the services."""
    log = ShiftLog(hub, (config or CONFIG_SCHEMA({}))["shift_starts"])
    await log.async_load()
    hub.data[DATA_SHIFT_LOG] = log
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in _register(hub, log):
        handle.async_on_unload(remover)
    return True


async def async_unload(hub: Hub) -> bool:
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager
    hub.data.pop(DATA_SHIFT_LOG, None)
    return True


def get_shift_log(hub: Hub) -> ShiftLog | None:
    """The shift log, when set up."""
    return hub.data.get(DATA_SHIFT_LOG)
