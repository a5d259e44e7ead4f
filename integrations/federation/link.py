"""The federation's own MQTT connection: a persistent session, QoS 1 both ways, acknowledged only once stored.

It is a connection of its own rather than the `mqtt` integration's because its needs differ:
a fixed client id with `clean_session=False` (the broker keeps our subscriptions and queues QoS 1
messages for us while we are away, across our restarts), a retained birth / last-will status
per site, and manual acknowledgement: a message is acknowledged (PUBACK) only after the
federation has recorded it, so one that arrives just before a crash is delivered again instead
of lost. The broker may be another one than the devices' (one shared Mosquitto, or a bridge).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiomqtt

from hub.core import CALLBACK_TYPE, Hub, callback
from hub.exceptions import DeviceUnavailable
from hub.helpers.backoff import Backoff
from hub.helpers.tasks import async_cancel_task, async_wait_event
from integrations.mqtt.connection import connection_kwargs

from .const import (
    PUBLISH_TIMEOUT,
)

__all__ = ["FederationLink", "LinkMessage"]

_LOGGER = logging.getLogger(__name__)
_PAHO_LOGGER = logging.getLogger(f"{__name__}.paho")

_RECONNECT_MIN = 0.5
_RECONNECT_MAX = 10.0  # peers wait for us: come back soon after the broker does
_STABLE = 10.0


@dataclass(frozen=True, slots=True)
class LinkMessage:
    """A received message; call `ack()` once it is safely recorded (QoS 1)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    ack: Callable[[], None]


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """Where and who to connect as, and the status message the broker publishes if we vanish."""

    host: str
    port: int
    client_id: str
    keepalive: int
    status_topic: str
    offline_payload: str
    username: str | None = None
    password: str | None = None
    tls: Mapping[str, Any] | None = None


