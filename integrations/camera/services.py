"""camera.snapshot, camera.record_clip, camera.goto_preset, camera.lock_recording, camera.unlock_recording,
camera.purge_recordings. Every one names its camera by `entity_id`, so the permission hook checks the
caller's centre against the camera's (through its area)."""

from __future__ import annotations

import base64
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, ServiceCall, SupportsResponse, callback
from hub.exceptions import Unauthorized
from hub.helpers import config_validation as cv

from .const import (
    DOMAIN,
    SERVICE_GOTO_PRESET,
    SERVICE_LOCK,
    SERVICE_PURGE,
    SERVICE_RECORD_CLIP,
    SERVICE_SNAPSHOT,
    SERVICE_UNLOCK,
)
from .manager import CameraManager
from .privacy import DATA_FACE_BLUR, user_sees_faces

__all__ = ["async_register_services"]

_ENTITY = vol.All(cv.string, vol.Match(r"^camera\.[a-z0-9_]+$", msg="expected a camera entity id"))

SNAPSHOT_SCHEMA = vol.Schema({
    vol.Required("entity_id"): _ENTITY,
    vol.Optional("stream", default="main"): vol.In(("main", "sub")),
    vol.Optional("width"): vol.All(vol.Coerce(int), vol.Range(min=16, max=7680)),
})
RECORD_CLIP_SCHEMA = vol.Schema({
    vol.Required("entity_id"): _ENTITY,
    vol.Optional("duration", default=30.0): vol.All(vol.Coerce(float), vol.Range(min=1, max=3600)),
})
GOTO_PRESET_SCHEMA = vol.Schema({vol.Required("entity_id"): _ENTITY, vol.Required("preset"): cv.string})
LOCK_SCHEMA = vol.Schema({
    vol.Required("entity_id"): _ENTITY,
    vol.Required("start"): vol.Coerce(float),
    vol.Required("end"): vol.Coerce(float),
    vol.Required("reference"): vol.All(cv.string, vol.Length(min=1, max=255)),
})
UNLOCK_SCHEMA = vol.Schema({vol.Required("entity_id"): _ENTITY, vol.Required("lock_id"): vol.Coerce(int)})
PURGE_SCHEMA = vol.Schema({vol.Optional("entity_id"): vol.Any(_ENTITY, [_ENTITY])})


@callback
def async_register_services(manager: CameraManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""
    hub = manager.hub

    async def snapshot(call: ServiceCall) -> dict[str, Any]:
        camera = manager.camera(call.data["entity_id"])
        blur = None
        if call.context.user_id is not None and not user_sees_faces(hub, call.context.user_id, camera):
            blur = hub.data.get(DATA_FACE_BLUR)  # faces blurred for this caller, as in live view (privacy.py)
            if blur is None:
                raise Unauthorized(f"{DOMAIN}.snapshot: faces must be blurred for your role; face blurring is "
                                   "not running", permission=f"{DOMAIN}.snapshot")
        jpeg = await manager.async_snapshot(call.data["entity_id"], call.data["stream"], call.data.get("width"))
        if blur is not None:
            jpeg = await blur.async_blur_jpeg(jpeg)
        return {"entity_id": call.data["entity_id"], "content_type": "image/jpeg", "bytes": len(jpeg),
                "jpeg_base64": base64.b64encode(jpeg).decode("ascii")}

    @callback
    def record_clip(call: ServiceCall) -> dict[str, Any]:
        return manager.record_clip(call.data["entity_id"], call.data["duration"])

    async def goto_preset(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_goto_preset(call.data["entity_id"], call.data["preset"], call.context)

    async def lock(call: ServiceCall) -> dict[str, Any]:
        lock_id = await manager.async_lock(call.data["entity_id"], call.data["start"], call.data["end"],
                                           call.data["reference"], call.context)
        return {"lock_id": lock_id}

    async def unlock(call: ServiceCall) -> dict[str, Any]:
        manager.camera(call.data["entity_id"])
        return await manager.async_unlock(call.data["lock_id"], call.context)

    async def purge(_call: ServiceCall) -> dict[str, Any]:
        return await manager.retention.async_run()

    register = hub.services.async_register
    return [
        register(DOMAIN, SERVICE_SNAPSHOT, snapshot, SNAPSHOT_SCHEMA, SupportsResponse.ONLY,
                 "One JPEG frame from a camera (base64 in the response)"),
        register(DOMAIN, SERVICE_RECORD_CLIP, record_clip, RECORD_CLIP_SCHEMA, SupportsResponse.OPTIONAL,
                 "Keep the next `duration` seconds (with pre/post roll) of an event-mode camera"),
        register(DOMAIN, SERVICE_GOTO_PRESET, goto_preset, GOTO_PRESET_SCHEMA, SupportsResponse.OPTIONAL,
                 "Move a camera to one of its presets (the ONVIF device's where it has one)"),
        register(DOMAIN, SERVICE_LOCK, lock, LOCK_SCHEMA, SupportsResponse.OPTIONAL,
                 "Keep a camera's recordings in a time range as evidence until unlocked (audited)"),
        register(DOMAIN, SERVICE_UNLOCK, unlock, UNLOCK_SCHEMA, SupportsResponse.OPTIONAL,
                 "Release an evidence lock (audited)"),
        register(DOMAIN, SERVICE_PURGE, purge, PURGE_SCHEMA, SupportsResponse.OPTIONAL,
                 "Run the retention pass now"),
    ]
