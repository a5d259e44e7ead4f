"""Remote entities and their availability, actuation requests between centres, gaps and loops."""

from __future__ import annotations

from typing import Any

import aiomqtt
import pytest

from hub.core import Context, ServiceCall
from hub.exceptions import ServiceValidationError
from integrations.federation.envelope import Envelope
from integrations.federation.store import list_actuations

from .conftest import LOCAL, NATIONAL, Broker, Centre, CentreFactory, peer_state, wait_connected, wait_until

OP_L = Context(user_id="op_l", centre=LOCAL)
OP_N = Context(user_id="op_n", centre=NATIONAL)


def _bollard_service(centre: Centre) -> list[ServiceCall]:
    """A stand-in for the bollard integration at `centre`: bollard.raise sets the state and is recorded."""
    calls: list[ServiceCall] = []

    def raise_bollard(call: ServiceCall) -> None:
        calls.append(call)
        centre.hub.states.async_set(call.data["entity_id"], "raised", {"area_id": "tarajal"}, context=call.context)

    centre.hub.services.async_register("bollard", "raise", raise_bollard)
    return calls


async def test_remote_entities_follow_their_centre(centres: CentreFactory) -> None:
    local = await centres(LOCAL)
    national = await centres(NATIONAL)
    await wait_connected(local, national)

    national.hub.states.async_set("bollard.b07", "lowered", {"area_id": "tarajal", "friendly_name": "B07"})
    national.hub.states.async_set("sensor.not_shared", "12")
    await wait_until(lambda: local.hub.states.get("bollard.national_police_b07") is not None, what="the mirror")
    mirror = local.hub.states.get("bollard.national_police_b07")
    assert mirror is not None and mirror.state == "lowered"
    assert mirror.attributes["origin_site"] == NATIONAL and mirror.attributes["origin_entity_id"] == "bollard.b07"
    assert mirror.attributes["friendly_name"] == "B07"
    assert local.hub.states.get("sensor.national_police_not_shared") is None
    # never shared back: national has no mirror of its own bollard
    assert national.hub.states.get("bollard.local_police_national_police_b07") is None

    await national.stop()
    await wait_until(lambda: peer_state(local) == "disconnected", what="national to be seen gone")
    unavailable = local.hub.states.get("bollard.national_police_b07")
    assert unavailable is not None and unavailable.state == "unavailable"
    assert unavailable.attributes["origin_site"] == NATIONAL
    status = local.hub.states.get(f"federation.{NATIONAL}")
    assert status is not None and status.attributes["remote_entities"] == 1

    # local restarts too: the mirror comes back from its database, unavailable until national is heard
    await local.restart()
    restored = local.hub.states.get("bollard.national_police_b07")
    assert restored is not None and restored.state == "unavailable"
    await national.start()
    await wait_connected(local, national)
    await wait_until(lambda: local.hub.states.get("bollard.national_police_b07").state == "lowered",  # type: ignore[union-attr]
                     what="the last known state back")


