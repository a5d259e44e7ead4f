"""REST endpoints for the frontend, the audit trail, and unloading."""

from __future__ import annotations

import orjson

from hub.clock import FakeClock
from hub.core import Hub
from hub.setup import IntegrationState, async_get_setup_manager

from .conftest import SECRET, Receiver, StartSite, agency, sign_request
from .test_outbound import DELIVERY_EVENTS, FIRE


async def test_agencies_list_and_api_needs_a_token(start_site: StartSite, receiver: Receiver) -> None:
    site = await start_site([agency(receiver, inbound={}), agency(receiver, "ministry", enabled=False)])
    status, body = await site.api("GET", "/api/agencies")
    assert status == 200
    assert [(a["agency_id"], a["entity_id"], a["state"], a["endpoint"], a["inbound"]) for a in body] == [
        ("fire_brigade", "agency.fire_brigade", "ok", receiver.url.rsplit("/hooks", 1)[0], "fire_brigade"),
        ("ministry", "agency.ministry", "disabled", receiver.url.rsplit("/hooks", 1)[0], None),
    ]
    assert "secret" not in orjson.dumps(body).decode()
    for method, path in (("GET", "/api/agencies"), ("GET", "/api/agencies/dead_letters"),
                         ("POST", "/api/agencies/fire_brigade/enable")):
        status, _body = await site.api(method, path, token=False)
        assert status == 401, path


async def test_replay_all_and_enable_through_the_api(start_site: StartSite, receiver: Receiver,
                                                     fake_clock: FakeClock) -> None:
    receiver.responses = [(500, {}), (410, {})]
    site = await start_site([agency(receiver, max_attempts=1)])
    site.watch(*DELIVERY_EVENTS)
    first = await site.notify(**FIRE)
    await receiver.next()
    await site.next_event("agency_delivery_dead")
    second = await site.notify(**FIRE)
    await receiver.next()
    await site.next_event("agency_endpoint_disabled")

    status, body = await site.api("GET", "/api/agencies/dead_letters?payload=1")
    assert status == 200 and [m["id"] for m in body] == [first["messages"][0]["message_id"]]
    assert body[0]["payload"].startswith("<?xml") and body[0]["headers"] == {"content-type": "application/cap+xml"}
    status, body = await site.api("GET", "/api/agencies/dead_letters?payload=false")
    assert status == 200 and "payload" not in body[0]
    status, body = await site.api("GET", "/api/agencies/dead_letters?payload=null")  # not a yes or a no
    assert status == 400 and "payload" in body["error"]["message"]
    status, body = await site.api("POST", "/api/agencies/fire_brigade/replay")
    assert (status, body) == (200, {"replayed": [first["messages"][0]["message_id"]]})
    await fake_clock.async_advance(3600)
    assert receiver.requests.empty()  # the endpoint is still disabled: the replayed one waits too

    status, body = await site.api("POST", "/api/agencies/fire_brigade/enable")
    assert (status, body) == (200, {"enabled": True})
    got = {(await receiver.next()).headers["webhook-id"], (await receiver.next()).headers["webhook-id"]}
    assert got == {first["messages"][0]["message_id"], second["messages"][0]["message_id"]}
    for _ in range(2):
        await site.next_event("agency_delivery_succeeded")
    status, body = await site.api("POST", "/api/agencies/fire_brigade/enable")
    assert (status, body) == (200, {"enabled": False})
    status, body = await site.api("POST", "/api/agencies/army/enable")
    assert status == 404
    status, body = await site.api("GET", "/api/agencies/dead_letters?limit=x")
    assert status == 400


async def test_refusals_and_replays_go_to_the_audit_log(start_site: StartSite, receiver: Receiver,
                                                        fake_clock: FakeClock) -> None:
    site = await start_site([agency(receiver, inbound={})], audit=True)
    site.watch("audit_event")
    body = b'{"status": "on_scene"}'
    headers = sign_request(SECRET, "msg_forged", int(fake_clock.time()), body)
    status, _reply = await site.api("POST", "/api/webhook/fire_brigade", token=False, data=body + b" ",
                                    headers=headers)
    assert status == 401
    await fake_clock.async_advance(60)  # unsigned refusals are audited once a minute per address
    await site.hub.services.async_call("agency", "replay", {"agency_id": "fire_brigade"}, blocking=True)
    from hub.audit import get_audit

    audit = get_audit(site.hub)
    assert audit is not None
    [refused] = await audit.async_query(action="webhook_refused")
    assert (refused["target"], refused["outcome"]) == ("webhook/fire_brigade", "refused")
    assert "invalid_signature" in orjson.dumps(refused).decode()
    assert refused["data"]["count"] == 1
    [replay] = await audit.async_query(action="agency_replay")
    assert (replay["target"], replay["outcome"]) == ("agency/fire_brigade", "nothing")
    assert site.events["audit_event"].empty()  # the audit log took them


async def test_unload_keeps_queued_messages(start_site: StartSite, receiver: Receiver,
                                            fake_clock: FakeClock) -> None:
    receiver.responses = [(503, {"Retry-After": "60"})]
    site = await start_site([agency(receiver)])
    site.watch(*DELIVERY_EVENTS)
    response = await site.notify(**FIRE)
    await receiver.next()
    await site.next_event("agency_delivery_failed")
    manager = async_get_setup_manager(site.hub)
    assert await manager.async_unload_integration("agencies")
    assert not site.hub.services.has_service("agency", "notify")
    assert site.hub.states.get("agency.fire_brigade") is None
    status, _body = await site.api("GET", "/api/agencies")
    assert status == 404
    await fake_clock.async_advance(120)
    assert receiver.requests.empty()  # nobody delivers while unloaded...
    assert await manager.async_setup_integration("agencies", [agency(receiver)])
    got = await receiver.next()  # ...and the message is still there afterwards
    assert got.headers["webhook-id"] == response["messages"][0]["message_id"]


async def test_unknown_agency_in_dead_letters_is_404(start_site: StartSite, receiver: Receiver) -> None:
    site = await start_site([agency(receiver)])
    status, _body = await site.api("GET", "/api/agencies/dead_letters?agency_id=army")
    assert status == 404


async def test_setup_fails_clearly_without_the_recorder(fake_hub: Hub, receiver: Receiver) -> None:
    manager = async_get_setup_manager(fake_hub)
    status = await manager.async_setup_all({"agencies": [agency(receiver)]})
    assert status["agencies"].state is IntegrationState.failed
    assert "recorder is not set up" in (status["agencies"].error or "")
    assert not fake_hub.services.has_service("agency", "notify")
