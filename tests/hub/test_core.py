"""Tests of the core: event bus, state machine, service registry, context, hub lifecycle."""

from __future__ import annotations

import asyncio
import logging

import pytest
import voluptuous as vol

from hub.const import (
    EVENT_CALL_SERVICE,
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_STOP,
    EVENT_STATE_CHANGED,
    MATCH_ALL,
)
from hub.core import Context, Event, EventOrigin, Hub, HubState, State, SupportsResponse, callback
from hub.exceptions import (
    InvalidEntityId,
    InvalidStateError,
    ServiceCallTimeout,
    ServiceNotFound,
    ServiceValidationError,
    Unauthorized,
)

# ---------------------------------------------------------------- event bus


async def test_listen_fire_and_remove(hub: Hub) -> None:
    seen: list[Event] = []
    remove = hub.bus.async_listen("thermal_fire_detected", callback(seen.append))
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho"})
    hub.bus.async_fire("other_event")
    assert [e.data["tower"] for e in seen] == ["hacho"]
    assert seen[0].origin is EventOrigin.local
    assert seen[0].time_fired.tzinfo is not None
    remove()
    hub.bus.async_fire("thermal_fire_detected", {"tower": "hacho"})
    assert len(seen) == 1
    remove()  # a second call is harmless


async def test_match_all_and_listen_once(hub: Hub) -> None:
    everything: list[str] = []
    once: list[str] = []
    hub.bus.async_listen(MATCH_ALL, callback(lambda e: everything.append(e.event_type)))
    hub.bus.async_listen_once("a", callback(lambda e: once.append(e.event_type)))
    hub.bus.async_fire("a")
    hub.bus.async_fire("a")
    hub.bus.async_fire("b")
    assert once == ["a"]
    assert everything == ["a", "a", "b"]
    assert "a" not in hub.bus.async_listeners()