async def test_actuation_confirmed_by_the_owner(centres: CentreFactory) -> None:
    local = await centres(LOCAL)
    national = await centres(NATIONAL)
    calls = _bollard_service(national)
    await wait_connected(local, national)
    national.hub.states.async_set("bollard.b07", "lowered", {"area_id": "tarajal"})
    await wait_until(lambda: local.hub.states.get("bollard.national_police_b07") is not None, what="the mirror")

    answer = await local.hub.services.async_call(
        "federation", "request_actuation",
        {"entity_id": "bollard.national_police_b07", "service": "bollard.raise",
         "reason": "Vehicle forcing the border"},
        context=OP_L, return_response=True)
    assert answer is not None
    assert answer["site"] == NATIONAL and answer["entity_id"] == "bollard.b07" and answer["state"] == "pending"
    request_id = answer["request_id"]
    await wait_until(lambda: any(e.event_type == "federation_actuation_requested" for e in national.events),
                     what="the request at national")
    [asked] = [e for e in national.events if e.event_type == "federation_actuation_requested"]
    assert asked.data["request_id"] == request_id and asked.data["origin_site"] == LOCAL
    assert asked.data["reason"] == "Vehicle forcing the border"
    assert not calls  # nothing moves before national's operator says so

    result = await national.hub.services.async_call("federation", "respond_actuation",
                                                    {"request_id": request_id, "approve": True, "note": "Seen on CCTV"},
                                                    context=OP_N, return_response=True)
    assert result is not None and result["state"] == "done"
    [call] = calls
    assert call.data["entity_id"] == "bollard.b07" and call.context.user_id == "op_n"
    await wait_until(lambda: any(e.event_type == "federation_actuation_result" for e in local.events),
                     what="the result at local")
    [done] = [e for e in local.events if e.event_type == "federation_actuation_result"]
    assert done.data["state"] == "done" and done.data["responded_by"] == f"{NATIONAL}:op_n"
    await wait_until(lambda: local.hub.states.get("bollard.national_police_b07").state == "raised",  # type: ignore[union-attr]
                     what="the raised bollard at local")

    # both sides audited it
    [sent] = await local.audit("federation_actuation_request")
    assert sent["user_id"] == "op_l" and sent["target"] == f"{NATIONAL}/bollard.b07"
    [received] = await national.audit("federation_actuation_requested")
    assert received["user_id"] == f"{LOCAL}:op_l" and received["outcome"] == "pending"
    [response] = await national.audit("federation_actuation_response")
    assert response["user_id"] == "op_n" and response["outcome"] == "done"
    [outcome] = await local.audit("federation_actuation_result")
    assert outcome["outcome"] == "done"
    # answered once only
    with pytest.raises(ServiceValidationError, match="already done"):
        await national.hub.services.async_call("federation", "respond_actuation",
                                               {"request_id": request_id, "approve": False}, context=OP_N)


async def test_actuation_refused_by_operator_or_policy(centres: CentreFactory) -> None:
    local = await centres(LOCAL)
    national = await centres(NATIONAL, actuation=[{"entity_id": "bollard.b*", "services": ["bollard.raise"],
                                                    "peers": [LOCAL]}])
    calls = _bollard_service(national)
    national.hub.services.async_register("bollard", "lower", lambda call: calls.append(call))
    await wait_connected(local, national)
    national.hub.states.async_set("bollard.b07", "lowered")

    first = await local.hub.services.async_call(
        "federation", "request_actuation",
        {"entity_id": "bollard.b07", "site": NATIONAL, "service": "bollard.raise", "reason": "Drill"},
        context=OP_L, return_response=True)
    # not in national's allowlist: refused at once, no operator involved
    second = await local.hub.services.async_call(
        "federation", "request_actuation",
        {"entity_id": "bollard.b07", "site": NATIONAL, "service": "bollard.lower", "reason": "Drill"},
        context=OP_L, return_response=True)
    assert first is not None and second is not None
    await wait_until(lambda: any(e.event_type == "federation_actuation_requested" for e in national.events),
                     what="the allowed request at national")
    await national.hub.services.async_call("federation", "respond_actuation",
                                           {"request_id": first["request_id"], "approve": False, "note": "No"},
                                           context=OP_N)

    def results() -> dict[str, dict[str, Any]]:
        return {e.data["request_id"]: dict(e.data) for e in local.events
                if e.event_type == "federation_actuation_result"}

    await wait_until(lambda: len(results()) == 2, what="both answers at local")
    assert results()[first["request_id"]]["state"] == "refused"
    assert results()[first["request_id"]]["note"] == "No"
    assert results()[second["request_id"]]["state"] == "refused"
    assert "does not let local_police run bollard.lower" in results()[second["request_id"]]["error"]
    assert not calls
    listed = await local.federation.outbox.async_db_job(list_actuations)
    assert {r["state"] for r in listed} == {"refused"}


