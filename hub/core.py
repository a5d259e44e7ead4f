"""The hub core: Context, Event, EventBus, State, StateMachine, ServiceRegistry and the Hub that owns them."""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import os
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import voluptuous as vol

from .clock import Clock, SystemClock
from .const import (
    EVENT_CALL_SERVICE,
    EVENT_HUB_CLOSE,
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
    EVENT_SERVICE_REGISTERED,
    EVENT_SERVICE_REMOVED,
    EVENT_STATE_CHANGED,
    MATCH_ALL,
    MAX_LENGTH_EVENT_TYPE,
    MAX_LENGTH_STATE_STATE,
)
from .exceptions import (
    HubError,
    InvalidEntityId,
    InvalidStateError,
    ServiceCallTimeout,
    ServiceNotFound,
    ServiceValidationError,
)

if TYPE_CHECKING:
    from .config.core import CoreConfig

__all__ = [
    "CALLBACK_TYPE",
    "Context",
    "Event",
    "EventBus",
    "EventOrigin",
    "Hub",
    "HubJob",
    "HubKey",
    "HubState",
    "ReadOnlyDict",
    "ServiceCall",
    "ServiceRegistry",
    "State",
    "StateMachine",
    "SupportsResponse",
    "callback",
    "is_callback",
    "split_entity_id",
    "valid_entity_id",
]

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")
_R = TypeVar("_R")
CALLBACK_TYPE = Callable[[], None]


# --------------------------------------------------------------------------- callbacks and jobs


def callback(func: _T) -> _T:
    """Mark a function as safe to run in the event loop without awaiting (no I/O, no blocking)."""
    try:
        setattr(func, "_hub_callback", True)  # noqa: B010
    except AttributeError:  # builtins and bound methods of builtins: wrap them
        target = cast("Callable[..., Any]", func)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return target(*args, **kwargs)

        wrapper._hub_callback = True  # type: ignore[attr-defined]
        return cast("_T", wrapper)
    return func


