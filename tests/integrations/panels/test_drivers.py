"""Tests of the MQTT JSON and NTCIP drivers against a recording MQTT client (topics, payloads, status)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hub.core import Context, Hub
from hub.helpers.entity_platform import get_entity
from integrations.panels import CONFIG_SCHEMA, async_setup
from integrations.panels import driver_mqtt as driver_mqtt_module
from integrations.panels.driver_mqtt import parse_status_payload
from integrations.panels.entity import PanelEntity


@dataclass
class Message:
    topic: str
    payload: bytes


class RecordingMqtt:
    """Plays the mqtt integration's client: records publishes, delivers to subscribers."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, int, bool]] = []
        self.subscriptions: dict[str, Callable[[Any], None]] = {}
        self.fail = False

    async def async_publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.published.append((topic, payload, qos, retain))

    async def async_subscribe(self, topic: str, msg_callback: Callable[[Any], None],
                              qos: int = 0) -> Callable[[], None]:
        self.subscriptions[topic] = msg_callback

        def remove() -> None:
            self.subscriptions.pop(topic, None)

        return remove

    def deliver(self, topic: str, payload: str) -> None:
        self.subscriptions[topic](Message(topic, payload.encode()))


@pytest.fixture
def mqtt(monkeypatch: pytest.MonkeyPatch) -> RecordingMqtt:
    client = RecordingMqtt()
    monkeypatch.setattr(driver_mqtt_module, "_get_mqtt", lambda hub: client)
    return client


async def setup(hub: Hub) -> None:
    config = CONFIG_SCHEMA([
        {"id": "P-JSON", "driver": "mqtt_json", "rows": 2, "chars_per_row": 16},
        {"id": "P-MULTI", "driver": "ntcip", "topic": "signs/p-multi", "pictograms": {"fog": 4}},
    ])
    assert await async_setup(hub, config)


async def test_json_driver_publishes_retained_message_and_blank(fake_hub: Hub, mqtt: RecordingMqtt) -> None:
    await setup(fake_hub)
    assert set(mqtt.subscriptions) == {"hacho/panels/P-JSON/status", "signs/p-multi/status"}
    await fake_hub.services.async_call(
        "panel", "display", {"entity_id": "panel.p_json", "lines": ["CALLE REAL", "CORTADA"],
                             "priority": "security", "duration": 60},
        context=Context(user_id="op-1", centre="ceuta_norte"))
    topic, payload, qos, retain = mqtt.published[-1]
    assert (topic, qos, retain) == ("hacho/panels/P-JSON", 1, True)
    body = json.loads(payload)
    assert body["panel"] == "P-JSON" and body["blank"] is False
    assert body["message"]["pages"] == [["CALLE REAL", "CORTADA"]]
    assert body["message"]["priority"] == "security"
    assert body["message"]["expires"] == "2026-01-01T12:01:00+00:00"
    assert body["message"]["centre"] == "ceuta_norte"

    await fake_hub.services.async_call("panel", "clear", {"entity_id": "panel.p_json", "all": True})
    assert json.loads(mqtt.published[-1][1]) == {"panel": "P-JSON", "blank": True, "message": None}


async def test_ntcip_driver_publishes_multi(fake_hub: Hub, mqtt: RecordingMqtt) -> None:
    await setup(fake_hub)
    await fake_hub.services.async_call(
        "panel", "display", {"entity_id": "panel.p_multi", "pages": [["NIEBLA"], ["REDUZCA", "VELOCIDAD"]],
                             "pictogram": "fog", "page_time": 2, "justify": "left"})
    assert mqtt.published[-1] == ("signs/p-multi", "[pt20o0][g4][jl2]NIEBLA[np][g4]REDUZCA[nl]VELOCIDAD",
                                  1, True)
    await fake_hub.services.async_call("panel", "clear", {"entity_id": "panel.p_multi", "all": True})
    assert mqtt.published[-1] == ("signs/p-multi", "", 1, True)


async def test_status_topic_and_publish_failures(fake_hub: Hub, mqtt: RecordingMqtt,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    await setup(fake_hub)
    mqtt.deliver("hacho/panels/P-JSON/status", '{"status": "working", "pixel_errors": 3, "brightness": 55}')
    state = fake_hub.states.get("panel.p_json")
    assert state is not None
    assert (state.attributes["status"], state.attributes["pixel_errors"], state.attributes["brightness"]) == (
        "pixel_errors", 3, 55)
    mqtt.deliver("hacho/panels/P-JSON/status", "comm_failure")
    assert fake_hub.states.get("panel.p_json").attributes["status"] == "comm_failure"  # type: ignore[union-attr]
    mqtt.deliver("hacho/panels/P-JSON/status", "{not json")
    mqtt.deliver("hacho/panels/P-JSON/status", "{still not json")
    assert caplog.text.count("malformed status") == 1  # logged once per panel, never raised

    mqtt.deliver("hacho/panels/P-JSON/status", "working")
    mqtt.fail = True
    await fake_hub.services.async_call("panel", "display", {"entity_id": "panel.p_json", "lines": ["A"]})
    assert fake_hub.states.get("panel.p_json").attributes["status"] == "comm_failure"  # type: ignore[union-attr]


async def test_without_mqtt_panels_show_comm_failure(fake_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver_mqtt_module, "_get_mqtt", lambda hub: None)
    await setup(fake_hub)
    state = fake_hub.states.get("panel.p_json")
    assert state is not None and state.attributes["status"] == "comm_failure"
    await fake_hub.services.async_call("panel", "display", {"entity_id": "panel.p_json", "lines": ["A"]})
    entity = get_entity(fake_hub, "panel.p_json")
    assert isinstance(entity, PanelEntity) and entity.current_message is not None


def test_parse_status_payload() -> None:
    assert parse_status_payload(b"pixel_errors").status == "pixel_errors"
    update = parse_status_payload('{"pixel_errors": 2}')
    assert (update.status, update.pixel_errors, update.brightness) == (None, 2, None)
    with pytest.raises(ValueError, match="unknown panel status"):
        parse_status_payload("on fire")
    with pytest.raises(ValueError):
        parse_status_payload("[1, 2]")
