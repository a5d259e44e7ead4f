"""A hub with the recorder, audit log, alarms, users and the evidence export, and some evidence in it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.audit import async_setup_audit, get_audit
from hub.auth import async_setup_permissions, passwords
from hub.auth.tokens import create_token
from hub.auth.users import add_user
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Hub
from hub.evidence import async_setup_evidence
from hub.http import HubHTTP, async_setup_http
from hub.recorder import async_setup_recorder
from integrations import alarm

CROP = b"\xff\xd8\xff\xe0JFIF-crop-of-plate-1234-BCD" + bytes(range(256))
FRAME = b"\xff\xd8\xff\xe0JFIF-full-frame" + bytes(range(255, -1, -1)) * 4
THUMB = b"\x89PNG\r\n\x1a\n-thermal-thumbnail"
SUPERVISOR = Context(user_id="sup1", centre="national_police")
OPERATOR = Context(user_id="op1", centre="national_police")


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


@dataclass
class Bench:
    """The hub, its HTTP API with a supervisor's and an operator's token, and what was recorded."""

    hub: Hub
    http: HubHTTP
    session: aiohttp.ClientSession
    tokens: dict[str, str]
    alarm_id: str
    start: float
    end: float

    async def export(self, context: Context = SUPERVISOR, **data: Any) -> dict[str, Any]:
        data.setdefault("reason", "Requested by the Juzgado de Instrucción nº 2 de Ceuta")
        data.setdefault("case_reference", "DP 123/2025")
        answer = await self.hub.services.async_call("evidence", "export", data, context=context,
                                                    return_response=True)
        assert answer is not None
        return answer

    async def audit(self, action: str) -> list[dict[str, Any]]:
        audit = get_audit(self.hub)
        assert audit is not None
        return await audit.async_query(action=action, limit=100)


@pytest.fixture
async def bench(config_dir: Path) -> AsyncIterator[Bench]:
    hub = Hub(config_dir)
    hub.config = CoreConfig(name="Hacho Ceuta", site="national_police",
                            control_centres=(ControlCentre("national_police", "Policía Nacional", (), True),))
    await hub.async_add_executor_job(lambda: add_user(config_dir, "sup1", role="supervisor",
                                                      centre="national_police", password="correct horse battery"))
    await hub.async_add_executor_job(lambda: add_user(config_dir, "op1", role="operator", centre="national_police",
                                                      password="correct horse battery"))
    tokens = {user: await hub.async_add_executor_job(lambda u=user: create_token(config_dir, u, "national_police",
                                                                                 user_id=u))
              for user in ("sup1", "op1")}
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 0.1})
    await async_setup_permissions(hub)
    await async_setup_audit(hub, register_views=False)
    http = await async_setup_http(hub, {"port": 0})
    assert await alarm.async_setup(hub, alarm.CONFIG_SCHEMA({"types": [{"id": "hotlist", "severity": "major"}]}))
    await async_setup_evidence(hub)
    await http.async_start()
    await hub.async_start()

    media = config_dir / "media" / "anpr" / "hits" / "tarajal_1" / "20250301"
    media.mkdir(parents=True)
    (media / "hit1_crop.jpg").write_bytes(CROP)
    (media / "hit1_frame.jpg").write_bytes(FRAME)
    (config_dir / "secret.jpg").write_bytes(b"outside")  # named by no event: never exported

    start = hub.clock.time()
    hub.states.async_set("camera.tarajal_1", "recording", {"area_id": "tarajal"})
    hub.bus.async_fire("anpr_hotlist_hit", {
        "hit_id": "hit1", "camera": "camera.tarajal_1", "entity_id": "camera.tarajal_1", "list": "stolen",
        "plate": "1234BCD", "evidence": {"crop": "media/anpr/hits/tarajal_1/20250301/hit1_crop.jpg",
                                         "frame": "media/anpr/hits/tarajal_1/20250301/hit1_frame.jpg"},
        "not_a_file": "media/missing.jpg", "escape": "../../etc/passwd.png"})
    hub.bus.async_fire("thermal_fire_detected", {
        "entity_id": "camera.tarajal_1", "tower": "tower.monte_hacho",
        "snapshot": {"format": "png", "encoding": "base64", "data": base64.b64encode(THUMB).decode()}})
    hub.bus.async_fire("unrelated_event", {"entity_id": "sensor.wind"})
    raised = await hub.services.async_call("alarm", "raise", {"type": "hotlist", "entities": ["camera.tarajal_1"]},
                                           context=SUPERVISOR, return_response=True)
    assert raised is not None
    hub.states.async_set("camera.tarajal_1", "tracking", {"area_id": "tarajal"})
    await hub.async_block_till_done()
    end = hub.clock.time() + 1
    session = aiohttp.ClientSession()
    yield Bench(hub, http, session, tokens, raised["alarm_id"], start - 1, end)
    await session.close()
    await hub.async_stop()
