"""MQTT connection settings, built one way for every client the hub opens (the mqtt integration, federation).

`valid_tls` validates a `tls:` option (true, false, or a mapping of ca_certs/certfile/keyfile/insecure) and
`connection_kwargs` turns credentials and that mapping into aiomqtt.Client's keyword arguments.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import aiomqtt
import voluptuous as vol

from hub.helpers import config_validation as cv

from .const import CONF_CA_CERTS, CONF_CERTFILE, CONF_INSECURE, CONF_KEYFILE

__all__ = ["TLS_OPTIONS_SCHEMA", "connection_kwargs", "valid_tls"]

TLS_OPTIONS_SCHEMA = vol.Schema({
    vol.Optional(CONF_CA_CERTS): cv.string,
    vol.Optional(CONF_CERTFILE): cv.string,
    vol.Optional(CONF_KEYFILE): cv.string,
    vol.Optional(CONF_INSECURE, default=False): cv.boolean,
})


def valid_tls(value: Any) -> dict[str, Any] | None:
    """`tls: true` (or empty) is TLS with the system's CAs, `false` none, a mapping the options above."""
    if value is None or value is True:
        return dict(TLS_OPTIONS_SCHEMA({}))
    if value is False:
        return None
    if isinstance(value, str):
        return valid_tls(cv.boolean(value))
    return dict(TLS_OPTIONS_SCHEMA(value))


def connection_kwargs(*, username: str | None = None, password: str | None = None,
                      tls: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """aiomqtt.Client keyword arguments for credentials and TLS (None: a plain TCP connection)."""
    kwargs: dict[str, Any] = {"username": username, "password": password, "tls_params": None,
                              "tls_insecure": None}
    if tls is not None:
        insecure = bool(tls.get(CONF_INSECURE, False))
        kwargs["tls_params"] = aiomqtt.TLSParameters(
            ca_certs=tls.get(CONF_CA_CERTS), certfile=tls.get(CONF_CERTFILE), keyfile=tls.get(CONF_KEYFILE),
            cert_reqs=ssl.CERT_NONE if insecure else ssl.CERT_REQUIRED,
        )
        kwargs["tls_insecure"] = insecure
    return kwargs
