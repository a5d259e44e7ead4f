"""What leaves: bus listeners that pick what the sharing policy allows, staging into the outbox, and its deliverer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.orm import Session

from hub.const import EVENT_STATE_CHANGED, MATCH_ALL
from hub.core import CALLBACK_TYPE, Event, EventOrigin, State, callback
from hub.exceptions import DeviceUnavailable, HubError
from hub.outbox import DeliveryResult, OutboxMessage

from .const import (
    ATTR_ORIGIN_SITE,
    SNAPSHOT_EVENT,
    TOPIC_ALARM,
    TOPIC_EVENT,
    TOPIC_STATE,
    TYPE_ALARM,
    TYPE_EVENT,
    TYPE_STATE,
    WAIT_CONNECTED,
)
from .envelope import Envelope
from .remote import ALARM_EVENT_TYPES
from .store import Outgoing, stage_outgoing

if TYPE_CHECKING:
    from .manager import FederationManager

__all__ = ["Publisher", "jsonable"]

_LOGGER = logging.getLogger(__name__)

_MAX_PENDING = 10_000
_DB_RETRY = 2.0


def _default(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy (taken now, so later changes to live objects do not leak into what was sent)."""
    return orjson.loads(orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS))


def _state_payload(entity_id: str, state: State | None) -> dict[str, Any]:
    if state is None:
        return {"entity_id": entity_id, "state": None}
    return {"entity_id": entity_id, "state": state.state, "attributes": jsonable(dict(state.attributes)),
            "last_changed_ts": state.last_changed_ts, "last_updated_ts": state.last_updated_ts,
            "context": state.context.as_dict()}


