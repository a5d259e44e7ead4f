"""Outbound: signed CAP and JSON webhooks, retries across a restart, 410, dead letters, forwarding, Update/Cancel."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any

import orjson
import pytest

from hub.clock import FakeClock
from hub.core import EventOrigin
from hub.exceptions import ServiceValidationError
from hub.helpers.ids import uuid7_time
from integrations.agencies.delivery import http_date

from .conftest import OLD_SECRET, SECRET, Receiver, StartSite, agency, expected_signature

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
FIRE = {
    "agency_id": "fire_brigade",
    "event": "Incendio forestal",
    "headline": "Fuego en el Monte Hacho",
    "description": "Torre térmica T-2: foco de 40 m² con humo",
    "instruction": "Acceso por la carretera del Monte Hacho",
    "category": "fire",
    "urgency": "immediate",
    "severity": "severe",
    "certainty": "observed",
    "area": {"description": "Monte Hacho", "circle": {"lat": 35.8962, "lon": -5.2941, "radius_km": 0.5}},
    "image_url": "https://ccs.ceuta.es/media/t2/20260101T120000.jpg",
    "alarm_id": "alarm-42",
}
DELIVERY_EVENTS = ("agency_delivery_succeeded", "agency_delivery_failed", "agency_delivery_dead",
                   "agency_endpoint_disabled", "agency_endpoint_enabled")


def cap(received: Any) -> ET.Element:
    return ET.fromstring(received.body)


def text(root: ET.Element, path: str) -> str | None:
    element = root.find(path, NS)
    return None if element is None else element.text


async def test_notify_sends_a_signed_cap_alert_that_validates(start_site: StartSite, receiver: Receiver,
                                                              cap_schema: Any, fake_clock: FakeClock) -> None:
    site = await start_site([agency(receiver)])
    site.watch(*DELIVERY_EVENTS)
    response = await site.notify(**FIRE)

    got = await receiver.next()
    cap_schema.validate(got.text)  # the official OASIS schema
    assert got.headers["content-type"] == "application/cap+xml"
    [sent] = response["messages"]
    assert got.headers["webhook-id"] == sent["message_id"]
    assert got.headers["webhook-timestamp"] == str(int(fake_clock.time()))
    assert got.headers["webhook-signature"] == expected_signature(
        SECRET, got.headers["webhook-id"], got.headers["webhook-timestamp"], got.body)

    root = cap(got)
    assert text(root, "cap:identifier") == response["identifier"]
    assert text(root, "cap:sender") == "hacho@ceuta"
    assert text(root, "cap:sent") == "2026-01-01T13:00:00+01:00"  # FakeClock 12:00 UTC, Ceuta local time
    assert (text(root, "cap:status"), text(root, "cap:msgType"), text(root, "cap:scope")) == (
        "Actual", "Alert", "Restricted")
    assert text(root, "cap:info/cap:category") == "Fire"
    assert (text(root, "cap:info/cap:urgency"), text(root, "cap:info/cap:severity"),
            text(root, "cap:info/cap:certainty")) == ("Immediate", "Severe", "Observed")
    assert text(root, "cap:info/cap:headline") == "Fuego en el Monte Hacho"
    assert text(root, "cap:info/cap:description") == "Torre térmica T-2: foco de 40 m² con humo"
    assert text(root, "cap:info/cap:area/cap:circle") == "35.8962,-5.2941 0.5"
    assert text(root, "cap:info/cap:resource/cap:uri") == FIRE["image_url"]
    assert text(root, "cap:info/cap:resource/cap:mimeType") == "image/jpeg"

    event = await site.next_event("agency_delivery_succeeded")
    assert event.data["alarm_id"] == "alarm-42"
    assert (event.data["agency_id"], event.data["message_id"], event.data["status_code"]) == (
        "fire_brigade", sent["message_id"], 200)
    state = site.hub.states.get("agency.fire_brigade")
    assert state is not None and state.state == "ok"


async def test_json_format_and_key_rotation(start_site: StartSite, receiver: Receiver) -> None:
    site = await start_site([agency(receiver, formats=["json"], secrets=[SECRET, OLD_SECRET])])
    response = await site.notify(**FIRE)
    got = await receiver.next()
    assert got.headers["content-type"] == "application/json"
    signatures = got.headers["webhook-signature"].split(" ")
    assert signatures == [expected_signature(secret, got.headers["webhook-id"], got.headers["webhook-timestamp"],
                                             got.body) for secret in (SECRET, OLD_SECRET)]
    body = orjson.loads(got.body)
    assert body["identifier"] == response["identifier"]
    assert body["msgType"] == "Alert" and body["alarm_id"] == "alarm-42"
    assert body["info"]["areas"] == [{"description": "Monte Hacho",
                                      "circle": {"lat": 35.8962, "lon": -5.2941, "radius_km": 0.5}}]


async def test_a_503_is_retried_after_retry_after_across_a_hub_restart(
        start_site: StartSite, receiver: Receiver, fake_clock: FakeClock, cap_schema: Any) -> None:
    receiver.responses = [(503, {"Retry-After": "120"})]
    first = await start_site([agency(receiver)])
    first.watch(*DELIVERY_EVENTS)
    response = await first.notify(**FIRE)
    refused = await receiver.next()
    failed = await first.next_event("agency_delivery_failed")
    assert failed.data["status_code"] == 503 and failed.data["error"].startswith("HTTP 503")
    assert failed.data["next_attempt_at"] == "2026-01-01T12:02:00+00:00"  # exactly Retry-After
    assert failed.data["alarm_id"] == "alarm-42"
    state = first.hub.states.get("agency.fire_brigade")
    assert state is not None and (state.state, state.attributes["pending"]) == ("failing", 1)
    await first.hub.async_stop()  # the hub goes down while the message waits for its retry

    await fake_clock.async_advance(30)
    second = await start_site([agency(receiver)])
    second.watch(*DELIVERY_EVENTS)
    await fake_clock.async_advance(60)
    assert receiver.requests.empty()  # still before the agency's Retry-After
    await fake_clock.async_advance(30)
    retried = await receiver.next()
    assert retried.body == refused.body  # the same message...
    assert retried.headers["webhook-id"] == refused.headers["webhook-id"]  # ...with the same id...
    assert retried.headers["webhook-timestamp"] == str(int(fake_clock.time()))  # ...signed afresh
    assert retried.headers["webhook-signature"] == expected_signature(
        SECRET, retried.headers["webhook-id"], retried.headers["webhook-timestamp"], retried.body)
    cap_schema.validate(retried.text)
    succeeded = await second.next_event("agency_delivery_succeeded")
    assert (succeeded.data["message_id"], succeeded.data["attempt"]) == (response["messages"][0]["message_id"], 2)


async def test_retry_after_as_an_http_date(start_site: StartSite, receiver: Receiver,
                                           fake_clock: FakeClock) -> None:
    receiver.responses = [(429, {"Retry-After": http_date(fake_clock.time() + 600)})]
    site = await start_site([agency(receiver)])
    site.watch(*DELIVERY_EVENTS)
    await site.notify(**FIRE)
    await receiver.next()
    failed = await site.next_event("agency_delivery_failed")
    assert failed.data["next_attempt_at"] == "2026-01-01T12:10:00+00:00"


async def test_410_disables_the_endpoint_until_enabled(start_site: StartSite, receiver: Receiver,
                                                       fake_clock: FakeClock) -> None:
    receiver.responses = [(410, {})]
    site = await start_site([agency(receiver)])
    site.watch(*DELIVERY_EVENTS)
    first = await site.notify(**FIRE)
    await receiver.next()
    disabled = await site.next_event("agency_endpoint_disabled")
    assert (disabled.data["agency_id"], disabled.data["status_code"]) == ("fire_brigade", 410)
    state = site.hub.states.get("agency.fire_brigade")
    assert state is not None and state.state == "disabled"
    assert state.attributes["disabled_reason"].startswith("HTTP 410")
    await site.notify(**{**FIRE, "headline": "Second"})
    await fake_clock.async_advance(7200)
    await site.hub.async_stop()

    again = await start_site([agency(receiver)])  # the disabled endpoint stays disabled after a restart
    again.watch(*DELIVERY_EVENTS)
    await fake_clock.async_advance(7200)
    assert receiver.requests.empty()
    state = again.hub.states.get("agency.fire_brigade")
    assert state is not None and (state.state, state.attributes["pending"]) == ("disabled", 2)

    assert await again.hub.services.async_call("agency", "enable", {"agency_id": "fire_brigade"},
                                               blocking=True, return_response=True) == {"enabled": True}
    await again.next_event("agency_endpoint_enabled")
    ids = {(await receiver.next()).headers["webhook-id"], (await receiver.next()).headers["webhook-id"]}
    assert first["messages"][0]["message_id"] in ids  # nothing was lost
    for _ in range(2):
        await again.next_event("agency_delivery_succeeded")
    state = again.hub.states.get("agency.fire_brigade")
    assert state is not None and (state.state, state.attributes["disabled_reason"]) == ("ok", None)


async def test_dead_letter_then_replay(start_site: StartSite, receiver: Receiver, fake_clock: FakeClock) -> None:
    receiver.responses = [(500, {}), (502, {})]
    site = await start_site([agency(receiver, max_attempts=2, backoff_base=1)])
    site.watch(*DELIVERY_EVENTS)
    response = await site.notify(**FIRE)
    message_id = response["messages"][0]["message_id"]
    await receiver.next()
    await site.next_event("agency_delivery_failed")
    await fake_clock.async_advance(2)
    await receiver.next()
    dead = await site.next_event("agency_delivery_dead")
    assert (dead.data["message_id"], dead.data["alarm_id"], dead.data["attempt"]) == (message_id, "alarm-42", 2)
    assert dead.data["error"] == "HTTP 502: status 502"

    status, letters = await site.api("GET", "/api/agencies/dead_letters?agency_id=fire_brigade")
    assert status == 200
    assert [(m["id"], m["state"], m["correlation_id"], m["meta"]["headline"]) for m in letters] == [
        (message_id, "dead", "alarm-42", FIRE["headline"])]
    status, body = await site.api("POST", f"/api/agencies/dead_letters/{message_id}/replay")
    assert (status, body) == (200, {"replayed": [message_id]})
    assert (await receiver.next()).headers["webhook-id"] == message_id
    await site.next_event("agency_delivery_succeeded")
    status, _body = await site.api("POST", f"/api/agencies/dead_letters/{message_id}/replay")
    assert status == 404  # delivered now: not a dead letter any more


async def test_matching_events_are_forwarded_as_cap(start_site: StartSite, receiver: Receiver,
                                                    cap_schema: Any) -> None:
    rule = {"event_type": "thermal_fire_detected", "match": {"confirmed": True},
            "cap": {"event": "Incendio", "category": "Fire", "urgency": "Immediate", "severity": "Severe",
                    "certainty": "Observed", "headline": "Fuego detectado por {camera} ({area_c:.0f} m²)",
                    "radius_km": 0.3}}
    site = await start_site([agency(receiver, events=[rule])])
    site.hub.bus.async_fire("thermal_fire_detected", {"camera": "T-2", "confirmed": False,
                                                      "latitude": 35.9, "longitude": -5.29})
    site.hub.bus.async_fire("thermal_fire_detected", {"camera": "T-3", "confirmed": True},
                            origin=EventOrigin.remote)  # a peer centre's event: theirs to forward
    site.hub.bus.async_fire("thermal_fire_detected", {"camera": "T-2", "confirmed": True, "area_c": 41.6,
                                                      "latitude": 35.8962, "longitude": -5.2941,
                                                      "alarm_id": "alarm-7"})
    got = await receiver.next()
    cap_schema.validate(got.text)
    root = cap(got)
    assert text(root, "cap:info/cap:event") == "Incendio"
    assert text(root, "cap:info/cap:headline") == "Fuego detectado por T-2 (42 m²)"
    assert text(root, "cap:info/cap:area/cap:circle") == "35.8962,-5.2941 0.3"
    assert text(root, "cap:info/cap:parameter/cap:value") == "alarm-7"
    await site.hub.async_block_till_done()
    await asyncio.sleep(0)
    assert receiver.requests.empty()  # neither the unconfirmed one nor the remote one


async def test_alerts_in_several_languages(start_site: StartSite, receiver: Receiver, cap_schema: Any) -> None:
    rule = {"event_type": "thermal_fire_detected",
            "cap": {"event": "Incendio", "headline": "Fuego detectado por {camera}",
                    "translations": {"en-GB": {"event": "Wildfire", "headline": "Fire seen by {camera}",
                                               "instruction": "Keep away from Monte Hacho"},
                                     "fr": {"headline": "Incendie vu par {camera}"}}}}
    site = await start_site([agency(receiver, events=[rule])])
    # a call: Spanish (the configured language) first, then one <info> per translation, same facts and area
    await site.notify(**FIRE, translations={"en-GB": {"event": "Wildfire", "headline": "Fire on Monte Hacho",
                                                      "instruction": "Access by the Monte Hacho road"}})
    got = await receiver.next()
    cap_schema.validate(got.text)
    infos = cap(got).findall("cap:info", NS)
    assert [text(info, "cap:language") for info in infos] == ["es-ES", "en-GB"]
    assert [text(info, "cap:event") for info in infos] == ["Incendio forestal", "Wildfire"]
    assert [text(info, "cap:headline") for info in infos] == ["Fuego en el Monte Hacho", "Fire on Monte Hacho"]
    assert text(infos[1], "cap:description") is None  # not translated: not made up
    assert [text(info, "cap:area/cap:circle") for info in infos] == ["35.8962,-5.2941 0.5"] * 2
    assert [text(info, "cap:severity") for info in infos] == ["Severe"] * 2

    # a forwarded event: the rule's translations are templates too; an untranslated event keeps the original
    site.hub.bus.async_fire("thermal_fire_detected", {"camera": "T-2", "latitude": 35.8962, "longitude": -5.2941})
    got = await receiver.next()
    cap_schema.validate(got.text)
    infos = cap(got).findall("cap:info", NS)
    assert [(text(i, "cap:language"), text(i, "cap:event"), text(i, "cap:headline")) for i in infos] == [
        ("es-ES", "Incendio", "Fuego detectado por T-2"), ("en-GB", "Wildfire", "Fire seen by T-2"),
        ("fr", "Incendio", "Incendie vu par T-2")]

    with pytest.raises(ServiceValidationError, match="expected a language code such as en-GB"):
        await site.notify(**FIRE, translations={"English": {"headline": "Fire"}})


async def test_update_and_cancel_reference_the_alarms_earlier_alert(start_site: StartSite, receiver: Receiver,
                                                                    cap_schema: Any) -> None:
    site = await start_site([agency(receiver)])
    first = await site.notify(**FIRE)
    await receiver.next()
    cancel = await site.notify(agency_id="fire_brigade", event="Incendio forestal", msg_type="Cancel",
                               headline="Incendio extinguido", alarm_id="alarm-42")
    got = await receiver.next()
    cap_schema.validate(got.text)
    root = cap(got)
    assert text(root, "cap:msgType") == "Cancel"
    assert text(root, "cap:references") == f"hacho@ceuta,{first['identifier']},{first['sent']}"
    assert cancel["identifier"] != first["identifier"]
    # an Update by identifier alone: its `sent` is read back from the UUIDv7
    await site.notify(agency_id="fire_brigade", event="Incendio forestal", msg_type="Update",
                      references=first["identifier"], severity="Extreme")
    root = cap(await receiver.next())
    assert text(root, "cap:references") == f"hacho@ceuta,{first['identifier']},{first['sent']}"
    assert first["sent"] == "2026-01-01T13:00:00+01:00" and uuid7_time(first["identifier"]) // 1 == 1767268800


async def test_notify_refuses_what_it_cannot_send(start_site: StartSite, receiver: Receiver) -> None:
    site = await start_site([agency(receiver), agency(receiver, "ministry", enabled=False)])
    with pytest.raises(ServiceValidationError, match="Unknown agency 'army'"):
        await site.notify(**{**FIRE, "agency_id": "army"})
    with pytest.raises(ServiceValidationError, match="Update needs references or an alarm_id"):
        await site.notify(agency_id="fire_brigade", event="x", msg_type="Update")
    with pytest.raises(ServiceValidationError, match="No earlier message about alarm nope"):
        await site.notify(agency_id="fire_brigade", event="x", msg_type="Cancel", alarm_id="nope")
    with pytest.raises(ServiceValidationError, match="severity"):
        await site.notify(**{**FIRE, "severity": "apocalyptic"})
    with pytest.raises(ServiceValidationError, match="neither one of our identifiers"):
        await site.notify(agency_id="fire_brigade", event="x", msg_type="Update", references="not-ours")
    response = await site.notify(**{**FIRE, "agency_id": "ministry"})  # disabled in the configuration
    assert response["messages"] == []
    state = site.hub.states.get("agency.ministry")
    assert state is not None and state.state == "disabled"