async def test_lost_message_is_asked_for_again(centres: CentreFactory) -> None:
    """A message the broker acknowledged but never passed on (a broker that lost its session) leaves a
    gap in the sequence; the receiver asks for it again and gets it, once."""
    local = await centres(LOCAL)
    national = await centres(NATIONAL)
    await wait_connected(local, national)
    link = local.federation.link
    real_publish = link.async_publish
    dropped: list[str] = []

    async def lossy_publish(topic: str, payload: str | bytes, qos: int = 1, retain: bool = False,
                            timeout: float = 10) -> None:
        if "test_marker" in topic and not dropped:
            dropped.append(topic)  # "acknowledged", never delivered
            return
        await real_publish(topic, payload, qos, retain, timeout)

    link.async_publish = lossy_publish  # type: ignore[method-assign]
    for n in range(3):
        local.hub.bus.async_fire("test_marker", {"n": n})
    await wait_until(lambda: sorted(e.data["n"] for e in national.remote_events("test_marker")) == [0, 1, 2],
                     what="all three markers, the lost one asked for again")
    assert dropped
    assert any(e.event_type == "federation_gap" for e in national.events)
    await wait_until(lambda: national.hub.states.get(f"federation.{LOCAL}").attributes["missing_messages"] == 0,  # type: ignore[union-attr]
                     what="the gap to close")


async def test_loops_forgeries_and_garbage_are_dropped(centres: CentreFactory, broker: Broker) -> None:
    local = await centres(LOCAL)
    national = await centres(NATIONAL)
    await wait_connected(local, national)

    def envelope(n: int, **kwargs: Any) -> str:
        return Envelope(type="event", origin=kwargs.pop("origin", LOCAL), epoch="e1", seq=n, ts=1.0,
                        payload={"event_type": "test_marker", "data": {"n": n}}, **kwargs).encode()

    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        topic = f"hacho/{LOCAL}/event/test_marker"
        bad_state = Envelope(type="state", origin=LOCAL, epoch="e1", seq=99, ts=1.0,
                             payload={"entity_id": "bollard.b1", "state": "up", "last_updated_ts": "yesterday"})
        await client.publish(f"hacho/{LOCAL}/state/bollard.b1", bad_state.encode(), qos=1)  # cannot be stored
        await client.publish(topic, envelope(100, hops=(LOCAL, NATIONAL)), qos=1)  # passed through national already
        await client.publish(topic, envelope(101, origin="elsewhere"), qos=1)  # claims another origin
        await client.publish(topic, b"{not json", qos=1)
        duplicate = envelope(102)
        await client.publish(topic, duplicate, qos=1)
        await client.publish(topic, duplicate, qos=1)
        await client.publish(f"hacho/{LOCAL}/event/hub_stop",
                             Envelope(type="event", origin=LOCAL, epoch="e1", seq=103, ts=1.0,
                                      payload={"event_type": "hub_stop", "data": {}}).encode(), qos=1)
    await wait_until(lambda: any(e.data.get("n") == 102 for e in national.remote_events("test_marker")),
                     what="the good message")
    await national.hub.async_block_till_done()
    # the repeat may still be in the receiver's queue (it goes through the database first)
    await wait_until(lambda: national.federation.receiver.duplicates >= 1, what="the repeat to be recognised")
    assert [e.data["n"] for e in national.remote_events("test_marker")] == [102]
    assert national.federation.receiver.duplicates == 1
    assert not national.hub.is_stopping
    assert national.hub.states.get("bollard.local_police_b1") is None
    status = national.hub.states.get(f"federation.{LOCAL}")
    assert status is not None and status.attributes["malformed_messages"] == 2


async def test_silent_peer_is_disconnected(centres: CentreFactory, broker: Broker) -> None:
    """A peer that stops talking without a goodbye (its will not yet due) is disconnected after peer_timeout."""
    local = await centres(LOCAL)
    status = b'{"site": "national_police", "state": "online", "epoch": "e9", "seq": 0}'
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="fake-national") as national:
        await national.publish(f"hacho/{NATIONAL}/status", status, qos=1, retain=True)
        await wait_until(lambda: peer_state(local) == "connected", what="the fake peer to be heard")
        for _ in range(3):
            await national.publish(f"hacho/{NATIONAL}/heartbeat", status, qos=0)
        assert peer_state(local) == "connected"
        # then silence, with the connection still open: only the heartbeat timeout can tell
        await wait_until(lambda: peer_state(local) == "disconnected", 10, "the silent peer to be disconnected")
        events = [e.data for e in local.events if e.event_type == "federation_peer_status"]
        assert events[-1] == {"site": NATIONAL, "name": "Policía Nacional", "connected": False}
        await national.publish(f"hacho/{NATIONAL}/heartbeat", status, qos=0)
        await wait_until(lambda: peer_state(local) == "connected", what="the peer heard again")
