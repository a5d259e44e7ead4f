"""What a user's scoped view leaves out, as counts per owning centre and nothing more.

A view scoped to the user's centre and what the other centres share with it (hub.auth.visibility,
integrations' own rules for alarms, cameras, incidents) says how much it hides: "12 alarms of the
National Police not shared". Only the number per owning centre leaves this module: no id, name,
time, place or type of anything hidden.

Each kind of thing has a counter, registered by its owner (the alarm integration counts alarms,
the camera integration cameras, ...); `entities` is the hub's own (states and their history).
REST `GET /api/hidden` and the websocket command `hidden/counts` answer every kind at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Final

from ..core import CALLBACK_TYPE, Hub, HubKey, callback
from .permissions import entity_centre
from .visibility import ReadScope, read_scope

if TYPE_CHECKING:
    from .models import User

__all__ = [
    "KIND_ENTITIES",
    "HiddenCounter",
    "async_hidden_counts",
    "async_register_hidden_counter",
    "hidden_entities",
]

_LOGGER = logging.getLogger(__name__)

KIND_ENTITIES: Final = "entities"

# (hub, user) -> {owning centre: how many of this kind the user does not see}
HiddenCounter = Callable[[Hub, "User | None"], Awaitable[dict[str, int]]]

_COUNTERS: Final[HubKey[dict[str, HiddenCounter]]] = HubKey("hidden_counters")


@callback
def hidden_entities(hub: Hub, scope: ReadScope, entity_ids: Iterable[str]) -> dict[str, int]:
    """How many of `entity_ids` the scope does not read, per owning centre."""
    if scope.sees_all:
        return {}
    counts: Counter[str] = Counter()
    for entity_id in entity_ids:
        if not scope.sees_entity(hub, entity_id):
            counts[entity_centre(hub, entity_id) or ""] += 1
    return dict(counts)


async def _async_entities(hub: Hub, user: User | None) -> dict[str, int]:
    return hidden_entities(hub, read_scope(hub, user), hub.states.async_entity_ids())


@callback
def async_register_hidden_counter(hub: Hub, kind: str, counter: HiddenCounter) -> CALLBACK_TYPE:
    """Count `kind` for the hidden-counts answers (the owner of that kind registers it); returns the remover."""
    counters = hub.data.setdefault(_COUNTERS, {})
    counters[kind] = counter

    @callback
    def remove() -> None:
        if counters.get(kind) is counter:
            del counters[kind]

    return remove


async def async_hidden_counts(hub: Hub, user: User | None, kinds: Iterable[str] | None = None
                              ) -> dict[str, dict[str, int]]:
    """{kind: {centre: count}} of what `user` does not see (only non-zero counts; all kinds when None)."""
    counters: dict[str, HiddenCounter] = {KIND_ENTITIES: _async_entities, **hub.data.get(_COUNTERS, {})}
    wanted = list(counters) if kinds is None else [kind for kind in kinds if kind in counters]
    found: dict[str, dict[str, int]] = {}
    for kind in wanted:
        try:
            counts = await counters[kind](hub, user)
        except Exception:  # one kind failing must not hide the others' counts
            _LOGGER.exception("Hidden counts of %s failed", kind)
            continue
        counts = {centre: count for centre, count in counts.items() if count > 0}
        if counts:
            found[kind] = counts
    return found
