"""Face services: authorisations (enter, confirm, authority's confirmation, refusal), the watchlist,
identification of a still, candidate review by two operators, the yearly report and blurring."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv

from .const import (
    DOMAIN,
    HARD_MAX_HOURS,
    SERVICE_AUTHORISATION_CONFIRM,
    SERVICE_AUTHORISATION_CREATE,
    SERVICE_AUTHORISATION_REFUSE,
    SERVICE_AUTHORITY_CONFIRM,
    SERVICE_BLUR,
    SERVICE_CHECK,
    SERVICE_IDENTIFY,
    SERVICE_MATCH_CANDIDATES,
    SERVICE_MATCH_REJECT,
    SERVICE_MATCH_VERIFY,
    SERVICE_REPORT,
    SERVICE_WATCHLIST_ADD,
    Purpose,
    Use,
)

if TYPE_CHECKING:
    import numpy as np

    from .manager import FaceManager

__all__ = ["CREATE_SCHEMA", "IDENTIFY_SCHEMA", "async_register_services", "read_clip", "read_image", "resolve_path"]



CREATE_SCHEMA = vol.Schema({
    vol.Required("authority"): vol.All(cv.string, vol.Length(min=3, max=255)),
    vol.Required("reference"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Required("purpose"): vol.In([purpose.value for purpose in Purpose]),
    vol.Optional("use", default=Use.REAL_TIME.value): vol.In([use.value for use in Use]),
    vol.Optional("cameras", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("areas", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("start"): cv.timestamp,
    vol.Required("hours"): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=HARD_MAX_HOURS)),
    vol.Optional("urgent", default=False): cv.boolean,
})
ID_SCHEMA = vol.Schema({vol.Required("authorisation_id"): cv.string})
PERSON_SCHEMA = vol.Schema({
    vol.Required("authorisation_id"): cv.string,
    vol.Required("label"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Required("image"): cv.string,
})
IDENTIFY_SCHEMA = vol.Schema({
    vol.Required("camera"): cv.string,
    vol.Required("image"): cv.string,  # a still, or a clip (CLIP_SUFFIXES) sampled every `every` seconds
    vol.Optional("area"): cv.string,
    vol.Optional("recorded", default=False): cv.boolean,
    vol.Optional("every", default=1.0): vol.All(vol.Coerce(float), vol.Range(min=0.04, max=60)),
})
CLIP_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")
MAX_CLIP_FRAMES = 600
MATCH_SCHEMA = vol.Schema({vol.Required("match_id"): cv.string})
REPORT_SCHEMA = vol.Schema({vol.Required("year"): vol.All(vol.Coerce(int), vol.Range(min=2000, max=2999))})
BLUR_SCHEMA = vol.Schema({
    vol.Required("source"): cv.string,
    vol.Required("target"): cv.string,
    vol.Optional("plates", default=True): cv.boolean,
})


def resolve_path(hub: Hub, relative: str, key: str) -> Path:
    """A path under the config dir or an allowed external dir; a clear error otherwise."""
    base = hub.config_dir.resolve()
    path = (base / relative).resolve()
    roots = [base, *(Path(d).resolve() for d in (hub.config.allowlist_external_dirs if hub.config else ()))]
    if not any(path == root or root in path.parents for root in roots):
        raise ServiceValidationError(f"'{key}': {relative!r} is outside the config dir", path=[key])
    return path


def read_image(path: Path) -> tuple[np.ndarray, bytes]:
    """An image file as RGB pixels and its bytes (blocking)."""
    import cv2
    import numpy as np

    try:
        data = path.read_bytes()
    except OSError as err:
        raise ServiceValidationError(f"'image': cannot read {path.name}: {err.strerror or err}") from err
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ServiceValidationError(f"'image': {path.name} is not an image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), data


def read_clip(path: Path, every: float) -> list[tuple[float, np.ndarray]]:
    """Frames of a clip (RGB) every `every` seconds with their offset, at most MAX_CLIP_FRAMES (blocking)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ServiceValidationError(f"'image': {path.name} is not a video OpenCV can read")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(every * fps))
    frames: list[tuple[float, np.ndarray]] = []
    index = 0
    try:
        while len(frames) < MAX_CLIP_FRAMES:
            ok, image = capture.read()
            if not ok:
                break
            if index % step == 0:
                frames.append((index / fps, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise ServiceValidationError(f"'image': {path.name} has no frames")
    return frames


def _blur_file(source: Path, target: Path, plates: bool) -> dict[str, Any]:
    from .blur import FaceBlurrer, blur_image_bytes

    blurrer = FaceBlurrer(plates=plates)
    if source.suffix.lower() in (".jpg", ".jpeg", ".png"):
        data, result = blur_image_bytes(source.read_bytes(), blurrer)
        target.write_bytes(data)
    else:
        result = blurrer.blur_clip(source, target)
    return {"faces": result.faces, "plates": result.plates, "frames": result.frames, "target": str(target)}


def async_register_services(hub: Hub, manager: FaceManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    async def _create(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_create(dict(call.data), call.context)

    async def _confirm(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_confirm(call.data["authorisation_id"], call.context)

    async def _authority(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_authority_confirm(call.data["authorisation_id"], call.context)

    async def _refuse(call: ServiceCall) -> dict[str, Any]:
        return {"deleted": await manager.async_refuse(call.data["authorisation_id"], call.context)}

    async def _add_person(call: ServiceCall) -> dict[str, Any]:
        path = resolve_path(hub, call.data["image"], "image")
        image, data = await hub.async_add_executor_job(read_image, path)
        return await manager.async_add_person(call.data["authorisation_id"], call.data["label"], image, data,
                                              call.context)

    async def _identify(call: ServiceCall) -> dict[str, Any]:
        path = resolve_path(hub, call.data["image"], "image")
        options = {"area": call.data.get("area"), "recorded": call.data["recorded"]}
        if path.suffix.lower() not in CLIP_SUFFIXES:
            image, _data = await hub.async_add_executor_job(read_image, path)
            return await manager.async_identify(call.data["camera"], image, call.context, **options)
        frames = await hub.async_add_executor_job(read_clip, path, call.data["every"])
        start = manager.now()
        total: dict[str, Any] = {"frames": len(frames), "faces": 0, "candidates": []}
        for offset, image in frames:  # each frame checked against the authorisations as it comes
            answer = await manager.async_identify(call.data["camera"], image, call.context, ts=start + offset,
                                                  **options)
            total["authorisation_id"] = answer["authorisation_id"]
            total["faces"] += answer["faces"]
            total["candidates"].extend(answer["candidates"])
        return total

    async def _candidates(call: ServiceCall) -> dict[str, Any]:
        return {"candidates": await manager.async_candidates(call.context)}

    async def _verify(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_review(call.data["match_id"], True, call.context)

    async def _reject(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_review(call.data["match_id"], False, call.context)

    async def _report(call: ServiceCall) -> dict[str, Any]:
        return await manager.async_report(call.data["year"])

    async def _check(_call: ServiceCall) -> dict[str, Any]:
        await manager.async_check()
        return {"loaded": sorted(manager.loaded)}

    async def _blur(call: ServiceCall) -> dict[str, Any]:
        source = resolve_path(hub, call.data["source"], "source")
        target = resolve_path(hub, call.data["target"], "target")
        try:
            result: dict[str, Any] = await hub.async_add_executor_job(_blur_file, source, target, call.data["plates"])
        except (OSError, ValueError) as err:
            raise ServiceValidationError(f"'source': {err}") from err
        return result

    optional, only = SupportsResponse.OPTIONAL, SupportsResponse.ONLY
    register = hub.services.async_register
    return [
        register(DOMAIN, SERVICE_AUTHORISATION_CREATE, _create, CREATE_SCHEMA, optional,
                 "Enter an authorisation for remote biometric identification (pending a second person)"),
        register(DOMAIN, SERVICE_AUTHORISATION_CONFIRM, _confirm, ID_SCHEMA, optional,
                 "Confirm an authorisation someone else entered (it becomes active between start and end)"),
        register(DOMAIN, SERVICE_AUTHORITY_CONFIRM, _authority, ID_SCHEMA, optional,
                 "Record the authority's confirmation of an urgent authorisation"),
        register(DOMAIN, SERVICE_AUTHORISATION_REFUSE, _refuse, ID_SCHEMA, optional,
                 "Record the authority's refusal: every match, clip lock and embedding under it is deleted"),
        register(DOMAIN, SERVICE_WATCHLIST_ADD, _add_person, PERSON_SCHEMA, optional,
                 "Add a person sought (case label, reference image) to an authorisation's watchlist"),
        register(DOMAIN, SERVICE_IDENTIFY, _identify, IDENTIFY_SCHEMA, optional,
                 "Identify the faces of a still against the watchlist of the authorisation covering its camera"),
        register(DOMAIN, SERVICE_MATCH_CANDIDATES, _candidates, None, only,
                 "Candidate matches with reference and frame side by side"),
        register(DOMAIN, SERVICE_MATCH_VERIFY, _verify, MATCH_SCHEMA, optional,
                 "Verify a candidate match (a second, distinct operator completes it)"),
        register(DOMAIN, SERVICE_MATCH_REJECT, _reject, MATCH_SCHEMA, optional,
                 "Reject a candidate match (its crop and embedding are deleted)"),
        register(DOMAIN, SERVICE_REPORT, _report, REPORT_SCHEMA, only,
                 "Yearly statistics without personal data"),
        register(DOMAIN, SERVICE_CHECK, _check, None, optional,
                 "Apply lapses and load/unload watchlists now (also done every minute)"),
        register(DOMAIN, SERVICE_BLUR, _blur, BLUR_SCHEMA, optional,
                 "Blur faces (and plates) in a still or a clip"),
    ]
