"""The alarm services (raise, acknowledge, start, assign, resolve, close, clear, add_note, SOP steps, stats)
and the ownership resolver the permission hook uses for them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.auth.permissions import async_register_target_resolver
from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse

from .const import (
    DOMAIN,
    SERVICE_ACKNOWLEDGE,
    SERVICE_ADD_NOTE,
    SERVICE_ASSIGN,
    SERVICE_CLEAR,
    SERVICE_CLOSE,
    SERVICE_COMPLETE_STEP,
    SERVICE_RAISE,
    SERVICE_RESOLVE,
    SERVICE_SKIP_STEP,
    SERVICE_START,
    SERVICE_STATS,
)
from .manager import AlarmManager
from .model import Alarm
from .schema import (
    ALARM_ID_SCHEMA,
    ASSIGN_SCHEMA,
    CLEAR_SCHEMA,
    NOTE_SCHEMA,
    RAISE_SCHEMA,
    SKIP_STEP_SCHEMA,
    STATS_SCHEMA,
    STEP_SCHEMA,
)

__all__ = ["async_register_services"]


def _answer(call: ServiceCall, alarm: Alarm) -> dict[str, Any] | None:
    return {"alarm_id": alarm.id, "alarm": alarm.as_dict(full=True)} if call.return_response else None


def _targets(manager: AlarmManager) -> Callable[[Hub, ServiceCall], dict[str, str | None] | None]:
    """Alarm services act on an alarm: it belongs to its owning centre. An unknown id names no
    foreign target, so the service itself answers that the alarm does not exist."""

    def resolve(hub: Hub, call: ServiceCall) -> dict[str, str | None] | None:
        alarm_id = call.data.get("alarm_id")
        if alarm_id is None and "dedup_key" in call.data:
            alarm = next((a for a in manager.alarms.values() if a.type == call.data.get("type")
                          and a.dedup_key == call.data["dedup_key"] and a.is_open), None)
        else:
            alarm = manager.get(str(alarm_id)) if alarm_id is not None else None
        if alarm is None:
            return {} if alarm_id is not None or "dedup_key" in call.data else None
        return {f"alarm {alarm.id}": alarm.centre}

    return resolve


def async_register_services(hub: Hub, manager: AlarmManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers. Each answers only after the change it made is
    committed (acknowledged means durable)."""

    def durable(change: Callable[[ServiceCall], Alarm]) -> Callable[[ServiceCall], Awaitable[dict[str, Any] | None]]:
        async def handle(call: ServiceCall) -> dict[str, Any] | None:
            alarm = change(call)
            await manager.async_wait_stored()
            return _answer(call, alarm)

        return handle

    def raise_alarm(call: ServiceCall) -> Alarm:
        data = dict(call.data)
        return manager.async_raise(data.pop("type"), context=call.context, **data)

    def simple(method: Callable[..., Alarm]) -> Callable[[ServiceCall], Alarm]:
        return lambda call: method(call.data["alarm_id"], call.context, call.data.get("note"))

    def assign(call: ServiceCall) -> Alarm:
        return manager.assign(call.data["alarm_id"], call.data["assignee"], call.context, call.data.get("note"))

    def add_note(call: ServiceCall) -> Alarm:
        return manager.add_note(call.data["alarm_id"], call.data["note"], call.context)

    def clear(call: ServiceCall) -> Alarm:
        return manager.clear(call.data.get("alarm_id"), call.context, call.data.get("note"),
                             alarm_type=call.data.get("type"), dedup_key=call.data.get("dedup_key"))

    async def complete_step(call: ServiceCall) -> dict[str, Any] | None:
        try:
            alarm = await manager.async_complete_step(call.data["alarm_id"], call.data["step_id"], call.context,
                                                      call.data.get("note"))
        finally:  # a failed step is recorded too
            await manager.async_wait_stored()
        return _answer(call, alarm)

    def skip_step(call: ServiceCall) -> Alarm:
        return manager.skip_step(call.data["alarm_id"], call.data["step_id"], call.data["reason"], call.context)

    async def stats(call: ServiceCall) -> dict[str, Any]:
        return {"types": await manager.async_stats(call.data.get("type"), call.data.get("centre"),
                                                   call.data.get("since"))}

    optional = SupportsResponse.OPTIONAL
    table: list[tuple[str, Callable[[ServiceCall], Any], Any, SupportsResponse, str]] = [
        (SERVICE_RAISE, durable(raise_alarm), RAISE_SCHEMA, optional, "Raise an alarm of a configured type"),
        (SERVICE_ACKNOWLEDGE, durable(simple(manager.acknowledge)), ALARM_ID_SCHEMA, optional,
         "Acknowledge a raised alarm (you become its assignee)"),
        (SERVICE_START, durable(simple(manager.start)), ALARM_ID_SCHEMA, optional, "Start working on an alarm"),
        (SERVICE_ASSIGN, durable(assign), ASSIGN_SCHEMA, optional, "Give an open alarm to a user"),
        (SERVICE_RESOLVE, durable(simple(manager.resolve)), ALARM_ID_SCHEMA, optional,
         "Resolve an alarm (pending SOP steps are skipped and the supervisor told)"),
        (SERVICE_CLOSE, durable(simple(manager.close)), ALARM_ID_SCHEMA, optional, "Close a resolved or cleared alarm"),
        (SERVICE_CLEAR, durable(clear), CLEAR_SCHEMA, optional, "The source reports the condition is over"),
        (SERVICE_ADD_NOTE, durable(add_note), NOTE_SCHEMA, optional, "Add a note to an alarm's timeline"),
        (SERVICE_COMPLETE_STEP, complete_step, STEP_SCHEMA, optional,
         "Do a SOP step (a service step runs its service call)"),
        (SERVICE_SKIP_STEP, durable(skip_step), SKIP_STEP_SCHEMA, optional,
         "Skip a SOP step with a reason (the supervisor is told)"),
        (SERVICE_STATS, stats, STATS_SCHEMA, SupportsResponse.ONLY,
         "Response and resolution times per alarm type"),
    ]
    removers = [hub.services.async_register(DOMAIN, name, handler, schema, supports, description)
                for name, handler, schema, supports, description in table]
    removers.append(async_register_target_resolver(hub, DOMAIN, _targets(manager)))
    return removers
