"""The AlarmManager: raises alarms, moves them through their states, runs SOP steps, fires the events.

Every change is one `_commit`: a timeline entry, the alarm stored (AlarmStore), an event on the
bus with the acting Context, the live-queue listeners told, the escalation timers re-armed.
Active alarms (not closed) live in memory; closed ones are read back from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.auth.permissions import area_centre, entity_centre
from hub.config.core import CoreConfig
from hub.core import CALLBACK_TYPE, Context, HubKey, callback
from hub.exceptions import ServiceValidationError

from .const import (
    CONF_AREA_ID,
    CONF_CENTRE,
    CONF_ESCALATE_AFTER,
    CONF_EVENT_DATA,
    CONF_EVENT_TYPE,
    CONF_ID,
    CONF_LATITUDE,
    CONF_LONGITUDE,
    CONF_NAME,
    CONF_RAISE_ON,
    CONF_SEVERITY,
    CONF_SHARED,
    CONF_SLA_ACK,
    CONF_SLA_RESOLVE,
    DEFAULT_SLA_ACK,
    DEFAULT_SLA_RESOLVE,
    EVENT_ALARM_ACKNOWLEDGED,
    EVENT_ALARM_ASSIGNED,
    EVENT_ALARM_CLEARED,
    EVENT_ALARM_CLOSED,
    EVENT_ALARM_ESCALATED,
    EVENT_ALARM_NOTE_ADDED,
    EVENT_ALARM_RAISED,
    EVENT_ALARM_RENOTIFIED,
    EVENT_ALARM_RERAISED,
    EVENT_ALARM_RESOLVED,
    EVENT_ALARM_SOP_STEP_DONE,
    EVENT_ALARM_SOP_STEP_SKIPPED,
    EVENT_ALARM_STARTED,
    LEVEL_ESCALATED,
    LEVEL_RENOTIFIED,
    STEP_DONE,
    STEP_FAILED,
    STEP_PENDING,
    STEP_SERVICE,
    STEP_SKIPPED,
    AlarmState,
    Severity,
)
from .escalation import REASON_NOT_ACKNOWLEDGED, REASON_NOT_RESOLVED, EscalationTimers
from .model import Alarm, StepProgress, TimelineEntry, check_transition, new_alarm_id
from .place import NO_PLACE, Place, async_alarm_place
from .sop import SopStep, render_step_data

if TYPE_CHECKING:
    from hub.core import Hub

    from .store import AlarmStore

__all__ = ["DATA_MANAGER", "AlarmManager", "AlarmType", "UpdateListener", "get_manager"]

_LOGGER = logging.getLogger(__name__)

# listener(alarm, "upsert" | "remove"): the live queue (websocket) follows these
UpdateListener = Callable[[Alarm, str], None]

DATA_MANAGER: HubKey[AlarmManager] = HubKey("alarm_manager")


@callback
def get_manager(hub: Hub) -> AlarmManager | None:
    """The running alarm manager, or None."""
    return hub.data.get(DATA_MANAGER)


@dataclass(frozen=True, slots=True)
class AlarmType:
    """A configured kind of alarm: its severity, SLAs, SOP, default centre."""

    id: str
    name: str
    severity: Severity = Severity.MAJOR
    sla_ack: float = DEFAULT_SLA_ACK
    sla_resolve: float = DEFAULT_SLA_RESOLVE
    escalate_after: float = DEFAULT_SLA_ACK
    steps: tuple[SopStep, ...] = ()
    centre: str | None = None
    shared: bool = False
    raise_on: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    place: Place = NO_PLACE  # where the alarm is when neither its raiser nor its entities say

    @classmethod
    def from_config(cls, config: Mapping[str, Any], steps: tuple[SopStep, ...]) -> AlarmType:
        """From a value validated by TYPE_SCHEMA and its loaded SOP steps."""
        return cls(id=config[CONF_ID], name=config[CONF_NAME], severity=Severity(config[CONF_SEVERITY]),
                   sla_ack=float(config[CONF_SLA_ACK]), sla_resolve=float(config[CONF_SLA_RESOLVE]),
                   escalate_after=float(config[CONF_ESCALATE_AFTER]), steps=steps,
                   centre=config.get(CONF_CENTRE), shared=bool(config[CONF_SHARED]),
                   raise_on=tuple((item[CONF_EVENT_TYPE], dict(item[CONF_EVENT_DATA]))
                                  for item in config[CONF_RAISE_ON]),
                   place=Place(config.get(CONF_AREA_ID), config.get(CONF_LATITUDE), config.get(CONF_LONGITUDE)))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (the frontend lists types)."""
        return {"id": self.id, "name": self.name, "severity": self.severity.value, "sla_ack_seconds": self.sla_ack,
                "sla_resolve_seconds": self.sla_resolve, "escalate_after_seconds": self.escalate_after,
                "centre": self.centre, "shared": self.shared, "sop": [step.as_dict() for step in self.steps]}


