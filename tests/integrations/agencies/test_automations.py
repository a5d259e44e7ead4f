"""With the automation engine: "fire detected -> notify the fire brigade", and webhooks side by side."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import orjson

from hub.clock import FakeClock

from .conftest import SECRET, Receiver, StartSite, agency, sign_request

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}

FIRE_RULE = {
    "id": "fire_to_brigade",
    "triggers": {"trigger": "event", "event_type": "thermal_fire_detected"},
    "actions": {"action": "agency.notify", "data": {
        "agency_id": "fire_brigade",
        "event": "Incendio",
        "category": "Fire",
        "severity": "Severe",
        "urgency": "Immediate",
        "certainty": "Observed",
        "headline": "Fuego detectado por {{ trigger.event.data.camera }}",
        "area": {"description": "{{ trigger.event.data.area }}",
                 "circle": {"lat": "{{ trigger.event.data.latitude }}", "lon": "{{ trigger.event.data.longitude }}",
                            "radius_km": 0.5}},
        "image_url": "{{ trigger.event.data.image_url }}",
        "alarm_id": "{{ trigger.event.data.alarm_id }}",
    }},
}


async def test_an_automation_notifies_the_fire_brigade_with_the_location(
        start_site: StartSite, receiver: Receiver, cap_schema: Any) -> None:
    site = await start_site([agency(receiver)], rules=[FIRE_RULE])
    site.watch("agency_delivery_succeeded")
    site.hub.bus.async_fire("thermal_fire_detected", {
        "camera": "T-2", "area": "Monte Hacho", "latitude": 35.8962, "longitude": -5.2941,
        "image_url": "https://ccs.example/t2.jpg", "alarm_id": "alarm-9"})
    got = await receiver.next()
    cap_schema.validate(got.text)
    root = ET.fromstring(got.body)
    assert root.findtext("cap:info/cap:headline", namespaces=NS) == "Fuego detectado por T-2"
    assert root.findtext("cap:info/cap:area/cap:areaDesc", namespaces=NS) == "Monte Hacho"
    assert root.findtext("cap:info/cap:area/cap:circle", namespaces=NS) == "35.8962,-5.2941 0.5"
    event = await site.next_event("agency_delivery_succeeded")
    assert event.data["alarm_id"] == "alarm-9"


async def test_agency_and_automation_webhooks_share_the_path(start_site: StartSite, receiver: Receiver,
                                                             fake_clock: FakeClock) -> None:
    rule = {"id": "panel_ack", "triggers": {"trigger": "webhook", "webhook_id": "ack-7f3a"},
            "actions": {"event": "panel_acked", "event_data": {"panel": "{{ trigger.json.panel }}"}}}
    site = await start_site([agency(receiver, inbound={"schema": "any"})], rules=[rule])
    site.watch("panel_acked", "agency_webhook_received")
    status, _body = await site.api("POST", "/api/webhook/ack-7f3a", token=False, json={"panel": "p9"})
    assert status == 200
    assert (await site.next_event("panel_acked")).data == {"panel": "p9"}
    body = orjson.dumps({"status": "on_scene"})
    status, _body = await site.api("POST", "/api/webhook/fire_brigade", token=False, data=body,
                                   headers=sign_request(SECRET, "msg_a", int(fake_clock.time()), body))
    assert status == 200
    assert (await site.next_event("agency_webhook_received")).data["body"] == {"status": "on_scene"}
    status, body_json = await site.api("POST", "/api/webhook/nobody", token=False, json={})
    assert (status, body_json["error"]["code"]) == (404, "not_found")
