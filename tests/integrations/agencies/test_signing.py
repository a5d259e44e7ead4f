"""Standard Webhooks signing: the reference test vector, rotation, and every way verification refuses."""

from __future__ import annotations

import pytest

from integrations.agencies.signing import (
    SignatureError,
    WebhookSecret,
    sign,
    signature_header,
    signed_headers,
    verify,
)

from .conftest import OLD_SECRET, SECRET, expected_signature

# The test vector of the Standard Webhooks reference libraries
# (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py::test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_reference_vector() -> None:
    secret = WebhookSecret.parse(VECTOR_SECRET)
    assert sign(secret, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIMESTAMP),
               "webhook-signature": VECTOR_SIGNATURE}
    assert verify([secret], headers, VECTOR_BODY, VECTOR_TIMESTAMP + 10, 300) == (VECTOR_ID, VECTOR_TIMESTAMP)


def test_plain_text_secrets_sign_with_their_utf8_bytes() -> None:
    text = "ministry-shared-secret-2026"
    assert sign(WebhookSecret.parse(text), "m1", 1767268800, b"{}") == expected_signature(text, "m1", 1767268800,
                                                                                          b"{}")


def test_rotation_signs_with_every_key_and_verifies_with_any() -> None:
    new, old = WebhookSecret.parse(SECRET), WebhookSecret.parse(OLD_SECRET)
    header = signature_header([new, old], "m2", 1767268800, b"body")
    assert header.split(" ") == [expected_signature(SECRET, "m2", 1767268800, b"body"),
                                 expected_signature(OLD_SECRET, "m2", 1767268800, b"body")]
    headers = signed_headers([new, old], "m2", 1767268800, b"body")
    assert verify([old], headers, b"body", 1767268800, 300) == ("m2", 1767268800)  # receiver not rotated yet
    assert verify([new], headers, b"body", 1767268800, 300) == ("m2", 1767268800)
    # unknown versions and garbage next to a valid signature are ignored, as the reference does
    mixed = {**headers, "webhook-signature": "v2,AAAA v1,bm9wZQ== " + headers["webhook-signature"]}
    assert verify([new], mixed, b"body", 1767268800, 300) == ("m2", 1767268800)


@pytest.mark.parametrize(("headers", "body", "now", "code"), [
    ({"webhook-timestamp": "1767268800", "webhook-signature": "v1,x"}, b"{}", 1767268800, "missing_signature"),
    ({"webhook-id": "m", "webhook-timestamp": "soon", "webhook-signature": "v1,x"}, b"{}", 1767268800,
     "invalid_timestamp"),
    ("valid", b"{}", 1767268800 + 301, "stale_timestamp"),
    ("valid", b"{}", 1767268800 - 301, "stale_timestamp"),
    ("valid", b"{ }", 1767268800, "invalid_signature"),
    ("wrong_key", b"{}", 1767268800, "invalid_signature"),
])
def test_verification_refuses(headers: object, body: bytes, now: float, code: str) -> None:
    secret = WebhookSecret.parse(SECRET)
    if headers == "valid":
        headers = signed_headers([secret], "m", 1767268800, b"{}")
    elif headers == "wrong_key":
        headers = signed_headers([WebhookSecret.parse(OLD_SECRET)], "m", 1767268800, b"{}")
    with pytest.raises(SignatureError) as err:
        verify([secret], headers, body, now, 300)  # type: ignore[arg-type]
    assert err.value.code == code


def test_unusable_secrets_are_refused_without_showing_them() -> None:
    with pytest.raises(ValueError, match="base64") as err:
        WebhookSecret.parse("whsec_not*base64*at*all")
    assert "not*base64" not in str(err.value)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        WebhookSecret.parse("change-me")
    assert "key" not in repr(WebhookSecret.parse(SECRET)).split("(")[1]
