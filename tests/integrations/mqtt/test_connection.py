"""One MQTT connection-settings builder for the mqtt integration and federation."""

from __future__ import annotations

import ssl

import pytest
import voluptuous as vol

from integrations.mqtt.connection import connection_kwargs, valid_tls


@pytest.mark.parametrize(("raw", "expected"), [
    (True, {"insecure": False}),
    (None, {"insecure": False}),
    ("on", {"insecure": False}),
    (False, None),
    ("off", None),
    ({"ca_certs": "/etc/ca.pem"}, {"ca_certs": "/etc/ca.pem", "insecure": False}),
])
def test_tls_option_forms(raw: object, expected: dict[str, object] | None) -> None:
    assert valid_tls(raw) == expected


def test_unknown_tls_option_is_refused() -> None:
    with pytest.raises(vol.Invalid):
        valid_tls({"ca_cert": "/etc/ca.pem"})


def test_plain_and_tls_connection_arguments() -> None:
    assert connection_kwargs(username="hub", password="pw") == {
        "username": "hub", "password": "pw", "tls_params": None, "tls_insecure": None}
    strict = connection_kwargs(tls=valid_tls({"ca_certs": "/etc/ca.pem"}))
    assert strict["tls_params"].ca_certs == "/etc/ca.pem"
    assert strict["tls_params"].cert_reqs == ssl.CERT_REQUIRED and strict["tls_insecure"] is False
    loose = connection_kwargs(tls=valid_tls({"insecure": True}))
    assert loose["tls_params"].cert_reqs == ssl.CERT_NONE and loose["tls_insecure"] is True
