"""Schemas of the `zeroconf:` section and of its services (defaults live here)."""

from __future__ import annotations

import ipaddress
from typing import Any

import voluptuous as vol

from hub.helpers import config_validation as cv

from .const import (
    CONF_ANNOUNCE,
    CONF_BROWSE,
    CONF_INTERFACES,
    CONF_IP_VERSION,
    CONF_NAME,
    CONF_PORT,
    CONF_PROPERTIES,
    DEFAULT_BROWSE,
)

__all__ = ["CONFIG_SCHEMA", "ID_SCHEMA"]


def service_type(value: Any) -> str:
    """`_name._tcp.local.` (the `.local.` may be left out)."""
    text = cv.string(value).strip()
    if not text.endswith("."):
        text += "."
    if not text.endswith(".local."):
        text = text[:-1] + ".local."
    parts = text.split(".")
    if len(parts) != 4 or not parts[0].startswith("_") or parts[1] not in ("_tcp", "_udp"):
        raise vol.Invalid(f"expected a service type like _mqtt._tcp.local., got {value!r}")
    return text


def _interfaces(value: Any) -> str | list[str]:
    if value in (None, "all"):
        return "all"
    addresses = []
    for item in cv.ensure_list(value):
        try:
            addresses.append(str(ipaddress.ip_address(cv.string(item))))
        except ValueError:
            raise vol.Invalid(f"expected 'all' or a list of interface IP addresses, got {item!r}") from None
    return addresses


CONFIG_SCHEMA = vol.All(
    lambda value: {} if value is None else value,
    vol.Schema({
        vol.Optional(CONF_ANNOUNCE, default=True): cv.boolean,
        vol.Optional(CONF_NAME): vol.All(cv.string, vol.Length(min=1, max=63)),  # default: the hub's name
        vol.Optional(CONF_PORT): cv.port,  # default: the HTTP API's port
        vol.Optional(CONF_INTERFACES, default="all"): _interfaces,
        vol.Optional(CONF_IP_VERSION, default="v4"): vol.In(["v4", "v6", "all"]),
        vol.Optional(CONF_BROWSE, default=list(DEFAULT_BROWSE)): vol.All(cv.ensure_list, [service_type]),
        vol.Optional(CONF_PROPERTIES, default=dict): {cv.string: cv.string},  # extra TXT entries
    }),
)

ID_SCHEMA = vol.Schema({vol.Required("id"): cv.string})
