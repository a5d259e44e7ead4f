"""Login, logout and the site root (which sends a user to their own centre)."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from hub.auth.sessions import LoginError
from hub.http.session import COOKIE_NAME, KEY_SESSION, clear_session_cookie, set_session_cookie

from .const import LOGIN_CSRF_COOKIE, STATIC_URL, URL_LANGUAGE, URL_LOGIN, URL_LOGOUT
from .i18n import N_, SUPPORTED_LANGUAGES
from .view import FrontendView, page

__all__ = ["LanguageView", "LoginView", "LogoutView", "RootView", "safe_next"]

_LOGGER = logging.getLogger(__name__)

MAX_FIELD = 1024


def safe_next(value: str | None) -> str | None:
    """A post-login target only if it is a path on this site under /c/ (no open redirect)."""
    if not value or not value.startswith("/c/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _same_origin(request: web.Request) -> bool:
    """Whether a form POST came from a page of this site (browsers send Origin on POST)."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return True  # not a browser form: nothing ambient to abuse
    return urlsplit(origin).netloc == request.host


class RootView(FrontendView):
    """`/`: to the user's centre, or a 401 page that leads to the login."""

    url = "/"
    name = "frontend:root"

    @page
    async def get(self, request: web.Request) -> web.StreamResponse:
        """Redirect to the user's centre."""
        session = self.session(request)
        raise web.HTTPSeeOther(self.frontend.home_url(session.centre))


class LoginView(FrontendView):
    """The password login form. Failed logins are counted (lockout) and audited by the session manager."""

    url = URL_LOGIN
    name = "frontend:login"

    def _form(self, request: web.Request, *, status: int = 200, error: str | None = None,
              username: str = "", next_url: str | None = None,
              headers: dict[str, str] | None = None, **params: Any) -> web.Response:
        """The form in the site's language; `error` is a catalogue msgid filled from `params`."""
        token = secrets.token_urlsafe(24)
        language = self.frontend.language(None)
        body = self.frontend.templates.render(
            "login.html", language=language.code, site_title=self.frontend.title, static=STATIC_URL,
            login_csrf=token, error=language.gettext(error, **params) if error else None, username=username,
            next_url=next_url or "")
        response = web.Response(status=status, text=body, content_type="text/html",
                                headers={"Cache-Control": "no-store", **(headers or {})})
        response.set_cookie(LOGIN_CSRF_COOKIE, token, path=URL_LOGIN, httponly=True, samesite="Strict",
                            secure=self._secure(request))
        return response

    def _secure(self, request: web.Request) -> bool:
        secure = self.frontend.secure_cookie
        return bool(request.secure) if secure is None else secure

    async def get(self, request: web.Request) -> web.StreamResponse:
        """The login form (or straight on to the centre when already logged in)."""
        next_url = safe_next(request.query.get("next"))
        session = request.get(KEY_SESSION)
        if session is not None:
            raise web.HTTPSeeOther(next_url or self.frontend.home_url(session.centre))
        return self._form(request, next_url=next_url)

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Check the password; on success set the session cookie and go to the centre."""
        form: Any = await request.post()
        username = str(form.get("username", ""))[:MAX_FIELD]
        password = str(form.get("password", ""))[:MAX_FIELD]
        next_url = safe_next(str(form.get("next", "")))
        presented = str(form.get("csrf_token", ""))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if (not _same_origin(request) or not expected or not presented
                or not hmac.compare_digest(presented.encode(), expected.encode())):
            _LOGGER.warning("Refused a login form from %s: stale form or another site's page", request.remote)
            return self._form(request, status=403, username=username, next_url=next_url,
                              error=N_("The login form expired; please try again."))
        try:
            session, token = await self.frontend.sessions.async_login(
                username, password, ip=request.remote, user_agent=request.headers.get(hdrs.USER_AGENT))
        except LoginError as err:
            if err.reason in ("locked_out", "busy"):
                wait = max(1, int(err.retry_after + 0.999))
                message = (N_("Too many failed logins. Try again in %(wait)s s.") if err.reason == "locked_out"
                           else N_("Too many logins at once. Try again in %(wait)s s."))
                return self._form(request, status=429, username=username, next_url=next_url, error=message,
                                  headers={hdrs.RETRY_AFTER: str(wait)}, wait=wait)
            return self._form(request, status=401, username=username, next_url=next_url,
                              error=N_("Wrong user name or password."))
        response = web.HTTPSeeOther(next_url or self.frontend.home_url(session.centre))
        set_session_cookie(response, token, request=request, secure=self.frontend.secure_cookie)
        response.del_cookie(LOGIN_CSRF_COOKIE, path=URL_LOGIN)
        raise response


class LogoutView(FrontendView):
    """`POST /logout` (a form with the session's CSRF token, checked by the session middleware)."""

    url = URL_LOGOUT
    name = "frontend:logout"

    @page
    async def post(self, request: web.Request) -> web.StreamResponse:
        """End the session and drop the cookie."""
        self.session(request)
        token = request.cookies.get(COOKIE_NAME)
        if token:
            self.frontend.sessions.logout(token)
        response = web.HTTPSeeOther(URL_LOGIN)
        clear_session_cookie(response)
        raise response


class LanguageView(FrontendView):
    """`POST /language`: the user's choice of language for the screens, remembered in the user store."""

    url = URL_LANGUAGE
    name = "frontend:language"

    @page
    async def post(self, request: web.Request) -> web.StreamResponse:
        """Remember the language and go back to the page the form was on."""
        session = self.session(request)
        form: Any = await request.post()
        language = str(form.get("language", ""))[:8]
        if language not in SUPPORTED_LANGUAGES:
            return self.error_page(request, 400, N_("Unknown language"),
                                   N_("There is no language %(id)s."), None, id=repr(language))
        await self.frontend.sessions.users.async_set_language(session.user_id, language)
        raise web.HTTPSeeOther(safe_next(str(form.get("next", ""))) or self.frontend.home_url(session.centre))
