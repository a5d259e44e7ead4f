"""The page's websocket closes when its user is disabled or removed with the CLI while the hub runs."""

from __future__ import annotations

import aiohttp
import pytest

from frontend.websocket import CLOSE_SESSION_ENDED
from hub.auth.sessions import get_sessions

from ..hub.http.test_websocket_revocation import hacho
from .conftest import MakeClient
from .site import LOCAL, Site


@pytest.mark.parametrize("action", ["disable", "remove"])
async def test_cli_disable_or_remove_closes_the_page_websocket(site: Site, make_client: MakeClient,
                                                                action: str) -> None:
    client = await make_client("op_local")
    other = await make_client("op_local2")
    async with client.session.ws_connect(client.url(f"/c/{LOCAL}/ws")) as ws, \
            other.session.ws_connect(other.url(f"/c/{LOCAL}/ws")) as kept:
        for socket, web_client in ((ws, client), (kept, other)):
            await socket.receive_json(timeout=5)
            await socket.send_json({"type": "auth", "csrf_token": web_client.csrf})
            assert (await socket.receive_json(timeout=5))["type"] == "auth_ok"
        await hacho(site.hub.config_dir, "user", action, "op_local", "-c", str(site.hub.config_dir))
        msg = await ws.receive(timeout=5)  # the watch reads the user file twice a second
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == CLOSE_SESSION_ENDED
        sessions = get_sessions(site.hub)
        assert sessions is not None and sessions.sessions("op_local") == []
        await kept.send_json({"id": 1, "type": "ping"})
        assert (await kept.receive_json(timeout=5)) == {"id": 1, "type": "pong"}
