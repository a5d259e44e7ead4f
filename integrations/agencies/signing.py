"""Standard Webhooks signatures: HMAC-SHA256 over "{id}.{timestamp}.{body}", several keys for rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.exceptions import HubError

from .const import HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, MIN_SECRET_BYTES, SECRET_PREFIX

__all__ = [
    "SignatureError",
    "WebhookSecret",
    "sign",
    "signature_header",
    "signed_headers",
    "verify",
]


class SignatureError(HubError):
    """A webhook's signature headers are missing, stale or wrong. `code` names which, for the reply."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """A signing key: `whsec_<base64>` (the Standard Webhooks form) or any other text, used as UTF-8 bytes."""

    key: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """Parse a configured secret; ValueError (without the secret in it) when it is unusable."""
        value = str(text).strip()
        if value.startswith(SECRET_PREFIX):
            try:
                key = base64.b64decode(value[len(SECRET_PREFIX):], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("a whsec_ secret must be base64 after the prefix") from None
        else:
            key = value.encode()
        if len(key) < MIN_SECRET_BYTES:
            raise ValueError(f"a secret must have at least {MIN_SECRET_BYTES} bytes, this one has {len(key)}")
        return cls(key)


def sign(secret: WebhookSecret, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    signed = message_id.encode() + b"." + str(int(timestamp)).encode() + b"." + body
    digest = hmac.new(secret.key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[WebhookSecret], message_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret, space-separated, so a receiver holding any of the keys verifies it."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


def signed_headers(secrets: Sequence[WebhookSecret], message_id: str, timestamp: int,
                   body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        HEADER_ID: message_id,
        HEADER_TIMESTAMP: str(int(timestamp)),
        HEADER_SIGNATURE: signature_header(secrets, message_id, timestamp, body),
    }


def verify(secrets: Sequence[WebhookSecret], headers: Mapping[str, str], body: bytes, now: float,
           tolerance: float) -> tuple[str, int]:
    """Check a received webhook; returns (message id, timestamp). Raises SignatureError.

    The timestamp must be within `tolerance` seconds of `now` either way; any `v1` signature made
    with any of `secrets` is accepted (others, such as future versions, are ignored).
    """
    message_id = headers.get(HEADER_ID)
    timestamp_text = headers.get(HEADER_TIMESTAMP)
    signatures = headers.get(HEADER_SIGNATURE)
    if not message_id or not timestamp_text or not signatures:
        raise SignatureError("missing_signature",
                             f"Missing {HEADER_ID}, {HEADER_TIMESTAMP} or {HEADER_SIGNATURE} header")
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise SignatureError("invalid_timestamp", f"{HEADER_TIMESTAMP} must be whole Unix seconds") from None
    if abs(now - timestamp) > tolerance:
        raise SignatureError("stale_timestamp",
                             f"{HEADER_TIMESTAMP} is {now - timestamp:+.0f} s from now (tolerance {tolerance:.0f} s)")
    offered = [item.partition(",")[2] for item in signatures.split(" ") if item.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, message_id, timestamp, body).partition(",")[2]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return message_id, timestamp
    raise SignatureError("invalid_signature", "No valid signature for this body")
