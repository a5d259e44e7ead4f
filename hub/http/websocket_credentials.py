"""Open websockets end with their credential: a revoked token, a disabled or removed user, an ended session.

Each authenticated websocket (`/api/websocket` with a token, the frontend's with a session cookie)
is registered here. While the HTTP server runs, the token and user files are re-read twice a
second (the `hacho token` / `hacho user` CLI writes them from another process), and a token that
disappears or a user who is removed or disabled closes that principal's sockets at once, with
close code 4001. As a second line, a connection re-checks its credential before each message it
receives (`credential` of ActiveConnection) and closes instead of answering.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final

from aiohttp import web

from ..auth.models import User
from ..auth.tokens import TokenStore
from ..auth.users import UserRecord, UserStore, async_get_users
from ..core import CALLBACK_TYPE, Hub, callback

if TYPE_CHECKING:
    from .websocket_api import ActiveConnection

__all__ = ["CLOSE_CREDENTIAL_ENDED", "CREDENTIALS_KEY", "WATCH_INTERVAL", "CredentialWatch"]

_LOGGER = logging.getLogger(__name__)

CLOSE_CREDENTIAL_ENDED: Final = 4001
WATCH_INTERVAL: Final = 0.5  # seconds between checks of the token and user files


class CredentialWatch:
    """The live websocket connections, closed when the token or user they act for ends."""

    def __init__(self, hub: Hub, tokens: TokenStore) -> None:
        self.hub = hub
        self.tokens = tokens
        self.users: UserStore | None = None
        self._connections: set[ActiveConnection] = set()

    @callback
    def async_add(self, connection: ActiveConnection) -> CALLBACK_TYPE:
        """Watch a connection until the returned remover is called."""
        self._connections.add(connection)

        @callback
        def remove() -> None:
            self._connections.discard(connection)

        return remove

    @callback
    def token_credential(self, user: User) -> Callable[[], bool]:
        """The per-message check of a connection opened with an access token."""
        known = self.users is not None and self.users.get(user.id) is not None

        @callback
        def check() -> bool:
            if not self.tokens.is_live(user.token_id):
                return False
            record = self.users.get(user.id) if self.users is not None else None
            if record is None:
                return not known  # a token not tied to a registered user stays as it was
            return not record.disabled

        return check

    async def async_ctx(self, _app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx of the HTTP app: watch the files while the server runs."""
        from ..helpers.event import async_track_time_interval

        self.users = await async_get_users(self.hub)
        removers = [
            self.tokens.async_listen_removed(self._tokens_removed),
            self.users.async_listen(self._users_changed),
            async_track_time_interval(self.hub, self._async_check_files, WATCH_INTERVAL),
        ]
        yield
        while removers:
            removers.pop()()

    async def _async_check_files(self, _now: datetime) -> None:
        await self.tokens.async_check_now()
        if self.users is not None:
            await self.users.async_maybe_reload(force=True)

    @callback
    def _tokens_removed(self, token_ids: set[str]) -> None:
        self._close_where(lambda user: user.token_id in token_ids, "Access token revoked")

    @callback
    def _users_changed(self, old: dict[str, UserRecord], new: dict[str, UserRecord]) -> None:
        ended = {user_id for user_id, before in old.items()
                 if (after := new.get(user_id)) is None or (after.disabled and not before.disabled)}
        if ended:
            self._close_where(lambda user: user.id in ended, "User removed or disabled")

    def _close_where(self, ends: Callable[[User], bool], reason: str) -> None:
        for connection in list(self._connections):
            if ends(connection.user):
                _LOGGER.debug("Closing the websocket of %s: %s", connection.user.id, reason)
                connection.async_close(CLOSE_CREDENTIAL_ENDED, reason)


CREDENTIALS_KEY: Final[web.AppKey[CredentialWatch]] = web.AppKey("websocket_credentials", CredentialWatch)
