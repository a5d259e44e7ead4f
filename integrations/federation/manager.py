"""The FederationManager: one centre's link to its peers (link, outbox, receiver, mirror and requests)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from hub.const import EVENT_HUB_STOP
from hub.core import CALLBACK_TYPE, Event, Hub, HubKey, callback
from hub.exceptions import HubError
from hub.helpers.entity_platform import async_add_entities
from hub.helpers.event import async_track_time_interval
from hub.outbox import MessageState, Outbox, RetryPolicy, async_get_outbox
from integrations.alarm.manager import get_manager as get_alarm_manager

from .const import (
    CONF_ACTUATION_TIMEOUT,
    CONF_BROKER,
    CONF_CLIENT_ID,
    CONF_DEDUP_WINDOW,
    CONF_HEARTBEAT_INTERVAL,
    CONF_KEEPALIVE,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PEER_TIMEOUT,
    CONF_PEERS,
    CONF_PORT,
    CONF_RESEND_AFTER,
    CONF_SITE,
    CONF_TLS,
    CONF_TOPIC_PREFIX,
    CONF_USERNAME,
    DOMAIN,
    EVENT_GAP,
    EVENT_PEER_STATUS,
    MAX_MISSING_TRACKED,
    OUTBOX_DESTINATION,
    OUTBOX_KIND,
    RESEND_BATCH,
    SNAPSHOT_MIN_INTERVAL,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    TOPIC_HEARTBEAT,
    TOPIC_STATUS,
    TYPE_RESEND_REQUEST,
    TYPE_RESPONSE,
    TYPE_SNAPSHOT_REQUEST,
)
from .envelope import Envelope, directed_topic
from .inbound import Receiver
from .incidents import IncidentSharing
from .link import FederationLink, LinkConfig
from .outbound import Publisher
from .peers import Peer, PeerStatusEntity
from .policy import ActuationPolicy, SharingPolicy
from .remote import RemoteMirror
from .requests import Requests
from .store import LoadedState, Outgoing, ensure_stream, load_all, purge, resend

if TYPE_CHECKING:
    from integrations.alarm.manager import AlarmManager
    from integrations.alarm.model import Alarm

__all__ = ["DATA_FEDERATION", "FederationManager", "get_federation"]

_LOGGER = logging.getLogger(__name__)

DATA_FEDERATION: HubKey[FederationManager] = HubKey(DOMAIN)
_PURGE_EVERY = 3600.0
_KEEP_REQUESTS = 30 * 86400.0
# Never give up on a federation message: the broker comes back, and dropping one breaks exactly-once.
_RETRY = RetryPolicy(max_attempts=1_000_000_000, backoff_base=1.0, backoff_cap=30.0, min_delay=0.2)


@callback
def get_federation(hub: Hub) -> FederationManager | None:
    """The running federation, or None."""
    return hub.data.get(DATA_FEDERATION)


class FederationManager:
    """This centre in the federation: what it shares, what it takes in, whom it hears."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.site = hub.config.site if hub.config is not None else "hacho"
        self.prefix: str = config[CONF_TOPIC_PREFIX]
        self.heartbeat_interval = float(config[CONF_HEARTBEAT_INTERVAL])
        self.peer_timeout = float(config[CONF_PEER_TIMEOUT])
        self.dedup_window = float(config[CONF_DEDUP_WINDOW])
        self.resend_after = float(config[CONF_RESEND_AFTER])
        self.actuation_timeout = float(config[CONF_ACTUATION_TIMEOUT])
        self.sharing = SharingPolicy(config)
        self.actuation = ActuationPolicy(config)
        self.peers: dict[str, Peer] = {p[CONF_SITE]: Peer(p[CONF_SITE], p[CONF_NAME]) for p in config[CONF_PEERS]
                                       if p[CONF_SITE] != self.site}
        self.epoch: str | None = None
        self.remote = RemoteMirror(hub)
        self.publisher = Publisher(self)
        self.receiver = Receiver(self)
        self.requests = Requests(self)
        self.incidents = IncidentSharing(self)
        self.link = FederationLink(hub, self._link_config(), self._subscriptions(), self.receiver.on_message,
                                   self._online_payload)
        self._outbox: Outbox | None = None
        self._removers: list[CALLBACK_TYPE] = []
        self._last_purge = 0.0
        self._tick_running = False
        self._unloaded = False

    def _link_config(self) -> LinkConfig:
        config = self.config
        return LinkConfig(
            host=config[CONF_BROKER], port=config[CONF_PORT],
            client_id=config.get(CONF_CLIENT_ID) or f"hacho-federation-{self.site}",
            keepalive=int(config[CONF_KEEPALIVE]), status_topic=self._own_topic(TOPIC_STATUS),
            offline_payload=orjson.dumps({"site": self.site, "state": STATUS_OFFLINE}).decode(),
            username=config.get(CONF_USERNAME), password=config.get(CONF_PASSWORD), tls=config.get(CONF_TLS),
        )

    def _subscriptions(self) -> list[str]:
        return [f"{self.prefix}/{site}/#" for site in sorted(self.peers)]

    def _own_topic(self, channel: str) -> str:
        return f"{self.prefix}/{self.site}/{channel}"

    def _online_payload(self) -> str:
        return orjson.dumps({"site": self.site, "state": STATUS_ONLINE, "ts": self.hub.clock.time(),
                             "epoch": self.epoch, "seq": self.publisher.published_seq}).decode()

    @property
    def outbox(self) -> Outbox:
        """The hub's outbox (HubError before setup)."""
        if self._outbox is None:
            raise HubError("federation is not set up")
        return self._outbox

    # ---- life cycle

    async def async_setup(self) -> None:
        """Load what we kept, register the deliverer, add the peer entities, connect."""
        if self.hub.config is None or self.hub.config.site == "hacho":
            _LOGGER.warning("Federation: this hub's site is %r; set `hub: site:` to tell the centres apart", self.site)
        self._outbox = async_get_outbox(self.hub)  # HubError without the recorder
        self.epoch = await self._outbox.async_db_job(ensure_stream)
        loaded: LoadedState = await self._outbox.async_db_job(load_all)
        for site, stream in loaded.peers.items():
            if site in self.peers:
                self.peers[site].stream = stream
        for peer in self.peers.values():
            # a peer whose stream we never heard (new to us, or our database is new): ask for what it shares
            peer.snapshot_wanted = peer.stream.epoch is None
        counts = await self._outbox.async_counts(OUTBOX_KIND)
        pending = counts.get(OUTBOX_DESTINATION, {}).get(MessageState.PENDING.value, 0)
        self.publisher.published_seq = max(0, loaded.last_seq - pending)
        self.remote.load((s for s in loaded.states if s["origin_site"] in self.peers), loaded.alarms)
        self.incidents.load(loaded.incidents)
        self._removers.append(self._outbox.async_register(OUTBOX_KIND, self.publisher.async_deliver, policy=_RETRY,
                                                          ordered=True))
        entities = []
        for peer in self.peers.values():
            peer.entity = PeerStatusEntity(peer, self._peer_extra)
            entities.append(peer.entity)
        await async_add_entities(self.hub, DOMAIN, entities)
        self.publisher.async_start()
        self._removers.append(self.incidents.async_start())
        self._removers.append(self.link.async_listen_connection(self._on_link))
        self._removers.append(async_track_time_interval(self.hub, self._on_tick, self.heartbeat_interval))
        self.link.async_start()

        async def _async_hub_stop(_event: Event) -> None:
            await self.async_unload()

        self._removers.append(self.hub.bus.async_listen_once(EVENT_HUB_STOP, _async_hub_stop))
        _LOGGER.info("Federation: %s with peers %s on %s:%s", self.site, ", ".join(self.peers) or "none",
                     self.config[CONF_BROKER], self.config[CONF_PORT])

    async def async_unload(self) -> None:
        """Stop sharing and listening, store what is queued, say goodbye; peers' entities leave."""
        if self._unloaded:
            return
        self._unloaded = True
        self.publisher.async_stop_listening()
        try:
            await self.publisher.async_flush()
        except HubError as err:
            _LOGGER.warning("Federation: outgoing messages not stored at unload: %s", err)
        await self.receiver.async_stop()
        while self._removers:
            self._removers.pop()()
        await self.link.async_stop()
        self.remote.async_remove_all()

    # ---- peers

    def _peer_extra(self, site: str) -> dict[str, Any]:
        return {"remote_entities": len(self.remote.entity_ids(site)),
                "open_alarms": sum(1 for a in self.remote.alarms.values() if a.get("origin_site") == site)}

    @callback
    def on_peer_heard(self, peer: Peer, now: float) -> None:
        """A message from `peer` arrived: it is alive."""
        peer.last_heard_ts = now
        if not peer.connected:
            if peer.status == STATUS_OFFLINE:
                peer.status = STATUS_ONLINE  # its goodbye is older than this message
            self._evaluate(peer)

    @callback
    def on_peer_malformed(self, peer: Peer) -> None:
        """Count a message from `peer` that could not be used (shown on its entity)."""
        peer.malformed += 1
        if peer.entity is not None:
            peer.entity.async_update_from_peer(self.hub)

    @callback
    def on_peer_status(self, peer: Peer, channel: str, status: Mapping[str, Any], *, retained: bool) -> None:
        """A peer's retained status (birth or last will) or heartbeat."""
        now = self.hub.clock.time()
        state = status.get("state", STATUS_ONLINE if channel == TOPIC_HEARTBEAT else None)
        if state == STATUS_OFFLINE:
            peer.status = STATUS_OFFLINE
        elif state == STATUS_ONLINE:
            peer.status = STATUS_ONLINE
            peer.last_heard_ts = now
            # birth and heartbeats say how far the peer's stream has been published: what we lack of it is missing
            epoch, seq = status.get("epoch"), status.get("seq")
            if isinstance(epoch, str) and epoch and isinstance(seq, int) and seq >= 0:
                peer.stream.observe_high(epoch, seq, now, MAX_MISSING_TRACKED)
        self._evaluate(peer)

    @callback
    def _on_link(self, _connected: bool) -> None:
        for peer in self.peers.values():
            self._evaluate(peer)

    @callback
    def _evaluate(self, peer: Peer) -> None:
        if peer.evaluate(self.link.connected, self.hub.clock.time(), self.peer_timeout):
            if peer.connected:
                _LOGGER.info("Federation: %s is connected", peer.site)
                if peer.snapshot_wanted:
                    peer.snapshot_wanted = False
                    self.request_snapshot(peer.site)
            else:
                _LOGGER.warning("Federation: %s is disconnected (its entities are unavailable)", peer.site)
            self.remote.set_available(peer.site, peer.connected)
            self.hub.bus.async_fire(EVENT_PEER_STATUS, {"site": peer.site, "name": peer.name,
                                                        "connected": peer.connected})
        if peer.entity is not None:
            peer.entity.async_update_from_peer(self.hub)

    # ---- the periodic tick: heartbeat, silence, gaps, expiry, purge

    @callback
    def _on_tick(self, _now: Any) -> None:
        now = self.hub.clock.time()
        for peer in self.peers.values():
            self._evaluate(peer)
            self._ask_again(peer, now)
        if self.link.connected:
            self.hub.async_create_task(self._async_heartbeat(), "federation heartbeat")
        if not self._tick_running:
            self._tick_running = True
            self.hub.async_create_task(self._async_tick_db(now), "federation tick")

    async def _async_heartbeat(self) -> None:
        payload = orjson.dumps({"site": self.site, "state": STATUS_ONLINE, "ts": self.hub.clock.time(),
                                "epoch": self.epoch, "seq": self.publisher.published_seq}).decode()
        try:
            await self.link.async_publish(self._own_topic(TOPIC_HEARTBEAT), payload, qos=0)
        except HubError as err:
            _LOGGER.debug("Federation: heartbeat not sent: %s", err)

    async def _async_tick_db(self, now: float) -> None:
        try:
            await self.requests.async_expire()
            if now - self._last_purge >= _PURGE_EVERY:
                self._last_purge = now
                sent, acts = await self.outbox.async_db_job(partial(
                    purge, sent_before=now - self.dedup_window, actuations_before=now - _KEEP_REQUESTS))
                if sent or acts:
                    _LOGGER.debug("Federation: purged %d kept envelopes and %d old requests", sent, acts)
        except HubError as err:
            _LOGGER.debug("Federation: periodic work skipped: %s", err)
        finally:
            self._tick_running = False

    def _ask_again(self, peer: Peer, now: float) -> None:
        """Ask a peer for the sequence numbers we have been missing for a while."""
        missing = peer.stream.missing
        for seq in [s for s in peer.resend_asked if s not in missing]:
            del peer.resend_asked[seq]
        if not peer.connected or not missing or peer.stream.epoch is None:
            return
        wait = self.resend_after
        due = sorted(seq for seq, noticed in missing.items()
                     if now - noticed >= wait and now - peer.resend_asked.get(seq, 0.0) >= wait)
        if not due:
            return
        due = due[:RESEND_BATCH]
        for seq in due:
            peer.resend_asked[seq] = now
        _LOGGER.warning("Federation: %d messages from %s are missing (first %s); asking again", len(due), peer.site,
                        due[0])
        self.publisher.enqueue(Outgoing(TYPE_RESEND_REQUEST,
                                        directed_topic(self.prefix, self.site, peer.site, TYPE_RESEND_REQUEST),
                                        {"epoch": peer.stream.epoch, "seqs": due}, to=peer.site))
        self.hub.bus.async_fire(EVENT_GAP, {"site": peer.site, "missing": len(missing), "asked": len(due)})

    @callback
    def on_resend_request(self, envelope: Envelope) -> None:
        """A peer missed some of ours: put them in the outbox again (and say which are gone)."""
        seqs = [s for s in envelope.payload.get("seqs", []) if isinstance(s, int)][:RESEND_BATCH]
        epoch = envelope.payload.get("epoch")
        if not seqs or not isinstance(epoch, str):
            return
        self.hub.async_create_task(self._async_resend(envelope.origin, epoch, seqs), "federation resend")

    async def async_resend(self, seqs: list[int]) -> list[int]:
        """Publish some of our kept envelopes again (peers drop the ones they have); returns those resent."""
        if self.epoch is None:
            return []
        resent, _gone = await self.outbox.async_db_job(partial(resend, epoch=self.epoch, seqs=seqs,
                                                               now=self.hub.clock.time()))
        self.outbox.wake()
        return resent

    async def _async_resend(self, peer: str, epoch: str, seqs: list[int]) -> None:
        now = self.hub.clock.time()
        resent, gone = await self.outbox.async_db_job(partial(resend, epoch=epoch, seqs=seqs, now=now))
        self.outbox.wake()
        _LOGGER.info("Federation: %s asked for %d messages again; %d resent", peer, len(seqs), len(resent))
        if gone:
            self.publisher.enqueue(Outgoing(TYPE_RESPONSE, directed_topic(self.prefix, self.site, peer, TYPE_RESPONSE),
                                            {"request_type": "resend", "epoch": epoch, "unavailable": gone}, to=peer))

    # ---- snapshots for a centre that joins late

    @callback
    def request_snapshot(self, site: str) -> None:
        """Ask a peer to send us every state and alarm it shares now (we are new to it, or want to heal)."""
        _LOGGER.info("Federation: asking %s for a snapshot of what it shares", site)
        self.publisher.enqueue(Outgoing(TYPE_SNAPSHOT_REQUEST,
                                        directed_topic(self.prefix, self.site, site, TYPE_SNAPSHOT_REQUEST), {},
                                        to=site))

    @callback
    def on_snapshot_request(self, envelope: Envelope) -> None:
        """A peer asks for what we share: send it our shared states and active shared alarms."""
        peer = self.peers.get(envelope.origin)
        if peer is None:
            return
        now = self.hub.clock.time()
        if now - peer.snapshot_sent_ts < SNAPSHOT_MIN_INTERVAL:
            _LOGGER.debug("Federation: %s asked for another snapshot within %.0f s; ignored", peer.site,
                          SNAPSHOT_MIN_INTERVAL)
            return
        peer.snapshot_sent_ts = now
        items = self.publisher.snapshot(peer.site)
        for item in items:
            self.publisher.enqueue(item)
        _LOGGER.info("Federation: sending %s a snapshot of %d states and alarms", peer.site, len(items))
        self.hub.async_create_task(self.incidents.async_snapshot(peer.site), "federation incident snapshot")

    @callback
    def on_resend_answer(self, envelope: Envelope) -> None:
        """The peer no longer has some messages we missed: they are lost; stop asking."""
        peer = self.peers.get(envelope.origin)
        gone = [s for s in envelope.payload.get("unavailable", []) if isinstance(s, int)]
        if peer is None or envelope.payload.get("epoch") != peer.stream.epoch or not gone:
            return
        for seq in gone:
            peer.stream.missing.pop(seq, None)
            peer.resend_asked.pop(seq, None)
        peer.stream.version += 1
        _LOGGER.error("Federation: %d messages from %s are lost (it no longer has them)", len(gone), peer.site)
        self.hub.bus.async_fire(EVENT_GAP, {"site": peer.site, "missing": len(peer.stream.missing), "lost": gone})

    # ---- alarms of this centre

    def alarm_manager(self) -> AlarmManager | None:
        """The alarm integration's manager, when it runs here."""
        return get_alarm_manager(self.hub)

    def local_alarm(self, alarm_id: str) -> Alarm | None:
        """One of our active alarms."""
        manager = self.alarm_manager()
        return manager.get(alarm_id) if manager is not None else None

    # ---- status

    def status(self) -> dict[str, Any]:
        """JSON-able: the link, the peers, the peers' alarms (REST)."""
        return {
            "site": self.site,
            "link": {"connected": self.link.connected, "broker": f"{self.config[CONF_BROKER]}:{self.config[CONF_PORT]}",
                     "connects": self.link.connects},
            "epoch": self.epoch,
            "published_seq": self.publisher.published_seq,
            "received": self.receiver.received,
            "duplicates": self.receiver.duplicates,
            "peers": [peer.as_dict(self._peer_extra(site)) for site, peer in self.peers.items()],
            "remote_alarms": self.remote.open_alarms(),
        }
