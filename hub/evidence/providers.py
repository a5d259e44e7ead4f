"""What an alarm holds, asked of the integrations that keep alarms: evidence imports none of them.

An alarm provider is an integration's `evidence.py` with::

    def load_alarm(session, alarm_id) -> dict | None           # from the database (CLI, recorder thread)
    async def async_get_alarm(hub, alarm_id) -> dict | None    # from the running hub

(the dict is the alarm with its SOP and timeline, `Alarm.as_dict(full=True)`). A running hub knows the
providers its integrations registered in their setup (`async_register_alarm_provider`); the CLI, with
no hub, finds them through the loader (`find_alarm_providers`).

An `evidence.py` may also offer ``redact_image(data: bytes) -> (bytes, faces, plates)`` and
``redact_video(data: bytes) -> (bytes, faces, plates)`` (blocking; the video a fragmented MP4), which blur what
people outside a case must not see; exports for the public or the press use them (`find_image_redactor`,
`find_video_redactor`).

Recorded video comes from clip providers that a running hub's integrations register
(`async_register_clip_provider`): asked with a `ClipRequest` (the export's name, its window, entities,
reason), a provider locks what it gives for as long as the export exists and answers a `ClipSet` (the files,
the manifest's `video` entries, and how to undo the locks when the export fails).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ..core import CALLBACK_TYPE, Context, Hub, HubKey, callback
from ..loader import discover_integrations
from .bundle import BundleFile

__all__ = [
    "AlarmProvider",
    "ClipProvider",
    "ClipRequest",
    "ClipSet",
    "async_collect_clips",
    "async_get_alarm",
    "async_register_alarm_provider",
    "async_register_clip_provider",
    "find_alarm_providers",
    "find_image_redactor",
    "find_video_redactor",
    "has_alarm_providers",
    "load_alarm",
]

PLATFORM = "evidence"


class AlarmProvider(Protocol):
    """An integration's `evidence` platform (a module or any object with these two functions)."""

    def load_alarm(self, session: Session, alarm_id: str) -> dict[str, Any] | None: ...

    async def async_get_alarm(self, hub: Hub, alarm_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class ClipRequest:
    """What an export asks of clip providers: its zip's name (the lock's reference), window, entities, why."""

    export_name: str
    start_ts: float
    end_ts: float
    entity_ids: tuple[str, ...]
    reason: str
    case_reference: str
    context: Context


@dataclass(slots=True)
class ClipSet:
    """A provider's answer: segment files (kind "video"), the manifest's `video` entries (one per camera:
    camera, entity_id, time range, segments with their path and recorded sha256), and `release` to undo
    its locks when the export fails."""

    files: list[BundleFile] = field(default_factory=list)
    clips: list[dict[str, Any]] = field(default_factory=list)
    release: Callable[[], Awaitable[None]] | None = None


class ClipProvider(Protocol):
    """An integration that records video (the camera integration)."""

    async def async_collect_clips(self, hub: Hub, request: ClipRequest) -> ClipSet | None: ...


_PROVIDERS: HubKey[list[AlarmProvider]] = HubKey("evidence_alarm_providers")
_CLIP_PROVIDERS: HubKey[list[ClipProvider]] = HubKey("evidence_clip_providers")


def _register(items: list[Any], provider: Any) -> CALLBACK_TYPE:
    items.append(provider)

    @callback
    def remove() -> None:
        if provider in items:
            items.remove(provider)

    return remove


@callback
def async_register_alarm_provider(hub: Hub, provider: AlarmProvider) -> CALLBACK_TYPE:
    """Let evidence exports ask `provider` for alarms; returns the remover (call it on unload)."""
    return _register(hub.data.setdefault(_PROVIDERS, []), provider)


@callback
def async_register_clip_provider(hub: Hub, provider: ClipProvider) -> CALLBACK_TYPE:
    """Let evidence exports ask `provider` for recorded video; returns the remover (call it on unload)."""
    return _register(hub.data.setdefault(_CLIP_PROVIDERS, []), provider)


async def async_collect_clips(hub: Hub, request: ClipRequest) -> list[ClipSet]:
    """Every registered provider's clips for the request; when one fails, the others' locks are released."""
    found: list[ClipSet] = []
    try:
        for provider in list(hub.data.get(_CLIP_PROVIDERS, ())):
            clips = await provider.async_collect_clips(hub, request)
            if clips is not None:
                found.append(clips)
    except BaseException:
        for clips in found:
            if clips.release is not None:
                await clips.release()
        raise
    return found


def has_alarm_providers(hub: Hub) -> bool:
    """Whether an integration that keeps alarms is set up."""
    return bool(hub.data.get(_PROVIDERS))


async def async_get_alarm(hub: Hub, alarm_id: str) -> dict[str, Any] | None:
    """The alarm from the first registered provider that has it, or None."""
    for provider in list(hub.data.get(_PROVIDERS, ())):
        alarm = await provider.async_get_alarm(hub, alarm_id)
        if alarm is not None:
            return alarm
    return None


def _evidence_platforms(config_dir: Path | None) -> list[Any]:
    integrations, _ = discover_integrations(config_dir)
    platforms: list[Any] = []
    for integration in integrations.values():
        if (integration.path / f"{PLATFORM}.py").is_file():
            module: Any = integration.get_platform(PLATFORM)
            if module is not None:
                platforms.append(module)
    return platforms


def find_alarm_providers(config_dir: Path | None) -> list[AlarmProvider]:
    """The `evidence` platforms of the integrations the loader knows that keep alarms (blocking: imports them)."""
    return [module for module in _evidence_platforms(config_dir) if hasattr(module, "load_alarm")]


ImageRedactor = Callable[[bytes], tuple[bytes, int, int]]


def _redactor(config_dir: Path | None, name: str) -> ImageRedactor | None:
    for module in _evidence_platforms(config_dir):
        redact = getattr(module, name, None)
        if callable(redact):
            return redact
    return None


def find_image_redactor(config_dir: Path | None) -> ImageRedactor | None:
    """The first `evidence` platform's `redact_image` (faces and plates blurred), or None (blocking)."""
    return _redactor(config_dir, "redact_image")


def find_video_redactor(config_dir: Path | None) -> ImageRedactor | None:
    """The first `evidence` platform's `redact_video` (a fragmented MP4 with faces and plates blurred, same
    shape as `redact_image`), or None (blocking)."""
    return _redactor(config_dir, "redact_video")


def load_alarm(session: Session, providers: list[AlarmProvider], alarm_id: str) -> dict[str, Any] | None:
    """The alarm from the first provider whose tables hold it, or None (runs where the session lives)."""
    for provider in providers:
        alarm = provider.load_alarm(session, alarm_id)
        if alarm is not None:
            return alarm
    return None
