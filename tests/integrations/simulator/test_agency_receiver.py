"""The simulated agencies' server: what agency.notify sends is received (signature checked) instead of dead-lettered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.config.validation import validate
from hub.core import Event, Hub, callback
from hub.exceptions import ConfigError
from hub.recorder import async_setup_recorder
from integrations.agencies.signing import WebhookSecret, signed_headers
from integrations.simulator import get_simulator
from integrations.simulator.schema import CONFIG_SCHEMA

from .conftest import SetupSections

SECRET = "ceuta-demo-fire-brigade-secret"


def _simulator(**receiver: Any) -> dict[str, Any]:
    return {"seed": 2026, "time_zone": "Africa/Ceuta", "agency_receiver": {"port": 0, **receiver}}


def _queue(hub: Hub, event_type: str) -> asyncio.Queue[Event]:
    queue: asyncio.Queue[Event] = asyncio.Queue()
    hub.bus.async_listen(event_type, callback(queue.put_nowait))
    return queue


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_signed_messages_are_received_and_bad_signatures_refused(
        hub: Hub, setup_sections: SetupSections) -> None:
    await setup_sections(hub, simulator=_simulator(secrets={"fire_brigade": SECRET}))
    receiver = get_simulator(hub).receiver
    assert receiver is not None and receiver.listening and receiver.port != 0
    received = _queue(hub, "simulator_agency_message")
    body = b'{"identifier": "x"}'
    headers = {**signed_headers([WebhookSecret.parse(SECRET)], "msg-1", int(time.time()), body),
               "content-type": "application/json"}

    status, answer = await _post(f"{receiver.url}/fire_brigade", body, headers)
    assert (status, answer) == (200, {"status": "received", "message_id": "msg-1"})
    event = await asyncio.wait_for(received.get(), 5)
    assert event.data == {"agency_id": "fire_brigade", "message_id": "msg-1", "content_type": "application/json",
                          "bytes": len(body), "verified": True}

    wrong = {**headers, **signed_headers([WebhookSecret.parse("another-secret-of-16-bytes")], "msg-2",
                                         int(time.time()), body)}
    status, answer = await _post(f"{receiver.url}/fire_brigade", body, wrong)
    assert (status, answer) == (401, {"error": "invalid_signature"})
    status, _ = await _post(f"{receiver.url}/fire_brigade", body, {"content-type": "application/json"})
    assert status == 401

    status, _ = await _post(f"{receiver.url}/justice", body, {"content-type": "application/json"})
    assert status == 200  # no secret configured for it: taken unchecked
    event = await asyncio.wait_for(received.get(), 5)
    assert event.data["agency_id"] == "justice" and event.data["verified"] is False
    assert received.empty()
    assert get_simulator(hub).diagnostics()["agencies"]["received"] == {"fire_brigade": 1, "justice": 1}
    assert get_simulator(hub).diagnostics()["agencies"]["refused"] == 2


async def test_agency_notify_is_delivered_to_the_simulated_fire_brigade(
        hub: Hub, setup_sections: SetupSections, tmp_path: Path) -> None:
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{tmp_path / 'hacho.db'}", "commit_interval": 1})
    await setup_sections(hub, simulator=_simulator(secrets={"fire_brigade": SECRET}))
    receiver = get_simulator(hub).receiver
    assert receiver is not None
    await setup_sections(hub, agencies=[{"id": "fire_brigade", "url": f"{receiver.url}/fire_brigade",
                                         "formats": ["cap", "json"], "secret": SECRET, "max_attempts": 2}])
    received = _queue(hub, "simulator_agency_message")
    delivered = _queue(hub, "agency_delivery_succeeded")

    await hub.services.async_call("agency", "notify", {
        "agency_id": "fire_brigade", "event": "Incendio forestal", "category": "Fire", "urgency": "Immediate",
        "severity": "Severe", "certainty": "Observed",
        "area": {"description": "Monte Hacho", "circle": {"lat": 35.899, "lon": -5.289, "radius_km": 0.5}}})

    messages = [await asyncio.wait_for(received.get(), 10) for _ in range(2)]
    assert {m.data["content_type"] for m in messages} == {"application/cap+xml", "application/json"}
    assert all(m.data["verified"] for m in messages)
    outcomes = [await asyncio.wait_for(delivered.get(), 10) for _ in range(2)]
    assert {o.data["status_code"] for o in outcomes} == {200}
    assert {o.data["message_id"] for o in outcomes} == {m.data["message_id"] for m in messages}


def test_receiver_configuration() -> None:
    conf = validate(CONFIG_SCHEMA, {"agency_receiver": None}, "simulator")["agency_receiver"]
    assert (conf["host"], conf["port"], conf["secrets"]) == ("127.0.0.1", 8124, {})
    again = validate(CONFIG_SCHEMA, validate(CONFIG_SCHEMA, {"agency_receiver": {"secrets": {"ume": SECRET}}},
                                             "simulator"), "simulator")
    assert again["agency_receiver"]["secrets"]["ume"] == [WebhookSecret.parse(SECRET)]
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        validate(CONFIG_SCHEMA, {"agency_receiver": {"secrets": {"ume": "short"}}}, "simulator")


async def test_a_busy_port_leaves_the_rest_of_the_city_running(hub: Hub, setup_sections: SetupSections) -> None:
    from tests.conftest import free_port

    port = free_port()
    blocker = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", port)
    try:
        await setup_sections(hub, simulator={**_simulator(), "agency_receiver": {"port": port}})
        receiver = get_simulator(hub).receiver
        assert receiver is not None and not receiver.listening
        assert hub.services.has_service("simulator", "storm")  # the simulator is up all the same
    finally:
        blocker.close()
        await blocker.wait_closed()
