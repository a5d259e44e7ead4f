"""Entity ids, State and the StateMachine."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .const import (
    EVENT_STATE_CHANGED,
    MAX_LENGTH_STATE_STATE,
)
from .events import _EMPTY_RO, Context, Event, EventBus, EventOrigin, ReadOnlyDict
from .exceptions import (
    HubError,
    InvalidEntityId,
    InvalidStateError,
)
from .jobs import callback

if TYPE_CHECKING:
    from .core import Hub

__all__ = [
    "State",
    "StateMachine",
    "split_entity_id",
    "valid_domain",
    "valid_entity_id",
]

_LOGGER = logging.getLogger(__name__)


# --------------------------------------------------------------------------- states

_VALID_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")
_VALID_DOMAIN = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)$")
_entity_id_cache: dict[str, bool] = {}


def valid_entity_id(entity_id: str) -> bool:
    """Whether `entity_id` is `domain.object_id` in lower-case letters, digits and single underscores."""
    cached = _entity_id_cache.get(entity_id)
    if cached is None:
        cached = isinstance(entity_id, str) and _VALID_ENTITY_ID.match(entity_id) is not None
        if len(_entity_id_cache) < 100_000:
            _entity_id_cache[entity_id] = cached
    return cached


def valid_domain(domain: str) -> bool:
    """Whether `domain` is a valid domain name."""
    return isinstance(domain, str) and _VALID_DOMAIN.match(domain) is not None


def split_entity_id(entity_id: str) -> tuple[str, str]:
    """Split `domain.object_id`."""
    domain, _, object_id = entity_id.partition(".")
    if not domain or not object_id:
        raise InvalidEntityId(f"Invalid entity id {entity_id!r}: expected 'domain.object_id'")
    return domain, object_id


class State:
    """The state of one entity at one moment: immutable; a new write makes a new State."""

    __slots__ = (
        "_as_dict",
        "attributes",
        "context",
        "domain",
        "entity_id",
        "last_changed_ts",
        "last_updated_ts",
        "object_id",
        "state",
    )

    def __init__(self, entity_id: str, state: str, attributes: Mapping[str, Any] | None = None,
                 last_changed_ts: float | None = None, last_updated_ts: float | None = None,
                 context: Context | None = None, validate_entity_id: bool = True) -> None:
        if validate_entity_id and not valid_entity_id(entity_id):
            raise InvalidEntityId(
                f"Invalid entity id {entity_id!r}: expected 'domain.object_id' in lower-case "
                "letters, digits and underscores"
            )
        if len(state) > MAX_LENGTH_STATE_STATE:
            raise InvalidStateError(
                f"State of {entity_id} is {len(state)} characters long; "
                f"the maximum is {MAX_LENGTH_STATE_STATE}"
            )
        self.entity_id = entity_id
        self.state = state
        if attributes is None:
            self.attributes: ReadOnlyDict = _EMPTY_RO
        elif type(attributes) is ReadOnlyDict:
            self.attributes = attributes
        else:
            self.attributes = ReadOnlyDict(attributes)
        self.last_updated_ts = last_updated_ts if last_updated_ts is not None else time.time()
        self.last_changed_ts = last_changed_ts if last_changed_ts is not None else self.last_updated_ts
        self.context = context if context is not None else Context()
        self.domain, _, self.object_id = entity_id.partition(".")
        self._as_dict: dict[str, Any] | None = None

    @property
    def last_changed(self) -> datetime:
        """When the state string last changed."""
        return datetime.fromtimestamp(self.last_changed_ts, UTC)

    @property
    def last_updated(self) -> datetime:
        """When the state or any attribute last changed."""
        return datetime.fromtimestamp(self.last_updated_ts, UTC)

    @property
    def name(self) -> str:
        """Friendly name, or the object id with spaces."""
        name = self.attributes.get("friendly_name")
        return str(name) if name else self.object_id.replace("_", " ")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able description (cached)."""
        if self._as_dict is None:
            self._as_dict = {
                "entity_id": self.entity_id,
                "state": self.state,
                "attributes": dict(self.attributes),
                "last_changed": self.last_changed.isoformat(),
                "last_updated": self.last_updated.isoformat(),
                "context": self.context.as_dict(),
            }
        return self._as_dict

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, State)
            and self.entity_id == other.entity_id
            and self.state == other.state
            and self.attributes == other.attributes
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<state {self.entity_id}={self.state}; {dict(self.attributes)}>"


