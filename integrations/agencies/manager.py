"""The AgencyManager: notify and forward through the outbox, status events, endpoint disable/enable, entities."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypedDict

from aiohttp import web

from hub.core import CALLBACK_TYPE, Context, Event, Hub, HubKey, callback
from hub.exceptions import HubError, ServiceValidationError
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.storage import Store
from hub.outbox import (
    DeliveryReport,
    MessageState,
    Outbox,
    OutboxMessage,
    Outcome,
    RetryPolicy,
    async_get_outbox,
)

from .config import AgenciesConfig, AgencyConfig
from .const import (
    DOMAIN,
    EVENT_DELIVERY_DEAD,
    EVENT_DELIVERY_FAILED,
    EVENT_DELIVERY_SUCCEEDED,
    EVENT_ENDPOINT_DISABLED,
    EVENT_ENDPOINT_ENABLED,
    OUTBOX_KIND,
    STORAGE_KEY,
    STORAGE_VERSION,
    MsgType,
)
from .delivery import AgencyDeliverer
from .entity import AgencyEntity
from .messages import AlertBuilder, AlertContent, alert_messages, content_from_event

__all__ = ["DATA_MANAGER", "AgencyManager", "NotifyResult"]

_LOGGER = logging.getLogger(__name__)


class NotifyResult(TypedDict):
    """What agency.notify answers."""

    identifier: str
    sent: str
    sender: str
    messages: list[dict[str, str]]


class _Disabled(TypedDict):
    reason: str
    since: float
    status: int | None


class InboundHandlerLike(Protocol):
    """What the webhook view calls (integrations.agencies.inbound.InboundHandler)."""

    async def async_handle(self, request: web.Request, webhook_id: str) -> web.Response: ...


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


class AgencyManager:
    """Everything the integration runs, so that unload is one call."""

    def __init__(self, hub: Hub, conf: AgenciesConfig) -> None:
        self.hub = hub
        self.conf = conf
        self.agencies: dict[str, AgencyConfig] = {agency.id: agency for agency in conf.agencies}
        self.webhooks: dict[str, AgencyConfig] = {
            agency.inbound.webhook_id: agency for agency in conf.agencies if agency.inbound is not None
        }
        self.builder = AlertBuilder(hub, conf)
        self.deliverer = AgencyDeliverer(hub, self.agencies.get)
        self.entities: dict[str, AgencyEntity] = {agency.id: AgencyEntity(agency) for agency in conf.agencies}
        self.outbox: Outbox | None = None
        self._store: Store[dict[str, Any]] = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._disabled: dict[str, _Disabled] = {}
        self.removers: list[CALLBACK_TYPE] = []  # called on unload
        self._refresh_task: asyncio.Task[None] | None = None
        self._refresh_again = False
        self.inbound: InboundHandlerLike | None = None  # set by setup when agencies push to us

    # ---- life cycle

    async def async_setup(self) -> None:
        """Load the disabled endpoints, register the deliverer, add the entities, listen for events."""
        self.outbox = async_get_outbox(self.hub)  # HubError without the recorder
        stored = await self._store.async_load() or {}
        self._disabled = {
            agency_id: info for agency_id, info in dict(stored.get("disabled", {})).items()
            if agency_id in self.agencies
        }
        for agency in self.agencies.values():
            entity = self.entities[agency.id]
            if agency.id in self._disabled:
                entity.disabled_reason = self._disabled[agency.id]["reason"]
            if entity.disabled_reason is not None:
                self.outbox.pause(OUTBOX_KIND, agency.id)
        self.removers.append(self.outbox.async_register(
            OUTBOX_KIND, self.deliverer.async_deliver, policy=self._policy, on_report=self._on_report,
        ))
        await async_add_entities(self.hub, DOMAIN, list(self.entities.values()))
        for event_type in sorted({rule.event_type for agency in self.agencies.values() if agency.enabled
                                  for rule in agency.events}):
            self.removers.append(self.hub.bus.async_listen(event_type, self._on_event))
        self._schedule_refresh()

    async def async_unload(self) -> None:
        """Stop delivering (deliveries in progress go back to the outbox), close the HTTP session."""
        while self.removers:
            self.removers.pop()()
        if self._refresh_task is not None:
            self._refresh_task.cancel()
        if self.outbox is not None:
            for agency_id in self.agencies:
                self.outbox.resume(OUTBOX_KIND, agency_id)  # a new configuration decides afresh
        await self.deliverer.async_close()

    def _policy(self, destination: str) -> RetryPolicy:
        agency = self.agencies.get(destination)
        return agency.policy if agency is not None else RetryPolicy()

    def require_outbox(self) -> Outbox:
        """The outbox (HubError before setup)."""
        if self.outbox is None:
            raise HubError("The agencies integration is not set up")
        return self.outbox

    # ---- sending

    def _targets(self, agency_ids: Iterable[str]) -> list[AgencyConfig]:
        targets = []
        for agency_id in agency_ids:
            agency = self.agencies.get(agency_id)
            if agency is None:
                known = ", ".join(sorted(self.agencies)) or "none configured"
                raise ServiceValidationError(f"Unknown agency {agency_id!r} (known: {known})")
            if not agency.enabled:
                _LOGGER.info("Not notifying %s: disabled in the configuration", agency_id)
                continue
            targets.append(agency)
        return targets

    async def async_references_for_alarm(self, alarm_id: str) -> tuple[str, ...]:
        """`sender,identifier,sent` of every earlier message we sent about an alarm, oldest first."""
        messages = await self.require_outbox().async_list(kind=OUTBOX_KIND, correlation_id=alarm_id, limit=1000)
        refs: dict[str, None] = {}
        for message in sorted(messages, key=lambda m: m.id):
            meta = message.meta
            if meta.get("identifier") and meta.get("sender") and meta.get("sent"):
                refs[f"{meta['sender']},{meta['identifier']},{meta['sent']}"] = None
        return tuple(refs)

    async def async_notify(self, agency_ids: Iterable[str], content: AlertContent,
                           context: Context | None = None) -> NotifyResult:
        """Build one alert and queue it for each agency in each of its formats (ServiceValidationError if bad)."""
        targets = self._targets(agency_ids)
        if content.msg_type is not MsgType.ALERT and not content.references:
            if content.alarm_id is None:
                raise ServiceValidationError(f"A {content.msg_type.value} needs references or an alarm_id")
            found = await self.async_references_for_alarm(content.alarm_id)
            if not found:
                raise ServiceValidationError(
                    f"No earlier message about alarm {content.alarm_id} to {content.msg_type.value.lower()}")
            content = replace(content, references=found)
        try:
            alert = self.builder.build(content)
            messages = alert_messages(alert, targets, context)
        except ValueError as err:
            raise ServiceValidationError(str(err)) from err
        if messages:
            await self.require_outbox().async_enqueue(messages)
            self._schedule_refresh()
        _LOGGER.info("Queued %s %s for %s", alert.msg_type.value, alert.identifier,
                     ", ".join(agency.id for agency in targets) or "no agency")
        return {
            "identifier": alert.identifier,
            "sent": alert.sent,
            "sender": alert.sender,
            "messages": [{"agency_id": m.destination, "format": str(m.meta["format"]), "message_id": m.id}
                         for m in messages],
        }

    @callback
    def _on_event(self, event: Event) -> None:
        """Forward an event to every agency whose first matching rule says so."""
        for agency in self.agencies.values():
            if not agency.enabled:
                continue
            rule = next((r for r in agency.events if r.event_type == event.event_type and r.matches(event)), None)
            if rule is None:
                continue
            try:
                alert = self.builder.build(content_from_event(rule, event))
                messages = alert_messages(alert, [agency], event.context, source=f"event:{event.event_type}")
            except ValueError as err:
                _LOGGER.error("Cannot forward %s to %s: %s", event.event_type, agency.id, err)
                continue
            self.hub.async_create_task(self._async_enqueue_forwarded(agency.id, event.event_type, messages),
                                       f"agencies forward {event.event_type}")

    async def _async_enqueue_forwarded(self, agency_id: str, event_type: str, messages: list[Any]) -> None:
        try:
            await self.require_outbox().async_enqueue(messages)
        except HubError as err:
            _LOGGER.error("Cannot queue %s for %s, the database is unavailable: %s", event_type, agency_id, err)
            return
        self._schedule_refresh()

    # ---- reports, disable, enable, replay

    @callback
    def _on_report(self, report: DeliveryReport) -> None:
        message = report.message
        result = report.result
        entity = self.entities.get(message.destination)
        data: dict[str, Any] = {
            "agency_id": message.destination,
            "message_id": message.id,
            "format": message.meta.get("format"),
            "identifier": message.meta.get("identifier"),
            "msg_type": message.meta.get("msg_type"),
            "alarm_id": message.correlation_id,
            "attempt": message.attempts,
            "status_code": result.status,
        }
        context = Context(parent_id=message.meta.get("context_id"))
        if report.delivered:
            self.hub.bus.async_fire(EVENT_DELIVERY_SUCCEEDED, data, context=context)
            if entity is not None:
                entity.failing, entity.last_error, entity.last_status = False, None, result.status
                entity.last_delivered_ts = message.delivered_ts
        else:
            data["error"] = message.last_error
            if report.dead:
                self.hub.bus.async_fire(EVENT_DELIVERY_DEAD, data, context=context)
                _LOGGER.warning("Delivery %s to %s is dead after %d attempts: %s", message.id,
                                message.destination, message.attempts, message.last_error)
            else:
                data["max_attempts"] = report.max_attempts
                paused = result.outcome is Outcome.PAUSE
                data["next_attempt_at"] = None if paused else _iso(message.next_attempt_ts)
                self.hub.bus.async_fire(EVENT_DELIVERY_FAILED, data, context=context)
            if entity is not None:
                entity.failing, entity.last_error, entity.last_status = True, message.last_error, result.status
        if result.outcome is Outcome.PAUSE:
            self.hub.async_create_task(
                self.async_disable(message.destination, message.last_error or "HTTP 410 Gone", result.status),
                "agencies disable")
        elif entity is not None and entity.hub is not None:
            entity.async_write_state()
        self._schedule_refresh()

    async def async_disable(self, agency_id: str, reason: str, status: int | None = None) -> None:
        """Hold an agency's messages (its endpoint said 410 Gone); remembered across restarts."""
        if agency_id not in self.agencies or agency_id in self._disabled:
            return
        self.require_outbox().pause(OUTBOX_KIND, agency_id)
        self._disabled[agency_id] = {"reason": reason, "since": self.hub.clock.time(), "status": status}
        await self._async_save()
        entity = self.entities[agency_id]
        entity.disabled_reason = reason
        if entity.hub is not None:
            entity.async_write_state()
        _LOGGER.warning("Agency %s endpoint disabled: %s; its messages wait for agency.enable", agency_id, reason)
        self.hub.bus.async_fire(EVENT_ENDPOINT_DISABLED, {"agency_id": agency_id, "reason": reason,
                                                          "status_code": status})

    async def async_enable(self, agency_id: str, context: Context | None = None) -> bool:
        """Deliver to an agency disabled by its endpoint again; False when it was not disabled."""
        agency = self.agencies.get(agency_id)
        if agency is None:
            raise ServiceValidationError(f"Unknown agency {agency_id!r}")
        if agency_id not in self._disabled:
            return False
        del self._disabled[agency_id]
        await self._async_save()
        entity = self.entities[agency_id]
        entity.disabled_reason = None if agency.enabled else "disabled in the configuration"
        entity.failing = False
        if entity.hub is not None:
            entity.async_set_context(context or Context())
            entity.async_write_state()
        if agency.enabled:
            self.require_outbox().resume(OUTBOX_KIND, agency_id)
        _LOGGER.info("Agency %s endpoint enabled again", agency_id)
        self.hub.bus.async_fire(EVENT_ENDPOINT_ENABLED, {"agency_id": agency_id}, context=context)
        return True

    async def _async_save(self) -> None:
        await self._store.async_save({"disabled": dict(self._disabled)})

    async def async_replay(self, message_ids: list[str] | None = None,
                           agency_id: str | None = None) -> list[OutboxMessage]:
        """Put dead letters back in line: the given ids, or all of one agency."""
        if agency_id is not None and agency_id not in self.agencies:
            raise ServiceValidationError(f"Unknown agency {agency_id!r}")
        replayed = await self.require_outbox().async_replay(message_ids, kind=OUTBOX_KIND, destination=agency_id)
        self._schedule_refresh()
        return replayed

    async def async_dead_letters(self, agency_id: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        """Dead messages, newest first."""
        return await self.require_outbox().async_list(state=MessageState.DEAD, kind=OUTBOX_KIND,
                                                       destination=agency_id, limit=limit)

    def status(self) -> list[dict[str, Any]]:
        """Every agency with its entity's state and attributes (for the REST API)."""
        result = []
        for agency_id, entity in self.entities.items():
            result.append({"agency_id": agency_id, "name": entity.agency.name, "entity_id": entity.entity_id,
                           "state": entity.state, **entity.extra_state_attributes})
        return result

    # ---- entity counts

    @callback
    def _schedule_refresh(self) -> None:
        if self._refresh_task is not None and not self._refresh_task.done():
            self._refresh_again = True
            return
        self._refresh_task = self.hub.async_create_task(self._async_refresh(), "agencies counts")

    async def _async_refresh(self) -> None:
        self._refresh_again = True
        while self._refresh_again:
            self._refresh_again = False
            try:
                counts: Mapping[str, Mapping[str, int]] = await self.require_outbox().async_counts(OUTBOX_KIND)
            except HubError as err:
                _LOGGER.debug("Agency counts not refreshed: %s", err)
                return
            for agency_id, entity in self.entities.items():
                if entity.hub is not None:
                    entity.async_update_counts(counts.get(agency_id, {}))


DATA_MANAGER: HubKey[AgencyManager] = HubKey(DOMAIN)
