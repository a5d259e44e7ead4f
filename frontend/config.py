"""The `frontend:` section of configuration.yaml (every key optional; defaults live here)."""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from hub.auth.sessions import SessionConfig

from .const import (
    CONF_ABSOLUTE_TIMEOUT,
    CONF_IDLE_TIMEOUT,
    CONF_LANGUAGE,
    CONF_MAP,
    CONF_SECURE_COOKIE,
    CONF_SESSION,
    CONF_TILE_ATTRIBUTION,
    CONF_TILE_URL,
    CONF_TITLE,
)
from .i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from .map_layers import MAP_SCHEMA, legacy_tile_layer, tile_url

__all__ = ["CONFIG_SCHEMA", "session_config"]

_DEFAULTS: Final = SessionConfig()


def _legacy_tiles(conf: dict[str, Any]) -> dict[str, Any]:
    """`tile_url` (and `tile_attribution`), the older way to give one tile layer: it becomes the map's first
    layer, in front of the configured (or default) ones."""
    url = conf.pop(CONF_TILE_URL, None)
    attribution = conf.pop(CONF_TILE_ATTRIBUTION, "")
    if url is not None:
        conf[CONF_MAP]["layers"] = [legacy_tile_layer(url, attribution), *conf[CONF_MAP]["layers"]]
    return conf


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
        vol.Optional(CONF_TILE_URL): tile_url,
        vol.Optional(CONF_TILE_ATTRIBUTION): vol.All(str, vol.Length(max=300)),
        vol.Optional(CONF_MAP, default=dict): MAP_SCHEMA,  # frontend/map_layers.py
        # None: Secure when the request came over TLS; true behind a TLS-terminating proxy.
        vol.Optional(CONF_SECURE_COOKIE, default=None): vol.Any(None, bool),
        vol.Optional(CONF_SESSION, default=dict): SESSION_SCHEMA,
        # The screens' language for users who have not chosen one (Ceuta works in Spanish).
        vol.Optional(CONF_LANGUAGE, default=DEFAULT_LANGUAGE): vol.In(SUPPORTED_LANGUAGES),
    }, extra=vol.PREVENT_EXTRA),
    _legacy_tiles,
)


def session_config(conf: dict[str, Any]) -> SessionConfig:
    """The session timeouts of a validated `frontend:` section."""
    session = conf[CONF_SESSION]
    return SessionConfig(idle_timeout=session[CONF_IDLE_TIMEOUT], absolute_timeout=session[CONF_ABSOLUTE_TIMEOUT])
