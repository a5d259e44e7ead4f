"""Stopping while an UNSUBSCRIBE waits for its answer (the Ceuta site logged aiomqtt's KeyError at every stop)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.core import Hub
from integrations.mqtt import get_mqtt
from integrations.mqtt.subscriptions import ReceiveMessage

from .conftest import SetupMqtt


def _noop(_msg: ReceiveMessage) -> None:
    return None


async def test_stop_with_an_unsubscribe_in_flight_logs_no_error(hub: Hub, setup_mqtt: SetupMqtt, prefix: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    await setup_mqtt(will_message={"topic": f"{prefix}/status", "payload": "offline"})
    client = get_mqtt(hub)
    removers = [client.async_subscribe(f"{prefix}/t{i}", _noop) for i in range(50)]
    await asyncio.sleep(0.2)
    for remove in removers:
        remove()
    await asyncio.sleep(0)  # the UNSUBSCRIBE goes out: the stop finds it waiting for the broker's answer
    await asyncio.sleep(0)
    await client.async_stop()
    await asyncio.sleep(0.3)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
