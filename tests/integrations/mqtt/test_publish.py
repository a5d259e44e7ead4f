"""Publishing against a broker the test owns: a QoS 1 publish caught by a dropped connection fails at once."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from hub.core import Hub
from hub.exceptions import DeviceUnavailable
from integrations.mqtt import CONFIG_SCHEMA, async_setup, async_unload, get_mqtt

from .conftest import Broker

# aiomqtt's own wait for a PUBACK (10 s); the publish must fail well before it.
_AIOMQTT_TIMEOUT = 10.0


def _wait_paused(pid: int, timeout: float = 5) -> bool:
    """Wait until the process is stopped (state T), so it can no longer answer anything (blocking)."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stat.read_text().rsplit(")", 1)[1].split()[0] in ("T", "t"):
            return True
        time.sleep(0.005)
    return False


async def test_a_qos1_publish_fails_at_once_when_the_connection_drops(hub: Hub, own_broker: Broker) -> None:
    await own_broker.start()
    assert await async_setup(hub, CONFIG_SCHEMA({"broker": "127.0.0.1", "port": own_broker.port,
                                                 "discovery": False}))
    client = get_mqtt(hub)
    try:
        assert await client.async_wait_connected(15)
        await client.async_publish("ceuta/panels/p1/set", "OPEN", qos=1)  # acknowledged while the broker runs
        published = client.stats.published

        process = own_broker.process
        assert process is not None
        process.send_signal(signal.SIGSTOP)  # the broker takes the PUBLISH into its socket but never answers
        assert await hub.async_add_executor_job(_wait_paused, process.pid)
        publish = asyncio.create_task(client.async_publish("ceuta/panels/p1/set", "CLOSE", qos=1))
        done, _ = await asyncio.wait({publish}, timeout=0.2)
        assert not done  # waiting for the PUBACK

        loop = asyncio.get_running_loop()
        dropped_at = loop.time()
        await own_broker.kill()  # SIGKILL: the connection drops (reset) with the PUBACK still owed
        with pytest.raises(DeviceUnavailable, match="connection was lost"):
            await asyncio.wait_for(publish, _AIOMQTT_TIMEOUT / 2)
        assert loop.time() - dropped_at < _AIOMQTT_TIMEOUT / 4
        assert not client.connected
        assert client.stats.published == published
        with pytest.raises(DeviceUnavailable, match="not connected"):
            await client.async_publish("ceuta/panels/p1/set", "CLOSE", qos=1)
    finally:
        await async_unload(hub)
