"""Alarm lifecycle through the services: states, refusals, ownership, dedup, SOP steps, escalation, restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Context, ServiceCall
from hub.exceptions import ConfigError, HubError, ServiceValidationError
from integrations import alarm
from integrations.alarm.const import AlarmState

from .conftest import ALARM_CONFIG, OP_L, OP_N, Site, start_site


async def test_lifecycle(site: Site, fake_clock: FakeClock) -> None:
    raised = await site.call("raise", {"type": "intrusion", "area_id": "centro", "entities": ["binary_sensor.fence_3"],
                                       "message": "Fence 3 cut", "source": "fence controller"}, OP_L)
    alarm_id = raised["alarm_id"]
    assert raised["alarm"]["state"] == "raised" and raised["alarm"]["centre"] == "local_police"
    assert raised["alarm"]["severity"] == "major" and raised["alarm"]["title"] == "Intrusion"
    await fake_clock.async_advance(42)
    acked = await site.call("acknowledge", {"alarm_id": alarm_id, "note": "On it"}, OP_L)
    assert acked["alarm"]["state"] == "acknowledged"
    assert acked["alarm"]["assignee"] == "op_l" and acked["alarm"]["response_seconds"] == 42
    await site.call("start", {"alarm_id": alarm_id}, OP_L)
    await site.call("add_note", {"alarm_id": alarm_id, "note": "Patrol 12 on site"}, OP_L)
    await fake_clock.async_advance(100)
    resolved = await site.call("resolve", {"alarm_id": alarm_id, "note": "Fence repaired"}, OP_L)
    assert resolved["alarm"]["state"] == "resolved" and resolved["alarm"]["resolution_seconds"] == 142
    assert site.manager.get(alarm_id) is not None
    closed = await site.call("close", {"alarm_id": alarm_id}, OP_L)
    assert closed["alarm"]["state"] == "closed"
    assert site.manager.get(alarm_id) is None and site.manager.active() == []
    assert site.kinds() == ["raised", "acknowledged", "started", "note_added", "sop_step_skipped",
                            "sop_step_skipped", "resolved", "closed"]
    assert all(e.context.user_id == "op_l" for e in site.events)
    assert site.events[1].data["response_seconds"] == 42
    timeline = closed["alarm"]["timeline"]
    assert [(t["kind"], t["user_id"], t["text"]) for t in timeline] == [
        ("raised", "op_l", "Fence 3 cut"), ("acknowledged", "op_l", "On it"), ("started", "op_l", None),
        ("note", "op_l", "Patrol 12 on site"), ("step_skipped", "op_l", "resolved with this step not done"),
        ("step_skipped", "op_l", "resolved with this step not done"), ("resolved", "op_l", "Fence repaired"),
        ("closed", "op_l", None),
    ]
    stored = await site.manager.async_get(alarm_id)  # closed: read back from the database
    assert stored is not None and stored.state is AlarmState.CLOSED and len(stored.timeline) == 8


async def test_invalid_transitions_name_the_states(site: Site) -> None:
    alarm_id = (await site.call("raise", {"type": "door_open"}))["alarm_id"]
    with pytest.raises(ServiceValidationError, match=f"Cannot close alarm {alarm_id}: it is raised, and close "
                                                     "needs it resolved or cleared"):
        await site.call("close", {"alarm_id": alarm_id})
    with pytest.raises(ServiceValidationError, match="it is raised, and resolve needs it acknowledged or "
                                                     "in_progress"):
        await site.call("resolve", {"alarm_id": alarm_id})
    await site.call("acknowledge", {"alarm_id": alarm_id})
    with pytest.raises(ServiceValidationError, match="it is acknowledged, and acknowledge needs it raised"):
        await site.call("acknowledge", {"alarm_id": alarm_id})
    with pytest.raises(ServiceValidationError, match="No active alarm 'nope'"):
        await site.call("acknowledge", {"alarm_id": "nope"})
    with pytest.raises(ServiceValidationError, match="Unknown alarm type 'flood' \\(types: door_open, fire, "
                                                     "intrusion\\)"):
        await site.call("raise", {"type": "flood"})
    with pytest.raises(ServiceValidationError, match="Unknown control centre 'harbour'"):
        await site.call("raise", {"type": "door_open", "centre": "harbour"})
    with pytest.raises(ServiceValidationError, match="latitude and longitude go together"):
        await site.call("raise", {"type": "door_open", "latitude": 35.9})
    await site.call("resolve", {"alarm_id": alarm_id})
    await site.call("close", {"alarm_id": alarm_id})
    with pytest.raises(ServiceValidationError, match="No active alarm"):
        await site.call("add_note", {"alarm_id": alarm_id, "note": "late"})
    assert site.kinds() == ["raised", "acknowledged", "resolved", "closed"]


async def test_owning_centre(site: Site) -> None:
    site.hub.states.async_set("camera.tarajal_1", "idle", {"area_id": "tarajal"})

    async def centre(**data: Any) -> str:
        return str((await site.call("raise", {"type": "door_open", **data}))["alarm"]["centre"])

    assert await centre(area_id="tarajal") == "national_police"
    assert await centre(entities=["camera.tarajal_1"]) == "national_police"
    assert await centre(latitude=35.8712, longitude=-5.3428) == "national_police"  # inside Tarajal
    assert await centre(latitude=35.8889, longitude=-5.3181) == "local_police"
    assert await centre(centre="national_police") == "national_police"
    assert await centre() == "local_police"  # the default centre
    assert (await site.call("raise", {"type": "fire"}))["alarm"]["centre"] == "national_police"  # the type's


async def test_dedup_and_clear(site: Site) -> None:
    first = await site.call("raise", {"type": "door_open", "dedup_key": "door_7", "severity": "warning"})
    second = await site.call("raise", {"type": "door_open", "dedup_key": "door_7", "severity": "minor"})
    assert first["alarm_id"] == second["alarm_id"]
    assert second["alarm"]["occurrences"] == 2 and second["alarm"]["severity"] == "minor"
    cleared = await site.call("clear", {"type": "door_open", "dedup_key": "door_7", "note": "door shut"})
    assert cleared["alarm"]["state"] == "cleared"
    third = await site.call("raise", {"type": "door_open", "dedup_key": "door_7"})  # a new one now
    assert third["alarm_id"] != first["alarm_id"]
    await site.call("close", {"alarm_id": first["alarm_id"]})
    assert site.kinds() == ["raised", "reraised", "cleared", "raised", "closed"]
    with pytest.raises(ServiceValidationError, match="give either alarm_id, or type and dedup_key"):
        await site.call("clear", {})


async def test_sop_steps(site: Site) -> None:
    bollard_calls: list[ServiceCall] = []

    async def raise_bollards(call: ServiceCall) -> None:
        bollard_calls.append(call)
        if call.data["entity_id"] == ["bollard.b_stuck"]:
            raise HubError("bollard.b_stuck refused: vehicle on the loop")

    site.hub.services.async_register("bollard", "raise", raise_bollards)
    fire = await site.call("raise", {"type": "fire", "entities": ["bollard.b_3", "bollard.b_4"]})
    alarm_id = fire["alarm_id"]
    assert [s["id"] for s in fire["alarm"]["sop"]] == ["confirm", "call_bomberos", "close_access"]
    with pytest.raises(ServiceValidationError, match="it is raised, and steps need it acknowledged or in_progress"):
        await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "confirm"}, OP_N)
    await site.call("acknowledge", {"alarm_id": alarm_id}, OP_N)
    done = await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "confirm"}, OP_N)
    assert done["alarm"]["state"] == "in_progress"  # the first step starts the work
    with pytest.raises(ServiceValidationError, match="Step 'call_bomberos' \\(Call the fire brigade\\) needs a note"):
        await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "call_bomberos"}, OP_N)
    await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "call_bomberos",
                                      "note": "Spoke to the duty officer"}, OP_N)
    with pytest.raises(ServiceValidationError, match="has no SOP step 'dance' \\(steps: confirm, call_bomberos"):
        await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "dance"}, OP_N)
    caller = Context(user_id="op_n", centre="national_police")
    result = await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "close_access"}, caller)
    assert [c.data["entity_id"] for c in bollard_calls] == [["bollard.b_3", "bollard.b_4"]]
    assert bollard_calls[0].data["reason"] == "fire"
    assert bollard_calls[0].context.user_id == "op_n" and bollard_calls[0].context.parent_id == caller.id
    assert [s["status"] for s in result["alarm"]["sop"]] == ["done", "done", "done"]
    with pytest.raises(ServiceValidationError, match="already done"):
        await site.call("complete_step", {"alarm_id": alarm_id, "step_id": "confirm"}, OP_N)

    # a service step that fails is recorded as failed and the refusal reaches the operator
    stuck = await site.call("raise", {"type": "fire", "entities": ["bollard.b_stuck"]})
    await site.call("acknowledge", {"alarm_id": stuck["alarm_id"]}, OP_N)
    with pytest.raises(HubError, match="vehicle on the loop"):
        await site.call("complete_step", {"alarm_id": stuck["alarm_id"], "step_id": "close_access"}, OP_N)
    failed = site.manager.get(stuck["alarm_id"])
    assert failed is not None
    assert failed.step("close_access").status == "failed"
    assert failed.timeline[-1].kind == "step_failed" and "vehicle on the loop" in str(failed.timeline[-1].data)
    # skipping is recorded and tells the supervisor
    site.events.clear()
    await site.call("skip_step", {"alarm_id": stuck["alarm_id"], "step_id": "close_access",
                                  "reason": "Bollard out of service"}, OP_N)
    assert site.kinds() == ["sop_step_skipped"]
    skipped = site.events[0]
    assert skipped.data["step_id"] == "close_access" and skipped.data["notify"] == "supervisor"
    assert skipped.data["skipped_by"] == "op_n" and skipped.data["centre"] == "national_police"
    assert skipped.context.user_id == "op_n"
    with pytest.raises(ServiceValidationError, match="reason"):
        await site.call("skip_step", {"alarm_id": stuck["alarm_id"], "step_id": "confirm"}, OP_N)


async def test_escalation(site: Site, fake_clock: FakeClock) -> None:
    slow = (await site.call("raise", {"type": "fire"}))["alarm_id"]
    quick = (await site.call("raise", {"type": "fire", "dedup_key": "other"}))["alarm_id"]
    await fake_clock.async_advance(30)
    await site.call("acknowledge", {"alarm_id": quick}, OP_N)
    site.events.clear()
    await fake_clock.async_advance(29)
    assert site.kinds() == []
    await fake_clock.async_advance(2)  # 61 s: not acknowledged within the 60 s SLA
    assert site.kinds() == ["renotified"]
    assert site.events[0].data["alarm_id"] == slow and site.events[0].data["notify"] == "operators"
    assert site.events[0].context.user_id is None
    await fake_clock.async_advance(60)  # 60 s more: the supervisor
    assert site.kinds() == ["renotified", "escalated"]
    escalated = site.events[1].data
    assert (escalated["alarm_id"], escalated["reason"], escalated["notify"], escalated["escalation_level"]) == (
        slow, "not_acknowledged", "supervisor", 2)
    await site.call("acknowledge", {"alarm_id": slow}, OP_N)
    site.events.clear()
    await fake_clock.async_advance(600 - 121 + 1)  # past the 600 s resolution SLA for both
    assert sorted((e.data["alarm_id"], e.data["reason"]) for e in site.events) == sorted(
        [(slow, "not_resolved"), (quick, "not_resolved")])
    await fake_clock.async_advance(3600)
    assert len(site.events) == 2  # once each


async def test_nothing_is_lost_across_a_restart(config_dir: Path, db_url: str, fake_clock: FakeClock) -> None:
    site = await start_site(config_dir, db_url, fake_clock)
    kept = await site.call("raise", {"type": "intrusion", "area_id": "tarajal", "message": "Gate 2"}, OP_N)
    await site.call("acknowledge", {"alarm_id": kept["alarm_id"], "note": "Patrol sent"}, OP_N)
    await site.call("complete_step", {"alarm_id": kept["alarm_id"], "step_id": "look"}, OP_N)
    waiting = await site.call("raise", {"type": "fire", "latitude": 35.871, "longitude": -5.343})
    done = await site.call("raise", {"type": "door_open"})
    await site.call("acknowledge", {"alarm_id": done["alarm_id"]})
    await site.call("resolve", {"alarm_id": done["alarm_id"]})
    await site.call("close", {"alarm_id": done["alarm_id"]})
    before = site.manager.get(kept["alarm_id"])
    assert before is not None
    await site.hub.async_stop()

    site = await start_site(config_dir, db_url, fake_clock)
    try:
        again = site.manager.get(kept["alarm_id"])
        assert again is not None
        assert again.as_dict(full=True) == before.as_dict(full=True)
        assert [(t.kind, t.user_id, t.text) for t in again.timeline] == [
            ("raised", "op_n", "Gate 2"), ("acknowledged", "op_n", "Patrol sent"), ("started", "op_n", None),
            ("step_done", "op_n", None)]
        assert again.step("look").status == "done" and again.step("send_patrol").status == "pending"
        assert {a.id for a in site.manager.active()} == {kept["alarm_id"], waiting["alarm_id"]}
        closed = await site.manager.async_get(done["alarm_id"])
        assert closed is not None and closed.state is AlarmState.CLOSED
        # the escalation timers come back too
        await fake_clock.async_advance(61)
        assert site.kinds() == ["renotified"] and site.events[0].data["alarm_id"] == waiting["alarm_id"]
        await site.call("resolve", {"alarm_id": kept["alarm_id"], "note": "Gate fixed"}, OP_N)
    finally:
        await site.hub.async_stop()


async def test_stats(site: Site, fake_clock: FakeClock) -> None:
    for response, resolution in ((10, 100), (30, 700), (90, 200)):
        alarm_id = (await site.call("raise", {"type": "fire"}))["alarm_id"]
        await fake_clock.async_advance(response)
        await site.call("acknowledge", {"alarm_id": alarm_id})
        await fake_clock.async_advance(resolution - response)
        await site.call("resolve", {"alarm_id": alarm_id})
    await site.call("raise", {"type": "door_open"})
    result = await site.hub.services.async_call("alarm", "stats", {}, return_response=True)
    assert result is not None
    fire = result["types"]["fire"]
    assert fire["alarms"] == 3
    assert fire["response_seconds"]["count"] == 3
    assert fire["response_seconds"]["mean"] == pytest.approx(130 / 3)
    assert fire["response_seconds"]["median"] == 30 and fire["response_seconds"]["max"] == 90
    assert fire["resolution_seconds"]["median"] == 200
    assert (fire["response_sla_breaches"], fire["resolution_sla_breaches"]) == (1, 1)
    assert result["types"]["door_open"]["response_seconds"]["count"] == 0


async def test_raise_on_event(site: Site) -> None:
    site.hub.states.async_set("camera.thermal_hacho", "idle", {"area_id": "tarajal"})
    site.hub.bus.async_fire("thermal_fire_detected", {"entity_id": "camera.thermal_hacho", "latitude": 35.9,
                                                      "longitude": -5.29, "message": "Smoke at Monte Hacho"})
    site.hub.bus.async_fire("thermal_fire_detected", {"entity_id": "camera.thermal_hacho"})
    await site.hub.async_block_till_done()
    alarms = site.manager.active()
    assert len(alarms) == 1
    assert (alarms[0].type, alarms[0].source_event, alarms[0].entities, alarms[0].occurrences) == (
        "fire", "thermal_fire_detected", ("camera.thermal_hacho",), 2)
    assert alarms[0].message == "Smoke at Monte Hacho"


async def test_bad_sop_file_is_a_config_error(config_dir: Path, db_url: str) -> None:
    (config_dir / "sops").mkdir()
    (config_dir / "sops" / "broken.yaml").write_text("steps:\n  - title: ok\n  - type: service\n    title: x\n")
    config = {"types": [{"id": "broken", "sop": "broken.yaml"}, {"id": "missing", "sop": "missing.yaml"}]}
    with pytest.raises(ConfigError) as info:
        await start_site(config_dir, db_url, config=config)
    errors = "\n".join(info.value.errors)
    assert "alarm type broken: " in errors and "broken.yaml:3:" in errors
    assert "needs 'service: domain.service'" in errors
    assert "alarm type missing: " in errors and "missing.yaml: SOP file not found" in errors


async def test_unload(site: Site) -> None:
    await site.call("raise", {"type": "fire"})
    assert await alarm.async_unload(site.hub)
    assert not site.hub.services.has_service("alarm", "raise")
    assert alarm.get_manager(site.hub) is None


def test_config_schema_defaults() -> None:
    config = alarm.CONFIG_SCHEMA(ALARM_CONFIG)
    door = config["types"][2]
    assert door["name"] == "Door open" and door["escalate_after_seconds"] == 300
    assert door["sla_resolve_seconds"] == 3600 and door["shared"] is False
    assert config["sop_dir"] == "sops"
    assert alarm.CONFIG_SCHEMA(None) == {"sop_dir": "sops", "keep_closed_days": 730, "types": []}
    assert alarm.CONFIG_SCHEMA(config) == config  # validating again changes nothing
