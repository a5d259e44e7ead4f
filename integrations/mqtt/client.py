"""The broker connection: aiomqtt with backoff reconnect, resubscribe, and inline dispatch to subscribers.

One `MqttClient` per hub. It connects in a background task and keeps trying while the broker is
down (0.5 s doubling to 30 s, with jitter), so setup never waits for the broker. On every
(re)connect it subscribes to every filter in its registry in one SUBSCRIBE and publishes the
birth message; on disconnect it tells connection listeners (entities turn unavailable).

Received messages never go through a queue or a task: aiomqtt's incoming "queue" is replaced by
one that dispatches on `put_nowait`, and, where paho-mqtt exposes it, paho's `on_message` calls
the registry directly, the socket is read in 256 KiB chunks (paho asks for 1, 1 and n bytes per
packet, a syscall each) and the reader drains every complete packet per wake-up instead of one
(all found by feature detection; aiomqtt's public path is used otherwise). That is what makes
tens of thousands of messages a second possible on one core (see bench/mqtt.py). Those are private
internals: pyproject.toml pins aiomqtt and paho-mqtt to the releases tests/integrations/mqtt/test_fast_path.py
proves the fast path on, so a new release is taken on purpose, with that test passing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import aiomqtt
import paho.mqtt.client as paho

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.exceptions import DeviceUnavailable
from hub.helpers.backoff import Backoff
from hub.helpers.tasks import async_cancel_task, async_wait_event

from .connection import connection_kwargs
from .const import (
    CONF_BIRTH_MESSAGE,
    CONF_BROKER,
    CONF_CLIENT_ID,
    CONF_KEEPALIVE,
    CONF_PASSWORD,
    CONF_PAYLOAD,
    CONF_PORT,
    CONF_QOS,
    CONF_RETAIN,
    CONF_TLS,
    CONF_TOPIC,
    CONF_USERNAME,
    CONF_WILL_MESSAGE,
    DEFAULT_ENCODING,
    RECONNECT_MAX_DELAY,
    RECONNECT_MIN_DELAY,
    STABLE_CONNECTION,
)
from .subscriptions import MessageCallback, ReceiveMessage, Subscription, SubscriptionRegistry

__all__ = ["ConnectionCallback", "MqttClient", "MqttStats", "PublishPayload"]

_LOGGER = logging.getLogger(__name__)

PublishPayload = str | bytes | bytearray | int | float | None
ConnectionCallback = Callable[[bool], None]

# At most this many packets are parsed per socket wake-up, so a flood cannot starve the loop.
_MAX_PACKETS_PER_READ = 1000
_READ_SIZE = 256 * 1024
# SUBSCRIBE packets carry at most this many filters (Mosquitto and others accept far more).
_SUBSCRIBE_BATCH = 200
_FLUSH_STOP_TIMEOUT = 2.0  # seconds an (un)subscribe in flight may take to be answered at stop
_MALFORMED_TOPICS_KEPT = 1000
_UNDECODABLE = "\0undecodable"  # marker: decoding failed once for this message
_PAHO_LOGGER = logging.getLogger(f"{__name__}.paho")


@dataclass(slots=True)
class MqttStats:
    """Counters for diagnostics: what came in, what went out, what was malformed and where."""

    received: int = 0
    published: int = 0
    connects: int = 0
    connect_failures: int = 0
    malformed: int = 0
    malformed_by_topic: Counter[str] = field(default_factory=Counter)


class _DispatchQueue(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt's incoming queue, made a pass-through: `put_nowait` hands the message to the hub."""

    def __init__(self, deliver: Callable[[str, bytes, int, bool], None], maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._deliver = deliver

    def put_nowait(self, item: aiomqtt.Message) -> None:
        payload = item.payload
        if not isinstance(payload, bytes):
            payload = b"" if payload is None else str(payload).encode()
        self._deliver(item.topic.value, payload, item.qos, item.retain)


class _BufferedSocket:
    """paho's socket, read 256 KiB at a time: paho asks for 1, 1 and n bytes per packet, a syscall each."""

    __slots__ = ("_buffer", "_position", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._position = 0

    def recv(self, size: int) -> bytes:
        position = self._position
        buffer = self._buffer
        if position >= len(buffer):
            buffer = self._sock.recv(_READ_SIZE)  # BlockingIOError/SSLWantReadError: paho's "try again"
            if not buffer:
                return buffer  # the peer closed the connection
            self._buffer = buffer
            position = 0
        self._position = position + size
        return buffer[position:position + size]

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return max(0, len(self._buffer) - self._position)

    def pending(self) -> int:
        """Like SSLSocket.pending(), counting what this wrapper holds as well."""
        inner = getattr(self._sock, "pending", None)
        return self.buffered() + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _AioClient(aiomqtt.Client):
    """aiomqtt's Client with paho's callbacks routed straight to the hub (see the module docstring)."""

    def __init__(self, *args: Any, deliver: Callable[[str, bytes, int, bool], None], **kwargs: Any) -> None:
        queue_type = cast("type[asyncio.Queue[aiomqtt.Message]]",
                          lambda maxsize=0: _DispatchQueue(deliver, maxsize))
        super().__init__(*args, queue_type=queue_type, **kwargs)
        self.fast_path = False
        inner = getattr(self, "_client", None)
        if isinstance(inner, paho.Client) and hasattr(inner, "_packet_read") and hasattr(
                inner, "_loop_rc_handle"):

            def on_message(_client: Any, _userdata: Any, message: paho.MQTTMessage) -> None:
                try:
                    topic = message.topic
                except UnicodeDecodeError:
                    _LOGGER.debug("Dropped a message whose topic is not UTF-8: %r", message._topic)
                    return
                deliver(topic, cast(bytes, message.payload), message.qos, bool(message.retain))

            inner.on_message = on_message
            self.fast_path = True
            if not _PAHO_LOGGER.isEnabledFor(logging.DEBUG):
                # paho logs every packet at debug through this logger; at tens of thousands of
                # messages a second the level checks alone cost a few per cent. Errors still surface
                # as aiomqtt exceptions (disconnects), which the connection loop logs.
                inner.disable_logger()

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        super()._on_socket_open(client, userdata, sock)
        if not self.fast_path:
            return
        if isinstance(sock, socket.socket):  # paho calls this before sending CONNECT, from its connect thread
            client._sock = _BufferedSocket(sock)
        packet_read = client._packet_read
        rc_handle = client._loop_rc_handle
        again = paho.MQTT_ERR_AGAIN
        success = paho.MQTT_ERR_SUCCESS
        loop = self._loop

        def read() -> None:
            # Drain every complete packet now: paho's loop_read stops after one, costing a loop
            # iteration and a poll per message.
            if client._sock is None:
                return  # closed since this read was scheduled
            try:
                for _ in range(_MAX_PACKETS_PER_READ):
                    rc = packet_read()
                    if rc == success:
                        continue
                    if rc != again:
                        rc_handle(rc)
                    return
                # The budget is spent; what is left may sit in our buffer, where no poll sees it.
                loop.call_soon(read)
            except Exception as exc:  # a broken socket; aiomqtt treats it as a disconnect
                disconnected = self._disconnected
                if not disconnected.done():
                    disconnected.set_exception(exc)

        # Queued after aiomqtt's own add_reader, so this reader replaces it for the same socket.
        self._loop.call_soon_threadsafe(self._loop.add_reader, sock.fileno(), read)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Take an abandoned publish's outcome, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


class MqttClient:
    """The hub's MQTT connection: subscribe, publish, connection status, malformed-payload accounting."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self._hub = hub
        self._config = config
        self.host: str = config[CONF_BROKER]
        self.port: int = config[CONF_PORT]
        self.stats = MqttStats()
        self._registry = SubscriptionRegistry()
        self._aio: _AioClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._pending_subscribe: dict[str, int] = {}
        self._pending_unsubscribe: set[str] = set()
        self._connection_listeners: list[ConnectionCallback] = []
        self._malformed_listeners: list[CALLBACK_TYPE] = []
        self._connected_event = asyncio.Event()
        # Resolved when the current connection drops: publishes waiting for an acknowledgement fail then.
        self._lost: asyncio.Future[None] | None = None
        self._stopping = False
        self._outage_logged = False
        self.fast_path = False

    def __repr__(self) -> str:
        return f"<MqttClient {self.host}:{self.port} connected={self.connected}>"

    # ---- lifecycle

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        return self._aio is not None

    @property
    def client_id(self) -> str | None:
        """The identifier the broker knows this hub by (None: the library draws one per connection)."""
        return self._config.get(CONF_CLIENT_ID)

    @callback
    def async_start(self) -> None:
        """Start connecting in the background; returns at once (the broker may be down)."""
        if self._task is None:
            self._task = self._hub.async_create_background_task(self._async_run(), "mqtt connection")

    async def async_stop(self) -> None:
        """Say goodbye (the will payload, since a clean disconnect suppresses the broker's will) and close."""
        self._stopping = True
        await self._async_finish_flush()
        aio = self._aio
        will = self._config.get(CONF_WILL_MESSAGE)
        if aio is not None and will:
            try:
                await aio.publish(will[CONF_TOPIC], will[CONF_PAYLOAD], will[CONF_QOS], will[CONF_RETAIN],
                                  timeout=2)
            except aiomqtt.MqttError as err:
                _LOGGER.debug("Could not publish the will message on stop: %s", err)
        await async_cancel_task(self._task)
        self._task = None

    async def async_wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until connected; returns False when `timeout` passes first."""
        return await async_wait_event(self._connected_event, timeout)

    def _make_aio(self) -> _AioClient:
        config = self._config
        will = config.get(CONF_WILL_MESSAGE)
        return _AioClient(
            self.host, self.port,
            identifier=config.get(CONF_CLIENT_ID), keepalive=config[CONF_KEEPALIVE],
            **connection_kwargs(username=config.get(CONF_USERNAME), password=config.get(CONF_PASSWORD),
                                tls=config.get(CONF_TLS)),
            will=aiomqtt.Will(will[CONF_TOPIC], will[CONF_PAYLOAD], will[CONF_QOS], will[CONF_RETAIN])
            if will else None,
            logger=_PAHO_LOGGER,
            deliver=self._deliver,
        )

    async def _async_run(self) -> None:
        backoff = Backoff(initial=RECONNECT_MIN_DELAY, maximum=RECONNECT_MAX_DELAY, jitter=0.1)
        while not self._stopping:
            aio = self._make_aio()
            self.fast_path = aio.fast_path
            try:
                await aio.__aenter__()
            except (aiomqtt.MqttError, OSError, ValueError) as err:
                self.stats.connect_failures += 1
                self._log_outage("cannot connect to MQTT broker %s:%s: %s; retrying in %.1f s", err, backoff.peek())
                await self._hub.clock.sleep(backoff.delay())
                continue
            connected_at = self._hub.clock.monotonic()
            try:
                await self._async_connected(aio)
                # aiomqtt ends the message iteration with MqttError when the connection drops.
                async for _ in aio.messages:
                    pass
            except aiomqtt.MqttError as err:
                self._log_outage("lost the MQTT broker %s:%s: %s; reconnecting in %.1f s", err, backoff.peek())
            except Exception:  # a bug must not end the connection loop for good
                _LOGGER.exception("Unexpected error in the MQTT connection to %s:%s", self.host, self.port)
            finally:
                self._async_disconnected()
                try:
                    await aio.__aexit__(None, None, None)
                except aiomqtt.MqttError as err:
                    _LOGGER.debug("Error while closing the MQTT connection: %s", err)
            if self._hub.clock.monotonic() - connected_at >= STABLE_CONNECTION:
                backoff.reset()  # a stable connection starts afresh; a flapping broker backs off
            delay = backoff.delay()
            if not self._stopping:
                await self._hub.clock.sleep(delay)

    def _log_outage(self, message: str, err: Exception, delay: float) -> None:
        if self._outage_logged:
            _LOGGER.debug(message, self.host, self.port, err, delay)
        else:
            _LOGGER.warning(message + " (further attempts logged at debug)", self.host, self.port, err, delay)
            self._outage_logged = True

    async def _async_connected(self, aio: _AioClient) -> None:
        self._lost = self._hub.loop.create_future()
        self._aio = aio
        self.stats.connects += 1
        if self._outage_logged or self.stats.connects > 1:
            _LOGGER.info("Connected to MQTT broker %s:%s again", self.host, self.port)
        else:
            _LOGGER.info("Connected to MQTT broker %s:%s", self.host, self.port)
        self._outage_logged = False
        self._pending_subscribe.clear()
        self._pending_unsubscribe.clear()
        filters = sorted(self._registry.filters().items())
        for start in range(0, len(filters), _SUBSCRIBE_BATCH):
            await aio.subscribe(filters[start:start + _SUBSCRIBE_BATCH])
        birth = self._config.get(CONF_BIRTH_MESSAGE)
        if birth:
            await aio.publish(birth[CONF_TOPIC], birth[CONF_PAYLOAD], birth[CONF_QOS], birth[CONF_RETAIN])
        self._connected_event.set()
        self._notify_connection(True)

    @callback
    def _async_disconnected(self) -> None:
        if self._aio is None:
            return
        self._aio = None
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self._lost = None
        self._connected_event.clear()
        self._cancel_flush()  # its acknowledgement will never come; the reconnect subscribes to everything
        if not self._hub.is_stopping:  # at shutdown, N entities saying "unavailable" is only noise
            self._notify_connection(False)

    async def _async_finish_flush(self) -> None:
        """Send nothing more, but let an (un)subscribe already sent get its answer: cancelled, it leaves aiomqtt
        an acknowledgement it no longer expects, which it logs as an error."""
        self._pending_subscribe.clear()
        self._pending_unsubscribe.clear()
        task, self._flush_task = self._flush_task, None
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=_FLUSH_STOP_TIMEOUT)
            if not done:
                await async_cancel_task(task)

    def _cancel_flush(self) -> None:
        self._pending_subscribe.clear()
        self._pending_unsubscribe.clear()
        if self._flush_task is not None:
            self._flush_task.cancel()
            self._flush_task = None

    @callback
    def async_subscribe_connection_status(self, listener: ConnectionCallback) -> CALLBACK_TYPE:
        """Call `listener(connected)` when the connection comes up or goes down. Returns the remover."""
        self._connection_listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._connection_listeners:
                self._connection_listeners.remove(listener)

        return remove

    def _notify_connection(self, connected: bool) -> None:
        for listener in list(self._connection_listeners):
            try:
                listener(connected)
            except Exception:
                _LOGGER.exception("Error in MQTT connection listener %s", listener)

    # ---- subscribing

    @callback
    def async_subscribe(self, topic: str, msg_callback: MessageCallback, qos: int = 0,
                        encoding: str | None = DEFAULT_ENCODING) -> CALLBACK_TYPE:
        """Subscribe `msg_callback` to a topic filter; returns the remover.

        A @callback runs inline for each message (no task); a coroutine function runs as a task.
        The payload is decoded with `encoding` (None: bytes). The broker subscription is sent at
        once when connected (and again after every reconnect); retained messages are delivered.
        """
        subscription = Subscription(topic, msg_callback, qos, encoding)
        self._registry.add(subscription)
        # Always (re)send SUBSCRIBE, even for a known filter, so the new subscriber gets retained messages.
        self._queue_subscribe(topic, self._registry.qos(topic) or 0)

        @callback
        def remove() -> None:
            if self._registry.remove(subscription):
                self._pending_subscribe.pop(topic, None)
                self._queue_unsubscribe(topic)

        return remove

    def _queue_subscribe(self, topic: str, qos: int) -> None:
        self._pending_unsubscribe.discard(topic)
        self._pending_subscribe[topic] = qos
        self._schedule_flush()

    def _queue_unsubscribe(self, topic: str) -> None:
        self._pending_unsubscribe.add(topic)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None and self._aio is not None and not self._stopping:
            self._flush_task = self._hub.async_create_task(self._async_flush(), "mqtt subscribe")

    async def _async_flush(self) -> None:
        await asyncio.sleep(0)  # gather the subscriptions made in this loop iteration into one packet
        try:
            while (aio := self._aio) is not None and (self._pending_subscribe or self._pending_unsubscribe):
                subscribe = sorted(self._pending_subscribe.items())
                unsubscribe = sorted(t for t in self._pending_unsubscribe if self._registry.qos(t) is None)
                self._pending_subscribe = {}
                self._pending_unsubscribe = set()
                if unsubscribe:
                    await aio.unsubscribe(unsubscribe)
                for start in range(0, len(subscribe), _SUBSCRIBE_BATCH):
                    await aio.subscribe(subscribe[start:start + _SUBSCRIBE_BATCH])
        except aiomqtt.MqttError as err:
            # The connection is going down; the reconnect subscribes to everything again.
            _LOGGER.debug("MQTT (un)subscribe failed: %s", err)
        finally:
            if self._flush_task is asyncio.current_task():
                self._flush_task = None

    # ---- receiving

    def _deliver(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Hand one message to every matching subscriber; runs in the loop, never raises."""
        self.stats.received += 1
        subscriptions = self._registry.match(topic)
        if not subscriptions:
            return
        now = self._hub.clock.time()
        text: str | None = None
        for sub in subscriptions:
            data: str | bytes
            encoding = sub.encoding
            if encoding is None:
                data = payload
            elif encoding == DEFAULT_ENCODING:
                if text is None:
                    try:
                        text = payload.decode()
                    except UnicodeDecodeError:
                        self.async_report_malformed(topic, "payload is not valid UTF-8")
                        text = _UNDECODABLE
                if text is _UNDECODABLE:
                    continue
                data = text
            else:
                try:
                    data = payload.decode(encoding)
                except (UnicodeDecodeError, LookupError):
                    self.async_report_malformed(topic, f"payload cannot be decoded as {encoding}")
                    continue
            message = ReceiveMessage(topic, data, qos, retain, sub.topic, now)
            if sub.inline:
                try:
                    sub.msg_callback(message)
                except Exception:
                    _LOGGER.exception("Error handling MQTT message on %s in %s", topic, sub.job.name)
            else:
                try:
                    self._hub.async_run_hub_job(sub.job, message)
                except Exception:
                    _LOGGER.exception("Error dispatching MQTT message on %s to %s", topic, sub.job.name)

    # ---- publishing

    async def async_publish(self, topic: str, payload: PublishPayload, qos: int = 0,
                            retain: bool = False) -> None:
        """Publish; QoS 1 and 2 wait for the broker's acknowledgement. Raises DeviceUnavailable.

        A publish still waiting when the connection drops fails at once: aiomqtt would leave it
        waiting for an acknowledgement that cannot come until its timeout (10 s).
        """
        aio, lost = self._aio, self._lost
        if aio is None or lost is None:
            raise DeviceUnavailable(
                f"MQTT broker {self.host}:{self.port} is not connected; cannot publish to {topic}"
            )
        publish = asyncio.ensure_future(aio.publish(topic, payload, qos, retain))
        try:
            await asyncio.wait((publish, lost), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not publish.done():  # the connection dropped, or our caller was cancelled
                publish.cancel()
                publish.add_done_callback(_retrieve)
        if not publish.done() or publish.cancelled():
            raise DeviceUnavailable(
                f"MQTT publish to {topic} on {self.host}:{self.port} failed: the connection was lost before "
                "the broker acknowledged it"
            )
        try:
            publish.result()
        except aiomqtt.MqttError as err:
            raise DeviceUnavailable(f"MQTT publish to {topic} on {self.host}:{self.port} failed: {err}") from err
        self.stats.published += 1

    # ---- malformed payloads

    @callback
    def async_report_malformed(self, topic: str, reason: str, source: str | None = None,
                               detail: str | None = None) -> None:
        """Count a payload that could not be used; the first one per topic is a warning, later ones debug.

        `reason` says what was wrong without quoting the payload; `detail` (which may quote it, and
        payloads can carry plates or names) is logged at debug level only.
        """
        stats = self.stats
        stats.malformed += 1
        by_topic = stats.malformed_by_topic
        first = topic not in by_topic
        if first and len(by_topic) >= _MALFORMED_TOPICS_KEPT:
            by_topic["(other topics)"] += 1
        else:
            by_topic[topic] += 1
        where = f" for {source}" if source else ""
        if first:
            _LOGGER.warning("Malformed MQTT payload on %s%s: %s (further ones on this topic are logged at "
                            "debug and counted)", topic, where, reason)
        if detail is not None:
            _LOGGER.debug("Malformed MQTT payload on %s%s: %s: %s", topic, where, reason, detail)
        elif not first:
            _LOGGER.debug("Malformed MQTT payload on %s%s: %s", topic, where, reason)
        for listener in self._malformed_listeners:
            listener()

    @callback
    def async_listen_malformed(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener()` after every malformed payload (the diagnostic entity). Returns the remover."""
        self._malformed_listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._malformed_listeners:
                self._malformed_listeners.remove(listener)

        return remove

    def malformed_counts(self) -> dict[str, int]:
        """Malformed payloads per topic since start."""
        return dict(self.stats.malformed_by_topic)
