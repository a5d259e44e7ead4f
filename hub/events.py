"""Context, Event and the EventBus."""

from __future__ import annotations

import enum
import functools
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .const import (
    EVENT_STATE_CHANGED,
    MATCH_ALL,
    MAX_LENGTH_EVENT_TYPE,
)
from .exceptions import (
    HubError,
)
from .jobs import CALLBACK_TYPE, HubJob, JobType, callback

if TYPE_CHECKING:
    from .core import Hub

__all__ = [
    "Context",
    "Event",
    "EventBus",
    "EventFilter",
    "EventOrigin",
    "ReadOnlyDict",
]

_LOGGER = logging.getLogger(__name__)


# --------------------------------------------------------------------------- context


def _new_id() -> str:
    """A sortable 128-bit id in hex: 48 bits of milliseconds, then 80 random bits (UUIDv7-like)."""
    return f"{int(time.time() * 1000):012x}{random.getrandbits(80):020x}"


class Context:
    """Who did what, from which control centre, because of what (parent_id links causes)."""

    __slots__ = ("_id", "centre", "origin_event", "parent_id", "user_id")

    def __init__(self, user_id: str | None = None, parent_id: str | None = None,
                 id: str | None = None, centre: str | None = None) -> None:
        self._id = id
        self.user_id = user_id
        self.parent_id = parent_id
        self.centre = centre
        self.origin_event: Event | None = None

    @property
    def id(self) -> str:
        """The context id, generated on first use."""
        if self._id is None:
            self._id = _new_id()
        return self._id

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able description."""
        return {"id": self.id, "parent_id": self.parent_id, "user_id": self.user_id, "centre": self.centre}

    def child(self) -> Context:
        """A new context caused by this one, acting for the same user and centre."""
        return Context(user_id=self.user_id, parent_id=self.id, centre=self.centre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Context id={self.id} user={self.user_id} centre={self.centre} parent={self.parent_id}>"


class EventOrigin(enum.Enum):
    """Where an event came from: this hub, or a peer centre through federation."""

    local = "local"
    remote = "remote"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------- read-only dict


def _readonly(*_: Any, **__: Any) -> Any:
    raise RuntimeError("Cannot modify a read-only dict")


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses modification; cheaper than MappingProxyType and still a dict."""

    __setitem__ = _readonly
    __delitem__ = _readonly
    pop = _readonly
    popitem = _readonly
    clear = _readonly
    update = _readonly
    setdefault = _readonly
    __ior__ = _readonly


_EMPTY_RO: ReadOnlyDict = ReadOnlyDict()


# --------------------------------------------------------------------------- events


class Event:
    """Something that happened: a type, data, when, where from, and the Context that caused it."""

    __slots__ = ("_as_dict", "context", "data", "event_type", "origin", "time_fired_ts")

    def __init__(self, event_type: str, data: Mapping[str, Any] | None = None,
                 origin: EventOrigin = EventOrigin.local, time_fired_ts: float | None = None,
                 context: Context | None = None) -> None:
        self.event_type = event_type
        self.data: Mapping[str, Any] = data if data is not None else _EMPTY_RO
        self.origin = origin
        self.time_fired_ts = time_fired_ts if time_fired_ts is not None else time.time()
        if context is None:
            context = Context()
            context.origin_event = self
        self.context = context
        self._as_dict: dict[str, Any] | None = None

    @property
    def time_fired(self) -> datetime:
        """When the event was fired, as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time_fired_ts, UTC)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able description (cached: events are immutable once fired)."""
        if self._as_dict is None:
            data = self.data
            if self.event_type == EVENT_STATE_CHANGED:
                data = {
                    "entity_id": data["entity_id"],
                    "old_state": data["old_state"].as_dict() if data.get("old_state") else None,
                    "new_state": data["new_state"].as_dict() if data.get("new_state") else None,
                }
            self._as_dict = {
                "event_type": self.event_type,
                "data": dict(data),
                "origin": self.origin.value,
                "time_fired": self.time_fired.isoformat(),
                "context": self.context.as_dict(),
            }
        return self._as_dict

    def __repr__(self) -> str:
        return f"<Event {self.event_type}[{self.origin.value[0].upper()}]: {dict(self.data)}>"


EventFilter = Callable[[Mapping[str, Any]], bool]
_Listener = tuple[HubJob[Any], EventFilter | None]


