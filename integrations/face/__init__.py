"""Faces: blurring for privacy, and identification only under a recorded authorisation (see docs/face.md)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.core import Hub, HubKey
from hub.helpers import config_validation as cv
from hub.helpers.workers import MODE_PROCESS, MODE_THREAD
from hub.setup_handle import async_drain_setup_handle, async_get_setup_handle
from integrations.camera.privacy import DATA_FACE_BLUR

from .const import DEFAULT_MAX_HOURS, DEFAULT_THRESHOLD, DOMAIN, EMBEDDERS, EVENT_MATCH_VERIFIED, HARD_MAX_HOURS
from .live import DEFAULT_DETECTOR, LiveBlur
from .manager import FaceManager
from .services import async_register_services

__all__ = ["CONFIG_SCHEMA", "DATA_KEY", "DOMAIN", "EVENT_MATCH_VERIFIED", "FaceManager", "async_setup",
           "async_unload"]

CONFIG_SCHEMA = vol.Schema({
    vol.Optional("max_hours", default=DEFAULT_MAX_HOURS): vol.All(vol.Coerce(float),
                                                                  vol.Range(min=1, max=HARD_MAX_HOURS)),
    # dlib's documented operating point, not tuned here; see docs/face.md before changing it
    vol.Optional("threshold", default=DEFAULT_THRESHOLD): vol.All(vol.Coerce(float), vol.Range(min=0.3, max=0.7)),
    vol.Optional("upsample", default=1): vol.All(vol.Coerce(int), vol.Range(min=0, max=2)),
    # a still handed in (reference image, face.identify) in which HOG finds no face: HOG upsampled once more,
    # then the blurring detector's Haar cascades (docs/face.md "What the pipeline loses")
    vol.Optional("fallback", default=True): cv.boolean,
    # test-time augmentation: the embedding averaged with the mirrored chip's (2 network runs a face), or
    # dlib's jitter with this many random samples (jitter > 1 replaces the mirror; n runs a face)
    vol.Optional("mirror", default=True): cv.boolean,
    vol.Optional("jitter", default=0): vol.All(vol.Coerce(int), vol.Range(min=0, max=100)),
    # the ResNet's runtime: onnxruntime (the same CC0 weights, converted and cached at first use; dlib's own
    # runtime if that fails) or dlib's own; onnxruntime's threads per embedding
    vol.Optional("embedder", default="onnx"): vol.In(EMBEDDERS),
    vol.Optional("threads", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=16)),
    vol.Optional("queue_size", default=4): cv.positive_int,
    vol.Optional("timeout", default=60.0): cv.positive_float,
    vol.Optional("mode", default=MODE_PROCESS): vol.In([MODE_PROCESS, MODE_THREAD]),
    # the face detector of blurred live view (docs/face.md "Live blurring"): MediaPipe BlazeFace in onnxruntime,
    # or OpenCV's Haar cascades (as exports use); identification keeps dlib's HOG
    vol.Optional("live_detector", default=DEFAULT_DETECTOR): vol.In(("blazeface", "haar")),
    # detection (for privacy, always; identification only under an authorisation) on cameras' streams
    vol.Optional("detection", default={}): vol.Schema({
        vol.Optional("cameras", default=list): [vol.All(cv.string, vol.Match(r"^camera\.[a-z0-9_]+$"))],
        vol.Optional("fps", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=10)),
        vol.Optional("width", default=640): vol.All(vol.Coerce(int), vol.Range(min=160, max=1920)),
        vol.Optional("stream", default="sub"): vol.In(("sub", "main")),
    }, extra=vol.PREVENT_EXTRA),
}, extra=vol.PREVENT_EXTRA)

DATA_KEY: HubKey[FaceManager] = HubKey(DOMAIN)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Register the services and start checking authorisations (the worker starts when first needed)."""
    manager = FaceManager(hub, config)
    hub.data[DATA_KEY] = manager
    # live view without faces for the roles that may not see them
    hub.data[DATA_FACE_BLUR] = LiveBlur(hub, config["live_detector"])
    await manager.async_start()
    handle = async_get_setup_handle(hub, DOMAIN)
    for remover in async_register_services(hub, manager):
        handle.async_on_unload(remover)
    return True


async def async_unload(hub: Hub) -> bool:
    """Remove the services, stop the worker."""
    await async_drain_setup_handle(hub, DOMAIN)  # also when called without the setup manager (tests)
    hub.data.pop(DATA_FACE_BLUR, None)
    manager = hub.data.pop(DATA_KEY, None)
    if manager is not None:
        await manager.async_stop()
    return True