async def test_listener_error_is_contained(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []

    @callback
    def broken(event: Event) -> None:
        raise RuntimeError("boom")

    hub.bus.async_listen("x", broken)
    hub.bus.async_listen("x", callback(lambda e: seen.append(1)))
    with caplog.at_level(logging.ERROR):
        hub.bus.async_fire("x")
    assert seen == [1]
    assert "Error in listener" in caplog.text and "boom" in caplog.text


async def test_coroutine_listener_runs_as_task(hub: Hub) -> None:
    seen: list[str] = []

    async def listener(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(event.event_type)

    hub.bus.async_listen("y", listener)
    hub.bus.async_fire("y")
    assert seen == []
    await hub.async_block_till_done()
    assert seen == ["y"]


async def test_event_filter(hub: Hub) -> None:
    seen: list[int] = []
    hub.bus.async_listen("z", callback(lambda e: seen.append(e.data["n"])), event_filter=lambda d: d["n"] > 1)
    for n in range(4):
        hub.bus.async_fire("z", {"n": n})
    assert seen == [2, 3]


async def test_remove_during_dispatch_does_not_skip_others(hub: Hub) -> None:
    seen: list[str] = []
    removers: list = []

    @callback
    def first(event: Event) -> None:
        seen.append("first")
        removers[0]()

    removers.append(hub.bus.async_listen("w", first))
    hub.bus.async_listen("w", callback(lambda e: seen.append("second")))
    hub.bus.async_fire("w")
    hub.bus.async_fire("w")
    assert seen == ["first", "second", "second"]


async def test_fire_from_thread(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.async_listen("from_thread", callback(seen.append))
    await hub.async_add_executor_job(hub.bus.fire, "from_thread", {"k": 1})
    await asyncio.sleep(0.01)
    assert seen and seen[0].data == {"k": 1}


async def test_context_chain_answers_who_and_why(hub: Hub) -> None:
    operator = Context(user_id="op-7", centre="local_police")
    fire = hub.bus.async_fire("thermal_fire_detected", {}, context=operator)
    caused = fire.context.child()
    assert caused.parent_id == operator.id
    assert caused.user_id == "op-7" and caused.centre == "local_police"
    assert len(operator.id) == 32 and operator.id != caused.id
    assert operator.as_dict()["centre"] == "local_police"


# ---------------------------------------------------------------- states


async def test_state_set_fires_with_old_and_new(hub: Hub) -> None:
    changes: list[Event] = []
    hub.bus.async_listen(EVENT_STATE_CHANGED, callback(changes.append))
    ctx = Context(user_id="u1")
    hub.states.async_set("sensor.wind_gust", "40", {"unit_of_measurement": "km/h"}, context=ctx)
    hub.states.async_set("sensor.wind_gust", "72", {"unit_of_measurement": "km/h"})
    assert len(changes) == 2
    assert changes[0].data["old_state"] is None
    assert changes[1].data["old_state"].state == "40"
    new = changes[1].data["new_state"]
    assert new.state == "72" and new.attributes["unit_of_measurement"] == "km/h"
    assert changes[0].context is ctx
    assert hub.states.get("sensor.wind_gust") is new


async def test_identical_write_does_not_fire(hub: Hub) -> None:
    changes: list[Event] = []
    hub.bus.async_listen(EVENT_STATE_CHANGED, callback(changes.append))
    hub.states.async_set("sensor.a", "1", {"x": 1})
    assert hub.states.async_set("sensor.a", "1", {"x": 1}) is None
    assert len(changes) == 1
    hub.states.async_set("sensor.a", "1", {"x": 1}, force_update=True)
    assert len(changes) == 2


async def test_last_changed_vs_last_updated(hub: Hub) -> None:
    first = hub.states.async_set("sensor.b", "on", {"a": 1}, timestamp=1000.0)
    second = hub.states.async_set("sensor.b", "on", {"a": 2}, timestamp=1010.0)
    third = hub.states.async_set("sensor.b", "off", {"a": 2}, timestamp=1020.0)
    assert first and second and third
    assert second.last_changed_ts == 1000.0 and second.last_updated_ts == 1010.0
    assert third.last_changed_ts == 1020.0


async def test_attributes_read_only(hub: Hub) -> None:
    state = hub.states.async_set("sensor.c", "1", {"a": 1})
    assert state is not None
    with pytest.raises(RuntimeError):
        state.attributes["a"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    "bad", ["sensor", "Sensor.x", "sensor.", ".x", "sensor.x y", "sensor.__x", "sen sor.x"]
)
async def test_invalid_entity_ids_rejected(hub: Hub, bad: str) -> None:
    with pytest.raises(InvalidEntityId):
        hub.states.async_set(bad, "1")


async def test_state_too_long_or_not_string(hub: Hub) -> None:
    with pytest.raises(InvalidStateError):
        hub.states.async_set("sensor.long", "x" * 300)
    with pytest.raises(InvalidStateError):
        hub.states.async_set("sensor.num", 5)  # type: ignore[arg-type]


async def test_remove_state(hub: Hub) -> None:
    changes: list[Event] = []
    hub.bus.async_listen(EVENT_STATE_CHANGED, callback(changes.append))
    hub.states.async_set("bollard.b07", "raised")
    assert hub.states.async_remove("bollard.b07")
    assert hub.states.get("bollard.b07") is None
    assert changes[-1].data["new_state"] is None
    assert not hub.states.async_remove("bollard.b07")


async def test_domain_filter_and_as_dict(hub: Hub) -> None:
    hub.states.async_set("sensor.a", "1")
    hub.states.async_set("bollard.b", "raised", {"friendly_name": "B-07"})
    assert hub.states.async_entity_ids("bollard") == ["bollard.b"]
    data = hub.states.get("bollard.b").as_dict()  # type: ignore[union-attr]
    assert data["state"] == "raised" and data["attributes"]["friendly_name"] == "B-07"
    assert State("sensor.x", "1") == State("sensor.x", "1")


# ---------------------------------------------------------------- services


async def test_service_call_with_schema_and_response(hub: Hub) -> None:
    calls = []

    async def handler(call):
        calls.append(call)
        return {"raised": call.data["entity_id"]}

    hub.services.async_register(
        "bollard", "raise", handler,
        schema=vol.Schema({vol.Required("entity_id"): str, vol.Optional("reason", default="none"): str}),
        supports_response=SupportsResponse.OPTIONAL,
    )
    ctx = Context(user_id="op-1", centre="national_police")
    response = await hub.services.async_call("bollard", "raise", {"entity_id": "bollard.b07"},
                                             context=ctx, return_response=True)
    assert response == {"raised": "bollard.b07"}
    assert calls[0].data["reason"] == "none"
    assert calls[0].context is ctx


async def test_unknown_service_and_invalid_data(hub: Hub) -> None:
    hub.services.async_register("panel", "display", callback(lambda call: None),
                                schema=vol.Schema({vol.Required("message"): str}))
    with pytest.raises(ServiceNotFound, match=r"panel\.explode"):
        await hub.services.async_call("panel", "explode", {})
    with pytest.raises(ServiceValidationError, match="message") as info:
        await hub.services.async_call("panel", "display", {})
    assert info.value.path == ["message"]
    with pytest.raises(ServiceValidationError, match="does not return a response"):
        await hub.services.async_call("panel", "display", {"message": "x"}, return_response=True)


async def test_permission_hook_blocks(hub: Hub) -> None:
    ran: list[str] = []
    hub.services.async_register("bollard", "lower", callback(lambda call: ran.append("lowered")))

    def hook(call):
        if call.context.centre != "local_police":
            raise Unauthorized("bollard owned by local_police", user_id=call.context.user_id)

    remove = hub.services.async_add_permission_hook(hook)
    with pytest.raises(Unauthorized):
        await hub.services.async_call("bollard", "lower", {}, context=Context(centre="national_police"))
    await hub.services.async_call("bollard", "lower", {}, context=Context(centre="local_police"))
    assert ran == ["lowered"]
    remove()
    await hub.services.async_call("bollard", "lower", {}, context=Context(centre="national_police"))
    assert len(ran) == 2


async def test_async_permission_hook(hub: Hub) -> None:
    hub.services.async_register("x", "y", callback(lambda call: None))

    async def hook(call):
        await asyncio.sleep(0)
        raise Unauthorized("no")

    hub.services.async_add_permission_hook(hook)
    with pytest.raises(Unauthorized):
        await hub.services.async_call("x", "y")


async def test_service_timeout_and_non_blocking(hub: Hub) -> None:
    done = asyncio.Event()

    async def slow(call):
        await asyncio.sleep(0.2)
        done.set()

    hub.services.async_register("slow", "run", slow)
    with pytest.raises(ServiceCallTimeout):
        await hub.services.async_call("slow", "run", timeout=0.01)
    await asyncio.wait_for(done.wait(), 2)  # it kept running
    done.clear()
    assert await hub.services.async_call("slow", "run", blocking=False) is None
    assert not done.is_set()
    await hub.async_block_till_done()
    assert done.is_set()


async def test_sync_handler_runs_in_executor_and_call_event_fired(hub: Hub) -> None:
    import threading

    threads: list[str] = []
    fired: list[Event] = []
    hub.bus.async_listen(EVENT_CALL_SERVICE, callback(fired.append))
    hub.services.async_register("disk", "write", lambda call: threads.append(threading.current_thread().name))
    ctx = Context(user_id="eng")
    await hub.services.async_call("disk", "write", {"a": 1}, context=ctx)
    assert threads and threads[0].startswith("hub-executor")
    assert fired[0].data["service"] == "write" and fired[0].context is ctx


async def test_service_remover_does_not_remove_newer(hub: Hub) -> None:
    remove_old = hub.services.async_register("a", "b", callback(lambda call: None))
    hub.services.async_register("a", "b", callback(lambda call: None))
    remove_old()
    assert hub.services.has_service("a", "b")


async def test_handler_exception_propagates_to_caller(hub: Hub) -> None:
    async def broken(call):
        raise ValueError("device says no")

    hub.services.async_register("d", "e", broken)
    with pytest.raises(ValueError, match="device says no"):
        await hub.services.async_call("d", "e")


# ---------------------------------------------------------------- lifecycle


async def test_stop_runs_stop_and_final_write(config_dir) -> None:
    hub = Hub(config_dir)
    await hub.async_start()
    assert hub.state is HubState.running
    order: list[str] = []

    async def on_stop(event: Event) -> None:
        await asyncio.sleep(0.01)
        order.append("stop")

    hub.bus.async_listen_once(EVENT_HUB_STOP, on_stop)
    hub.bus.async_listen_once(EVENT_HUB_FINAL_WRITE, callback(lambda e: order.append("final")))
    await hub.async_stop()
    assert order == ["stop", "final"]
    assert hub.state is HubState.stopped


async def test_background_task_cancelled_on_stop(config_dir) -> None:
    hub = Hub(config_dir)
    await hub.async_start()
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    hub.async_create_background_task(forever(), "forever")
    await asyncio.sleep(0)
    await hub.async_stop()
    assert cancelled.is_set()


async def test_refusal_with_timeout_is_not_logged_as_error(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse(call):
        raise ServiceValidationError("refused: vehicle over bollard B-07")

    hub.services.async_register("bollard", "raise", refuse)
    with caplog.at_level(logging.ERROR), pytest.raises(ServiceValidationError, match="B-07"):
        await hub.services.async_call("bollard", "raise", timeout=5)
    await hub.async_block_till_done()
    assert "Error in task" not in caplog.text