class AlarmManager:
    """All alarm operations. Methods raise ServiceValidationError with a reason an operator can read."""

    def __init__(self, hub: Hub, types: Mapping[str, AlarmType], store: AlarmStore | None) -> None:
        self.hub = hub
        self.types = dict(types)
        self.store = store
        self.alarms: dict[str, Alarm] = {}
        self._listeners: list[UpdateListener] = []
        self._timers = EscalationTimers(hub, self._on_ack_step, self._on_resolve_overdue)

    # ---- loading and listening

    async def async_load(self) -> int:
        """Bring back the alarms that were not closed (with timelines) and re-arm their timers."""
        if self.store is None:
            return 0
        for alarm in await self.store.async_load_active():
            self.alarms[alarm.id] = alarm
            self._timers.schedule(alarm, self.type_of(alarm))
        return len(self.alarms)

    @callback
    def async_listen(self, listener: UpdateListener) -> CALLBACK_TYPE:
        """Call `listener(alarm, 'upsert' | 'remove')` after every change; returns the remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @callback
    def async_shutdown(self) -> None:
        """Disarm every timer (unload)."""
        self._timers.cancel_all()
        self._listeners.clear()

    # ---- queries

    def type_of(self, alarm: Alarm) -> AlarmType:
        """The alarm's type (a default one if it was removed from the configuration since)."""
        return self.types.get(alarm.type) or AlarmType(alarm.type, alarm.type, alarm.severity)

    @callback
    def get(self, alarm_id: str) -> Alarm | None:
        """An active (not closed) alarm."""
        return self.alarms.get(alarm_id)

    @callback
    def active(self, centres: Iterable[str] | None = None) -> list[Alarm]:
        """Active alarms (of some centres), most severe first, then newest."""
        wanted = set(centres) if centres is not None else None
        found = [a for a in self.alarms.values() if wanted is None or a.centre in wanted]
        return sorted(found, key=Alarm.sort_key)

    async def async_wait_stored(self) -> None:
        """Return once every change made so far is committed (NotStoredError after a while when the
        database does not take them; they stay queued). Without the recorder there is nothing to wait for."""
        if self.store is not None:
            await self.store.async_wait_stored()

    async def async_get(self, alarm_id: str) -> Alarm | None:
        """An alarm, active or from the database."""
        alarm = self.alarms.get(alarm_id)
        if alarm is None and self.store is not None:
            alarm = await self.store.async_load(alarm_id)
        return alarm

    def _require(self, alarm_id: str) -> Alarm:
        alarm = self.alarms.get(alarm_id)
        if alarm is None:
            raise ServiceValidationError(f"No active alarm {alarm_id!r} (unknown, or closed)", path=["alarm_id"])
        return alarm

    # ---- raising

    def _centre_for(self, alarm_type: AlarmType, centre: str | None, area_id: str | None,
                    entities: tuple[str, ...], latitude: float | None, longitude: float | None) -> str:
        config = self.hub.config
        known = {c.id for c in config.control_centres} if config is not None else None
        if centre is not None:
            if known is not None and centre not in known:
                raise ServiceValidationError(f"Unknown control centre {centre!r}; configured: "
                                             f"{', '.join(sorted(known))}", path=["centre"])
            return centre
        if area_id is not None and (owner := area_centre(self.hub, area_id)) is not None:
            return owner
        for entity_id in entities:
            state = self.hub.states.get(entity_id)
            if state is not None and state.attributes.get("area_id") and \
                    (owner := entity_centre(self.hub, entity_id)) is not None:
                return owner
        if latitude is not None and longitude is not None:
            from hub.helpers.area_registry import DATA_REGISTRY as AREAS

            registry = self.hub.data.get(AREAS)
            areas = registry.areas_containing(latitude, longitude) if registry is not None else []
            if areas and (owner := area_centre(self.hub, areas[0].id)) is not None:
                return owner
        if alarm_type.centre is not None:
            return alarm_type.centre
        return (config or CoreConfig()).default_centre.id

    @callback
    def async_raise(self, alarm_type: str, *, context: Context | None = None, severity: str | None = None,
                    title: str | None = None, message: str | None = None, source: str | None = None,
                    source_event: str | None = None, entities: Iterable[str] = (),
                    latitude: float | None = None, longitude: float | None = None, area_id: str | None = None,
                    centre: str | None = None, shared: bool | None = None, dedup_key: str | None = None,
                    data: Mapping[str, Any] | None = None) -> Alarm:
        """Raise an alarm (or count another occurrence of an open one with the same type and dedup_key)."""
        kind = self.types.get(alarm_type)
        if kind is None:
            known = ", ".join(sorted(self.types)) or "none configured"
            raise ServiceValidationError(f"Unknown alarm type {alarm_type!r} (types: {known})", path=["type"])
        context = context or Context()
        level = Severity(severity) if severity is not None else kind.severity
        if dedup_key is not None:
            for existing in self.alarms.values():
                if existing.type == alarm_type and existing.dedup_key == dedup_key and existing.is_open:
                    return self._reraise(existing, level, context)
        ids = tuple(dict.fromkeys(entities))
        now = self.hub.clock.time()
        owner = self._centre_for(kind, centre, area_id, ids, latitude, longitude)
        area_id, latitude, longitude = async_alarm_place(self.hub, Place(area_id, latitude, longitude), ids,
                                                         kind.place)
        alarm = Alarm(
            id=new_alarm_id(), type=alarm_type, severity=level, title=title or kind.name,
            centre=owner, raised_ts=now,
            message=message, shared=kind.shared if shared is None else shared, source_event=source_event,
            source=source, source_context_id=context.parent_id or context.id, entities=ids, latitude=latitude,
            longitude=longitude, area_id=area_id, dedup_key=dedup_key, updated_ts=now, data=dict(data or {}),
            steps=[StepProgress(step) for step in kind.steps],
        )
        self.alarms[alarm.id] = alarm
        self._commit(alarm, "raised", context, EVENT_ALARM_RAISED, text=message)
        _LOGGER.info("Alarm %s raised: %s (%s) for %s", alarm.id, alarm.type, alarm.severity, alarm.centre)
        return alarm

    def _reraise(self, alarm: Alarm, severity: Severity, context: Context) -> Alarm:
        alarm.occurrences += 1
        if severity.rank < alarm.severity.rank:
            alarm.severity = severity
        self._commit(alarm, "reraised", context, EVENT_ALARM_RERAISED,
                     data={"occurrences": alarm.occurrences})
        return alarm

    # ---- the state machine

    def _move(self, alarm_id: str, action: str, context: Context | None) -> tuple[Alarm, Context]:
        alarm = self._require(alarm_id)
        alarm.state = check_transition(alarm, action)
        return alarm, context or Context()

    @callback
    def acknowledge(self, alarm_id: str, context: Context | None = None, note: str | None = None) -> Alarm:
        """raised -> acknowledged; the acting user becomes the assignee if there is none."""
        alarm, context = self._move(alarm_id, "acknowledge", context)
        alarm.acknowledged_ts = self.hub.clock.time()
        if alarm.assignee is None and context.user_id is not None:
            alarm.assignee = context.user_id
        self._commit(alarm, "acknowledged", context, EVENT_ALARM_ACKNOWLEDGED, text=note,
                     data={"response_seconds": alarm.response_seconds})
        return alarm

    @callback
    def start(self, alarm_id: str, context: Context | None = None, note: str | None = None) -> Alarm:
        """raised or acknowledged -> in_progress."""
        alarm, context = self._move(alarm_id, "start", context)
        self._started(alarm, context, note)
        return alarm

    def _started(self, alarm: Alarm, context: Context, note: str | None) -> None:
        alarm.started_ts = self.hub.clock.time()
        if alarm.assignee is None and context.user_id is not None:
            alarm.assignee = context.user_id
        self._commit(alarm, "started", context, EVENT_ALARM_STARTED, text=note,
                     data={"response_seconds": alarm.response_seconds})

    @callback
    def assign(self, alarm_id: str, assignee: str, context: Context | None = None,
               note: str | None = None) -> Alarm:
        """Give an open alarm to someone (a user id)."""
        from hub.auth.users import get_users

        alarm = self._require(alarm_id)
        if not alarm.is_open:
            raise ServiceValidationError(f"Cannot assign alarm {alarm.id}: it is {alarm.state.value}",
                                         path=["alarm_id"])
        users = get_users(self.hub)
        if users is not None and users.users and users.get(assignee) is None:
            raise ServiceValidationError(f"Unknown user {assignee!r}", path=["assignee"])
        previous, alarm.assignee = alarm.assignee, assignee
        self._commit(alarm, "assigned", context or Context(), EVENT_ALARM_ASSIGNED, text=note,
                     data={"assignee": assignee, "previous": previous})
        return alarm

    @callback
    def resolve(self, alarm_id: str, context: Context | None = None, note: str | None = None) -> Alarm:
        """acknowledged or in_progress -> resolved. SOP steps still pending are skipped (and the
        supervisor told), each recorded."""
        alarm = self._require(alarm_id)
        check_transition(alarm, "resolve")
        context = context or Context()
        for progress in alarm.steps:
            if progress.status in (STEP_PENDING, STEP_FAILED):
                self._skip(alarm, progress, "resolved with this step not done", context)
        alarm.state = AlarmState.RESOLVED
        alarm.resolved_ts = self.hub.clock.time()
        self._commit(alarm, "resolved", context, EVENT_ALARM_RESOLVED, text=note,
                     data={"resolution_seconds": alarm.resolution_seconds})
        return alarm

    @callback
    def clear(self, alarm_id: str | None = None, context: Context | None = None, note: str | None = None,
              *, alarm_type: str | None = None, dedup_key: str | None = None) -> Alarm:
        """The source says the condition is over: an open alarm -> cleared (by id, or type + dedup_key)."""
        if alarm_id is None:
            found = next((a for a in self.alarms.values() if a.type == alarm_type and a.dedup_key == dedup_key
                          and a.is_open), None)
            if found is None:
                raise ServiceValidationError(f"No open {alarm_type} alarm with dedup_key {dedup_key!r}",
                                             path=["dedup_key"])
            alarm_id = found.id
        alarm, context = self._move(alarm_id, "clear", context)
        alarm.cleared_ts = self.hub.clock.time()
        self._commit(alarm, "cleared", context, EVENT_ALARM_CLEARED, text=note)
        return alarm

    @callback
    def close(self, alarm_id: str, context: Context | None = None, note: str | None = None) -> Alarm:
        """resolved or cleared -> closed; it leaves the live queue (and memory)."""
        alarm, context = self._move(alarm_id, "close", context)
        alarm.closed_ts = self.hub.clock.time()
        self._commit(alarm, "closed", context, EVENT_ALARM_CLOSED, text=note)
        return alarm

    @callback
    def add_note(self, alarm_id: str, note: str, context: Context | None = None) -> Alarm:
        """Add a note to the timeline of an active alarm."""
        alarm = self._require(alarm_id)
        self._commit(alarm, "note", context or Context(), EVENT_ALARM_NOTE_ADDED, text=note)
        return alarm

    # ---- SOP steps

    async def async_complete_step(self, alarm_id: str, step_id: str, context: Context | None = None,
                                  note: str | None = None) -> Alarm:
        """Mark a step done; a service step runs its service call first (as the acting user).

        The alarm must be acknowledged or in progress (the first step done starts it). A failed
        call marks the step failed, is recorded, and is raised to the caller.
        """
        alarm = self._require(alarm_id)
        context = context or Context()
        progress = alarm.step(step_id)
        if progress.status in (STEP_DONE, STEP_SKIPPED):
            raise ServiceValidationError(f"Step {step_id!r} of alarm {alarm.id} is already {progress.status}",
                                         path=["step_id"])
        if alarm.state not in (AlarmState.ACKNOWLEDGED, AlarmState.IN_PROGRESS):
            raise ServiceValidationError(f"Cannot do SOP steps of alarm {alarm.id}: it is {alarm.state.value}, "
                                         "and steps need it acknowledged or in_progress", path=["alarm_id"])
        if progress.step.note_required and not (note or "").strip():
            raise ServiceValidationError(f"Step {step_id!r} ({progress.step.title}) needs a note",
                                         path=["note"])
        result: dict[str, Any] | None = None
        if progress.step.type == STEP_SERVICE and progress.step.service is not None:
            domain, _, service = progress.step.service.partition(".")
            data = render_step_data(progress.step.data, alarm)
            try:
                await self.hub.services.async_call(domain, service, data, blocking=True, context=context.child())
            except Exception as err:
                progress.status, progress.error = STEP_FAILED, str(err)
                progress.time_ts, progress.user_id = self.hub.clock.time(), context.user_id
                self._commit(alarm, "step_failed", context, None, text=note,
                             data={"step_id": step_id, "service": progress.step.service, "error": str(err)})
                raise
            result = {"service": progress.step.service, "service_data": data}
        if alarm.state is AlarmState.ACKNOWLEDGED:
            alarm.state = AlarmState.IN_PROGRESS
            self._started(alarm, context, None)
        progress.status, progress.error = STEP_DONE, None
        progress.time_ts, progress.user_id, progress.note = self.hub.clock.time(), context.user_id, note
        self._commit(alarm, "step_done", context, EVENT_ALARM_SOP_STEP_DONE, text=note,
                     data={"step_id": step_id, "step_title": progress.step.title, **(result or {})})
        return alarm

    @callback
    def skip_step(self, alarm_id: str, step_id: str, reason: str, context: Context | None = None) -> Alarm:
        """Skip a step with a reason: recorded, and the supervisor is told (`alarm_sop_step_skipped`)."""
        alarm = self._require(alarm_id)
        progress = alarm.step(step_id)
        if progress.status in (STEP_DONE, STEP_SKIPPED):
            raise ServiceValidationError(f"Step {step_id!r} of alarm {alarm.id} is already {progress.status}",
                                         path=["step_id"])
        if not alarm.is_open:
            raise ServiceValidationError(f"Cannot skip steps of alarm {alarm.id}: it is {alarm.state.value}",
                                         path=["alarm_id"])
        self._skip(alarm, progress, reason, context or Context())
        return alarm

    def _skip(self, alarm: Alarm, progress: StepProgress, reason: str, context: Context) -> None:
        progress.status = STEP_SKIPPED
        progress.time_ts, progress.user_id, progress.note = self.hub.clock.time(), context.user_id, reason
        self._commit(alarm, "step_skipped", context, EVENT_ALARM_SOP_STEP_SKIPPED, text=reason,
                     data={"step_id": progress.step.id, "step_title": progress.step.title,
                           "skipped_by": context.user_id, "notify": "supervisor"})

    # ---- escalation (timer callbacks)

    def _on_ack_step(self, alarm_id: str, step: str) -> None:
        alarm = self.alarms.get(alarm_id)
        if alarm is None or alarm.state is not AlarmState.RAISED:
            return
        try:
            if step == "renotify":
                alarm.escalation_level = LEVEL_RENOTIFIED
                self._commit(alarm, "renotified", Context(), EVENT_ALARM_RENOTIFIED,
                             data={"reason": REASON_NOT_ACKNOWLEDGED, "notify": "operators",
                                   "waiting_seconds": self.hub.clock.time() - alarm.raised_ts})
            else:
                alarm.escalation_level = LEVEL_ESCALATED
                self._commit(alarm, "escalated", Context(), EVENT_ALARM_ESCALATED,
                             data={"reason": REASON_NOT_ACKNOWLEDGED, "notify": "supervisor",
                                   "waiting_seconds": self.hub.clock.time() - alarm.raised_ts})
        except Exception:
            _LOGGER.exception("Error escalating alarm %s", alarm_id)

    def _on_resolve_overdue(self, alarm_id: str) -> None:
        alarm = self.alarms.get(alarm_id)
        if alarm is None or not alarm.is_open or alarm.resolve_escalated:
            return
        try:
            alarm.resolve_escalated = True
            self._commit(alarm, "escalated", Context(), EVENT_ALARM_ESCALATED,
                         data={"reason": REASON_NOT_RESOLVED, "notify": "supervisor",
                               "waiting_seconds": self.hub.clock.time() - alarm.raised_ts})
        except Exception:
            _LOGGER.exception("Error escalating alarm %s", alarm_id)

    # ---- the one way a change lands

    def _commit(self, alarm: Alarm, kind: str, context: Context, event_type: str | None, *,
                text: str | None = None, data: dict[str, Any] | None = None) -> None:
        now = self.hub.clock.time()
        alarm.updated_ts = now
        entry = TimelineEntry(now, kind, context.user_id, context.centre, context.id, text, data)
        alarm.timeline.append(entry)
        if self.store is not None:
            self.store.schedule(alarm, [entry])
        if alarm.state is AlarmState.CLOSED:
            self.alarms.pop(alarm.id, None)
            self._timers.cancel(alarm.id)
        else:
            self._timers.schedule(alarm, self.type_of(alarm))
        if event_type is not None:
            self.hub.bus.async_fire(event_type, {**alarm.summary(), **(data or {})}, context=context)
        update = "remove" if alarm.state is AlarmState.CLOSED else "upsert"
        for listener in list(self._listeners):
            try:
                listener(alarm, update)
            except Exception:
                _LOGGER.exception("Error in an alarm listener")

    async def async_stats(self, alarm_type: str | None = None, centre: str | None = None,
                          since: float | None = None) -> dict[str, Any]:
        """Response and resolution times per type (count, mean, median, p90, max) and SLA breaches."""
        if self.store is None:
            raise ServiceValidationError("Alarm statistics need the recorder")
        sla = {kind.id: (kind.sla_ack, kind.sla_resolve) for kind in self.types.values()}
        return await self.store.async_stats(alarm_type, centre, since, sla)
