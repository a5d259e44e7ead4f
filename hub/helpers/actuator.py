"""Actuator commands run once: the same command for the same device within its travel window is executed once.

A bollard, barrier or gate told "raise" twice at once (two operators, an automation and an operator, a
retried request) must not move twice. `CommandOnce` gives every executed command an id; a caller
sending the same command for the same device while it runs, or within `window` seconds after it
succeeded, gets the first's result (with the first's `command_id`) instead of a second execution. A
failed command is not remembered (the next caller tries again), and a different command for the
device ends the window of the previous one.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .ids import uuid7_str

__all__ = ["ATTR_COMMAND_ID", "CommandOnce"]

ATTR_COMMAND_ID: Final = "command_id"


@dataclass(slots=True)
class _Issued:
    command: str
    command_id: str
    future: asyncio.Future[dict[str, Any]]
    until: float = field(default=math.inf)  # clock time the result stops standing for new callers


class CommandOnce:
    """Deduplicates commands per device (one instance per actuator or per integration)."""

    def __init__(self) -> None:
        self._last: dict[str, _Issued] = {}

    async def async_run(self, device: str, command: str, window: float, now: Callable[[], float],
                        execute: Callable[[str], Awaitable[Mapping[str, Any]]]) -> dict[str, Any]:
        """`await execute(command_id)` unless the same command for `device` runs or ran within `window`
        seconds (by `now()`); returns its result with `command_id`. Exceptions reach every waiting caller."""
        issued = self._last.get(device)
        if issued is not None and issued.command == command and (
                not issued.future.done() or now() < issued.until):
            return dict(await asyncio.shield(issued.future))
        issued = _Issued(command, uuid7_str(), asyncio.get_running_loop().create_future())
        self._last[device] = issued
        try:
            result = {**await execute(issued.command_id), ATTR_COMMAND_ID: issued.command_id}
        except BaseException as err:
            if self._last.get(device) is issued:
                del self._last[device]
            issued.future.set_exception(err)
            issued.future.exception()  # retrieved: nobody else may be waiting
            raise
        issued.until = now() + window
        issued.future.set_result(result)
        return dict(result)
