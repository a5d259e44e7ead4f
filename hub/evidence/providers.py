"""What an alarm holds, asked of the integrations that keep alarms: evidence imports none of them.

An alarm provider is an integration's `evidence.py` with::

    def load_alarm(session, alarm_id) -> dict | None           # from the database (CLI, recorder thread)
    async def async_get_alarm(hub, alarm_id) -> dict | None    # from the running hub

(the dict is the alarm with its SOP and timeline, `Alarm.as_dict(full=True)`). A running hub knows the
providers its integrations registered in their setup (`async_register_alarm_provider`); the CLI, with
no hub, finds them through the loader (`find_alarm_providers`).

An `evidence.py` may also offer ``redact_image(data: bytes) -> (bytes, faces, plates)`` (blocking), which blurs
what people outside a case must not see; exports for the public or the press use it (`find_image_redactor`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ..core import CALLBACK_TYPE, Hub, HubKey, callback
from ..loader import discover_integrations

__all__ = [
    "AlarmProvider",
    "async_get_alarm",
    "async_register_alarm_provider",
    "find_alarm_providers",
    "find_image_redactor",
    "has_alarm_providers",
    "load_alarm",
]

PLATFORM = "evidence"


class AlarmProvider(Protocol):
    """An integration's `evidence` platform (a module or any object with these two functions)."""

    def load_alarm(self, session: Session, alarm_id: str) -> dict[str, Any] | None: ...

    async def async_get_alarm(self, hub: Hub, alarm_id: str) -> dict[str, Any] | None: ...


_PROVIDERS: HubKey[list[AlarmProvider]] = HubKey("evidence_alarm_providers")


@callback
def async_register_alarm_provider(hub: Hub, provider: AlarmProvider) -> CALLBACK_TYPE:
    """Let evidence exports ask `provider` for alarms; returns the remover (call it on unload)."""
    providers = hub.data.setdefault(_PROVIDERS, [])
    providers.append(provider)

    @callback
    def remove() -> None:
        if provider in providers:
            providers.remove(provider)

    return remove


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


def find_image_redactor(config_dir: Path | None) -> ImageRedactor | None:
    """The first `evidence` platform's `redact_image` (faces and plates blurred), or None (blocking)."""
    for module in _evidence_platforms(config_dir):
        redact = getattr(module, "redact_image", None)
        if callable(redact):
            return redact
    return None


def load_alarm(session: Session, providers: list[AlarmProvider], alarm_id: str) -> dict[str, Any] | None:
    """The alarm from the first provider whose tables hold it, or None (runs where the session lives)."""
    for provider in providers:
        alarm = provider.load_alarm(session, alarm_id)
        if alarm is not None:
            return alarm
    return None
