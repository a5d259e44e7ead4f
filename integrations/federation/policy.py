"""What this centre shares (events, states, alarms) and what its peers may ask it to actuate."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .const import (
    CONF_ACTUATION,
    CONF_ALARMS,
    CONF_AREAS,
    CONF_ENTITY_ID,
    CONF_EVENT_TYPE,
    CONF_EVENTS,
    CONF_INCIDENTS,
    CONF_PEERS,
    CONF_SERVICES,
    CONF_SHARE,
    CONF_SHARED_ONLY,
    CONF_STATES,
    CONF_TYPE,
    NEVER_SHARED_EVENTS,
    NEVER_SHARED_PREFIXES,
)

__all__ = ["ActuationPolicy", "SharingPolicy"]


def _match(pattern: str | None, value: str | None) -> bool:
    if pattern is None:
        return True
    return value is not None and fnmatch.fnmatchcase(value.lower(), pattern)


def _in_areas(areas: frozenset[str] | None, area: Any) -> bool:
    return areas is None or (isinstance(area, str) and area in areas)


def _entities(data: Mapping[str, Any]) -> list[str]:
    raw = data.get("entity_id")
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [str(item) for item in raw]
    return []


@dataclass(frozen=True, slots=True)
class _EventRule:
    event_type: str
    entity_id: str | None
    areas: frozenset[str] | None

    def matches(self, event_type: str, data: Mapping[str, Any]) -> bool:
        if not fnmatch.fnmatchcase(event_type, self.event_type):
            return False
        if self.entity_id is not None and not any(_match(self.entity_id, e) for e in _entities(data)):
            return False
        return _in_areas(self.areas, data.get("area_id", data.get("area")))


@dataclass(frozen=True, slots=True)
class _StateRule:
    entity_id: str
    areas: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _AlarmRule:
    type: str
    areas: frozenset[str] | None
    shared_only: bool


def _areas(rule: Mapping[str, Any]) -> frozenset[str] | None:
    areas = rule.get(CONF_AREAS)
    return frozenset(areas) if areas is not None else None


class SharingPolicy:
    """Which events, states and alarms leave this centre (the first matching rule shares).

    Events of the hub's own machinery (state changes, service calls, start/stop), federation's
    own and alarm events (alarms travel whole, on their own channel) are never shared as events.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        share = config.get(CONF_SHARE) or {}
        self._events = tuple(_EventRule(r[CONF_EVENT_TYPE], r.get(CONF_ENTITY_ID), _areas(r))
                             for r in share.get(CONF_EVENTS, ()))
        self._states = tuple(_StateRule(r[CONF_ENTITY_ID], _areas(r)) for r in share.get(CONF_STATES, ()))
        self._alarms = tuple(_AlarmRule(r.get(CONF_TYPE, "*"), _areas(r), r.get(CONF_SHARED_ONLY, True))
                             for r in share.get(CONF_ALARMS, ()))
        self._incidents = tuple(bool(r.get(CONF_SHARED_ONLY, True)) for r in share.get(CONF_INCIDENTS, ()))
        self._event_types: dict[str, bool] = {}  # event type -> could any rule match (cache)

    @property
    def shares_states(self) -> bool:
        """Whether any state rule exists (no listener otherwise)."""
        return bool(self._states)

    def event_type_candidate(self, event_type: str) -> bool:
        """Whether events of this type can be shared at all (cached: the bus calls this for every event)."""
        known = self._event_types.get(event_type)
        if known is None:
            known = not (event_type in NEVER_SHARED_EVENTS or event_type.startswith(NEVER_SHARED_PREFIXES)) and \
                any(fnmatch.fnmatchcase(event_type, rule.event_type) for rule in self._events)
            if len(self._event_types) < 10_000:
                self._event_types[event_type] = known
        return known

    def shares_event(self, event_type: str, data: Mapping[str, Any]) -> bool:
        """Whether this event leaves."""
        return self.event_type_candidate(event_type) and any(r.matches(event_type, data) for r in self._events)

    def shares_state(self, entity_id: str, area_id: Any) -> bool:
        """Whether this entity's state leaves."""
        return any(_match(rule.entity_id, entity_id) and _in_areas(rule.areas, area_id) for rule in self._states)

    def shares_alarm(self, alarm: Mapping[str, Any]) -> bool:
        """Whether this alarm (its `summary()`/`as_dict()`) leaves."""
        for rule in self._alarms:
            if rule.shared_only and not alarm.get("shared"):
                continue
            if _match(rule.type, alarm.get("type")) and _in_areas(rule.areas, alarm.get("area_id")):
                return True
        return False


    def shares_incident(self, incident: Mapping[str, Any]) -> bool:
        """Whether this incident (IncidentManager's dict) leaves: marked shared, or a rule takes every one."""
        return any(not shared_only or bool(incident.get("shared")) for shared_only in self._incidents)


@dataclass(frozen=True, slots=True)
class _ActuationRule:
    entity_id: str
    services: tuple[str, ...]
    peers: frozenset[str] | None


class ActuationPolicy:
    """Which of this centre's devices a peer may ask it to actuate, with which services.

    Allowed is only the first step: the owner's operator still confirms or refuses every request.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._rules = tuple(
            _ActuationRule(r[CONF_ENTITY_ID], tuple(r[CONF_SERVICES]),
                           frozenset(r[CONF_PEERS]) if r.get(CONF_PEERS) is not None else None)
            for r in config.get(CONF_ACTUATION, ())
        )

    def allows(self, peer: str, entity_id: str, service: str) -> bool:
        """Whether `peer` may ask for `service` on `entity_id`."""
        return any(
            (rule.peers is None or peer in rule.peers) and _match(rule.entity_id, entity_id)
            and any(fnmatch.fnmatchcase(service, pattern) for pattern in rule.services)
            for rule in self._rules
        )

    def allowed_entities(self, peer: str, entity_ids: Iterable[str]) -> list[str]:
        """Those of `entity_ids` a peer may ask about at all (any service)."""
        return [e for e in entity_ids if any((r.peers is None or peer in r.peers) and _match(r.entity_id, e)
                                             for r in self._rules)]
