"""The traces API and the webhook route, through a real HTTP server."""

from __future__ import annotations

import asyncio

import aiohttp

import automations
from hub.auth.tokens import create_token
from hub.core import Hub
from hub.http import async_setup_http

from .conftest import Calls, record


async def test_traces_and_webhook_over_http(hub: Hub, calls: Calls) -> None:
    token = await hub.async_add_executor_job(create_token, hub.config_dir, "operator", "ceuta_norte")
    http = await async_setup_http(hub, {"port": 0})
    await automations.async_setup(hub, {"automations": [
        {"id": "panel_ack", "alias": "Panel acknowledged",
         "triggers": {"trigger": "webhook", "webhook_id": "ack-7f3a"},
         "actions": record(panel="{{ trigger.json.panel }}")},
    ]})
    await hub.async_start()
    await http.async_start()
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{http.base_url}/api/webhook/ack-7f3a", json={"panel": "p9"}) as resp:
            assert resp.status == 200
        async with session.post(f"{http.base_url}/api/webhook/unknown", json={}) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "not_found"  # the API's one error shape
        async with session.get(f"{http.base_url}/api/webhook/ack-7f3a") as resp:
            assert resp.status == 405  # the trigger takes POST and PUT
            assert (await resp.json())["error"] == {"code": "method_not_allowed",
                                                    "message": "Webhook 'ack-7f3a' does not take GET"}
        for _ in range(20):
            await asyncio.sleep(0)
        assert calls.data() == [{"panel": "p9"}]
        async with session.get(f"{http.base_url}/api/automations/panel_ack/traces") as resp:
            assert resp.status == 401  # traces need a token
        async with session.get(f"{http.base_url}/api/automations/panel_ack/traces", headers=headers) as resp:
            body = await resp.json()
        assert resp.status == 200 and body["key"] == "automation.panel_ack"
        (trace,) = body["traces"]
        assert trace["execution"] == "finished"
        assert trace["steps"][-1]["result"] == {"action": "test.record", "data": {"panel": "p9"}}
        url = f"{http.base_url}/api/automations/automation.panel_ack/traces?run_id={trace['run_id']}"
        async with session.get(url, headers=headers) as resp:
            assert (await resp.json())["traces"][0]["run_id"] == trace["run_id"]
        async with session.get(f"{http.base_url}/api/automations/nope/traces", headers=headers) as resp:
            assert resp.status == 404
