"""What arrives: topic routing, envelope checks, deduplication in the database, then applying, then the PUBACK."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from hub.core import callback
from hub.exceptions import HubError

from .const import (
    INBOUND_BATCH,
    MAX_MISSING_TRACKED,
    TOPIC_HEARTBEAT,
    TOPIC_STATUS,
    TYPE_ACTUATION_REQUEST,
    TYPE_ALARM,
    TYPE_ALARM_REQUEST,
    TYPE_EVENT,
    TYPE_INCIDENT,
    TYPE_RESEND_REQUEST,
    TYPE_RESPONSE,
    TYPE_SNAPSHOT_REQUEST,
    TYPE_STATE,
)
from .envelope import Envelope, EnvelopeError, parse_topic
from .link import LinkMessage
from .peers import parse_status
from .store import Inbound, apply_inbound

if TYPE_CHECKING:
    from .manager import FederationManager

__all__ = ["Receiver"]

_LOGGER = logging.getLogger(__name__)

_DB_RETRY = 2.0


class Receiver:
    """Takes messages from the link; each envelope is recorded (its id remembered, what it changes stored)
    before it is applied and acknowledged, so a repeat is dropped and a crash loses nothing."""

    def __init__(self, manager: FederationManager) -> None:
        self.manager = manager
        self.hub = manager.hub
        self.received = 0
        self.duplicates = 0
        self.applied = 0
        self._queue: deque[tuple[Envelope, Callable[[], None]]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False

    @callback
    def on_message(self, message: LinkMessage) -> None:
        """Route one message from the link (runs in the loop, never raises)."""
        manager = self.manager
        parts = parse_topic(manager.prefix, message.topic)
        peer = manager.peers.get(parts.site) if parts is not None else None
        if parts is None or peer is None:
            message.ack()
            return
        now = self.hub.clock.time()
        if parts.channel in (TOPIC_STATUS, TOPIC_HEARTBEAT):
            status = parse_status(message.payload)
            if status is None:
                manager.on_peer_malformed(peer)
            else:
                manager.on_peer_status(peer, parts.channel, status, retained=message.retain)
            message.ack()
            return
        try:
            envelope = Envelope.decode(message.payload)
        except EnvelopeError as err:
            manager.on_peer_malformed(peer)
            log = _LOGGER.warning if peer.malformed == 1 else _LOGGER.debug
            log("Federation: malformed message from %s on %s: %s", peer.site, message.topic, err)
            message.ack()
            return
        if envelope.origin != peer.site:
            manager.on_peer_malformed(peer)
            _LOGGER.warning("Federation: a message on %s claims to come from %s; dropped", message.topic,
                            envelope.origin)
            message.ack()
            return
        manager.on_peer_heard(peer, now)
        _LOGGER.debug("Federation: %s #%s from %s", envelope.type, envelope.seq, envelope.origin)
        peer.stream.observe(envelope.epoch, envelope.seq, now, MAX_MISSING_TRACKED)
        if manager.site in envelope.hops or (envelope.to is not None and envelope.to != manager.site):
            message.ack()  # it passed through us already, or it is for another centre
            return
        self.received += 1
        self._queue.append((envelope, message.ack))
        if self._worker is None or self._worker.done():
            self._worker = self.hub.async_create_task(self._async_work(), "federation receive")

    async def _async_work(self) -> None:
        manager = self.manager
        singles = 0  # after a batch failed on a bad message: take that many one by one to find it
        while self._queue and not self._stopping:
            batch = [self._queue[i] for i in range(1 if singles else min(INBOUND_BATCH, len(self._queue)))]
            versions = {site: peer.stream.version for site, peer in manager.peers.items() if peer.stream.dirty}
            peers = {site: manager.peers[site].stream.as_row(site) for site in versions}
            try:
                results = await manager.outbox.async_db_job(partial(
                    apply_inbound, envelopes=[envelope for envelope, _ack in batch], now=self.hub.clock.time(),
                    window=manager.dedup_window, actuation_timeout=manager.actuation_timeout, peers=peers))
            except HubError as err:
                _LOGGER.warning("Federation: cannot record received messages (%s); retrying", err)
                if self.hub.is_stopping:
                    return  # not acknowledged: the broker sends them again next time
                await self.hub.clock.sleep(_DB_RETRY)
                continue
            except Exception:  # a message the database job cannot take (bad values from a peer)
                if not singles and len(batch) > 1:
                    singles = len(batch)
                    continue
                envelope, ack = self._queue.popleft()
                singles = max(0, singles - 1)
                _LOGGER.exception("Federation: dropped a %s from %s (%s) that cannot be recorded", envelope.type,
                                  envelope.origin, envelope.id)
                ack()
                continue
            singles = max(0, singles - 1)
            for site, version in versions.items():
                manager.peers[site].stream.saved = version
            for _ in batch:
                self._queue.popleft()
            for result, (_envelope, ack) in zip(results, batch, strict=True):
                if result.fresh:
                    self._apply(result)
                else:
                    self.duplicates += 1
                ack()

    def _apply(self, result: Inbound) -> None:
        envelope = result.envelope
        manager = self.manager
        try:
            if envelope.type == TYPE_EVENT:
                manager.remote.apply_event(envelope)
            elif envelope.type == TYPE_STATE:
                if result.apply:
                    manager.remote.apply_state(envelope)
            elif envelope.type == TYPE_ALARM:
                if result.apply:
                    manager.remote.apply_alarm(envelope)
            elif envelope.type == TYPE_INCIDENT:
                if result.apply:
                    manager.incidents.apply(envelope)
            elif envelope.type == TYPE_ALARM_REQUEST:
                manager.requests.on_alarm_request(envelope)
            elif envelope.type == TYPE_ACTUATION_REQUEST:
                manager.requests.on_actuation_request(envelope, result.record)
            elif envelope.type == TYPE_RESPONSE:
                manager.requests.on_response(envelope, result.record)
            elif envelope.type == TYPE_RESEND_REQUEST:
                manager.on_resend_request(envelope)
            elif envelope.type == TYPE_SNAPSHOT_REQUEST:
                manager.on_snapshot_request(envelope)
            self.applied += 1
        except Exception:
            _LOGGER.exception("Federation: error applying a %s from %s (%s)", envelope.type, envelope.origin,
                              envelope.id)

    async def async_stop(self) -> None:
        """Finish the batch being recorded; what is still queued is not acknowledged (sent again later)."""
        self._stopping = True
        if self._worker is not None and not self._worker.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), 10)
            except TimeoutError:
                self._worker.cancel()
        self._queue.clear()
