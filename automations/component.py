"""The automation engine as a `hub.bootstrap.Component`: the sections it owns, its setup, its check, its tables.

The composition root (`hacho.bootstrap`) plugs it in; `automations.lint` uses it alone to check a site.
"""

from __future__ import annotations

from typing import Any

from hub.bootstrap import Component
from hub.config.sections import is_automation_section
from hub.core import Hub
from hub.recorder.migration import VersionLocation

from . import AUTOMATION_SECTIONS, async_setup, check_config
from .const import MIGRATIONS, MIGRATIONS_OWNER

__all__ = ["ENGINE_COMPONENT"]


async def _async_setup(hub: Hub, sections: dict[str, Any]) -> None:
    await async_setup(hub, sections)


def _check(sections: dict[str, Any]) -> list[str]:
    return list(check_config(sections))


ENGINE_COMPONENT = Component("Automation engine", AUTOMATION_SECTIONS, _async_setup, check=_check,
                             migrations=VersionLocation(MIGRATIONS_OWNER, MIGRATIONS), owns=is_automation_section)