class Publisher:
    """Turns local events, state changes and alarm changes into envelopes in the outbox, and publishes them.

    Listeners run inline on the bus and only queue; one writer task numbers and stores the queue
    in a database job (the outbox row, the copy kept for resends and the sequence number in one
    commit). The outbox then relays them one at a time, in order, with QoS 1.
    """

    def __init__(self, manager: FederationManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.published_seq = 0  # highest sequence number the broker acknowledged (announced in heartbeats)
        self.dropped = 0
        self._pending: list[Outgoing] = []
        self._writer: asyncio.Task[None] | None = None
        self._removers: list[CALLBACK_TYPE] = []

    # ---- listening

    @callback
    def async_start(self) -> None:
        """Listen to the bus for what the policy shares."""
        bus = self.hub.bus
        self._removers.append(bus.async_listen(MATCH_ALL, self._on_event))
        if self.manager.sharing.shares_states:
            self._removers.append(bus.async_listen(EVENT_STATE_CHANGED, self._on_state_changed))
        for event_type in ALARM_EVENT_TYPES:
            self._removers.append(bus.async_listen(event_type, self._on_alarm_event))

    @callback
    def async_stop_listening(self) -> None:
        """Remove the bus listeners."""
        while self._removers:
            self._removers.pop()()

    def _topic(self, channel: str, name: str) -> str:
        return f"{self.manager.prefix}/{self.manager.site}/{channel}/{name}"

    @callback
    def _on_event(self, event: Event) -> None:
        if event.origin is not EventOrigin.local:
            return  # never pass on what another centre sent: no loops
        sharing = self.manager.sharing
        if not sharing.event_type_candidate(event.event_type) or not sharing.shares_event(event.event_type,
                                                                                          event.data):
            return
        try:
            data = jsonable(dict(event.data))
        except (TypeError, orjson.JSONEncodeError) as err:
            _LOGGER.warning("Federation: cannot share %s: %s", event.event_type, err)
            return
        self.enqueue(Outgoing(TYPE_EVENT, self._topic(TOPIC_EVENT, event.event_type), {
            "event_type": event.event_type, "data": data, "time_fired_ts": event.time_fired_ts,
            "context": event.context.as_dict(),
        }))

    @callback
    def _on_state_changed(self, event: Event) -> None:
        new: State | None = event.data.get("new_state")
        old: State | None = event.data.get("old_state")
        current = new or old
        if current is None or current.attributes.get(ATTR_ORIGIN_SITE) is not None:
            return  # a peer's entity mirrored here: not ours to share
        entity_id = event.data["entity_id"]
        area = current.attributes.get("area_id")
        if not self.manager.sharing.shares_state(entity_id, area):
            return
        self.enqueue(Outgoing(TYPE_STATE, self._topic(TOPIC_STATE, entity_id), _state_payload(entity_id, new)))

    @callback
    def _on_alarm_event(self, event: Event) -> None:
        if event.origin is not EventOrigin.local:
            return
        alarm_id = event.data.get("alarm_id")
        if not isinstance(alarm_id, str):
            return
        alarm: dict[str, Any] = dict(event.data)
        timeline: dict[str, Any] = {}
        live = self.manager.local_alarm(alarm_id)
        if live is not None:
            alarm = live.as_dict()
            if live.timeline:
                timeline = live.timeline[-1].as_dict()
        if not self.manager.sharing.shares_alarm(alarm):
            return
        self.enqueue(Outgoing(TYPE_ALARM, self._topic(TOPIC_ALARM, alarm_id), {
            "event": event.event_type, "alarm": jsonable(alarm), "timeline": jsonable(timeline),
            "context": event.context.as_dict(),
        }, correlation_id=alarm_id))

    # ---- a snapshot for a peer that joined late

    @callback
    def snapshot(self, to: str) -> list[Outgoing]:
        """Every local entity state and active alarm the policy shares, as messages for one peer.

        Sent on the usual topics, addressed to `to` (other peers count them in our stream and drop
        them). Receivers keep what is newer, so a snapshot never rolls anything back.
        """
        sharing = self.manager.sharing
        items: list[Outgoing] = []
        if sharing.shares_states:
            for state in self.hub.states.async_all():
                if state.attributes.get(ATTR_ORIGIN_SITE) is not None:
                    continue  # a peer's entity mirrored here
                if sharing.shares_state(state.entity_id, state.attributes.get("area_id")):
                    items.append(Outgoing(TYPE_STATE, self._topic(TOPIC_STATE, state.entity_id),
                                          _state_payload(state.entity_id, state), to=to))
        alarms = self.manager.alarm_manager()
        for alarm in alarms.active() if alarms is not None else ():
            data = alarm.as_dict()
            if sharing.shares_alarm(data):
                items.append(Outgoing(TYPE_ALARM, self._topic(TOPIC_ALARM, alarm.id), {
                    "event": SNAPSHOT_EVENT, "alarm": jsonable(data), "timeline": {}, "context": {},
                }, to=to, correlation_id=alarm.id))
        return items

    # ---- staging

    @callback
    def enqueue(self, item: Outgoing) -> None:
        """Queue a message; the writer stores it in the outbox soon (never blocks)."""
        if len(self._pending) >= _MAX_PENDING:
            self.dropped += 1
            if self.dropped == 1:
                _LOGGER.error("Federation: %d messages waiting for the database; dropping new ones", _MAX_PENDING)
            return
        self._pending.append(item)
        if self._writer is None or self._writer.done():
            self._writer = self.hub.async_create_task(self._async_write(), "federation stage")

    async def _async_write(self) -> None:
        while self._pending:
            batch = self._pending[:500]
            try:
                await self.async_send(batch)
            except HubError as err:
                _LOGGER.warning("Federation: cannot store outgoing messages (%s); retrying", err)
                if self.hub.is_stopping:
                    return
                await self.hub.clock.sleep(_DB_RETRY)
                continue
            del self._pending[:len(batch)]
            if self.dropped:
                _LOGGER.warning("Federation: %d outgoing messages were dropped while the database was away",
                                self.dropped)
                self.dropped = 0

    async def async_flush(self) -> None:
        """Wait until everything queued is stored (the outbox sends it later)."""
        if self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def async_send(self, items: Sequence[Outgoing],
                         also: Callable[[Session], Any] | None = None) -> list[Envelope]:
        """Number and store `items` now (and run `also(session)` in the same commit); HubError if the DB is away."""
        site, now = self.manager.site, self.hub.clock.time()
        outbox = self.manager.outbox

        def _job(session: Session) -> list[Envelope]:
            if also is not None:
                also(session)
            return stage_outgoing(session, site, items, now)

        envelopes = await outbox.async_db_job(_job)
        outbox.wake()
        if envelopes:
            self.manager.epoch = envelopes[0].epoch
        return envelopes

    # ---- delivering (the outbox calls this)

    async def async_deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Publish one envelope with QoS 1; retried soon while the broker is away."""
        topic = message.meta.get("topic")
        if not isinstance(topic, str) or not topic:
            return DeliveryResult.dead("outbox row without a topic")
        link = self.manager.link
        if not link.connected and not await link.async_wait_connected(WAIT_CONNECTED):
            return DeliveryResult.retry("federation broker not connected", retry_after=1.0)
        try:
            await link.async_publish(topic, message.payload, qos=1)
        except DeviceUnavailable as err:
            return DeliveryResult.retry(str(err), retry_after=1.0)
        seq = message.meta.get("seq")
        _LOGGER.debug("Federation: published #%s on %s", seq, topic)
        if isinstance(seq, int) and not message.meta.get("resent"):
            self.published_seq = max(self.published_seq, seq)
        return DeliveryResult.delivered()

