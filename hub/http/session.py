"""Sessions on aiohttp: the session cookie, CSRF checks on state-changing requests, security headers.

The frontend installs this on the hub's app before it starts::

    manager = await async_setup_sessions(hub)
    install_session_middleware(get_http(hub), manager)

Then a request with a live `hacho_session` cookie is authenticated as its user (`request[KEY_USER]`,
`request[KEY_SESSION]`), and a POST/PUT/PATCH/DELETE made with the cookie must carry the session's
CSRF token in the `X-CSRF-Token` header or a `csrf_token` form field, or it is refused with 403.
Requests with an `Authorization` header are left to bearer-token auth (no ambient credentials, so
no CSRF risk).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..auth.sessions import Session, SessionManager
from .auth import auth_middleware
from .const import KEY_USER
from .view import error_response

if TYPE_CHECKING:
    from .server import HubHTTP

__all__ = [
    "COOKIE_NAME",
    "CSRF_FORM_FIELD",
    "CSRF_HEADER",
    "DEFAULT_CSP",
    "ERR_CSRF",
    "KEY_SESSION",
    "clear_session_cookie",
    "install_session_middleware",
    "security_headers_middleware",
    "session_middleware",
    "set_session_cookie",
]

_LOGGER = logging.getLogger(__name__)

COOKIE_NAME: Final = "hacho_session"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FORM_FIELD: Final = "csrf_token"
ERR_CSRF: Final = "csrf_failed"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")

# No inline script or style anywhere: scripts and styles come from our own origin only.
DEFAULT_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)

KEY_SESSION: Final[web.RequestKey[Session]] = web.RequestKey("session", Session)


def set_session_cookie(response: web.StreamResponse, token: str, *, request: web.Request | None = None,
                       secure: bool | None = None, path: str = "/") -> None:
    """Set the session cookie: HttpOnly, SameSite=Strict, Secure when the request came over TLS
    (or when `secure` says so: behind a TLS-terminating proxy pass True)."""
    if secure is None:
        secure = bool(request is not None and request.secure)
    response.set_cookie(COOKIE_NAME, token, path=path, httponly=True, samesite="Strict", secure=secure)


def clear_session_cookie(response: web.StreamResponse, *, path: str = "/") -> None:
    """Tell the browser to drop the session cookie."""
    response.del_cookie(COOKIE_NAME, path=path)


async def _presented_csrf(request: web.Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in _FORM_TYPES:
        form = await request.post()  # cached by aiohttp: the handler can read it again
        value = form.get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def session_middleware(manager: SessionManager, *,
                       csrf_exempt: Callable[[web.Request], bool] | None = None) -> Any:
    """An aiohttp middleware: authenticate by session cookie and enforce CSRF on unsafe methods.

    `csrf_exempt(request)` may spare routes that never change anything for a session (none by
    default: the login form has no session yet, so it is not checked anyway).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if hdrs.AUTHORIZATION in request.headers:
            return await handler(request)
        token = request.cookies.get(COOKIE_NAME)
        session = manager.validate(token) if token else None
        if session is not None:
            request[KEY_SESSION] = session
            request[KEY_USER] = session.user()
            if request.method not in SAFE_METHODS and not (csrf_exempt is not None and csrf_exempt(request)):
                if not manager.check_csrf(session, await _presented_csrf(request)):
                    _LOGGER.warning("Refused %s %s from %s: missing or wrong CSRF token", request.method,
                                    request.path, request.remote)
                    return error_response(403, ERR_CSRF, f"Missing or invalid CSRF token (send the "
                                                         f"{CSRF_HEADER} header)")
        response = await handler(request)
        if token and session is None and not response.prepared:
            clear_session_cookie(response)  # expired or revoked: stop sending it
        return response

    return middleware


def security_headers_middleware(csp: str = DEFAULT_CSP, *, hsts: bool = False) -> Any:
    """An aiohttp middleware adding Content-Security-Policy (no inline scripts) and friends."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(headers)
            raise
        if not response.prepared:
            for key, value in headers.items():
                response.headers.setdefault(key, value)
        return response

    return middleware


def install_session_middleware(http: HubHTTP, manager: SessionManager, *,
                               csrf_exempt: Callable[[web.Request], bool] | None = None,
                               security_headers: bool = True) -> None:
    """Put the session middleware in front of the bearer-token check (and the security headers
    outside everything). Call before the server starts."""

    middlewares = http.app.middlewares
    index = middlewares.index(auth_middleware) if auth_middleware in middlewares else len(middlewares)
    middlewares.insert(index, session_middleware(manager, csrf_exempt=csrf_exempt))
    if security_headers:
        middlewares.insert(0, security_headers_middleware(hsts=bool(http.conf.get("ssl_certificate"))))
