"""Bearer-token authentication for every route that does not explicitly opt out."""

from __future__ import annotations

import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from ..auth.models import User
from ..auth.permissions import PermissionPolicy, route_allowed
from .const import (
    ATTR_REQUIRES_AUTH,
    ERR_FORBIDDEN,
    ERR_UNAUTHORIZED,
    HUB_KEY,
    KEY_HUB,
    KEY_USER,
    PUBLIC_ROUTES_KEY,
    TOKEN_STORE_KEY,
)
from .view import error_response

__all__ = ["agency_route_middleware", "auth_middleware", "bearer_token", "current_user", "route_requires_auth"]

_LOGGER = logging.getLogger(__name__)


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def route_requires_auth(request: web.Request) -> bool:
    """Whether the matched route needs a token. Unmatched paths do too: no probing without one."""
    match_info = request.match_info
    if match_info.http_exception is not None:
        return True
    if match_info.route in request.app[PUBLIC_ROUTES_KEY]:
        return False
    return bool(getattr(match_info.handler, ATTR_REQUIRES_AUTH, True))


def current_user(request: web.Request) -> User | None:
    """The authenticated user of a request, or None."""
    return request.get(KEY_USER)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the hub and, with a valid token, the user; answer 401 where a token is required."""
    request[KEY_HUB] = request.app[HUB_KEY]
    token = bearer_token(request)
    if token is not None:
        user = await request.app[TOKEN_STORE_KEY].async_authenticate(token)
        if user is not None:
            request[KEY_USER] = user
    if KEY_USER not in request and route_requires_auth(request):
        reason = "invalid or revoked access token" if token is not None else "no bearer token"
        _LOGGER.warning("Refused %s %s from %s: %s", request.method, request.path, request.remote, reason)
        return error_response(
            401, ERR_UNAUTHORIZED,
            "Invalid or revoked access token" if token is not None
            else "Authentication required: send 'Authorization: Bearer <token>'",
            {hdrs.WWW_AUTHENTICATE: "Bearer"},
        )
    return await handler(request)


def agency_route_middleware(policy: PermissionPolicy) -> Middleware:
    """An aiohttp middleware (install after authentication) answering 403 to agencies off their webhooks."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        principal = policy.principal_for(request.get(KEY_USER))
        if not route_allowed(principal, request.path):
            return error_response(403, ERR_FORBIDDEN, "This account may only call its webhook routes")
        return await handler(request)

    return middleware