def is_callback(func: Callable[..., Any]) -> bool:
    """Whether `func` was marked with @callback."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "_hub_callback", False) is True


class JobType(enum.Enum):
    """How a HubJob runs: inline in the loop, as a task, or in the executor."""

    Callback = 1
    Coroutinefunction = 2
    Executor = 3


def _job_type(target: Callable[..., Any]) -> JobType:
    check = target
    while isinstance(check, functools.partial):
        check = check.func
    if asyncio.iscoroutinefunction(check):
        return JobType.Coroutinefunction
    if is_callback(check):
        return JobType.Callback
    return JobType.Executor


class HubJob(Generic[_R]):
    """A target with its job type decided once, so dispatch costs one comparison."""

    __slots__ = ("job_type", "name", "target")

    def __init__(self, target: Callable[..., _R], name: str | None = None) -> None:
        self.target = target
        self.job_type = _job_type(target)
        self.name = name or getattr(target, "__qualname__", repr(target))

    def __repr__(self) -> str:
        return f"<HubJob {self.job_type.name} {self.name}>"


# --------------------------------------------------------------------------- context


_CTX_COUNTER = 0


def _new_id() -> str:
    """A sortable 128-bit id in hex: 48 bits of milliseconds, then 80 random bits (UUIDv7-like)."""
    return f"{int(time.time() * 1000):012x}{random.getrandbits(80):020x}"


class Context:
    """Who did what, from which control centre, because of what (parent_id links causes)."""

    __slots__ = ("_id", "centre", "origin_event", "parent_id", "user_id")

    def __init__(self, user_id: str | None = None, parent_id: str | None = None,
                 id: str | None = None, centre: str | None = None) -> None:  # noqa: A002
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
    __ior__ = _readonly  # type: ignore[assignment]


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

    __slots__ = ("_hub", "_listeners", "_match_all")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._listeners: dict[str, list[_Listener]] = {}
        self._match_all: list[_Listener] = []

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
        event = Event(event_type, data, origin, time_fired, context)
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
                f"State of {entity_id} is {len(state)} characters long; the maximum is {MAX_LENGTH_STATE_STATE}"
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

    __slots__ = ("_bus", "_hub", "_reservations", "_states")

    def __init__(self, hub: Hub, bus: EventBus) -> None:
        self._hub = hub
        self._bus = bus
        self._states: dict[str, State] = {}
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
        now = timestamp if timestamp is not None else time.time()
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


# --------------------------------------------------------------------------- services


class SupportsResponse(enum.Enum):
    """Whether a service returns response data."""

    NONE = "none"
    OPTIONAL = "optional"
    ONLY = "only"


class ServiceCall:
    """One call of a service: who called it (context), with what data."""

    __slots__ = ("context", "data", "domain", "hub", "return_response", "service")

    def __init__(self, hub: Hub, domain: str, service: str, data: Mapping[str, Any] | None,
                 context: Context, return_response: bool = False) -> None:
        self.hub = hub
        self.domain = domain
        self.service = service
        self.data: ReadOnlyDict = ReadOnlyDict(data or {})
        self.context = context
        self.return_response = return_response

    def __repr__(self) -> str:
        return f"<ServiceCall {self.domain}.{self.service} context={self.context.id}: {dict(self.data)}>"


ServiceResponse = dict[str, Any] | None
ServiceHandler = Callable[[ServiceCall], Any]
PermissionHook = Callable[[ServiceCall], Awaitable[None] | None]


@dataclass(slots=True)
class Service:
    """A registered service: its handler, schema and whether it answers."""

    job: HubJob[Any]
    schema: vol.Schema | None
    domain: str
    service: str
    supports_response: SupportsResponse
    description: str = ""


class ServiceRegistry:
    """Register and call `domain.service`. Bad data raises ServiceValidationError naming the key."""

    __slots__ = ("_hub", "_permission_hooks", "_services")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._services: dict[str, dict[str, Service]] = {}
        self._permission_hooks: list[PermissionHook] = []

    @callback
    def async_services(self) -> dict[str, dict[str, Service]]:
        """A copy of the registered services by domain."""
        return {domain: dict(services) for domain, services in self._services.items()}

    @callback
    def has_service(self, domain: str, service: str) -> bool:
        """Whether `domain.service` is registered."""
        return service.lower() in self._services.get(domain.lower(), {})

    @callback
    def async_register(self, domain: str, service: str, handler: ServiceHandler,
                       schema: vol.Schema | None = None,
                       supports_response: SupportsResponse = SupportsResponse.NONE,
                       description: str = "") -> CALLBACK_TYPE:
        """Register a service; returns its remover. Re-registering replaces the handler."""
        domain = domain.lower()
        service = service.lower()
        if not valid_domain(domain) or not valid_domain(service):
            raise HubError(f"Invalid service name {domain}.{service}")
        entry = Service(HubJob(handler, f"{domain}.{service}"), schema, domain, service,
                        supports_response, description)
        self._services.setdefault(domain, {})[service] = entry
        self._hub.bus.async_fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service})

        @callback
        def remove() -> None:
            self.async_remove(domain, service, entry)

        return remove

    @callback
    def async_remove(self, domain: str, service: str, entry: Service | None = None) -> None:
        """Remove a service (only `entry` if given, so an old remover cannot remove a newer one)."""
        services = self._services.get(domain)
        if not services or service not in services:
            return
        if entry is not None and services[service] is not entry:
            return
        del services[service]
        if not services:
            del self._services[domain]
        self._hub.bus.async_fire(EVENT_SERVICE_REMOVED, {"domain": domain, "service": service})

    @callback
    def async_add_permission_hook(self, hook: PermissionHook) -> CALLBACK_TYPE:
        """Add a hook that sees every call before its handler and may raise Unauthorized."""
        self._permission_hooks.append(hook)

        @callback
        def remove() -> None:
            if hook in self._permission_hooks:
                self._permission_hooks.remove(hook)

        return remove

    def _lookup(self, domain: str, service: str) -> Service:
        try:
            return self._services[domain][service]
        except KeyError:
            domain_l, service_l = domain.lower(), service.lower()
            try:
                return self._services[domain_l][service_l]
            except KeyError:
                raise ServiceNotFound(domain, service) from None

    @callback
    def async_validate(self, domain: str, service: str,
                       service_data: Mapping[str, Any] | None) -> tuple[Service, dict[str, Any]]:
        """Look up a service and validate data against its schema without calling it."""
        handler = self._lookup(domain, service)
        data = dict(service_data) if service_data else {}
        if handler.schema is not None:
            try:
                data = handler.schema(data)
            except vol.MultipleInvalid as err:
                raise _humanize_service_error(domain, service, err) from err
            except vol.Invalid as err:
                raise _humanize_service_error(domain, service, vol.MultipleInvalid([err])) from err
        return handler, data

    async def async_call(self, domain: str, service: str,
                         service_data: Mapping[str, Any] | None = None, blocking: bool = True,
                         context: Context | None = None, timeout: float | None = None,
                         return_response: bool = False) -> ServiceResponse:
        """Call a service. Raises ServiceNotFound, ServiceValidationError, Unauthorized, ServiceCallTimeout.

        blocking=False returns as soon as the handler is scheduled. return_response needs blocking.
        """
        handler, data = self.async_validate(domain, service, service_data)
        if return_response:
            if not blocking:
                raise ServiceValidationError("A service call that returns a response must be blocking")
            if handler.supports_response is SupportsResponse.NONE:
                raise ServiceValidationError(f"Service {domain}.{service} does not return a response")
        elif handler.supports_response is SupportsResponse.ONLY:
            raise ServiceValidationError(f"Service {domain}.{service} must be called with return_response")
        if context is None:
            context = Context()
        call = ServiceCall(self._hub, handler.domain, handler.service, data, context, return_response)
        for hook in self._permission_hooks:
            result = hook(call)
            if result is not None:
                await result
        self._hub.bus.async_fire(
            EVENT_CALL_SERVICE,
            {"domain": handler.domain, "service": handler.service, "service_data": data},
            context=context,
        )
        coro = self._execute(handler, call)
        if not blocking:
            self._hub.async_create_task(coro, f"service {domain}.{service}")
            return None
        if timeout is None:
            response = await coro
        else:
            task = self._hub.async_create_task(coro, f"service {domain}.{service}")
            try:
                response = await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                raise ServiceCallTimeout(
                    f"Service {domain}.{service} did not finish within {timeout} s (it keeps running)"
                ) from None
        if not return_response:
            return None
        if response is not None and not isinstance(response, dict):
            raise HubError(f"Service {domain}.{service} returned {type(response).__name__}, expected a dict")
        return response

    async def _execute(self, handler: Service, call: ServiceCall) -> Any:
        job = handler.job
        if job.job_type is JobType.Callback:
            return job.target(call)
        if job.job_type is JobType.Coroutinefunction:
            return await job.target(call)
        return await self._hub.async_add_executor_job(job.target, call)


def _humanize_service_error(domain: str, service: str, err: vol.MultipleInvalid) -> ServiceValidationError:
    parts = []
    for error in err.errors:
        path = ".".join(str(p) for p in error.path)
        parts.append(f"{path}: {error.msg}" if path else error.msg)
    first_path = list(err.errors[0].path) if err.errors else []
    return ServiceValidationError(f"Invalid data for {domain}.{service}: {'; '.join(parts)}", path=first_path)


# --------------------------------------------------------------------------- hub


class HubState(enum.Enum):
    """Lifecycle of the hub."""

    not_running = "NOT_RUNNING"
    starting = "STARTING"
    running = "RUNNING"
    stopping = "STOPPING"
    final_write = "FINAL_WRITE"
    stopped = "STOPPED"


class HubKey(Generic[_T]):
    """A typed key for `hub.data`: `KEY: HubKey[Recorder] = HubKey("recorder")`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<HubKey {self.name}>"


