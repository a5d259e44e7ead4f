"""The simulated devices' own MQTT connection (aiomqtt): reconnects, re-announces, never blocks the loop.

The simulator is not the hub: its devices connect to the broker as field devices would, with a
client of their own. Readings go through a bounded queue (`publish_nowait` from callbacks; when
the broker is away the oldest readings are dropped and counted, since the next one replaces them).
Retained announcements (discovery configs, device info, "online") are kept and published again on
every connection; the will marks every simulated device offline if the simulator dies.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from hub.core import Hub, callback
from hub.helpers.backoff import Backoff
from hub.helpers.tasks import async_cancel_task, async_wait_event

from .const import PAYLOAD_OFFLINE, PAYLOAD_ONLINE

__all__ = ["MessageHandler", "SimMqttLink"]

_LOGGER = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]

_QUEUE_SIZE = 5000
_MIN_DELAY = 0.5
_MAX_DELAY = 30.0


@dataclass(frozen=True, slots=True)
class _Outgoing:
    topic: str
    payload: str | bytes
    qos: int
    retain: bool


class SimMqttLink:
    """One aiomqtt connection for all simulated devices."""

    def __init__(self, hub: Hub, host: str, port: int, *, status_topic: str, username: str | None = None,
                 password: str | None = None, client_id: str | None = None) -> None:
        self._hub = hub
        self.host = host
        self.port = port
        self.status_topic = status_topic
        self._username = username
        self._password = password
        self._client_id = client_id or f"hacho-simulator-{uuid.uuid4().hex[:8]}"
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue(_QUEUE_SIZE)
        self._retained: dict[str, tuple[str | bytes, int]] = {}
        self._handlers: list[tuple[str, MessageHandler]] = []
        self._connect_listeners: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._outage_logged = False
        self.published = 0
        self.dropped = 0
        self.received = 0

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        return self._client is not None

    async def async_wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until connected; False when `timeout` passes first."""
        return await async_wait_event(self._connected, timeout)

    # ---- what devices do

    @callback
    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Receive messages matching `topic_filter` (QoS 1) from the next (re)connection on."""
        self._handlers.append((topic_filter, handler))
        client = self._client
        if client is not None:
            self._hub.async_create_task(self._async_subscribe(client, topic_filter), "simulator subscribe")

    @callback
    def add_connect_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every (re)connection (devices report at once, as real ones do)."""
        self._connect_listeners.append(listener)

    @callback
    def announce(self, topic: str, payload: str | bytes, qos: int = 1) -> None:
        """A retained message that is published now and again after every reconnection."""
        self._retained[topic] = (payload, qos)
        self.publish_nowait(topic, payload, qos, retain=True)

    @callback
    def publish_nowait(self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False) -> None:
        """Queue a message; the oldest queued one is dropped (and counted) when the queue is full."""
        if self._client is None and not retain:
            self.dropped += 1  # a device with no network loses its reading; the next one replaces it
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(_Outgoing(topic, payload, qos, retain))

    # ---- lifecycle

    @callback
    def async_start(self) -> None:
        """Connect in the background (the broker may be down: it keeps trying)."""
        if self._task is None:
            self._task = self._hub.async_create_background_task(self._async_run(), "simulator mqtt")

    async def async_stop(self, remove_retained: bool = False) -> None:
        """Mark the devices offline (or wipe every retained message when asked), then disconnect."""
        client = self._client
        if client is not None:
            try:
                async with asyncio.timeout(5):
                    if remove_retained:
                        for topic in [*self._retained, self.status_topic]:
                            await client.publish(topic, b"", 1, retain=True)
                    else:
                        await client.publish(self.status_topic, PAYLOAD_OFFLINE, 1, retain=True)
            except (aiomqtt.MqttError, TimeoutError) as err:
                _LOGGER.debug("Simulator could not say goodbye to the broker: %s", err)
        await async_cancel_task(self._task)
        self._task = None

    async def _async_run(self) -> None:
        backoff = Backoff(initial=_MIN_DELAY, maximum=_MAX_DELAY, jitter=0.1)
        while True:
            client = aiomqtt.Client(
                self.host, self.port, identifier=self._client_id, username=self._username,
                password=self._password,
                will=aiomqtt.Will(self.status_topic, PAYLOAD_OFFLINE, 1, True),
            )
            try:
                async with client:
                    await self._async_connected(client)
                    backoff.reset()
                    await self._async_serve(client)
            except aiomqtt.MqttError as err:
                if not self._outage_logged:
                    _LOGGER.warning("Simulated devices cannot reach the MQTT broker %s:%s: %s; retrying "
                                    "(further attempts at debug)", self.host, self.port, err)
                    self._outage_logged = True
                else:
                    _LOGGER.debug("Simulator MQTT %s:%s: %s", self.host, self.port, err)
            except Exception:  # a bug must not silence the simulated city for good
                _LOGGER.exception("Unexpected error in the simulator's MQTT connection to %s:%s", self.host,
                                  self.port)
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(backoff.delay())

    async def _async_connected(self, client: aiomqtt.Client) -> None:
        for topic_filter, _handler in self._handlers:
            await client.subscribe(topic_filter, qos=1)
        await client.publish(self.status_topic, PAYLOAD_ONLINE, 1, retain=True)
        retained = list(self._retained.items())
        for topic, (payload, qos) in retained:
            await client.publish(topic, payload, qos, retain=True)
        # What was queued while down is either stale readings or announcements just sent again.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._client = client
        self._connected.set()
        _LOGGER.info("Simulated devices connected to MQTT broker %s:%s (%d retained announcements)",
                     self.host, self.port, len(retained))
        self._outage_logged = False
        for listener in self._connect_listeners:
            try:
                listener()
            except Exception:
                _LOGGER.exception("Error in simulator connect listener %s", listener)

    async def _async_subscribe(self, client: aiomqtt.Client, topic_filter: str) -> None:
        try:
            await client.subscribe(topic_filter, qos=1)
        except aiomqtt.MqttError as err:
            _LOGGER.debug("Simulator subscribe to %s failed (resubscribed on reconnect): %s", topic_filter, err)

    async def _async_serve(self, client: aiomqtt.Client) -> None:
        receiver = asyncio.create_task(self._async_receive(client), name="simulator mqtt receive")
        sender = asyncio.create_task(self._async_send(client), name="simulator mqtt send")
        try:
            done, _pending = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiver, sender):
                task.cancel()
            await asyncio.gather(receiver, sender, return_exceptions=True)
        for task in done:
            if not task.cancelled() and (exc := task.exception()) is not None:
                raise exc

    async def _async_send(self, client: aiomqtt.Client) -> None:
        while True:
            item = await self._queue.get()
            await client.publish(item.topic, item.payload, item.qos, item.retain)
            self.published += 1

    async def _async_receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.received += 1
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload or "").encode()
            topic = message.topic.value
            for topic_filter, handler in self._handlers:
                if aiomqtt.Topic(topic).matches(topic_filter):
                    try:
                        handler(topic, data)
                    except Exception:
                        _LOGGER.exception("Error in simulated device handling %s", topic)

    def stats(self) -> dict[str, Any]:
        """Counters for diagnostics and tests."""
        return {"connected": self.connected, "published": self.published, "dropped": self.dropped,
                "received": self.received, "queued": self._queue.qsize()}
