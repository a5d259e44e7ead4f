"""Load Home Assistant-style YAML as a site's configuration.yaml into a test hub (the real loader and setup)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import automations
from hub.bootstrap import CORE_SECTIONS, load_and_check_core
from hub.config.core import CoreConfig
from hub.config.sections import is_automation_section
from hub.core import Event, Hub, callback
from hub.setup import async_get_setup_manager

__all__ = ["async_load_site", "capture_events", "write"]


def write(config_dir: Path, relative: str, text: str) -> Path:
    """Write a file of the site (dedented)."""
    path = config_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


async def async_load_site(hub: Hub, text: str | None = None, *, start: bool = True) -> dict[str, Any]:
    """Write `text` as configuration.yaml (unless None), then set it up as bootstrap does; the raw config."""
    if text is not None:
        write(hub.config_dir, "configuration.yaml", text)
    loaded = await hub.async_add_executor_job(load_and_check_core, hub.config_dir)
    assert not loaded.errors, loaded.errors
    hub.config = CoreConfig.from_config(loaded.core["hub"])
    sections = {k: v for k, v in loaded.raw.items() if k not in CORE_SECTIONS and not is_automation_section(k)}
    status = await async_get_setup_manager(hub).async_setup_all(sections)
    failed = {domain: s.error for domain, s in status.items() if s.error}
    assert not failed, failed
    await automations.async_setup(hub, {k: v for k, v in loaded.raw.items() if is_automation_section(k)})
    if start and not hub.is_running:
        await hub.async_start()
    await hub.async_block_till_done()
    return loaded.raw


def capture_events(hub: Hub, event_type: str) -> list[Event]:
    """Every `event_type` event fired from now on."""
    seen: list[Event] = []

    @callback
    def listener(event: Event) -> None:
        seen.append(event)

    hub.bus.async_listen(event_type, listener)
    return seen