class StateMachine:
    """The current state of every entity. Writes fire `state_changed` only when something changed."""

    __slots__ = ("_bus", "_hub", "_now", "_reservations", "_states")

    def __init__(self, hub: Hub, bus: EventBus) -> None:
        self._hub = hub
        self._bus = bus
        self._states: dict[str, State] = {}
        self._now = hub.clock.time  # FakeClock in tests and rule replays, so timestamps follow it
        self._reservations: set[str] = set()

    @callback
    def async_entity_ids(self, domain_filter: str | Iterable[str] | None = None) -> list[str]:
        """Entity ids, optionally only those of some domains."""
        if domain_filter is None:
            return list(self._states)
        domains = {domain_filter} if isinstance(domain_filter, str) else set(domain_filter)
        return [eid for eid, st in self._states.items() if st.domain in domains]

    @callback
    def async_all(self, domain_filter: str | Iterable[str] | None = None) -> list[State]:
        """All current states, optionally only those of some domains."""
        if domain_filter is None:
            return list(self._states.values())
        domains = {domain_filter} if isinstance(domain_filter, str) else set(domain_filter)
        return [st for st in self._states.values() if st.domain in domains]

    def get(self, entity_id: str) -> State | None:
        """The current state of `entity_id`, or None. Safe from any context (reads memory only)."""
        return self._states.get(entity_id)

    def is_state(self, entity_id: str, state: str) -> bool:
        """Whether `entity_id` exists and is `state`."""
        current = self._states.get(entity_id)
        return current is not None and current.state == state

    @callback
    def async_available(self, entity_id: str) -> bool:
        """Whether an entity id is free (neither set nor reserved)."""
        return entity_id not in self._states and entity_id not in self._reservations

    @callback
    def async_reserve(self, entity_id: str) -> None:
        """Reserve an entity id for an entity that will write its state soon."""
        if not self.async_available(entity_id):
            raise HubError(f"Entity id {entity_id} is already in use")
        self._reservations.add(entity_id)

    @callback
    def async_remove(self, entity_id: str, context: Context | None = None) -> bool:
        """Remove an entity's state; fires `state_changed` with new_state None. Returns whether it existed."""
        self._reservations.discard(entity_id)
        old = self._states.pop(entity_id, None)
        if old is None:
            return False
        self._bus.async_fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": None},
            context=context,
        )
        return True

    def set(self, entity_id: str, new_state: str, attributes: Mapping[str, Any] | None = None,
            force_update: bool = False, context: Context | None = None) -> None:
        """Set a state from any thread."""
        self._hub.loop.call_soon_threadsafe(
            functools.partial(self.async_set, entity_id, new_state, attributes, force_update, context)
        )

    @callback
    def async_set(self, entity_id: str, new_state: str, attributes: Mapping[str, Any] | None = None,
                  force_update: bool = False, context: Context | None = None,
                  timestamp: float | None = None) -> State | None:
        """Write a state. Returns the new State, or None when nothing changed and nothing was fired."""
        old = self._states.get(entity_id)
        if old is None:
            if not valid_entity_id(entity_id):
                raise InvalidEntityId(
                    f"Invalid entity id {entity_id!r}: expected 'domain.object_id' in lower-case "
                    "letters, digits and underscores"
                )
            same_state = False
            last_changed = None
        else:
            same_state = old.state == new_state and not force_update
            if same_state:
                attrs_now = attributes if attributes is not None else _EMPTY_RO
                if attrs_now == old.attributes:
                    return None
            last_changed = old.last_changed_ts if same_state else None
        if not isinstance(new_state, str):
            raise InvalidStateError(f"State of {entity_id} must be a string, got {type(new_state).__name__}")
        now = timestamp if timestamp is not None else self._now()
        if context is None:
            context = Context()
        state = State(
            entity_id, new_state, attributes,
            last_changed if last_changed is not None else now, now, context,
            validate_entity_id=False,
        )
        self._states[entity_id] = state
        self._reservations.discard(entity_id)
        self._bus.async_fire_event(
            Event(
                EVENT_STATE_CHANGED,
                {"entity_id": entity_id, "old_state": old, "new_state": state},
                EventOrigin.local,
                now,
                context,
            )
        )
        return state

    @callback
    def async_restore(self, state: State) -> None:
        """Put a State back without firing (restore after restart, remote import bootstrap)."""
        self._states[state.entity_id] = state


