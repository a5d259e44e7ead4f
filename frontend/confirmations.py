"""Two-person confirmations on every screen: the bollard commands waiting for a second person that the
viewer may confirm (or asked for), for the banner that frontend/static/js/confirmations.js keeps live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from hub.core import split_entity_id

from .data import state_name

if TYPE_CHECKING:
    from .app import Frontend
    from .view import Viewer

__all__ = ["pending_confirmations"]

BOLLARD_DOMAIN: Final = "bollard"


def pending_confirmations(frontend: Frontend, viewer: Viewer) -> dict[str, Any]:
    """`eligible`: the bollards the viewer may command (whose pending commands it is shown, live);
    `pending`: those waiting now, with who asked, when, and until when."""
    eligible: list[str] = []
    pending: list[dict[str, Any]] = []
    for state in frontend.hub.states.async_all():
        if split_entity_id(state.entity_id)[0] != BOLLARD_DOMAIN:
            continue
        if not frontend.policy.can_actuate(viewer.principal, state.entity_id):
            continue
        eligible.append(state.entity_id)
        waiting = state.attributes.get("pending_command")
        if isinstance(waiting, dict):
            pending.append({"entity_id": state.entity_id, **waiting})
    return {"eligible": eligible, "pending": pending, "names": {e: state_name(s) for e in eligible
                                                                   if (s := frontend.hub.states.get(e))}}
