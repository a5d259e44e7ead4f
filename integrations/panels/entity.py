"""The `panel` entity: one variable message sign, its message queue, expiry timers and device status."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.const import EVENT_STATE_CHANGED
from hub.core import CALLBACK_TYPE, Context, Event, callback
from hub.exceptions import DeviceUnavailable, ServiceValidationError
from hub.helpers.entity import Entity
from hub.helpers.event import async_call_later, async_track_point_in_time, async_track_state_change_event

from .config import PanelConfig
from .const import (
    ATTR_CENTRE,
    ATTR_EXPIRES,
    ATTR_JUSTIFY,
    ATTR_MESSAGE_ID,
    ATTR_PAGE_TIME,
    ATTR_PAGES,
    ATTR_PANEL_ID,
    ATTR_PICTOGRAM,
    ATTR_PIXEL_ERRORS,
    ATTR_PRIORITY,
    ATTR_QUEUED,
    ATTR_SET_AT,
    ATTR_STATUS,
    ATTR_USER_ID,
    ENTITY_DOMAIN,
    RETRY_INTERVAL,
    SEND_TIMEOUT,
    STATE_BLANK,
    STATE_DISPLAYING,
    STATUS_COMM_FAILURE,
    STATUS_PIXEL_ERRORS,
    STATUS_WORKING,
    Priority,
)
from .driver import PanelDriver, PanelStatusUpdate
from .message import MessageQueue, PanelCapabilities, PanelMessage, iso_time
from .render import MessageTemplate, TemplateDeps

__all__ = ["PanelEntity"]

_LOGGER = logging.getLogger(__name__)


class PanelEntity(Entity):
    """A variable message sign. State: `displaying` or `blank`; the sign's health is `status`.

    Messages wait in a queue with one slot per priority; the highest is shown. Expiry runs on
    `hub.clock` timers; when the shown message expires or is cleared the next one returns.
    A templated message re-renders when an entity it reads changes (if it still fits).
    """

    domain = ENTITY_DOMAIN
    _attr_icon = "mdi:sign-text"

    def __init__(self, config: PanelConfig, driver: PanelDriver) -> None:
        self.config = config
        self.driver = driver
        self._attr_name = config.name
        self._attr_unique_id = f"panel_{config.id}"
        self._attr_suggested_object_id = config.id
        self._attr_area_id = config.area
        self._queue = MessageQueue()
        self._templates: dict[str, MessageTemplate] = {}
        self._lock = asyncio.Lock()
        self._sent: PanelMessage | None = None
        self._sent_ok = True  # the sign shows what the hub last sent
        self._link_ok = True
        self._device_status = STATUS_WORKING
        self._pixel_errors = 0
        self._brightness: int | None = None
        self._tracked = TemplateDeps()
        self._unsub_track: list[CALLBACK_TYPE] = []
        self._unsub_expiry: CALLBACK_TYPE | None = None
        self._unsub_retry: CALLBACK_TYPE | None = None
        self._render_failed: str | None = None
        self._added = False
        self._removed = False
        self.on_queue_change: Callable[[], None] | None = None  # the message store saves the queue

    # ---- properties (memory only)

    @property
    def panel_id(self) -> str:
        """The sign's id in the city's inventory (P-PORT-1)."""
        return self.config.id

    @property
    def capabilities(self) -> PanelCapabilities:
        """What the sign can show."""
        return self.config.capabilities

    @property
    def current_message(self) -> PanelMessage | None:
        """The message the sign should show now."""
        return self._queue.active

    @property
    def messages(self) -> list[PanelMessage]:
        """Every queued message, highest priority first."""
        return list(self._queue)

    @property
    def status(self) -> str:
        """working, comm_failure or pixel_errors."""
        if not self._link_ok or self._device_status == STATUS_COMM_FAILURE:
            return STATUS_COMM_FAILURE
        if self._device_status == STATUS_PIXEL_ERRORS or self._pixel_errors > 0:
            return STATUS_PIXEL_ERRORS
        return STATUS_WORKING

    @property
    def pixel_errors(self) -> int:
        """Pixels the sign reports as broken."""
        return self._pixel_errors

    @property
    def brightness(self) -> int | None:
        """Last brightness the sign reported."""
        return self._brightness

    @property
    def state(self) -> str:
        return STATE_DISPLAYING if self._queue.active is not None else STATE_BLANK

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        cfg = self.config
        attrs: dict[str, Any] = {
            ATTR_PANEL_ID: cfg.id,
            "latitude": cfg.latitude,
            "longitude": cfg.longitude,
            "driver": self.driver.name,
            **cfg.capabilities.as_dict(),
            ATTR_STATUS: self.status,
            ATTR_PIXEL_ERRORS: self._pixel_errors,
            "brightness": self._brightness,
        }
        active = self._queue.active
        attrs.update({
            ATTR_MESSAGE_ID: active.id if active else None,
            ATTR_PRIORITY: active.priority.name if active else None,
            ATTR_PAGES: [list(page) for page in active.pages] if active else None,
            ATTR_PAGE_TIME: active.page_time if active else None,
            ATTR_PICTOGRAM: active.pictogram if active else None,
            ATTR_JUSTIFY: active.justify.value if active else None,
            ATTR_EXPIRES: iso_time(active.expires_at) if active else None,
            ATTR_SET_AT: iso_time(active.set_at) if active else None,
            ATTR_USER_ID: active.user_id if active else None,
            ATTR_CENTRE: active.centre if active else None,
            ATTR_QUEUED: [
                {"message_id": m.id, "priority": m.priority.name, "expires": iso_time(m.expires_at)}
                for m in self._queue if m is not active
            ],
        })
        return attrs

    # ---- lifecycle

    async def async_added_to_hub(self) -> None:
        await self.driver.async_start(self._on_status)
        self._added = True

    async def async_will_remove_from_hub(self) -> None:
        self._removed = True
        self._track(TemplateDeps())
        for name in ("_unsub_expiry", "_unsub_retry"):
            remover = getattr(self, name)
            if remover is not None:
                remover()
                setattr(self, name, None)
        await self.driver.async_stop()

    def stored_queue(self) -> list[tuple[PanelMessage, MessageTemplate | None]]:
        """Every queued message with its template (if templated), highest priority first: what is saved."""
        return [(m, self._templates.get(m.id)) for m in self._queue]

    async def async_restore(self, stored: Iterable[tuple[PanelMessage, MessageTemplate | None]]) -> int:
        """Queue messages saved before a restart and show the highest; returns how many were taken.

        A message that no longer fits the sign (its size changed) is dropped with a warning.
        """
        taken = 0
        for message, template in stored:
            try:
                self.capabilities.validate(message.pages, message.pictogram)
            except ServiceValidationError as err:
                _LOGGER.warning("Panel %s: stored message %s no longer fits, dropped: %s", self.panel_id,
                                message.id, err)
                continue
            self._queue.put(message)
            if template is not None:
                self._templates[message.id] = template
            taken += 1
        if taken:
            _LOGGER.info("Panel %s: %d message(s) restored", self.panel_id, taken)
            await self._async_refresh(Context(parent_id=self._queue.active.context_id) if self._queue.active else None)
        return taken

    # ---- commands (called by the services)

    async def async_display(self, message: PanelMessage, template: MessageTemplate | None = None,
                            context: Context | None = None) -> None:
        """Queue a message (replacing the one of its priority) and show whatever now ranks highest."""
        self.capabilities.validate(message.pages, message.pictogram)
        replaced = self._queue.put(message)
        if replaced is not None:
            self._templates.pop(replaced.id, None)
        if template is not None and template.has_templates:
            self._templates[message.id] = template
        _LOGGER.info("Panel %s: message %s at priority %s set from centre %s", self.panel_id,
                     message.id, message.priority.name, message.centre)
        _LOGGER.debug("Panel %s: message %s set by user %s", self.panel_id, message.id, message.user_id)
        await self._async_refresh(context)

    async def async_clear(self, priorities: Sequence[Priority] | None = None, message_id: str | None = None,
                          context: Context | None = None) -> list[PanelMessage]:
        """Remove messages of some priorities (all when None) or one by id; returns what was removed."""
        removed = self._queue.remove(priorities, message_id)
        for message in removed:
            self._templates.pop(message.id, None)
        if removed:
            _LOGGER.info("Panel %s: cleared %s", self.panel_id,
                         ", ".join(f"{m.id} ({m.priority.name})" for m in removed))
        await self._async_refresh(context)
        return removed

    # ---- the refresh cycle

    async def _async_refresh(self, context: Context | None) -> None:
        """Expire, re-render, reschedule, send what ranks highest, write state."""
        if self._removed:
            return
        for message in self._queue.expire(self.hub.clock.time()):
            self._templates.pop(message.id, None)
            _LOGGER.info("Panel %s: message %s (%s) expired", self.panel_id, message.id,
                         message.priority.name)
        self._rerender_active()
        self._schedule_expiry()
        if self.on_queue_change is not None:
            self.on_queue_change()
        await self._async_push()
        if self._removed or not self._added:
            return
        if context is not None:
            self.async_set_context(context)
        self.async_write_state()

    def _rerender_active(self) -> None:
        active = self._queue.active
        template = self._templates.get(active.id) if active is not None else None
        if active is None or template is None:
            self._track(TemplateDeps())
            return
        try:
            pages, deps = template.render()
            self.capabilities.validate(pages, active.pictogram)
        except ServiceValidationError as err:
            if self._render_failed != active.id:
                _LOGGER.warning("Panel %s: message %s keeps its previous text: %s", self.panel_id,
                                active.id, err)
                self._render_failed = active.id
            return
        self._render_failed = None
        if pages != active.pages:
            self._queue.replace(dataclasses.replace(active, pages=pages))
        self._track(deps)

    def _track(self, deps: TemplateDeps) -> None:
        """Follow what the shown message's templates read (entities, domains or every state)."""
        if deps == self._tracked:
            return
        while self._unsub_track:
            self._unsub_track.pop()()
        self._tracked = deps
        if deps.entities:
            self._unsub_track.append(
                async_track_state_change_event(self.hub, deps.entities, self._on_tracked_change)
            )
        if deps.domains or deps.all_states:
            own_id = self.entity_id

            def _wanted(data: Mapping[str, Any]) -> bool:
                entity_id: str = data["entity_id"]
                if entity_id == own_id:
                    return False
                return deps.all_states or entity_id.partition(".")[0] in deps.domains

            self._unsub_track.append(
                self.hub.bus.async_listen(EVENT_STATE_CHANGED, self._on_tracked_change, _wanted)
            )

    @callback
    def _on_tracked_change(self, event: Event) -> None:
        self.hub.async_create_task(self._async_refresh(event.context), f"panel {self.panel_id} re-render")

    def _schedule_expiry(self) -> None:
        if self._unsub_expiry is not None:
            self._unsub_expiry()
            self._unsub_expiry = None
        when = self._queue.next_expiry()
        if when is not None:
            self._unsub_expiry = async_track_point_in_time(self.hub, self._on_expiry, when)

    @callback
    def _on_expiry(self, _now: datetime) -> None:
        self._unsub_expiry = None
        due = [m for m in self._queue if m.expired(self.hub.clock.time())]
        # the state write that follows was caused by the message that expired
        context = Context(parent_id=due[0].context_id) if due else None
        self.hub.async_create_task(self._async_refresh(context), f"panel {self.panel_id} expiry")

    async def _async_push(self) -> None:
        """Send the message that ranks highest (or blank) unless the sign already shows it."""
        async with self._lock:
            target = self._queue.active
            if self._sent_ok and target is self._sent:
                return
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self.driver.async_show(target)
            except TimeoutError:
                self._send_failed(DeviceUnavailable(
                    f"panel {self.panel_id} did not take the message within {SEND_TIMEOUT:g} s"
                ))
                return
            except DeviceUnavailable as err:
                self._send_failed(err)
                return
            self._sent, self._sent_ok = target, True
            if not self._link_ok:
                _LOGGER.info("Panel %s: reachable again", self.panel_id)
                self._link_ok = True
            if self._unsub_retry is not None:
                self._unsub_retry()
                self._unsub_retry = None

    def _send_failed(self, err: DeviceUnavailable) -> None:
        self._sent_ok = False
        if self._link_ok:
            _LOGGER.warning("Panel %s: %s; retrying every %.0f s", self.panel_id, err, RETRY_INTERVAL)
        self._link_ok = False
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        if self._unsub_retry is None and not self._removed:
            self._unsub_retry = async_call_later(self.hub, RETRY_INTERVAL, self._on_retry)

    @callback
    def _on_retry(self, _now: datetime) -> None:
        self._unsub_retry = None
        self.hub.async_create_task(self._async_refresh(None), f"panel {self.panel_id} retry")

    # ---- status reports from the driver

    @callback
    def _on_status(self, update: PanelStatusUpdate) -> None:
        if update.status is not None:
            self._device_status = update.status
        if update.pixel_errors is not None:
            self._pixel_errors = max(0, update.pixel_errors)
        if update.brightness is not None:
            self._brightness = update.brightness
        if update.status == STATUS_WORKING and not self._sent_ok and self._added and not self._removed:
            # the sign is back: resend now rather than at the next retry
            self.hub.async_create_task(self._async_refresh(None), f"panel {self.panel_id} resend")
        if self._added and not self._removed:
            self.async_write_state()
