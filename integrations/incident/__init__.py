"""Incidents: alarms, notes, plate reads, video clips and documents about one event, with an owner, a status, a timeline
and a printable PDF report (see docs/incidents.md).

Configuration: `incident: {}` (the recorder must be set up). Services: incident.create (class
alarm_raise), incident.add_note, link_alarm, link_plate_read, add_document, add_clip, remove_clip, update
(class alarm: only the owning centre's operators and supervisors, and admins). Every call is audited as a command.
Event: incident_changed (with `centre` and `shared`, so other centres receive only shared incidents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol

from hub.auth.hidden import HiddenCounter, async_register_hidden_counter
from hub.auth.models import User
from hub.auth.permissions import async_register_target_resolver, get_permissions
from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .clips import alarm_clip_camera, async_add_clip, async_release_orphan_locks, async_remove_clip
from .manager import DATA_MANAGER, STATUSES, IncidentManager, get_incidents

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "IncidentManager", "async_setup", "async_unload", "get_incidents"]

DOMAIN: Final = "incident"
CONFIG_SCHEMA: Final = vol.Schema(vol.Any(None, {}), extra=vol.PREVENT_EXTRA)

_ID = vol.All(cv.string, vol.Length(min=1, max=36))
CREATE_SCHEMA: Final = vol.Schema({
    vol.Required("title"): vol.All(cv.string, vol.Strip, vol.Length(min=3, max=255)),
    vol.Optional("shared", default=False): cv.boolean,
    vol.Optional("alarm_id"): cv.string,
})
NOTE_SCHEMA: Final = vol.Schema({vol.Required("incident_id"): _ID,
                                 vol.Required("text"): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=5000))})
LINK_ALARM_SCHEMA: Final = vol.Schema({vol.Required("incident_id"): _ID, vol.Required("alarm_id"): cv.string})
LINK_READ_SCHEMA: Final = vol.Schema({
    vol.Required("incident_id"): _ID,
    vol.Required("read_id"): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("plate"): vol.All(cv.string, vol.Length(max=16)),
})
DOCUMENT_SCHEMA: Final = vol.Schema({
    vol.Required("incident_id"): _ID,
    vol.Required("filename"): vol.All(cv.string, vol.Length(min=1, max=120)),
    vol.Required("content_base64"): cv.string,
    vol.Optional("description"): vol.All(cv.string, vol.Length(max=500)),
})
_TS = vol.All(vol.Coerce(float), vol.Range(min=0))
CLIP_SCHEMA: Final = vol.Schema(vol.All(vol.Schema({
    vol.Required("incident_id"): _ID,
    vol.Optional("camera"): vol.All(cv.string, vol.Length(min=1, max=80)),
    vol.Optional("start"): _TS,
    vol.Optional("end"): _TS,
    vol.Optional("alarm_id"): cv.string,
    vol.Optional("text"): vol.All(cv.string, vol.Strip, vol.Length(max=500)),
}), lambda data: data if "alarm_id" in data or {"camera", "start", "end"} <= set(data) else _no_clip()))
REMOVE_CLIP_SCHEMA: Final = vol.Schema({vol.Required("incident_id"): _ID,
                                        vol.Required("item_id"): vol.All(vol.Coerce(int), vol.Range(min=1))})
UPDATE_SCHEMA: Final = vol.Schema(vol.All(vol.Schema({
    vol.Required("incident_id"): _ID,
    vol.Optional("status"): vol.In(STATUSES),
    vol.Optional("owner"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Optional("shared"): cv.boolean,
}), lambda data: data if {"status", "owner", "shared"} & set(data) else _none_changed()))


def _no_clip() -> dict[str, Any]:
    raise vol.Invalid("give 'camera', 'start' and 'end', or an 'alarm_id' whose camera to take")


def _none_changed() -> dict[str, Any]:
    raise vol.Invalid("give at least one of 'status', 'owner', 'shared'")


def _targets(manager: IncidentManager) -> Callable[[Hub, ServiceCall], dict[str, str | None] | None]:
    """An incident belongs to its centre; an unknown id names no foreign target (the service says it is unknown)."""

    def resolve(hub: Hub, call: ServiceCall) -> dict[str, str | None] | None:
        incident_id = call.data.get("incident_id")
        if incident_id is None:
            return None
        known = manager.owner_centre(str(incident_id))
        return {f"incident {incident_id}": known} if known is not None else {}

    return resolve


async def _async_alarm(hub: Hub, manager: IncidentManager, call: ServiceCall, alarm_id: str) -> dict[str, Any]:
    """The alarm, if it exists and the caller sees it (own centre, shared, admin)."""
    from integrations.alarm.manager import get_manager

    alarms = get_manager(hub)
    alarm = await alarms.async_get(alarm_id) if alarms is not None else None
    reader = manager.reader(call.context.user_id)
    if alarm is None or not (reader.sees_all or alarm.centre == reader.centre or alarm.shared):
        raise ServiceValidationError(f"'alarm_id': no alarm {alarm_id!r} you may see")
    shown: dict[str, Any] = alarm.as_dict()
    return shown


async def _async_read(hub: Hub, call: ServiceCall, read_id: int) -> tuple[str, list[str]]:
    """A plate read's description and images, if the caller may see that camera's reads."""
    from integrations.anpr import DATA_KEY
    from integrations.anpr.search import describe_read

    anpr = hub.data.get(DATA_KEY)
    found = await describe_read(hub, anpr, read_id, call.context) if anpr is not None else None
    if found is None:
        raise ServiceValidationError(f"'read_id': no plate read {read_id} you may see")
    read, files = found
    plate = call.data.get("plate") or read["plate"] or "?"
    return f"{plate} · {read['camera_name']}", files


def _hidden(manager: IncidentManager) -> HiddenCounter:
    """hub.auth.hidden's counter for incidents: those of other centres not shared with the user's."""

    async def count(_hub: Hub, user: User | None) -> dict[str, int]:
        return await manager.async_hidden(manager.reader(user.id if user is not None else None))

    return count


def _register(hub: Hub, manager: IncidentManager) -> list[CALLBACK_TYPE]:
    async def _create(call: ServiceCall) -> dict[str, Any]:
        alarm = await _async_alarm(hub, manager, call, call.data["alarm_id"]) if "alarm_id" in call.data else None
        created = await manager.async_create(call.data["title"], call.context, shared=call.data["shared"])
        if alarm is not None:
            await manager.async_add_item(created["incident_id"], "alarm", call.context, ref=alarm["alarm_id"],
                                         text=alarm["title"])
        return created

    async def _note(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_add_item(call.data["incident_id"], "note", call.context, text=call.data["text"])

    async def _link_alarm(call: ServiceCall) -> dict[str, Any]:
        alarm = await _async_alarm(hub, manager, call, call.data["alarm_id"])
        return await manager.async_add_item(call.data["incident_id"], "alarm", call.context, ref=alarm["alarm_id"],
                                            text=alarm["title"])

    async def _link_read(call: ServiceCall) -> dict[str, Any]:
        text, files = await _async_read(hub, call, call.data["read_id"])
        return await manager.async_add_item(call.data["incident_id"], "plate_read", call.context,
                                            ref=str(call.data["read_id"]), text=text, files=files)

    async def _document(call: ServiceCall) -> dict[str, Any]:
        if manager.owner_centre(call.data["incident_id"]) is None and await manager.async_get(
                call.data["incident_id"]) is None:
            raise ServiceValidationError(f"'incident_id': no incident {call.data['incident_id']!r}")
        path = await manager.async_save_document(call.data["incident_id"], call.data["filename"],
                                                 call.data["content_base64"])
        return await manager.async_add_item(call.data["incident_id"], "document", call.context,
                                            ref=call.data["filename"],
                                            text=call.data.get("description") or call.data["filename"], files=[path])

    async def _clip(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        if "camera" in data:
            camera, start, end = data["camera"], data["start"], data["end"]
        else:
            camera, start, end = alarm_clip_camera(hub, await _async_alarm(hub, manager, call, data["alarm_id"]))
        return await async_add_clip(hub, manager, data["incident_id"], camera, start, end, call.context,
                                    data.get("text"))

    async def _remove_clip(call: ServiceCall) -> dict[str, Any]:
        return await async_remove_clip(hub, manager, call.data["incident_id"], call.data["item_id"], call.context)

    async def _update(call: ServiceCall) -> dict[str, Any]:
        changes = {key: call.data[key] for key in ("status", "owner", "shared") if key in call.data}
        policy = get_permissions(hub)
        if "owner" in changes and policy is not None and policy.enforced and policy.principal(changes["owner"]) is None:
            raise ServiceValidationError(f"'owner': no user {changes['owner']!r}")
        text = ", ".join(f"{key}: {value}" for key, value in changes.items())
        return await manager.async_add_item(call.data["incident_id"], "update", call.context, text=text,
                                            changes=changes)

    register = hub.services.async_register
    optional = SupportsResponse.OPTIONAL
    return [
        register(DOMAIN, "create", _create, CREATE_SCHEMA, optional,
                 "Open an incident owned by your centre (optionally starting from an alarm)"),
        register(DOMAIN, "add_note", _note, NOTE_SCHEMA, optional, "Add a note to an incident's timeline"),
        register(DOMAIN, "link_alarm", _link_alarm, LINK_ALARM_SCHEMA, optional, "Link an alarm to an incident"),
        register(DOMAIN, "link_plate_read", _link_read, LINK_READ_SCHEMA, optional,
                 "Link an ANPR read (with its images) to an incident"),
        register(DOMAIN, "add_document", _document, DOCUMENT_SCHEMA, optional,
                 "Attach a document or image (base64) to an incident"),
        register(DOMAIN, "add_clip", _clip, CLIP_SCHEMA, optional,
                 "Add a camera's recording between two times (or around a linked alarm) to an incident, "
                 "locking it as evidence; needs the camera's playback grant"),
        register(DOMAIN, "remove_clip", _remove_clip, REMOVE_CLIP_SCHEMA, optional,
                 "Take a video clip out of an incident and release its evidence lock"),
        register(DOMAIN, "update", _update, UPDATE_SCHEMA, optional,
                 "Change an incident's status, owner or sharing with the other centres"),
        async_register_target_resolver(hub, DOMAIN, _targets(manager)),
        async_register_hidden_counter(hub, "incidents", _hidden(manager)),
    ]


async def async_setup(hub: Hub, config: dict[str, Any] | None) -> bool:
    """Load the incidents' owning centres and register the services."""
    manager = IncidentManager(hub)
    await manager.async_load_owners()
    hub.data[DATA_MANAGER] = manager
    await async_release_orphan_locks(hub, manager)
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in _register(hub, manager):
        handle.async_on_unload(remover)
    return True


async def async_unload(hub: Hub) -> bool:
    """Remove the services."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager
    hub.data.pop(DATA_MANAGER, None)
    return True
