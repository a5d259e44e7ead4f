"""The receive fast path is active with the aiomqtt and paho-mqtt versions pyproject.toml pins.

integrations/mqtt/client.py reaches into aiomqtt's and paho's internals (feature-detected) to read the socket in
large chunks and drain every packet per wake-up. A release that renames those internals would silently fall back to
the slow path; this test fails instead, so a version bump is a decision, not an accident.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib.metadata import version

import aiomqtt

from hub.core import Hub, callback
from integrations.mqtt.client import _BufferedSocket
from integrations.mqtt.subscriptions import ReceiveMessage

from .conftest import SetupMqtt


def _release(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version(name).split(".")[:2])


async def test_pinned_versions_take_the_fast_path(hub: Hub, setup_mqtt: SetupMqtt, publisher: aiomqtt.Client,
                                                  prefix: str) -> None:
    # the ranges pyproject.toml declares
    assert (2, 3) <= _release("aiomqtt") < (2, 6)
    assert (2, 1) <= _release("paho-mqtt") < (2, 3)
    client = await setup_mqtt()
    assert client.fast_path, "the receive fast path is off with these aiomqtt/paho-mqtt versions"
    inner = client._aio._client  # type: ignore[union-attr]
    assert isinstance(inner._sock, _BufferedSocket)  # paho reads through the 256 KiB buffer

    received: list[str] = []
    subscribed, warmed_up, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    total = 2000

    @callback
    def on_message(message: ReceiveMessage) -> None:
        payload = str(message.payload)
        if payload == "ready":
            subscribed.set()
        elif payload == "end of warm-up":
            warmed_up.set()
        else:
            received.append(payload)
            if len(received) == total:
                done.set()

    client.async_subscribe(f"{prefix}/burst", on_message)
    async with asyncio.timeout(10):  # the SUBSCRIBE goes out in the background: wait until it is in place
        while not subscribed.is_set():
            await publisher.publish(f"{prefix}/burst", "ready")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscribed.wait(), 0.05)
    await publisher.publish(f"{prefix}/burst", "end of warm-up", qos=1)  # after every "ready"
    async with asyncio.timeout(10):
        await warmed_up.wait()
    for n in range(total):  # one burst: many packets arrive per socket read, all drained in order
        await publisher.publish(f"{prefix}/burst", str(n))
    async with asyncio.timeout(20):
        await done.wait()
    assert received == [str(n) for n in range(total)]
