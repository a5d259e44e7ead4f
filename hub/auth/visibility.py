"""Reads scoped like writes: which states and events a user may read, and whether with personal data.

An entity belongs to the centre of its area (hub.auth.permissions.entity_centre). A user reads:

* admins: everything;
* supervisors, operators, engineers: entities without an area (city-wide: weather, automations,
  agencies' delivery status), their own centre's, and what another centre `shares` (hub:
  control_centres: shares: area ids, or entity id patterns such as `sensor.*_wind_*`);
* agencies and unknown users: nothing.

Events follow the same rule through what their data names (`entity_id`, `area_id` or `area`,
`centre` unless `shared`); an event naming none of them is city-wide. Personal data (plates,
people's names: PERSONAL_KEYS, anywhere in attributes or event data) is kept only for the roles
that work with it (PERSONAL_ROLES); the others get the key with the value withheld.

While no user exists at all (a fresh site) everyone reads everything, as with service calls.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..core import Event, Hub, State, callback
from .permissions import area_centre, entity_area, get_permissions
from .users import Role

if TYPE_CHECKING:
    from .models import User

__all__ = ["PERSONAL_KEYS", "PERSONAL_ROLES", "WITHHELD", "ReadScope", "read_scope", "without_personal"]

# Keys whose values identify a person or a vehicle, wherever they appear.
PERSONAL_KEYS: Final = frozenset({"plate", "plates", "raw_plate", "plate_text", "owner_name", "driver_name",
                                  "person_name", "full_name", "username"})
PERSONAL_ROLES: Final = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR})
WITHHELD: Final = "withheld"


def without_personal(value: Any) -> Any:
    """A copy of `value` (mappings, lists, States) with every PERSONAL_KEYS value replaced by WITHHELD."""
    if isinstance(value, State):
        value = value.as_dict()
    if isinstance(value, Mapping):
        return {key: WITHHELD if key in PERSONAL_KEYS else without_personal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_personal(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class ReadScope:
    """What one user may read. `centre` None with `sees_all` False and `blind` True: nothing."""

    sees_all: bool = False
    blind: bool = False
    centre: str | None = None
    personal: bool = True

    @callback
    def sees_area(self, hub: Hub, area_id: str | None) -> bool:
        """Whether things in `area_id` (None: city-wide) are readable."""
        if self.blind:
            return False
        if self.sees_all or area_id is None:
            return True
        owner = area_centre(hub, area_id)
        if owner is None or owner == self.centre:
            return True
        centre = hub.config.centre(owner) if hub.config is not None else None
        return centre is not None and area_id in centre.shares

    @callback
    def sees_entity(self, hub: Hub, entity_id: str) -> bool:
        """Whether this entity's state and history are readable."""
        if self.blind:
            return False
        if self.sees_all:
            return True
        area_id = entity_area(hub, entity_id)
        if self.sees_area(hub, area_id):
            return True
        owner = area_centre(hub, area_id)
        centre = hub.config.centre(owner) if hub.config is not None and owner is not None else None
        return centre is not None and any("." in pattern and fnmatch.fnmatchcase(entity_id, pattern)
                                          for pattern in centre.shares)

    @callback
    def redact(self, value: Any) -> Any:
        """`value` (JSON-like: traces, event data) with personal data withheld unless this user may read it."""
        return value if self.personal else without_personal(value)

    @callback
    def attributes(self, state: State) -> Mapping[str, Any]:
        """A state's attributes as this user may read them (personal ones withheld)."""
        if self.personal or not any(key in PERSONAL_KEYS for key in state.attributes):
            return state.attributes
        return without_personal(dict(state.attributes))

    @callback
    def state(self, hub: Hub, state: State | None) -> State | dict[str, Any] | None:
        """The state as this user may read it (personal attributes withheld), or None."""
        if state is None or not self.sees_entity(hub, state.entity_id):
            return None
        attributes = self.attributes(state)
        return state if attributes is state.attributes else {**state.as_dict(), "attributes": attributes}

    @callback
    def states(self, hub: Hub, states: list[State]) -> list[State | dict[str, Any]]:
        """The readable ones of `states`."""
        if self.sees_all and self.personal:
            return list(states)
        return [shown for state in states if (shown := self.state(hub, state)) is not None]

    @callback
    def sees_event(self, hub: Hub, event: Event) -> bool:
        """Whether this event may be forwarded (by what its data names: entities, area, centre)."""
        if self.blind:
            return False
        if self.sees_all:
            return True
        data = event.data
        entity_ids = data.get("entity_id")
        if isinstance(entity_ids, str):
            entity_ids = [entity_ids]
        if isinstance(entity_ids, list | tuple) and not all(
                isinstance(entity_id, str) and self.sees_entity(hub, entity_id) for entity_id in entity_ids):
            return False
        area = data.get("area_id", data.get("area"))
        if isinstance(area, str) and not self.sees_area(hub, area):
            return False
        centre = data.get("centre")
        return not (isinstance(centre, str) and centre != self.centre and not data.get("shared"))

    @callback
    def event(self, hub: Hub, event: Event) -> dict[str, Any] | None:
        """The event as a dict as this user may read it, or None."""
        if not self.sees_event(hub, event):
            return None
        shown = event.as_dict()
        shown["data"] = self.redact(shown["data"])
        return shown


_ALL: Final = ReadScope(sees_all=True)
_NOTHING: Final = ReadScope(blind=True, personal=False)


@callback
def read_scope(hub: Hub, user: User | None) -> ReadScope:
    """The read scope of a request's or connection's user (memory only)."""
    policy = get_permissions(hub)
    if policy is None or not policy.enforced:
        return _ALL
    principal = policy.principal_for(user)
    if principal is None or principal.role is Role.AGENCY:
        return _NOTHING
    personal = principal.role in PERSONAL_ROLES
    if principal.role is Role.ADMIN:
        return ReadScope(sees_all=True, centre=principal.centre, personal=personal)
    return ReadScope(centre=principal.centre, personal=personal)
