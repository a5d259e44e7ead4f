"""The control-centre web frontend: server-rendered screens per centre, live over a websocket.

The composition root (`hacho.bootstrap`, a `hub.bootstrap.Component`) calls, after `async_setup_http` and
before the server starts::

    from frontend import CONFIG_SCHEMA, async_setup_frontend
    await async_setup_frontend(hub, raw_config.get("frontend"))

It installs the session cookie, CSRF and security-header middlewares, serves
`/static/frontend/`, and adds `/login`, `/logout`, `/` and `/c/<centre>/...` for every
configured control centre. See docs/frontend.md.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from hub.core import Hub
from hub.exceptions import ConfigError
from hub.http.view import humanize_invalid

from .app import DATA_FRONTEND, Frontend
from .config import CONFIG_SCHEMA
from .const import DOMAIN

__all__ = ["CONFIG_SCHEMA", "DATA_FRONTEND", "DOMAIN", "Frontend", "async_setup_frontend", "get_frontend"]


async def async_setup_frontend(hub: Hub, config: dict[str, Any] | None = None) -> Frontend:
    """Validate the `frontend:` section and set the frontend up on the hub's HTTP server.

    Call after `async_setup_http` (and after the recorder, for history and the audit screen),
    before `http.async_start()`. Raises ConfigError for a bad section, HubError when HTTP is not set
    up or has already started.
    """
    from .app import async_setup

    try:
        conf: dict[str, Any] = CONFIG_SCHEMA(config)
    except vol.Invalid as err:
        raise ConfigError(f"Invalid frontend configuration: {humanize_invalid(err)}") from err
    return await async_setup(hub, conf)


def get_frontend(hub: Hub) -> Frontend | None:
    """The frontend, if set up."""
    return hub.data.get(DATA_FRONTEND)
