"""What a screen leaves out: "12 alarms of the National Police not shared", counts per owning centre only
(hub.auth.hidden counts; the partial _not_shared.html words them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.auth.hidden import async_hidden_counts

if TYPE_CHECKING:
    from .app import Frontend
    from .view import Viewer

__all__ = ["async_not_shared", "not_shared_lines"]


def not_shared_lines(frontend: Frontend, kind: str, counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """One line per owning centre, largest first: kind, centre id and name, count (nothing else)."""
    return [{"kind": kind, "centre": centre, "centre_name": frontend.centre_name(centre or None), "count": count}
            for centre, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if count > 0]


async def async_not_shared(frontend: Frontend, viewer: Viewer, *kinds: str) -> list[dict[str, Any]]:
    """The lines for `kinds` (hub.auth.hidden kinds: alarms, cameras, incidents, entities) for this viewer."""
    counts = await async_hidden_counts(frontend.hub, viewer.session.user(), kinds)
    return [line for kind in kinds for line in not_shared_lines(frontend, kind, counts.get(kind, {}))]
