"""What a screen leaves out: "12 alarms of the National Police not shared", counts per owning centre only
(hub.auth.hidden counts). The partial _not_shared.html shows the lines; on live screens not_shared.js
refreshes them from `/c/{centre}/api/not-shared`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from hub.auth.hidden import async_hidden_counts

from .view import FrontendView, json_page

if TYPE_CHECKING:
    from .app import Frontend
    from .i18n import Language
    from .view import Viewer

__all__ = ["KINDS", "NotSharedView", "async_not_shared", "not_shared_lines"]

KINDS: Final = ("alarms", "cameras", "incidents", "reads", "entities")


def _text(language: Language, kind: str, count: int, centre: str) -> str:
    """The line in the reader's language (one msgid pair per kind, for the catalogue)."""
    if kind == "alarms":
        return language.ngettext("%(num)s alarm of %(centre)s not shared",
                                 "%(num)s alarms of %(centre)s not shared", count, centre=centre)
    if kind == "cameras":
        return language.ngettext("%(num)s camera of %(centre)s not shared",
                                 "%(num)s cameras of %(centre)s not shared", count, centre=centre)
    if kind == "incidents":
        return language.ngettext("%(num)s incident of %(centre)s not shared",
                                 "%(num)s incidents of %(centre)s not shared", count, centre=centre)
    if kind == "reads":
        return language.ngettext("%(num)s ANPR camera of %(centre)s not searched (not shared)",
                                 "%(num)s ANPR cameras of %(centre)s not searched (not shared)", count,
                                 centre=centre)
    return language.ngettext("%(num)s device of %(centre)s not shared",
                             "%(num)s devices of %(centre)s not shared", count, centre=centre)


def not_shared_lines(frontend: Frontend, viewer: Viewer, kind: str, counts: Mapping[str, int]
                     ) -> list[dict[str, Any]]:
    """One line per owning centre, largest first: kind, centre, count and the words (nothing else)."""
    language = frontend.language(viewer.principal.user_id)
    lines = []
    for centre, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count > 0:
            name = frontend.centre_name(centre or None)
            lines.append({"kind": kind, "centre": centre, "count": count, "text": _text(language, kind, count, name)})
    return lines


async def async_not_shared(frontend: Frontend, viewer: Viewer, *kinds: str) -> list[dict[str, Any]]:
    """The lines for `kinds` (hub.auth.hidden kinds: alarms, cameras, incidents, entities) for this viewer."""
    counts = await async_hidden_counts(frontend.hub, viewer.session.user(), kinds)
    return [line for kind in kinds for line in not_shared_lines(frontend, viewer, kind, counts.get(kind, {}))]


class NotSharedView(FrontendView):
    """`?kinds=alarms,cameras`: the not-shared lines as JSON (live screens refresh their counts)."""

    url = "/c/{centre}/api/not-shared"
    name = "frontend:hidden-counts"

    @json_page
    async def get(self, request: web.Request, centre: str) -> dict[str, Any]:
        """The lines for the kinds asked (unknown kinds are ignored)."""
        viewer = self.viewer(request, centre)
        kinds = [kind for kind in request.query.get("kinds", "").split(",") if kind in KINDS and kind != "reads"]
        return {"lines": await async_not_shared(self.frontend, viewer, *kinds)}
