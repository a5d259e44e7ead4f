"""The `frontend:` section of configuration.yaml (every key optional; defaults live here)."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

import voluptuous as vol

from hub.auth.sessions import SessionConfig

from .const import (
    CONF_ABSOLUTE_TIMEOUT,
    CONF_IDLE_TIMEOUT,
    CONF_LANGUAGE,
    CONF_SECURE_COOKIE,
    CONF_SESSION,
    CONF_TILE_ATTRIBUTION,
    CONF_TILE_URL,
    CONF_TITLE,
)
from .i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

__all__ = ["CONFIG_SCHEMA", "session_config", "tile_origin"]

_DEFAULTS: Final = SessionConfig()


def _tile_url(value: Any) -> str:
    """An http(s) URL template with {z}, {x} and {y} (and optionally {s} for subdomains)."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a URL template, got {type(value).__name__}")
    parts = urlsplit(value.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise vol.Invalid(f"tile_url must be an http(s) URL, got {value!r}")
    missing = [key for key in ("{z}", "{x}", "{y}") if key not in value]
    if missing:
        raise vol.Invalid(f"tile_url needs {', '.join(missing)} (e.g. https://tile.example/{{z}}/{{x}}/{{y}}.png)")
    return value


def tile_origin(tile_url: str) -> str:
    """The origin to allow in the Content-Security-Policy for a tile URL (`{s}.` becomes `*.`)."""
    parts = urlsplit(tile_url.replace("{s}.", "SUBDOMAIN."))
    host = parts.netloc.replace("SUBDOMAIN.", "*.")
    return f"{parts.scheme}://{host}"


SESSION_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_IDLE_TIMEOUT, default=_DEFAULTS.idle_timeout): vol.All(
        vol.Coerce(float), vol.Range(min=60)),
    vol.Optional(CONF_ABSOLUTE_TIMEOUT, default=_DEFAULTS.absolute_timeout): vol.All(
        vol.Coerce(float), vol.Range(min=300)),
})

CONFIG_SCHEMA: Final = vol.All(
    lambda value: {} if value is None else value,  # a bare `frontend:` means all defaults
    vol.Schema({
        vol.Optional(CONF_TITLE): vol.All(str, vol.Length(min=1, max=80)),
        vol.Optional(CONF_TILE_URL): _tile_url,
        vol.Optional(CONF_TILE_ATTRIBUTION, default=""): vol.All(str, vol.Length(max=300)),
        # None: Secure when the request came over TLS; true behind a TLS-terminating proxy.
        vol.Optional(CONF_SECURE_COOKIE, default=None): vol.Any(None, bool),
        vol.Optional(CONF_SESSION, default=dict): SESSION_SCHEMA,
        # The screens' language for users who have not chosen one (Ceuta works in Spanish).
        vol.Optional(CONF_LANGUAGE, default=DEFAULT_LANGUAGE): vol.In(SUPPORTED_LANGUAGES),
    }, extra=vol.PREVENT_EXTRA),
)


def session_config(conf: dict[str, Any]) -> SessionConfig:
    """The session timeouts of a validated `frontend:` section."""
    session = conf[CONF_SESSION]
    return SessionConfig(idle_timeout=session[CONF_IDLE_TIMEOUT], absolute_timeout=session[CONF_ABSOLUTE_TIMEOUT])
