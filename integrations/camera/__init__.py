"""Cameras: streams, snapshots, recording by stream copy, retention, evidence locks and clip exports (docs/video.md)."""

from __future__ import annotations

import logging
from typing import Any

from hub.auth.hidden import async_register_hidden_counter
from hub.const import EVENT_HUB_STOP
from hub.core import Event, Hub, HubKey
from hub.evidence.providers import async_register_clip_provider
from hub.helpers.entity_platform import async_add_entities, async_remove_entities
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle

from .access import async_hidden_cameras
from .clips import ClipExporter
from .config import CONFIG_SCHEMA
from .const import DOMAIN, EVENT_CAMERA_OFFLINE, EVENT_CAMERA_ONLINE, EVENT_RECORDING_GAP
from .entity import CameraEntity
from .hls import DATA_HLS, HlsStreams
from .http import async_register_views
from .live import DATA_LIVE, LiveStreams
from .manager import CameraManager
from .services import async_register_services
from .stream import tools_available

__all__ = [
    "CONFIG_SCHEMA",
    "DATA_KEY",
    "DOMAIN",
    "EVENT_CAMERA_OFFLINE",
    "EVENT_CAMERA_ONLINE",
    "EVENT_RECORDING_GAP",
    "CameraManager",
    "async_setup",
    "async_unload",
]

_LOGGER = logging.getLogger(__name__)

DATA_KEY: HubKey[CameraManager] = HubKey(DOMAIN)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Start every camera's recorder, add the entities, the services and the REST views."""
    if config["cameras"] and not await hub.async_add_executor_job(tools_available):
        _LOGGER.error("camera: ffmpeg is not installed (scripts/setup-video.sh installs them)")
        return False
    manager = CameraManager(hub, config)
    hub.data[DATA_KEY] = manager
    live = hub.data[DATA_LIVE] = LiveStreams(hub)
    hls = hub.data[DATA_HLS] = HlsStreams(hub, config["hls_idle_after"])
    await manager.async_start()
    manager.entities = {camera_id: CameraEntity(camera) for camera_id, camera in manager.cameras.items()}
    await async_add_entities(hub, DOMAIN, manager.entities.values())
    await manager.async_read_presets()  # in the background: an unreachable ONVIF device never delays the start
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(manager):
        handle.async_on_unload(remover)
    clips = manager.clips = ClipExporter(manager)
    handle.async_on_unload(async_register_clip_provider(hub, clips))
    handle.async_on_unload(clips.async_listen())

    async def _async_stop_live(_event: Event) -> None:
        await live.async_stop()
        await hls.async_stop()

    handle.async_on_unload(hub.bus.async_listen_once(EVENT_HUB_STOP, _async_stop_live))
    handle.async_on_unload(async_register_hidden_counter(hub, "cameras", async_hidden_cameras))
    if not async_register_views(hub):
        _LOGGER.debug("camera: REST views not added (no HTTP server, or it already started)")
    _LOGGER.info("camera: %d cameras, recordings under %s", len(manager.cameras), manager.storage)
    return True


async def async_unload(hub: Hub) -> bool:
    """Stop live streams and recorders, remove services and entities."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    live = hub.data.pop(DATA_LIVE, None)
    if live is not None:
        await live.async_stop()
    hls = hub.data.pop(DATA_HLS, None)
    if hls is not None:
        await hls.async_stop()
    manager = hub.data.pop(DATA_KEY, None)
    if manager is not None:
        await manager.async_stop()
    await async_remove_entities(hub, DOMAIN)
    return True