class HubData(dict[Any, Any]):
    """`hub.data`, typed when indexed with HubKey."""

    def typed_get(self, key: HubKey[_T]) -> _T | None:  # pragma: no cover - typing helper
        return cast("_T | None", self.get(key))


class Hub:
    """Owns the loop, the bus, the states, the services and every integration's data."""

    def __init__(self, config_dir: str | os.PathLike[str], *, clock: Clock | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.config_dir = Path(config_dir)
        self.clock: Clock = clock or SystemClock(self.loop)
        self.bus = EventBus(self)
        self.states = StateMachine(self, self.bus)
        self.services = ServiceRegistry(self)
        self.data: HubData = HubData()
        self.state = HubState.not_running
        self.exit_code = 0
        self._tasks: set[asyncio.Future[Any]] = set()
        self._background_tasks: set[asyncio.Future[Any]] = set()
        self._stopped = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=int(os.environ.get("HACHO_EXECUTOR_WORKERS", "8")),
                                            thread_name_prefix="hub-executor")
        self.loop.set_default_executor(self._executor)
        self.config: CoreConfig | None = None
        self._thread_id = threading.get_ident()

    # ---- jobs and tasks

    @property
    def is_running(self) -> bool:
        """Whether the hub is starting or running."""
        return self.state in (HubState.starting, HubState.running)

    @property
    def is_stopping(self) -> bool:
        """Whether the hub is on its way down."""
        return self.state in (HubState.stopping, HubState.final_write, HubState.stopped)

    def path(self, *parts: str) -> Path:
        """A path inside the config dir."""
        return self.config_dir.joinpath(*parts)

    @callback
    def async_create_task(self, coro: Coroutine[Any, Any, _R], name: str | None = None,
                          eager_start: bool = False) -> asyncio.Task[_R]:
        """Create a task the hub keeps a reference to and waits for in async_block_till_done."""
        task = self.loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _LOGGER.error("Error in task %s", getattr(task, "get_name", lambda: "?")(),
                          exc_info=(type(exc), exc, exc.__traceback__))

    @callback
    def async_create_background_task(self, coro: Coroutine[Any, Any, _R], name: str) -> asyncio.Task[_R]:
        """A long-running task (a connection loop): referenced, cancelled on stop, not waited for."""
        task = self.loop.create_task(coro, name=name)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Future[Any]) -> None:
        self._background_tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _LOGGER.error("Error in background task %s", getattr(task, "get_name", lambda: "?")(),
                          exc_info=(type(exc), exc, exc.__traceback__))

    @callback
    def async_run_hub_job(self, job: HubJob[Any], *args: Any) -> asyncio.Future[Any] | None:
        """Run a job: callbacks inline, coroutines as tasks, other functions in the executor."""
        if job.job_type is JobType.Callback:
            job.target(*args)
            return None
        if job.job_type is JobType.Coroutinefunction:
            return self.async_create_task(job.target(*args), job.name)
        fut = self.loop.run_in_executor(None, job.target, *args)
        self._tasks.add(fut)
        fut.add_done_callback(self._task_done)
        return fut

    @callback
    def async_run_job(self, target: Callable[..., Any], *args: Any) -> asyncio.Future[Any] | None:
        """Run any callable the right way for its kind."""
        return self.async_run_hub_job(HubJob(target), *args)

    def async_add_executor_job(self, target: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        """Run blocking work (file, database, CPU) in the executor; awaitable."""
        fut = self.loop.run_in_executor(None, target, *args)
        self._tasks.add(fut)
        fut.add_done_callback(self._tasks.discard)
        return fut

    async def async_block_till_done(self, timeout: float | None = 30) -> None:
        """Wait until every tracked task and executor job is done (tests and shutdown)."""
        deadline = time.monotonic() + timeout if timeout is not None else None
        await asyncio.sleep(0)
        while True:
            pending = [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]
            if not pending:
                # give callbacks scheduled by finished tasks a chance to run
                await asyncio.sleep(0)
                if not [t for t in self._tasks if not t.done() and t is not asyncio.current_task()]:
                    return
                continue
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                raise TimeoutError(f"{len(pending)} tasks still running: {pending[:3]}")
            await asyncio.wait(pending, timeout=remaining)

    def run_coroutine_threadsafe(self, coro: Coroutine[Any, Any, _T]) -> Any:
        """Schedule a coroutine from another thread; returns a concurrent Future."""
        if threading.get_ident() == self._thread_id:
            raise RuntimeError("run_coroutine_threadsafe called from the loop thread")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    # ---- lifecycle

    async def async_start(self) -> None:
        """Fire the start events; integrations set up before this are now live."""
        _LOGGER.info("Starting hub")
        self.state = HubState.starting
        self.bus.async_fire(EVENT_HUB_START)
        await self.async_block_till_done()
        self.state = HubState.running
        self.bus.async_fire(EVENT_HUB_STARTED)

    @callback
    def async_request_stop(self, exit_code: int = 0) -> None:
        """Ask the hub to stop (signal handlers, services)."""
        if self.is_stopping:
            return
        self.exit_code = exit_code
        self.async_create_background_task(self.async_stop(exit_code), "hub stop")

    async def async_stop(self, exit_code: int = 0, *, timeout: float = 60) -> None:
        """Stop gracefully: `hub_stop` (integrations unload), `hub_final_write` (recorder flushes), close."""
        if self.state in (HubState.stopping, HubState.final_write, HubState.stopped):
            await self._stopped.wait()
            return
        _LOGGER.info("Stopping hub")
        self.exit_code = exit_code
        self.state = HubState.stopping
        self.bus.async_fire(EVENT_HUB_STOP)
        try:
            await self.async_block_till_done(timeout=timeout)
        except TimeoutError as err:
            _LOGGER.warning("Stop: %s", err)
        self.state = HubState.final_write
        self.bus.async_fire(EVENT_HUB_FINAL_WRITE)
        try:
            await self.async_block_till_done(timeout=timeout)
        except TimeoutError as err:
            _LOGGER.warning("Final write: %s", err)
        self.bus.async_fire(EVENT_HUB_CLOSE)
        try:
            await self.async_block_till_done(timeout=timeout)
        except TimeoutError as err:
            _LOGGER.warning("Close: %s", err)
        for task in list(self._background_tasks):
            if task is not asyncio.current_task():
                task.cancel()
        for task in list(self._background_tasks):
            if task is not asyncio.current_task():
                try:
                    await asyncio.wait_for(task, 5)
                except (asyncio.CancelledError, Exception):  # noqa: S110 - already logged
                    pass
        self.clock.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.state = HubState.stopped
        self._stopped.set()

    async def async_wait_stopped(self) -> int:
        """Wait until the hub has stopped; returns the exit code."""
        await self._stopped.wait()
        return self.exit_code