class FederationLink:
    """Connects in the background and keeps reconnecting; subscribes to fixed filters on every connect."""

    def __init__(self, hub: Hub, config: LinkConfig, subscriptions: Sequence[str],
                 on_message: Callable[[LinkMessage], None], online_payload: Callable[[], str]) -> None:
        self._hub = hub
        self.config = config
        self._subscriptions = list(subscriptions)
        self._on_message = on_message
        self._online_payload = online_payload
        self._aio: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()  # set when the current connection drops (a new one per connection)
        self._listeners: list[Callable[[bool], None]] = []
        self._stopping = False
        self._outage_logged = False
        self.connects = 0

    def __repr__(self) -> str:
        return f"<FederationLink {self.config.host}:{self.config.port} connected={self.connected}>"

    # ---- life cycle

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (subscribed, birth published)."""
        return self._connected.is_set()

    @callback
    def async_start(self) -> None:
        """Start connecting in the background."""
        if self._task is None:
            self._task = self._hub.async_create_background_task(self._async_run(), "federation link")

    async def async_stop(self) -> None:
        """Say we go offline (a clean disconnect suppresses the will) and disconnect."""
        self._stopping = True
        aio = self._aio
        if aio is not None:
            try:
                await aio.publish(self.config.status_topic, self.config.offline_payload, 1, True, timeout=2)
            except aiomqtt.MqttError as err:
                _LOGGER.debug("Federation: could not publish the offline status: %s", err)
        await async_cancel_task(self._task)
        self._task = None

    async def async_wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until connected; False when `timeout` passes first."""
        return await async_wait_event(self._connected, timeout)

    @callback
    def async_listen_connection(self, listener: Callable[[bool], None]) -> CALLBACK_TYPE:
        """Call `listener(connected)` on every change; returns the remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected.is_set():
            return
        if connected:
            self._connected.set()
        else:
            self._connected.clear()
        for listener in list(self._listeners):
            try:
                listener(connected)
            except Exception:
                _LOGGER.exception("Error in a federation connection listener")

    # ---- the connection

    def _make_aio(self) -> aiomqtt.Client:
        config = self.config
        aio = aiomqtt.Client(
            config.host, config.port, identifier=config.client_id, clean_session=False,
            keepalive=config.keepalive, timeout=PUBLISH_TIMEOUT,
            **connection_kwargs(username=config.username, password=config.password, tls=config.tls),
            will=aiomqtt.Will(config.status_topic, config.offline_payload, 1, True), logger=_PAHO_LOGGER,
        )
        inner = getattr(aio, "_client", None)
        if inner is not None and hasattr(inner, "manual_ack_set"):
            # Acknowledge each message ourselves, after it is recorded (paho >= 2: manual_ack).
            inner.manual_ack_set(True)
        if inner is not None and not _PAHO_LOGGER.isEnabledFor(logging.DEBUG):
            # paho logs a dropped socket as an error; the connection loop reports the outage once.
            inner.disable_logger()
        return aio

    async def _async_run(self) -> None:
        backoff = Backoff(initial=_RECONNECT_MIN, maximum=_RECONNECT_MAX, jitter=0.1)
        while not self._stopping:
            aio = self._make_aio()
            try:
                await aio.__aenter__()
            except (aiomqtt.MqttError, OSError, ValueError) as err:
                self._log_outage("cannot connect to the federation broker %s:%s: %s", err)
                await self._hub.clock.sleep(backoff.delay())
                continue
            started = self._hub.clock.monotonic()
            self._lost = asyncio.Event()
            try:
                self._aio = aio
                if self._subscriptions:
                    await aio.subscribe([(topic, 1) for topic in self._subscriptions])
                await aio.publish(self.config.status_topic, self._online_payload(), 1, True)
                self.connects += 1
                if self._outage_logged or self.connects > 1:
                    _LOGGER.info("Federation: connected to %s:%s again", self.config.host, self.config.port)
                self._outage_logged = False
                self._set_connected(True)
                async for message in aio.messages:
                    self._dispatch(aio, message)
            except aiomqtt.MqttError as err:
                self._log_outage("lost the federation broker %s:%s: %s", err)
            except Exception:  # a bug must not end the connection loop
                _LOGGER.exception("Federation: unexpected error in the connection to %s:%s",
                                  self.config.host, self.config.port)
            finally:
                self._aio = None
                self._lost.set()
                self._set_connected(False)
                try:
                    await aio.__aexit__(None, None, None)
                except aiomqtt.MqttError as err:
                    _LOGGER.debug("Federation: error closing the connection: %s", err)
            if self._hub.clock.monotonic() - started >= _STABLE:
                backoff.reset()  # a stable connection starts afresh; a flapping broker backs off
            delay = backoff.delay()
            if not self._stopping:
                await self._hub.clock.sleep(delay)

    def _log_outage(self, message: str, err: Exception) -> None:
        if self._outage_logged:
            _LOGGER.debug(message, self.config.host, self.config.port, err)
        else:
            _LOGGER.warning(message + " (retrying; further attempts at debug)", self.config.host, self.config.port,
                            err)
            self._outage_logged = True

    def _dispatch(self, aio: aiomqtt.Client, message: aiomqtt.Message) -> None:
        payload = message.payload
        if not isinstance(payload, bytes):
            payload = b"" if payload is None else str(payload).encode()
        mid, qos = message.mid, message.qos

        def ack() -> None:
            # Only on the connection it came in on: a message id means nothing on another one (the
            # broker sends unacknowledged messages again after a reconnect).
            if qos > 0 and self._aio is aio:
                inner = getattr(aio, "_client", None)
                if inner is not None and hasattr(inner, "ack"):
                    inner.ack(mid, qos)

        try:
            self._on_message(LinkMessage(message.topic.value, payload, qos, bool(message.retain), ack))
        except Exception:
            _LOGGER.exception("Federation: error handling a message on %s", message.topic.value)
            ack()

    # ---- publishing

    async def async_publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False,
                            timeout: float = PUBLISH_TIMEOUT) -> None:
        """Publish and, for QoS 1, wait for the broker's acknowledgement. Raises DeviceUnavailable."""
        aio, lost = self._aio, self._lost
        if aio is None or not self.connected:
            raise DeviceUnavailable(f"federation broker {self.config.host}:{self.config.port} is not connected")
        # aiomqtt leaves a QoS 1 publish waiting for its PUBACK until the timeout when the connection
        # drops; give up as soon as the connection is lost instead (the outbox tries again).
        publish = asyncio.ensure_future(aio.publish(topic, payload, qos, retain, timeout=timeout))
        gone = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait((publish, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not publish.done():
            publish.cancel()
            raise DeviceUnavailable(f"federation publish to {topic}: the connection was lost")
        try:
            publish.result()
        except aiomqtt.MqttError as err:
            raise DeviceUnavailable(f"federation publish to {topic} failed: {err}") from err