class EventBus:
    """Fire events and listen to them. Callback listeners run inline; coroutine listeners as tasks.

    Every `async_listen*` returns its remover. An exception in one listener is logged with the
    event type and never reaches the others or the caller of `async_fire`.
    """

    __slots__ = ("_hub", "_listeners", "_match_all", "_now")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._listeners: dict[str, list[_Listener]] = {}
        self._match_all: list[_Listener] = []
        self._now = hub.clock.time  # events carry the hub clock's time (FakeClock in tests)

    @callback
    def async_listeners(self) -> dict[str, int]:
        """Number of listeners per event type."""
        result = {key: len(value) for key, value in self._listeners.items()}
        if self._match_all:
            result[MATCH_ALL] = len(self._match_all)
        return result

    def fire(self, event_type: str, data: Mapping[str, Any] | None = None,
             origin: EventOrigin = EventOrigin.local, context: Context | None = None) -> None:
        """Fire an event from any thread."""
        self._hub.loop.call_soon_threadsafe(
            functools.partial(self.async_fire, event_type, data, origin, context)
        )

    @callback
    def async_fire(self, event_type: str, data: Mapping[str, Any] | None = None,
                   origin: EventOrigin = EventOrigin.local, context: Context | None = None,
                   time_fired: float | None = None) -> Event:
        """Fire an event; must be called in the loop. Returns the Event that was dispatched."""
        if len(event_type) > MAX_LENGTH_EVENT_TYPE:
            raise HubError(f"Event type {event_type[:20]}... is longer than {MAX_LENGTH_EVENT_TYPE}")
        event = Event(event_type, data, origin, time_fired if time_fired is not None else self._now(), context)
        listeners = self._listeners.get(event_type)
        if listeners:
            self._dispatch(event, listeners)
        if self._match_all:
            self._dispatch(event, self._match_all)
        return event

    @callback
    def async_fire_event(self, event: Event) -> None:
        """Dispatch an Event object built elsewhere (state machine, federation)."""
        listeners = self._listeners.get(event.event_type)
        if listeners:
            self._dispatch(event, listeners)
        if self._match_all:
            self._dispatch(event, self._match_all)

    def _dispatch(self, event: Event, listeners: list[_Listener]) -> None:
        # A copy only when someone removes a listener while we iterate: removers replace the list.
        for job, event_filter in listeners:
            if event_filter is not None:
                try:
                    if not event_filter(event.data):
                        continue
                except Exception:
                    _LOGGER.exception("Error in event filter for %s (%s)", event.event_type, job.name)
                    continue
            if job.job_type is JobType.Callback:
                try:
                    job.target(event)
                except Exception:
                    _LOGGER.exception("Error in listener %s for event %s", job.name, event.event_type)
            else:
                self._hub.async_run_hub_job(job, event)

    @callback
    def async_listen(self, event_type: str, listener: Callable[[Event], Any],
                     event_filter: EventFilter | None = None) -> CALLBACK_TYPE:
        """Listen for `event_type` (or MATCH_ALL). Returns the function that removes the listener."""
        entry: _Listener = (HubJob(listener), event_filter)
        if event_type == MATCH_ALL:
            self._match_all = [*self._match_all, entry]
        else:
            self._listeners[event_type] = [*self._listeners.get(event_type, ()), entry]

        @callback
        def remove() -> None:
            self._remove(event_type, entry)

        return remove

    def _remove(self, event_type: str, entry: _Listener) -> None:
        if event_type == MATCH_ALL:
            self._match_all = [item for item in self._match_all if item is not entry]
            return
        current = self._listeners.get(event_type)
        if not current:
            return
        remaining = [item for item in current if item is not entry]
        if remaining:
            self._listeners[event_type] = remaining
        else:
            del self._listeners[event_type]

    @callback
    def async_listen_once(self, event_type: str, listener: Callable[[Event], Any]) -> CALLBACK_TYPE:
        """Listen for the next `event_type` only. Returns the remover (harmless after it fired)."""
        fired = False
        remove: CALLBACK_TYPE | None = None
        job = HubJob(listener)

        @callback
        def _once(event: Event) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            if remove is not None:
                remove()
            if job.job_type is JobType.Callback:
                job.target(event)
            else:
                self._hub.async_run_hub_job(job, event)

        remove = self.async_listen(event_type, _once)
        return remove


