"""Inbound webhooks: accepted when signed, fresh, new, valid, small and not too frequent; refusals audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from hub.clock import FakeClock

from .conftest import MINISTRY_SECRET, SECRET, Receiver, Site, StartSite, agency, sign_request

STATUS = {"incident_id": "INC-2026-001", "status": "under_control", "alarm_id": "alarm-42",
          "message": "Fuego controlado"}
HOTLIST = {"action": "add", "entries": [{"plate": "1234ABC", "reason": "robado"}]}


def agencies(receiver: Receiver, **inbound: Any) -> list[dict[str, Any]]:
    return [
        agency(receiver, inbound={"schema": "fire_status", **inbound}),
        agency(receiver, "ministry", secret=MINISTRY_SECRET,
               inbound={"webhook_id": "ministry_hotlist", "schema": "hotlist"}),
    ]


async def post(site: Site, webhook_id: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    return await site.api("POST", f"/api/webhook/{webhook_id}", token=False, data=body, headers=headers)


def signed(secret: str, message_id: str, now: float, payload: Any) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(payload)
    return body, sign_request(secret, message_id, int(now), body)


async def test_a_signed_status_fires_an_event(start_site: StartSite, receiver: Receiver,
                                              fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver))
    site.watch("agency_webhook_received", "audit_event")
    body, headers = signed(SECRET, "msg_1", fake_clock.time(), STATUS)
    status, reply = await post(site, "fire_brigade", body, headers)  # no bearer token: the signature is enough
    assert status == 200 and reply["status"] == "accepted"
    event = await site.next_event("agency_webhook_received")
    assert event.data == {"agency_id": "fire_brigade", "webhook_id": "fire_brigade", "message_id": "msg_1",
                          "timestamp": int(fake_clock.time()), "body": STATUS}
    assert event.context.id == reply["context_id"]
    body, headers = signed(MINISTRY_SECRET, "hot-9", fake_clock.time() - 200, HOTLIST)  # within 5 minutes
    status, _reply = await post(site, "ministry_hotlist", body, headers)
    assert status == 200
    event = await site.next_event("agency_webhook_received")
    assert event.data["body"] == {**HOTLIST, "list": "hotlist"}  # schema defaults applied
    assert site.events["audit_event"].empty()


async def test_forged_stale_and_replayed_webhooks_are_refused_and_audited(
        start_site: StartSite, receiver: Receiver, fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver))
    site.watch("agency_webhook_received", "audit_event")
    now = fake_clock.time()

    forged_body, forged = signed(MINISTRY_SECRET, "msg_f", now, STATUS)  # another agency's key
    assert await post(site, "fire_brigade", forged_body, forged) == (
        401, {"error": {"code": "invalid_signature", "message": "No valid signature for this body"}})

    body, headers = signed(SECRET, "msg_t", now, STATUS)
    tampered = body.replace(b"under_control", b"extinguished")
    status, reply = await post(site, "fire_brigade", tampered, headers)
    assert (status, reply["error"]["code"]) == (401, "invalid_signature")

    stale_body, stale = signed(SECRET, "msg_s", now - 301, STATUS)
    status, reply = await post(site, "fire_brigade", stale_body, stale)
    assert (status, reply["error"]["code"]) == (401, "stale_timestamp")
    future_body, future = signed(SECRET, "msg_u", now + 301, STATUS)
    status, reply = await post(site, "fire_brigade", future_body, future)
    assert (status, reply["error"]["code"]) == (401, "stale_timestamp")

    status, reply = await post(site, "fire_brigade", body, {"content-type": "application/json"})
    assert (status, reply["error"]["code"]) == (401, "missing_signature")

    assert (await post(site, "fire_brigade", body, headers))[0] == 200
    status, reply = await post(site, "fire_brigade", body, headers)  # the same message again
    assert (status, reply["error"]["code"]) == (409, "replayed")
    replayed = await site.next_event("audit_event")  # signed: audited on its own, at once
    assert (replayed.data["code"], replayed.data["status"], replayed.data["message_id"]) == (
        "replayed", 409, "msg_t")
    assert site.events["audit_event"].empty()  # the unsigned ones: one entry when the minute ends
    await fake_clock.async_advance(60)
    audit = await site.next_event("audit_event")
    assert audit.data["action"] == "webhook_refused" and audit.data["target"] == "webhook/fire_brigade"
    assert (audit.data["count"], audit.data["remote"]) == (5, "127.0.0.1")
    assert audit.data["codes"] == {"invalid_signature": 2, "stale_timestamp": 2, "missing_signature": 1}
    assert (await site.next_event("agency_webhook_received")).data["message_id"] == "msg_t"
    assert site.events["agency_webhook_received"].empty()


async def test_a_replay_is_refused_after_a_restart_too(start_site: StartSite, receiver: Receiver,
                                                       fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver))
    body, headers = signed(SECRET, "msg_r", fake_clock.time(), STATUS)
    assert (await post(site, "fire_brigade", body, headers))[0] == 200
    await site.hub.async_stop()
    await fake_clock.async_advance(60)
    again = await start_site(agencies(receiver))
    status, reply = await post(again, "fire_brigade", body, headers)
    assert (status, reply["error"]["code"]) == (409, "replayed")


async def test_bodies_are_checked_against_the_webhooks_schema(start_site: StartSite, receiver: Receiver,
                                                              fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver))
    site.watch("audit_event")
    now = fake_clock.time()
    body, headers = signed(SECRET, "msg_b1", now, {**STATUS, "status": "on_fire"})
    status, reply = await post(site, "fire_brigade", body, headers)
    assert status == 422 and reply["error"]["code"] == "validation_error"
    assert "status" in reply["error"]["message"]
    body = b"{not json"
    status, reply = await post(site, "fire_brigade", body, sign_request(SECRET, "msg_b2", int(now), body))
    assert (status, reply["error"]["code"]) == (400, "invalid_json")
    body, headers = signed(MINISTRY_SECRET, "msg_b3", now, {"action": "add"})
    status, reply = await post(site, "ministry_hotlist", body, headers)
    assert status == 422 and "entries" in reply["error"]["message"]
    assert [(await site.next_event("audit_event")).data["status"] for _ in range(3)] == [422, 400, 422]
    # a corrected body under a new id is accepted: refused bodies do not use up their ids
    body, headers = signed(SECRET, "msg_b1", now, STATUS)
    assert (await post(site, "fire_brigade", body, headers))[0] == 200


async def test_oversized_bodies_get_413(start_site: StartSite, receiver: Receiver, fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver, max_body_bytes=256))
    site.watch("audit_event")
    payload = {**STATUS, "message": "x" * 300}
    body, headers = signed(SECRET, "msg_big", fake_clock.time(), payload)
    status, reply = await post(site, "fire_brigade", body, headers)
    assert (status, reply["error"]["code"]) == (413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        for start in range(0, len(body), 64):
            yield body[start:start + 64]

    status, reply = await post(site, "fire_brigade", chunks(), headers)  # type: ignore[arg-type]
    assert (status, reply["error"]["code"]) == (413, "payload_too_large")
    await fake_clock.async_advance(60)  # unsigned: one audit entry for the minute
    audit = await site.next_event("audit_event")
    assert (audit.data["count"], audit.data["statuses"]) == (2, {"413": 2})


async def test_each_agency_is_rate_limited(start_site: StartSite, receiver: Receiver,
                                           fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver, rate_limit={"requests": 6, "per": 60, "burst": 3}))
    site.watch("audit_event")
    now = fake_clock.time()
    statuses = []
    for index in range(4):
        body, headers = signed(SECRET, f"msg_{index}", now, STATUS)
        statuses.append((await post(site, "fire_brigade", body, headers))[0])
    assert statuses == [200, 200, 200, 429]
    status, reply = await site.api("POST", "/api/webhook/fire_brigade", token=False, data=body, headers=headers)
    assert (status, reply["error"]["code"]) == (429, "rate_limited")
    body, headers = signed(MINISTRY_SECRET, "hot-1", now, HOTLIST)
    assert (await post(site, "ministry_hotlist", body, headers))[0] == 200  # another agency's own bucket
    await fake_clock.async_advance(10)  # one token back (6 a minute)
    body, headers = signed(SECRET, "msg_late", fake_clock.time(), STATUS)
    assert (await post(site, "fire_brigade", body, headers))[0] == 200
    assert (await post(site, "fire_brigade", body, headers))[0] == 429
    assert (await site.next_event("audit_event")).data["code"] == "rate_limited"


async def test_unknown_webhooks_are_not_found(start_site: StartSite, receiver: Receiver,
                                              fake_clock: FakeClock) -> None:
    site = await start_site(agencies(receiver))
    body, headers = signed(SECRET, "msg_x", fake_clock.time(), STATUS)
    status, reply = await post(site, "army", body, headers)
    assert (status, reply["error"]["code"]) == (404, "not_found")
