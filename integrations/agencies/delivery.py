"""Webhook delivery to agencies: one shared aiohttp session, Standard Webhooks signing, HTTP status -> outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from hub.core import Hub
from hub.outbox import DeliveryResult, OutboxMessage

from .config import AgencyConfig
from .const import MAX_ERROR_BODY, USER_AGENT
from .signing import signed_headers

__all__ = ["AgencyDeliverer", "parse_retry_after"]

_LOGGER = logging.getLogger(__name__)

HTTP_GONE = 410


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class AgencyDeliverer:
    """Delivers outbox messages to the agency named by their destination.

    A 2xx is delivered; 410 Gone pauses the agency (its messages wait until it is enabled again);
    anything else, and network errors and timeouts, are retried (Retry-After honoured). Redirects
    are not followed: a webhook endpoint that moved must be reconfigured.
    """

    def __init__(self, hub: Hub, agencies: Callable[[str], AgencyConfig | None]) -> None:
        self.hub = hub
        self._agencies = agencies
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        return self._session

    async def async_close(self) -> None:
        """Close the shared session (on unload and on hub stop)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def async_deliver(self, message: OutboxMessage) -> DeliveryResult:
        """One attempt: sign with the agency's current secrets and a fresh timestamp, POST, classify."""
        agency = self._agencies(message.destination)
        if agency is None:
            return DeliveryResult.dead(f"Agency {message.destination!r} is no longer configured")
        body = message.payload.encode()
        headers = dict(message.headers)
        headers.update(signed_headers(agency.secrets, message.id, int(self.hub.clock.time()), body))
        try:
            async with self._get_session().post(
                agency.url, data=body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=agency.timeout),
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    return DeliveryResult.delivered(status)
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self.hub.clock.time())
                detail = await _short_text(response)
        except TimeoutError:
            return DeliveryResult.retry(f"No answer within {agency.timeout:g} s")
        except aiohttp.ClientError as err:
            return DeliveryResult.retry(f"{type(err).__name__}: {err}")
        error = f"HTTP {status}" + (f": {detail}" if detail else "")
        if status == HTTP_GONE:
            return DeliveryResult.pause(error, status)
        return DeliveryResult.retry(error, retry_after, status)


async def _short_text(response: aiohttp.ClientResponse) -> str:
    """The start of an error response's body, for last_error."""
    try:
        raw = await asyncio.wait_for(response.content.read(MAX_ERROR_BODY * 4), 2)
    except (TimeoutError, aiohttp.ClientError):
        return ""
    return " ".join(raw.decode(errors="replace").split())[:MAX_ERROR_BODY]


def http_date(ts: float) -> str:
    """An HTTP-date (for tests and Retry-After answers)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
