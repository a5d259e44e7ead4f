"""The base of every frontend route: who is looking (session, role, centre), which centre, and rendering."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

from aiohttp import web

from hub.auth.permissions import Principal
from hub.auth.sessions import Session
from hub.auth.users import Role
from hub.config.core import ControlCentre
from hub.http.const import ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_UNAUTHORIZED
from hub.http.session import KEY_SESSION
from hub.http.view import HubView, error_response, json_response

from .confirmations import pending_confirmations
from .const import ROLES_ANY_CENTRE, ROLES_AUDIT, ROLES_SCREENS, STATIC_URL, URL_LANGUAGE, URL_LOGIN
from .i18n import LANGUAGE_NAMES, N_

if TYPE_CHECKING:
    from .app import Frontend

__all__ = ["FrontendView", "Refused", "Viewer", "json_page", "page"]

_LOGGER = logging.getLogger(__name__)

_V = TypeVar("_V", bound="FrontendView")
_P = ParamSpec("_P")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks at which centre's screens."""

    session: Session
    principal: Principal
    centre: ControlCentre

    @property
    def own_centre(self) -> bool:
        """Whether the screens open are the viewer's own centre's."""
        return self.centre.id == self.principal.centre

    @property
    def role(self) -> Role:
        """The viewer's role."""
        return self.principal.role

    @property
    def may_audit(self) -> bool:
        """Whether the viewer may read the audit log."""
        return self.principal.role in ROLES_AUDIT

    @property
    def may_switch_centre(self) -> bool:
        """Whether the viewer may open other centres' screens."""
        return self.principal.role in ROLES_ANY_CENTRE


class Refused(Exception):
    """Raised inside a page handler to answer with `response` instead (401, 403, 404)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def page(handler: Callable[Concatenate[_V, web.Request, _P], Awaitable[web.StreamResponse]]
         ) -> Callable[Concatenate[_V, web.Request, _P], Awaitable[web.StreamResponse]]:
    """Turn a Refused raised by the handler into its response."""

    @functools.wraps(handler)
    async def wrapper(self: _V, request: web.Request, *args: _P.args, **kwargs: _P.kwargs) -> web.StreamResponse:
        try:
            return await handler(self, request, *args, **kwargs)
        except Refused as refused:
            return refused.response

    return wrapper


def json_page(handler: Callable[Concatenate[_V, web.Request, _P], Awaitable[Any]]
              ) -> Callable[Concatenate[_V, web.Request, _P], Awaitable[web.StreamResponse]]:
    """Like `page`, for handlers answering JSON: a Refused answers with the API's JSON error shape."""

    @functools.wraps(handler)
    async def wrapper(self: _V, request: web.Request, *args: _P.args, **kwargs: _P.kwargs) -> web.StreamResponse:
        try:
            result = await handler(self, request, *args, **kwargs)
        except Refused as refused:
            status = refused.response.status
            code = {401: ERR_UNAUTHORIZED, 403: ERR_FORBIDDEN, 404: ERR_NOT_FOUND}.get(status, "error")
            return error_response(status, code, refused.response.reason or code)
        return result if isinstance(result, web.StreamResponse) else json_response(result)

    return wrapper


class FrontendView(HubView):
    """A frontend route. It checks the session itself (bearer tokens do not open screens), so that
    a browser without one gets a 401 page that leads to the login instead of a JSON error."""

    requires_auth = False
    roles = ROLES_SCREENS  # a session of another role (none exists for agencies) is refused
    include_in_openapi = False
    openapi_tag: ClassVar[str] = "frontend"

    def __init__(self, frontend: Frontend) -> None:
        self.frontend = frontend

    # ---- who is asking

    def session(self, request: web.Request) -> Session:
        """The request's live session, or Refused(401)."""
        session = request.get(KEY_SESSION)
        if session is None:
            raise Refused(self.unauthenticated(request))
        return session

    def viewer(self, request: web.Request, centre_id: str) -> Viewer:
        """The session's viewer of `centre_id`: 401 without a session, 404 for an unknown centre,
        403 for a role without screens or another centre than the user's own (admins and
        supervisors may open every centre)."""
        session = self.session(request)
        principal = Principal(session.user_id, session.role, session.centre, session.name)
        centre = self.frontend.centre(centre_id)
        if centre is None:
            raise Refused(self.error_page(request, 404, N_("No such control centre"),
                                          N_("There is no control centre %(id)s."), principal,
                                          id=repr(centre_id[:80])))
        if principal.role not in ROLES_SCREENS:
            raise Refused(self.error_page(request, 403, N_("Not allowed"),
                                          N_("This account cannot open the control-centre screens."),
                                          principal))
        if centre.id != principal.centre and principal.role not in ROLES_ANY_CENTRE:
            _LOGGER.info("Refused %s a view of centre %s (own centre %s)", principal.role.value, centre.id,
                         principal.centre)
            raise Refused(self.error_page(
                request, 403, N_("Another centre's screens"),
                N_("Your account belongs to %(centre)s; only supervisors and administrators open other centres."),
                principal, centre=self.frontend.centre_name(principal.centre)))
        return Viewer(session, principal, centre)

    # ---- answers

    def unauthenticated(self, request: web.Request) -> web.Response:
        """401 with a page that sends the browser to the login (and back here after it)."""
        target = f"{URL_LOGIN}?next={quote(request.path_qs, safe='/')}"
        body = self.frontend.templates.render(
            "unauthenticated.html", login_url=target, static=STATIC_URL, site_title=self.frontend.title)
        return web.Response(status=401, text=body, content_type="text/html")

    def error_page(self, request: web.Request, status: int, title: str, message: str,
                   principal: Principal | None = None, **params: Any) -> web.Response:
        """An error page in the site's look; `title` and `message` are catalogue msgids (`N_`),
        `message` filled from `params`."""
        language = self.frontend.language(principal.user_id if principal is not None else None)
        body = self.frontend.templates.render(
            "error.html", language=language.code, status=status, title=language.gettext(title),
            message=language.gettext(message, **params), static=STATIC_URL, site_title=self.frontend.title,
            home=f"/c/{principal.centre}/" if principal is not None else URL_LOGIN)
        return web.Response(status=status, text=body, content_type="text/html")

    def render(self, request: web.Request, viewer: Viewer, template: str, *, page: str, title: str,
               page_data: dict[str, Any] | None = None, status: int = 200, **context: Any) -> web.Response:
        """Render a centre screen with the common frame (navigation, user, CSRF token); `title` is a
        catalogue msgid (`N_`) or a name."""
        frontend = self.frontend
        language = frontend.language(viewer.principal.user_id)
        names = frontend.templates.names
        body = frontend.templates.render(
            template,
            language=language.code,
            languages=LANGUAGE_NAMES,
            language_url=URL_LANGUAGE,
            request_path=request.path_qs,
            confirmations=pending_confirmations(frontend, viewer),
            names=names.as_dict(context.pop("entity_names", ()), viewer.centre.id) if names is not None else {},
            viewer=viewer,
            centre=viewer.centre,
            centres=frontend.centres,
            csrf_token=viewer.session.csrf_token,
            page=page,
            page_title=language.gettext(title),
            site_title=frontend.title,
            static=STATIC_URL,
            leaflet=frontend.leaflet_available,
            time_zone=frontend.core.time_zone,
            page_data=page_data or {},
            **context,
        )
        return web.Response(status=status, text=body, content_type="text/html",
                            headers={"Cache-Control": "no-store"})
