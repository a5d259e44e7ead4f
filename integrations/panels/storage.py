"""Queued panel messages kept across restarts (`.storage/panels.messages.json`).

Every panel's queue is written (coalesced, within `SAVE_DELAY` seconds of a change; a clean stop
flushes it) with each message's rendered pages and, for a templated message, the template source.
At start the messages come back on the panels that still exist: an expired message is dropped, a
message that no longer fits the sign (its size changed in the configuration) is dropped with a
warning, a templated one is compiled again and re-rendered with the current states.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from hub.core import Hub, callback
from hub.exceptions import ServiceValidationError
from hub.helpers.storage import StorageError, Store

from .const import Justify, Priority
from .message import PanelMessage, normalise_pages
from .render import MessageTemplate

__all__ = ["PanelMessageStore", "StoredMessage", "message_from_dict", "message_to_dict"]

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "panels.messages"
STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0

StoredMessage = tuple[PanelMessage, MessageTemplate | None]
# what a panel gives to be saved: (panel id, [(message, template or None), ...])
QueueSnapshot = Callable[[], Iterable[tuple[str, list[StoredMessage]]]]


def message_to_dict(message: PanelMessage, template: MessageTemplate | None) -> dict[str, Any]:
    """JSON-able form of a queued message (times as epoch seconds, the template source if any)."""
    return {
        "id": message.id,
        "priority": message.priority.name,
        "pages": [list(page) for page in message.pages],
        "page_time": message.page_time,
        "pictogram": message.pictogram,
        "justify": message.justify.value,
        "expires_at": message.expires_at,
        "set_at": message.set_at,
        "user_id": message.user_id,
        "centre": message.centre,
        "context_id": message.context_id,
        "template": [list(page) for page in template.source] if template is not None else None,
    }


def message_from_dict(hub: Hub, row: Mapping[str, Any]) -> StoredMessage:
    """The message (and its compiled template) from `message_to_dict`; raises ValueError naming what is wrong."""
    try:
        expires_at = row.get("expires_at")
        message = PanelMessage(
            pages=normalise_pages(row["pages"]),
            priority=Priority[row["priority"]],
            page_time=float(row["page_time"]),
            pictogram=row.get("pictogram"),
            justify=Justify(row.get("justify", Justify.CENTER.value)),
            expires_at=float(expires_at) if expires_at is not None else None,
            set_at=float(row.get("set_at") or 0.0),
            user_id=row.get("user_id"),
            centre=row.get("centre"),
            context_id=row.get("context_id"),
            id=str(row["id"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"stored panel message is not readable: {err!r}") from err
    source = row.get("template")
    if not source:
        return message, None
    try:
        template = MessageTemplate(hub, normalise_pages(source))
    except ServiceValidationError as err:
        raise ValueError(f"stored template of message {message.id} does not compile: {err}") from err
    return message, template if template.has_templates else None


class PanelMessageStore:
    """Saves every panel's queue on change and gives it back at start."""

    def __init__(self, hub: Hub, snapshot: QueueSnapshot) -> None:
        self.hub = hub
        self._snapshot = snapshot
        self._store: Store[dict[str, Any]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)

    async def async_load(self) -> dict[str, list[StoredMessage]]:
        """The stored queues by panel id (unexpired, readable messages only); {} when nothing is stored."""
        try:
            data = await self._store.async_load()
        except (StorageError, OSError) as err:
            _LOGGER.error("Cannot restore panel messages, panels start blank: %s", err)
            return {}
        now = self.hub.clock.time()
        queues: dict[str, list[StoredMessage]] = {}
        for panel_id, rows in ((data or {}).get("panels") or {}).items():
            for row in rows if isinstance(rows, list) else []:
                try:
                    message, template = message_from_dict(self.hub, row)
                except ValueError as err:
                    _LOGGER.warning("Panel %s: dropping a stored message: %s", panel_id, err)
                    continue
                if message.expired(now):
                    _LOGGER.info("Panel %s: stored message %s expired while the hub was down", panel_id, message.id)
                    continue
                queues.setdefault(panel_id, []).append((message, template))
        return queues

    @callback
    def async_schedule_save(self) -> None:
        """Write the queues within SAVE_DELAY seconds (changes in between join the same write)."""
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Write the queues now (unload: the panels are about to go)."""
        await self._store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        return {"panels": {panel_id: [message_to_dict(m, t) for m, t in queue]
                           for panel_id, queue in self._snapshot()}}
