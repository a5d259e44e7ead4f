"""Durable runs: waiting runs and pending `for:` timers survive a restart (same store, new hub)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import automations
from automations.storage import AutomationStore, set_store
from automations.trace import get_trace_store
from hub.clock import FakeClock
from hub.core import Context, Hub, ServiceCall, callback

TOWER = "{{ trigger.event.data.tower }}"
T0 = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC, where FakeClock starts


class Site:
    """One 'installation': a config dir and a store that outlive the hubs started on them."""

    def __init__(self, config_dir: Path, store: AutomationStore | None = None) -> None:
        self.config_dir = config_dir
        self.store = store if store is not None else AutomationStore()
        self.calls: list[ServiceCall] = []
        self.hub: Hub | None = None
        self.clock: FakeClock | None = None

    async def start(self, at: float, *autos: dict[str, Any], recorder_url: str | None = None) -> Hub:
        self.clock = FakeClock(at)
        hub = self.hub = Hub(self.config_dir, clock=self.clock)
        if recorder_url is not None:
            from hub.recorder import async_setup_recorder

            await async_setup_recorder(hub, {"db_url": recorder_url, "commit_interval": 3600})
        else:
            set_store(hub, self.store)

        @callback
        def record(call: ServiceCall) -> None:
            self.calls.append(call)

        hub.services.async_register("test", "record", record)
        await automations.async_setup(hub, {"automations": list(autos)})
        await hub.async_start()
        await settle()
        return hub

    async def stop(self) -> None:
        assert self.hub is not None
        await self.hub.async_stop()

    def data(self) -> list[dict[str, Any]]:
        return [dict(call.data) for call in self.calls]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def delayed(**extra: Any) -> dict[str, Any]:
    return {"id": "fire_followup", "triggers": {"trigger": "event", "event_type": "fire"},
            "actions": [{"action": "test.record", "data": {"step": "alert", "tower": TOWER}},
                        {"delay": "00:10:00"},
                        {"action": "test.record", "data": {"step": "check", "tower": TOWER}}],
            **extra}


async def test_ten_minute_delay_survives_a_restart(tmp_path: Path) -> None:
    site = Site(tmp_path)
    hub = await site.start(T0, delayed())
    fired = Context(user_id="operator_3")
    hub.bus.async_fire("fire", {"tower": "hacho_1"}, context=fired)
    await settle()
    assert site.clock is not None
    await site.clock.async_advance(120)
    await site.stop()
    assert site.data() == [{"step": "alert", "tower": "hacho_1"}]

    hub = await site.start(T0 + 300, delayed())  # back 5 minutes after the trigger
    assert hub.states.get("automation.fire_followup").attributes["current"] == 1
    await site.clock.async_advance(299)
    assert len(site.calls) == 1
    await site.clock.async_advance(1)
    assert site.data()[1] == {"step": "check", "tower": "hacho_1"}
    assert site.clock.time() == T0 + 600
    assert site.calls[1].context.parent_id == fired.id  # still caused by the original event
    assert site.calls[1].context.user_id == "operator_3"
    await site.stop()
    assert site.store.records() == []


@pytest.mark.parametrize(("extra", "expected"), [
    ({}, [{"step": "check", "tower": "t"}]),  # catch up at once
    ({"catch_up": False}, []),
    ({"catch_up": "00:01:00"}, []),  # late by 5 minutes: more than allowed
    ({"catch_up": "01:00:00"}, [{"step": "check", "tower": "t"}]),
    ({"on_restart": "abandon"}, []),
    ({"on_restart": "restart"}, [{"step": "alert", "tower": "t"}]),
])
async def test_deadline_passed_while_down(tmp_path: Path, extra: dict[str, Any],
                                          expected: list[dict[str, Any]]) -> None:
    site = Site(tmp_path)
    hub = await site.start(T0, delayed(**extra))
    hub.bus.async_fire("fire", {"tower": "t"})
    await settle()
    await site.stop()
    hub = await site.start(T0 + 900, delayed(**extra))  # 15 minutes later: the deadline passed 5 min ago
    await site.clock.async_advance(0)
    assert site.data()[1:] == expected
    traces = get_trace_store(hub).traces("automation.fire_followup")
    if not expected:
        assert traces[0]["execution"] == "abandoned"
    await site.stop()


async def test_changed_automation_does_not_resume(tmp_path: Path) -> None:
    site = Site(tmp_path)
    hub = await site.start(T0, delayed())
    hub.bus.async_fire("fire", {"tower": "t"})
    await settle()
    await site.stop()
    changed = delayed()
    changed["actions"][2]["data"]["step"] = "changed"
    await site.start(T0 + 60, changed)
    await site.clock.async_advance(3600)
    assert len(site.calls) == 1
    await site.stop()


async def test_nested_wait_resumes_in_its_branch_with_its_variables(tmp_path: Path) -> None:
    auto = {"id": "nested", "triggers": {"trigger": "event", "event_type": "go"},
            "actions": [{"variables": {"zone": "port"}},
                        {"repeat": {"for_each": ["p1", "p2"], "sequence": [
                            {"if": "{{ true }}", "then": [
                                {"variables": {"panel": "{{ repeat.item }}"}},
                                {"wait_template": "{{ is_state('input_boolean.ack', 'on') }}", "timeout": 600},
                                {"action": "test.record", "data": {"panel": "{{ panel }}", "zone": "{{ zone }}",
                                                                   "acked": "{{ wait.completed }}"}},
                            ]},
                        ]}},
                        {"action": "test.record", "data": {"done": True}}]}
    site = Site(tmp_path)
    hub = await site.start(T0, auto)
    hub.states.async_set("input_boolean.ack", "off")
    hub.bus.async_fire("go")
    await settle()
    await site.clock.async_advance(600)  # the first panel times out
    await settle()
    assert site.data() == [{"panel": "p1", "zone": "port", "acked": False}]
    await site.stop()
    hub = await site.start(T0 + 700, auto)  # the second wait is resumed with 500 s left
    hub.states.async_set("input_boolean.ack", "on")
    await settle()
    assert site.data()[1:] == [{"panel": "p2", "zone": "port", "acked": True}, {"done": True}]
    await site.stop()


async def test_pending_for_survives_a_restart(tmp_path: Path) -> None:
    auto = {"id": "smoke", "triggers": {"trigger": "state", "entity_id": "binary_sensor.smoke", "to": "on",
                                        "for": "00:05:00"},
            "actions": {"action": "test.record", "data": {"smoke": True}}}
    site = Site(tmp_path)
    hub = await site.start(T0, auto)
    hub.states.async_set("binary_sensor.smoke", "off")
    hub.states.async_set("binary_sensor.smoke", "on")
    await site.clock.async_advance(120)
    await site.stop()
    # after the restart the state comes back (restored, or reported by its integration) before automations
    site.clock = FakeClock(T0 + 180)
    hub = site.hub = Hub(tmp_path, clock=site.clock)
    set_store(hub, site.store)
    hub.states.async_set("binary_sensor.smoke", "on")

    @callback
    def record(call: ServiceCall) -> None:
        site.calls.append(call)

    hub.services.async_register("test", "record", record)
    await automations.async_setup(hub, {"automations": [auto]})
    await hub.async_start()
    await site.clock.async_advance(119)
    assert site.calls == []
    await site.clock.async_advance(1)
    assert site.data() == [{"smoke": True}]
    await site.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_delay_and_traces_survive_in_the_recorder_database(tmp_path: Path, backend: str,
                                                                 request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'hacho.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    site = Site(tmp_path)
    hub = await site.start(T0, delayed(), recorder_url=url)
    hub.bus.async_fire("fire", {"tower": "hacho_2"})
    await settle()
    await site.stop()
    hub = await site.start(T0 + 60, delayed(), recorder_url=url)
    await site.clock.async_advance(540)
    assert site.data() == [{"step": "alert", "tower": "hacho_2"}, {"step": "check", "tower": "hacho_2"}]
    await site.stop()
    hub = await site.start(T0 + 3600, delayed(), recorder_url=url)
    traces = get_trace_store(hub).traces("automation.fire_followup")
    assert [t["execution"] for t in traces][:1] == ["finished"]
    assert traces[0]["steps"][-1]["result"]["data"] == {"step": "check", "tower": "hacho_2"}
    await site.stop()


async def test_turned_off_automation_stays_off_after_a_restart(tmp_path: Path) -> None:
    site = Site(tmp_path)
    hub = await site.start(T0, delayed(), {**delayed(), "id": "pinned_on", "initial_state": True})
    await hub.services.async_call("automation", "turn_off", {"entity_id": ["automation.fire_followup",
                                                                           "automation.pinned_on"]})
    await site.stop()
    hub = await site.start(T0 + 60, delayed(), {**delayed(), "id": "pinned_on", "initial_state": True})
    assert hub.states.get("automation.fire_followup").state == "off"
    assert hub.states.get("automation.pinned_on").state == "on"  # initial_state wins
    await hub.services.async_call("automation", "turn_on", {"entity_id": "automation.fire_followup"})
    await site.stop()
    hub = await site.start(T0 + 120, delayed())
    assert hub.states.get("automation.fire_followup").state == "on"
    await site.stop()
