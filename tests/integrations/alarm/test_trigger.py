"""The `alarm` automation trigger platform: found by the automation engine, filtered, carrying the context."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from hub.core import Context, callback
from integrations.alarm.trigger import TRIGGER_SCHEMA, async_attach_trigger

from .conftest import OP_N, Site

TRIGGER_INFO: dict[str, Any] = {"domain": "automation", "name": "test", "trigger_data": {"id": "t1", "idx": "0"},
                                "variables": {}, "hub_start": False}


def _attach(site: Site, config: dict[str, Any]) -> tuple[list[tuple[dict[str, Any], Context | None]], Any]:
    fired: list[tuple[dict[str, Any], Context | None]] = []

    @callback
    def action(payload: dict[str, Any], context: Context | None = None) -> None:
        fired.append((payload, context))

    remove = async_attach_trigger(site.hub, TRIGGER_SCHEMA(config), action, TRIGGER_INFO)
    return fired, remove


async def test_trigger_fires_for_chosen_events_with_context(site: Site) -> None:
    fired, remove = _attach(site, {"platform": "alarm", "event": ["raised", "acknowledged"]})
    alarm_id = (await site.call("raise", {"type": "fire"}))["alarm_id"]
    await site.call("acknowledge", {"alarm_id": alarm_id}, OP_N)
    await site.call("add_note", {"alarm_id": alarm_id, "note": "x"}, OP_N)  # not chosen
    assert [(p["event"], p["alarm_id"], p["id"], p["platform"]) for p, _ in fired] == [
        ("raised", alarm_id, "t1", "alarm"), ("acknowledged", alarm_id, "t1", "alarm")]
    assert fired[0][0]["alarm"]["severity"] == "critical"
    assert fired[0][0]["description"] == "alarm fire raised"
    assert fired[1][1] is not None and fired[1][1].user_id == "op_n"
    remove()
    await site.call("raise", {"type": "door_open"})
    assert len(fired) == 2


async def test_trigger_filters_and_escalation(site: Site, fake_clock: Any) -> None:
    fired, _ = _attach(site, {"platform": "alarm", "event": "escalated", "alarm_type": "fire",
                              "severity": ["critical"], "centre": "national_police"})
    await site.call("raise", {"type": "fire"})
    await site.call("raise", {"type": "fire", "centre": "local_police", "dedup_key": "elsewhere"})
    await site.call("raise", {"type": "intrusion", "centre": "national_police"})
    await fake_clock.async_advance(121)
    assert [(p["alarm"]["reason"], p["alarm"]["centre"]) for p, _ in fired] == [
        ("not_acknowledged", "national_police")]


def test_schema() -> None:
    assert TRIGGER_SCHEMA({"platform": "alarm"})["event"] == ["raised"]
    with pytest.raises(vol.Invalid, match="expected one of acknowledged"):
        TRIGGER_SCHEMA({"platform": "alarm", "event": "exploded"})
    with pytest.raises(vol.Invalid):
        TRIGGER_SCHEMA({"platform": "alarm", "severity": "apocalyptic"})


def test_the_automation_engine_finds_the_platform() -> None:
    from automations.triggers import validate_trigger

    config = validate_trigger({"trigger": "alarm", "event": ["raised", "escalated"], "alarm_type": "fire"})
    assert config["platform"] == "alarm" and config["event"] == ["raised", "escalated"]
