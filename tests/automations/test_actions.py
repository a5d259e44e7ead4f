"""Action steps: service calls, events, delays, waits, choose/if/repeat/parallel, variables, stop, errors."""

from __future__ import annotations

import asyncio
from typing import Any

from automations.trace import get_trace_store
from hub.clock import FakeClock
from hub.core import Context, Event, Hub, callback

from .conftest import Calls, Setup, record


def on_go(*actions: Any, **extra: Any) -> dict[str, Any]:
    return {"id": "a", "triggers": {"trigger": "event", "event_type": "go"}, "actions": list(actions), **extra}


async def settle() -> None:
    """Let the loop run (runs waiting on the fake clock stay pending, so no async_block_till_done)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def go(hub: Hub, data: dict[str, Any] | None = None, context: Context | None = None) -> None:
    hub.bus.async_fire("go", data or {}, context=context)
    await settle()


def last_trace(hub: Hub, key: str = "automation.a") -> dict[str, Any]:
    return get_trace_store(hub).traces(key)[0]


async def test_service_call_target_data_response_and_context(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(on_go(
        {"action": "test.reply", "target": {"entity_id": "panel.port_1"},
         "data": {"text": "{{ trigger.event.data.msg }}"}, "response_variable": "answer"},
        {"service": "test.record", "data_template": {"got": "{{ answer.echo.text }}"}},
    ))
    fired = Context(user_id="operator_1", centre="norte")
    await go(hub, {"msg": "Viento fuerte"}, fired)
    assert calls.data() == [{"entity_id": "panel.port_1", "text": "Viento fuerte"}, {"got": "Viento fuerte"}]
    for call in calls:
        assert call.context.parent_id == fired.id
        assert call.context.user_id == "operator_1" and call.context.centre == "norte"
    assert calls[0].context is calls[1].context


async def test_event_step_carries_run_context(hub: Hub, setup: Setup) -> None:
    seen: list[Event] = []
    hub.bus.async_listen("panel_warning", callback(seen.append))
    await setup(on_go({"event": "panel_warning", "event_data": {"zone": "{{ trigger.event.data.z }}"}}))
    fired = Context()
    await go(hub, {"z": "hacho"}, fired)
    assert [dict(e.data) for e in seen] == [{"zone": "hacho"}]
    assert seen[0].context.parent_id == fired.id


async def test_delay_runs_on_the_hub_clock(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    await setup(on_go(record(n=1), {"delay": {"minutes": 10}}, record(n=2)))
    await go(hub)
    assert hub.states.get("automation.a").attributes["current"] == 1
    await fake_clock.async_advance(599)
    assert calls.data() == [{"n": 1}]
    await fake_clock.async_advance(1)
    assert calls.data() == [{"n": 1}, {"n": 2}]
    assert hub.states.get("automation.a").attributes["current"] == 0


async def test_wait_template_completes_or_times_out(hub: Hub, calls: Calls, setup: Setup,
                                                    fake_clock: FakeClock) -> None:
    hub.states.async_set("bollard.b1", "down")
    await setup(on_go(
        {"wait_template": "{{ is_state('bollard.b1', 'up') }}", "timeout": 30},
        record(done="{{ wait.completed }}", left="{{ wait.remaining | round }}"),
    ))
    await go(hub)
    await fake_clock.async_advance(10)
    hub.states.async_set("bollard.b1", "up")
    await settle()
    assert calls.data() == [{"done": True, "left": 20}]
    hub.states.async_set("bollard.b1", "down")
    await go(hub)
    await fake_clock.async_advance(30)
    assert calls.data()[1] == {"done": False, "left": 0}


async def test_wait_timeout_without_continue_stops_the_run(hub: Hub, calls: Calls, setup: Setup,
                                                          fake_clock: FakeClock) -> None:
    await setup(on_go({"wait_template": "{{ false }}", "timeout": 5, "continue_on_timeout": False},
                      record(never=True)))
    await go(hub)
    await fake_clock.async_advance(5)
    assert calls == []
    assert last_trace(hub)["execution"] == "aborted"


async def test_wait_for_trigger(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    await setup(on_go(
        {"wait_for_trigger": [{"trigger": "event", "event_type": "ack", "id": "acked"}], "timeout": "00:01:00"},
        record(by="{{ wait.trigger.id if wait.trigger else 'timeout' }}"),
    ))
    await go(hub)
    hub.bus.async_fire("ack")
    await settle()
    await go(hub)
    await fake_clock.async_advance(60)
    assert calls.data() == [{"by": "acked"}, {"by": "timeout"}]


async def test_wait_in_a_repeat_counts_for_until_and_after(hub: Hub, calls: Calls, setup: Setup,
                                                           fake_clock: FakeClock) -> None:
    # ask the patrol every minute until it answers; the answer is known after the loop (as in Home Assistant)
    await setup(on_go(
        {"repeat": {
            "sequence": [
                record(kind="ask", n="{{ repeat.index }}"),
                {"wait_for_trigger": [{"trigger": "event", "event_type": "patrol_ack", "id": "ack"}],
                 "timeout": 60},
            ],
            "until": "{{ wait.trigger is not none }}",
        }},
        record(kind="loop_done", by="{{ wait.trigger.id }}"),
        {"if": "{{ true }}", "then": [{"variables": {"local_only": 1}}, {"wait_template": "{{ true }}"}]},
        record(kind="after", by="{{ wait.trigger.id if wait.trigger else 'none' }}",
               completed="{{ wait.completed }}", local="{{ local_only is defined }}"),
    ))
    await go(hub)
    await fake_clock.async_advance(60)  # no answer: ask again
    await settle()
    await fake_clock.async_advance(30)
    hub.bus.async_fire("patrol_ack")
    await settle()
    assert calls.data() == [
        {"kind": "ask", "n": 1}, {"kind": "ask", "n": 2}, {"kind": "loop_done", "by": "ack"},
        # the `if` ran a wait_template after the loop: the newest wait wins; `variables` stay local
        {"kind": "after", "by": "none", "completed": True, "local": False},
    ]


async def test_condition_step_choose_and_if(hub: Hub, calls: Calls, setup: Setup) -> None:
    hub.states.async_set("sensor.gust", "80")
    await setup(on_go(
        {"choose": [
            {"conditions": "{{ states('sensor.gust') | int > 100 }}", "sequence": record(level="extreme")},
            {"conditions": [{"condition": "numeric_state", "entity_id": "sensor.gust", "above": 70}],
             "sequence": record(level="high")},
        ], "default": record(level="normal")},
        {"if": [{"condition": "state", "entity_id": "sensor.gust", "state": "80"}],
         "then": record(branch="then"), "else": record(branch="else")},
        {"condition": "template", "value_template": "{{ false }}"},
        record(never=True),
    ))
    await go(hub)
    assert calls.data() == [{"level": "high"}, {"branch": "then"}]
    trace = last_trace(hub)
    assert trace["execution"] == "aborted"
    assert [s["path"] for s in trace["steps"]][:4] == ["trigger/0", "action/0", "action/0/choose/0/conditions/0",
                                                       "action/0/choose/1/conditions/0"]


async def test_condition_inside_a_branch_ends_only_the_branch(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(on_go({"sequence": [{"condition": "template", "value_template": "{{ false }}"},
                                    record(skipped=True)]}, record(after=True)))
    await go(hub)
    assert calls.data() == [{"after": True}]


async def test_repeat_count_while_until_for_each(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(on_go(
        {"repeat": {"count": 3, "sequence": record(kind="count", i="{{ repeat.index }}", last="{{ repeat.last }}")}},
        {"repeat": {"for_each": ["b1", "b2"], "sequence": record(kind="each", item="{{ repeat.item }}")}},
        {"repeat": {"while": "{{ repeat.index <= 2 }}", "sequence": record(kind="while")}},
        {"repeat": {"until": "{{ repeat.index >= 2 }}", "sequence": record(kind="until")}},
    ))
    await go(hub)
    data = calls.data()
    assert [d for d in data if d["kind"] == "count"] == [
        {"kind": "count", "i": 1, "last": False}, {"kind": "count", "i": 2, "last": False},
        {"kind": "count", "i": 3, "last": True}]
    assert [d["item"] for d in data if d["kind"] == "each"] == ["b1", "b2"]
    assert sum(d["kind"] == "while" for d in data) == 2
    assert sum(d["kind"] == "until" for d in data) == 2


async def test_parallel_branches_run_together(hub: Hub, calls: Calls, setup: Setup, fake_clock: FakeClock) -> None:
    await setup(on_go(
        {"parallel": [
            {"sequence": [{"delay": 10}, record(branch="slow")]},
            record(branch="fast"),
        ]},
        record(branch="after"),
    ))
    await go(hub)
    assert calls.data() == [{"branch": "fast"}]
    await fake_clock.async_advance(10)
    assert calls.data() == [{"branch": "fast"}, {"branch": "slow"}, {"branch": "after"}]


async def test_variables_scope(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(on_go(
        {"variables": {"level": 1, "double": "{{ level * 2 }}"}},
        {"if": "{{ true }}", "then": [{"variables": {"level": 5, "inner_only": 1}}, record(inner="{{ level }}")]},
        record(outer="{{ level }}", double="{{ double }}", auto="{{ base }}", local="{{ inner_only }}"),
    ), )
    await go(hub)
    # Home Assistant 2025.4+: `level` exists outside, so the inner step updates it there; `inner_only`
    # is new, so it stays in the inner sequence.
    assert calls.data() == [{"inner": 5}, {"outer": 5, "double": 2, "auto": "", "local": ""}]


async def test_automation_variables(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(on_go(record(v="{{ tower }}-{{ trigger.event.data.n }}"),
                      variables={"tower": "hacho_{{ trigger.event.data.n }}"}))
    await go(hub, {"n": 2})
    assert calls.data() == [{"v": "hacho_2-2"}]


async def test_stop_with_error_and_disabled_step(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(on_go(
        {"action": "test.record", "data": {"skipped": True}, "enabled": False},
        {"stop": "Bollard failure", "error": True},
        record(never=True),
    ))
    await go(hub)
    assert calls == []
    trace = last_trace(hub)
    assert trace["execution"] == "error" and trace["error"] == "Bollard failure"


async def test_continue_on_error_and_template_error_stops_the_run(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(
        on_go({"action": "nowhere.nothing", "continue_on_error": True}, record(n=1),
              record(bad="{{ 'x' | float }}"), record(n=2)),
    )
    await go(hub)
    assert calls.data() == [{"n": 1}]
    trace = last_trace(hub)
    assert trace["execution"] == "error"
    assert "float got invalid input" in trace["error"]
    failing = [s for s in trace["steps"] if s.get("error")]
    assert [s["path"] for s in failing] == ["action/0", "action/2"]
    # the hub is fine: the next run works
    await go(hub)
    assert calls.data()[-1] == {"n": 1}


async def test_script_definitions_with_fields_and_response(hub: Hub, calls: Calls, setup: Setup) -> None:
    await setup(
        on_go({"action": "script.warn_panels", "data": {"zone": "port"}, "response_variable": "result"},
              record(shown="{{ result.shown }}")),
        scripts={"warn_panels": {
            "alias": "Warn panels",
            "fields": {"zone": {"required": True}, "text": {"default": "PRECAUCION"}},
            "sequence": [record(zone="{{ zone }}", text="{{ text }}"),
                         {"variables": {"out": {"shown": "{{ text }} @ {{ zone }}"}}},
                         {"stop": "done", "response_variable": "out"}],
        }},
    )
    fired = Context()
    await go(hub, context=fired)
    assert calls.data() == [{"zone": "port", "text": "PRECAUCION"}, {"shown": "PRECAUCION @ port"}]
    assert hub.states.get("script.warn_panels").state == "off"
    # the script's call is caused by the automation's run, which is caused by the event
    assert calls[0].context.parent_id == calls[1].context.id
    assert calls[1].context.parent_id == fired.id
    response = await hub.services.async_call("script", "warn_panels", {"zone": "centro"}, return_response=True)
    assert response == {"shown": "PRECAUCION @ centro"}
