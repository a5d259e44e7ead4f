"""History and event queries: states between two times with a start state; events by type, time, context."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.core import Context, Hub

from .conftest import RecorderFactory

T0 = 1_790_000_000.0  # a fixed instant; states are written with explicit timestamps


async def test_history_between_times_includes_the_start_state(hub: Hub,
                                                               setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder()
    ctx = Context(user_id="op_3", centre="ccs_port")
    set_state = hub.states.async_set
    set_state("sensor.gate_1", "closed", {"unit": "x"}, timestamp=T0 - 100)
    set_state("sensor.gate_1", "open", {"unit": "x"}, context=ctx, timestamp=T0 + 10)
    set_state("sensor.gate_1", "open", {"unit": "y"}, timestamp=T0 + 20)  # attributes only
    set_state("sensor.gate_1", "closed", {"unit": "y"}, timestamp=T0 + 30)
    set_state("sensor.other", "1", timestamp=T0 + 15)
    set_state("sensor.late", "1", timestamp=T0 + 40)

    history = await recorder.async_get_history(
        ["sensor.gate_1", "sensor.late", "sensor.unknown"],
        datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 25, UTC),
    )
    assert set(history) == {"sensor.gate_1", "sensor.late", "sensor.unknown"}
    assert history["sensor.late"] == [] and history["sensor.unknown"] == []
    gate = history["sensor.gate_1"]
    assert [(s.state, s.attributes["unit"], s.last_updated_ts) for s in gate] == [
        ("closed", "x", T0 - 100), ("open", "x", T0 + 10), ("open", "y", T0 + 20)
    ]
    # last_changed survives: the attribute-only write kept the time the state became "open"
    assert gate[2].last_changed_ts == T0 + 10
    assert gate[1].context.id == ctx.id
    assert (gate[1].context.user_id, gate[1].context.centre) == ("op_3", "ccs_port")

    without_start = await recorder.async_get_history(["sensor.gate_1"], T0, T0 + 25,
                                                     include_start_state=False)
    assert [s.last_updated_ts for s in without_start["sensor.gate_1"]] == [T0 + 10, T0 + 20]
    open_ended = await recorder.async_get_history("sensor.gate_1", T0 + 25)
    assert [s.state for s in open_ended["sensor.gate_1"]] == ["open", "closed"]


async def test_removed_entity_has_no_start_state(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder()
    hub.states.async_set("light.temp", "on", timestamp=T0 - 10)
    hub.states.async_remove("light.temp")
    history = await recorder.async_get_history(["light.temp"], hub.clock.time() + 1)
    assert history["light.temp"] == []
    everything = await recorder.async_get_history(["light.temp"], 0)
    assert [s.state for s in everything["light.temp"]] == ["on"]


async def test_events_by_context_type_and_time(hub: Hub, setup_recorder: RecorderFactory) -> None:
    recorder = await setup_recorder()
    operator = Context(user_id="op_9", centre="ccs_central")
    hub.bus.async_fire("bollard_raise_requested", {"bollard": "b7"}, context=operator, time_fired=T0)
    caused = operator.child()
    hub.states.async_set("bollard.b7", "raised", {"height": 80}, context=caused, timestamp=T0 + 1)
    hub.bus.async_fire("bollard_raised", {"bollard": "b7"}, context=caused, time_fired=T0 + 2)
    hub.bus.async_fire("bollard_raised", {"bollard": "b8"}, time_fired=T0 + 50)

    by_operator = await recorder.async_get_events(context_id=operator.id)
    assert [(e["event_type"], e["data"]) for e in by_operator] == [
        ("bollard_raise_requested", {"bollard": "b7"})
    ]
    assert by_operator[0]["context"] == {"id": operator.id, "parent_id": None, "user_id": "op_9",
                                         "centre": "ccs_central"}
    assert by_operator[0]["time_fired"] == datetime.fromtimestamp(T0, UTC).isoformat()

    # "because of what": everything the child context did, state change included
    by_cause = await recorder.async_get_events(context_id=caused.id)
    assert [e["event_type"] for e in by_cause] == ["state_changed", "bollard_raised"]
    change = by_cause[0]["data"]
    assert change["entity_id"] == "bollard.b7"
    assert change["new_state"]["state"] == "raised"
    assert change["new_state"]["attributes"] == {"height": 80}
    assert by_cause[0]["context"]["parent_id"] == operator.id

    raised = await recorder.async_get_events(["bollard_raised"], start=T0, end=T0 + 10)
    assert [e["data"]["bollard"] for e in raised] == ["b7"]
    limited = await recorder.async_get_events(["bollard_raised", "bollard_raise_requested"], limit=2)
    assert [e["event_type"] for e in limited] == ["bollard_raise_requested", "bollard_raised"]
    assert [e["data"]["bollard"] for e in limited] == ["b7", "b7"]
    changes = await recorder.async_get_events(["state_changed"], start=T0, end=T0 + 10)
    assert [e["data"]["entity_id"] for e in changes] == ["bollard.b7"]
