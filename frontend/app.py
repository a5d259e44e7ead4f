"""The frontend on the hub's HTTP server: sessions and security headers, static files, every screen's route."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from hub.auth.permissions import PermissionPolicy, async_setup_permissions
from hub.auth.sessions import SessionManager, async_setup_sessions
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Hub, HubKey
from hub.exceptions import HubError
from hub.http import HubHTTP, get_http
from hub.http.session import (
    DEFAULT_CSP,
    install_session_middleware,
    security_headers_middleware,
)

from .config import session_config
from .const import (
    CONF_LANGUAGE,
    CONF_MAP,
    CONF_SECURE_COOKIE,
    CONF_TITLE,
    DEFAULT_TITLE,
    LEAFLET_DIR,
    ROLES_SCREENS,
    STATIC_URL,
    URL_LOGIN,
)
from .formatting import Names
from .i18n import Language, load_catalogues
from .map_layers import layer_origins
from .templating import Templates, async_load_templates

__all__ = ["DATA_FRONTEND", "STATIC_DIR", "Frontend", "async_setup", "build_csp"]

_LOGGER = logging.getLogger(__name__)

STATIC_DIR: Final = Path(__file__).parent / "static"
DATA_FRONTEND: Final[HubKey[Frontend]] = HubKey("frontend")
# Live and recorded video play from Media Source Extensions objects (blob: URLs) and JPEG posters.
MEDIA_CSP: Final = "media-src 'self' blob:"


def build_csp(layers: Iterable[dict[str, Any]] = ()) -> str:
    """The Content-Security-Policy: the session module's default, video from MSE blobs, and the map layers'
    servers for images."""
    csp = f"{DEFAULT_CSP}; {MEDIA_CSP}"
    origins = layer_origins(layers)
    if not origins:
        return csp
    return csp.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {' '.join(origins)}")


class Frontend:
    """What every screen needs: the hub, its centres, the session manager, the policy and templates."""

    def __init__(self, hub: Hub, http: HubHTTP, conf: dict[str, Any], templates: Templates,
                 sessions: SessionManager, policy: PermissionPolicy, leaflet_available: bool) -> None:
        self.hub = hub
        self.http = http
        self.conf = conf
        self.templates = templates
        self.sessions = sessions
        self.policy = policy
        self.leaflet_available = leaflet_available
        core = hub.config or CoreConfig()
        self.core = core
        self.title: str = conf.get(CONF_TITLE) or core.name or DEFAULT_TITLE
        self.map_layers: list[dict[str, Any]] = conf[CONF_MAP]["layers"]
        self.secure_cookie: bool | None = conf.get(CONF_SECURE_COOKIE)

    def language(self, user_id: str | None) -> Language:
        """The language a user reads the screens in: their own choice, else the site's default."""
        user = self.sessions.users.get(user_id) if user_id else None
        return self.templates.catalogues.choose(user.language if user is not None else None)

    @property
    def centres(self) -> tuple[ControlCentre, ...]:
        """The configured control centres."""
        return self.core.control_centres

    def centre(self, centre_id: str) -> ControlCentre | None:
        """A configured centre by id."""
        return self.core.centre(centre_id)

    def centre_name(self, centre_id: str | None) -> str:
        """A centre's name (its id when it is not configured)."""
        centre = self.core.centre(centre_id) if centre_id else None
        return centre.name if centre is not None else (centre_id or "no centre")

    def home_url(self, centre_id: str | None) -> str:
        """Where a user of `centre_id` lands after login."""
        if centre_id and self.centre(centre_id) is not None:
            return f"/c/{centre_id}/"
        return f"/c/{self.core.default_centre.id}/"


def _leaflet_installed() -> bool:
    return (STATIC_DIR / LEAFLET_DIR / "leaflet.js").is_file()


def _csrf_exempt(request: web.Request) -> bool:
    # The login form carries its own pre-session token (a browser may still hold an old cookie).
    return request.path == URL_LOGIN


async def async_setup(hub: Hub, conf: dict[str, Any]) -> Frontend:
    """Install sessions, security headers, static files and the routes (before the server starts)."""
    from .commands import async_register_commands
    from .routes import register_routes

    if DATA_FRONTEND in hub.data:
        raise HubError("The frontend is already set up")
    http = get_http(hub)
    if http.is_running:
        raise HubError("The frontend must be set up before the HTTP server starts")
    sessions = await async_setup_sessions(hub, session_config(conf))
    policy = await async_setup_permissions(hub, sessions.users)
    install_session_middleware(http, sessions, csrf_exempt=_csrf_exempt, security_headers=False)
    http.app.middlewares.insert(0, security_headers_middleware(
        build_csp(conf[CONF_MAP]["layers"]), hsts=bool(http.conf.get("ssl_certificate"))))
    catalogues = await hub.async_add_executor_job(load_catalogues, conf[CONF_LANGUAGE])
    core = hub.config or CoreConfig()
    names = Names(hub, lambda: {c.id: c.name for c in core.control_centres})
    templates = await async_load_templates(hub, catalogues, names)
    leaflet = await hub.async_add_executor_job(_leaflet_installed)
    if not leaflet:
        _LOGGER.info("Leaflet is not installed (run `make install` with npm); the map is drawn as SVG")
    frontend = Frontend(hub, http, conf, templates, sessions, policy, leaflet)
    hub.data[DATA_FRONTEND] = frontend
    http.register_static_path(STATIC_URL, STATIC_DIR, roles=ROLES_SCREENS, requires_auth=False)
    register_routes(frontend)
    async_register_commands(hub)
    _LOGGER.debug("Frontend set up for centres %s", ", ".join(c.id for c in frontend.centres))
    return frontend
