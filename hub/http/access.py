"""Who may use each route and websocket command: every one declares its roles, nothing is open by omission.

A view declares `roles` (a frozenset of `Role`); the server refuses to register a view that
declares none and to start while any route on its router is undeclared. The access middleware
(after authentication) answers 403 to an authenticated caller whose role the route does not
list, and keeps `agency` users to their own webhook ids. Anonymous callers are the
authentication middleware's business: they pass here only on routes that need no token, whose
handlers check their own credential (a session, a signature, a secret id).

While no user exists at all (a fresh site) roles are not enforced, as for service calls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from ..auth.permissions import Principal, get_permissions, route_allowed
from ..auth.users import Role
from ..exceptions import HubError
from .const import ERR_FORBIDDEN, HUB_KEY, KEY_USER
from .view import error_response

if TYPE_CHECKING:
    from ..auth.models import User
    from ..core import Hub

__all__ = [
    "DEFAULT_EVENT_ROLES",
    "ROLES_ADMIN",
    "ROLES_ALL",
    "ROLES_AUDIT",
    "ROLES_AUTOMATIONS",
    "ROLES_CONFIG",
    "ROLES_DELIVERY",
    "ROLES_POLICE",
    "ROLES_STAFF",
    "ROUTE_ROLES_KEY",
    "access_middleware",
    "check_roles",
    "declare_route",
    "principal_allowed",
    "undeclared_routes",
]

_LOGGER = logging.getLogger(__name__)

ROLES_ALL: Final = frozenset(Role)  # anyone, agencies included (their webhook)
ROLES_STAFF: Final = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.ENGINEER})  # every person
ROLES_POLICE: Final = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR})  # who watches the city
ROLES_DELIVERY: Final = frozenset({Role.ADMIN, Role.SUPERVISOR})  # dead letters, replays, exports
ROLES_AUDIT: Final = frozenset({Role.ADMIN, Role.SUPERVISOR})
ROLES_CONFIG: Final = frozenset({Role.ADMIN, Role.ENGINEER})  # device discovery
ROLES_AUTOMATIONS: Final = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.ENGINEER})  # automation traces
ROLES_ADMIN: Final = frozenset({Role.ADMIN})
DEFAULT_EVENT_ROLES: Final = frozenset({Role.ADMIN, Role.ENGINEER})  # who may fire free (unowned) events

ROUTE_ROLES_KEY: Final[web.AppKey[dict[web.AbstractRoute, frozenset[Role]]]] = web.AppKey("route_roles")


def check_roles(roles: Iterable[Role] | None, what: str) -> frozenset[Role]:
    """The declared roles as a frozenset; HubError naming `what` when nothing is declared."""
    if roles is None:
        raise HubError(f"{what} declares no roles: say who may use it (hub.http.access ROLES_*)")
    declared = frozenset(roles)
    if not all(isinstance(role, Role) for role in declared):
        raise HubError(f"{what} declares roles that are not hub.auth.users.Role: {sorted(map(str, declared))}")
    return declared


def declare_route(app: web.Application, route: web.AbstractRoute, roles: Iterable[Role] | None,
                  what: str) -> None:
    """Record who may use a route (HubHTTP does it for views, static paths and raw routes)."""
    app[ROUTE_ROLES_KEY][route] = check_roles(roles, what)


def undeclared_routes(app: web.Application) -> list[str]:
    """`METHOD path` of every route on the router that declares no roles."""
    declared = app[ROUTE_ROLES_KEY]
    return [f"{route.method} {route.resource.canonical if route.resource is not None else '?'}"
            for route in app.router.routes() if route not in declared]


def principal_allowed(hub: Hub, user: User | None, roles: frozenset[Role]) -> tuple[bool, Principal | None]:
    """Whether `user` may use something open to `roles`, and its principal (None: unknown, or not enforced)."""
    policy = get_permissions(hub)
    if user is None or policy is None or not policy.enforced:
        return True, None
    principal = policy.principal_for(user)
    if principal is None:
        return False, None
    return principal.role in roles, principal


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """403 for an authenticated caller whose role the matched route does not declare (agencies: off their
    webhooks). Install after the authentication middlewares."""
    match_info = request.match_info
    if match_info.http_exception is not None:  # 404/405: nothing to protect, let the router answer
        return await handler(request)
    roles = request.app[ROUTE_ROLES_KEY].get(match_info.route)
    if roles is None:  # cannot happen once started (async_start checks); fail closed anyway
        _LOGGER.error("Route %s %s declares no roles; refused", request.method, request.path)
        return _forbidden("This route declares no roles")
    user = request.get(KEY_USER)
    allowed, principal = principal_allowed(request.app[HUB_KEY], user, roles)
    if allowed and principal is not None and not route_allowed(principal, request.path):
        allowed = False
    if not allowed:
        _LOGGER.info("Refused %s %s to %s: role not allowed on this route", request.method, request.path,
                     principal.role.value if principal is not None else "an unknown user")
        return _forbidden("This account may not use this route" if principal is None
                          or principal.role is not Role.AGENCY else
                          "This account may only call its webhook routes")
    return await handler(request)


def _forbidden(message: str) -> web.Response:
    return error_response(403, ERR_FORBIDDEN, message)
