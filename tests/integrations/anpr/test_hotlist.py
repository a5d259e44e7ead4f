"""Hotlists: services, expiry, CSV import (errors name the line), REST updates, storage in the recorder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.auth.tokens import create_token
from hub.clock import FakeClock
from hub.core import Hub
from hub.exceptions import ServiceValidationError
from hub.http import async_setup_http
from hub.recorder import async_setup_recorder
from integrations.anpr import DATA_KEY, async_setup, async_unload

from .conftest import SetupAnpr, anpr_config, state_of


async def _add(hub: Hub, **data: Any) -> Any:
    return await hub.services.async_call("anpr", "hotlist_add", data, blocking=True, return_response=True)


async def test_add_match_and_remove(fake_hub: Hub, setup_anpr_fake: SetupAnpr) -> None:
    manager = await setup_anpr_fake()
    result = await _add(fake_hub, list="stolen", plate="1234 bcd", reason="robbery", source="DGP")
    assert result["added"] is True and result["entry"]["plate"] == "1234BCD"
    assert state_of(fake_hub, "sensor.anpr_hotlist_stolen").state == "1"
    [match] = manager.hotlists.match("I234BC0", fake_hub.clock.time())  # two OCR confusions
    assert (match.list.id, match.entry.reason, match.entry.source) == ("stolen", "robbery", "DGP")
    assert match.distance == pytest.approx(0.5)
    assert manager.hotlists.match("1234BCF", fake_hub.clock.time())[0].distance == 1.0  # list default 1.0
    removed = await fake_hub.services.async_call(
        "anpr", "hotlist_remove", {"list": "stolen", "plate": "1234BCD"}, blocking=True, return_response=True
    )
    assert removed == {"removed": True}
    assert manager.hotlists.match("1234BCD", fake_hub.clock.time()) == []
    assert state_of(fake_hub, "sensor.anpr_hotlist_stolen").state == "0"


async def test_list_distance_applies(fake_hub: Hub, setup_anpr_fake: SetupAnpr) -> None:
    """The allow-list has max_distance 0.5: confusions match, another character does not."""
    manager = await setup_anpr_fake()
    await _add(fake_hub, list="port_access", plate="5678FGH")
    now = fake_hub.clock.time()
    assert [m.list.id for m in manager.hotlists.match("S678FGH", now)] == ["port_access"]
    assert manager.hotlists.match("5678FGK", now) == []


async def test_entries_expire(fake_hub: Hub, fake_clock: FakeClock, setup_anpr_fake: SetupAnpr) -> None:
    manager = await setup_anpr_fake()
    await _add(fake_hub, list="stolen", plate="1234BCD", ttl={"minutes": 5})
    await _add(fake_hub, list="stolen", plate="9999XYZ")  # never expires
    assert manager.hotlists.match("1234BCD", fake_hub.clock.time())
    await fake_clock.async_advance(301)
    assert manager.hotlists.match("1234BCD", fake_hub.clock.time()) == []  # expired: no hit, before any purge
    assert state_of(fake_hub, "sensor.anpr_hotlist_stolen").state == "2"
    assert manager.hotlists.match("9999XYZ", fake_hub.clock.time())
    result: Any = await fake_hub.services.async_call("anpr", "purge", {}, blocking=True, return_response=True)
    assert result["expired_entries"] == 1
    assert state_of(fake_hub, "sensor.anpr_hotlist_stolen").state == "1"


async def test_bad_entries_are_refused(fake_hub: Hub, setup_anpr_fake: SetupAnpr) -> None:
    await setup_anpr_fake()
    with pytest.raises(ServiceValidationError, match="no hotlist 'wanted'"):
        await _add(fake_hub, list="wanted", plate="1234BCD")
    with pytest.raises(ServiceValidationError, match="'expires'"):
        await _add(fake_hub, list="stolen", plate="1234BCD", expires="next tuesday")
    with pytest.raises(ServiceValidationError, match="'plate'"):
        await _add(fake_hub, list="stolen", plate="-")


CSV_OK = """plate,list,priority,reason,source,expires
1234BCD,stolen,1,robbery,DGP,2099-12-31
CE 1234 AB,stolen,,theft,,
5678FGH,port_access,,ferry staff,Autoridad Portuaria,30d
"""

CSV_BAD = """plate,list,priority,reason,source,expires
1234BCD,stolen,1,robbery,DGP,2099-12-31
5678FGH,stolen,1,robbery,DGP,next week
-,stolen,1,robbery,DGP,
9999XYZ,wanted,1,,,
1111BBB,stolen,12,,,
"""


async def test_csv_import(fake_hub: Hub, setup_anpr_fake: SetupAnpr, config_dir: Path) -> None:
    manager = await setup_anpr_fake()
    (config_dir / "lists").mkdir()
    (config_dir / "lists" / "dgp.csv").write_text(CSV_OK, encoding="utf-8")
    result = await fake_hub.services.async_call(
        "anpr", "hotlist_import", {"path": "lists/dgp.csv"}, blocking=True, return_response=True
    )
    assert result == {"added": 3, "updated": 0}
    entries = {e.plate: e for e in manager.hotlists.entries()}
    assert set(entries) == {"1234BCD", "CE1234AB", "5678FGH"}
    assert entries["CE1234AB"].priority == 1  # the list's default priority
    assert entries["5678FGH"].expires_ts == pytest.approx(fake_hub.clock.time() + 30 * 86400)
    again = await fake_hub.services.async_call(
        "anpr", "hotlist_import", {"csv": CSV_OK}, blocking=True, return_response=True
    )
    assert again == {"added": 0, "updated": 3}


async def test_csv_errors_name_the_line_and_import_nothing(fake_hub: Hub, setup_anpr_fake: SetupAnpr) -> None:
    manager = await setup_anpr_fake()
    with pytest.raises(ServiceValidationError) as err:
        await fake_hub.services.async_call("anpr", "hotlist_import", {"csv": CSV_BAD}, blocking=True)
    message = str(err.value)
    assert "csv:3: 'expires'" in message
    assert "csv:4: 'plate'" in message
    assert "csv:5: 'list': no list 'wanted'" in message
    assert "csv:6: 'priority'" in message
    assert "csv:2" not in message
    assert manager.hotlists.entries() == []
    with pytest.raises(ServiceValidationError, match=r"csv:1: .*'plate' column"):
        await fake_hub.services.async_call("anpr", "hotlist_import", {"csv": "matricula\n1234BCD\n"}, blocking=True)
    with pytest.raises(ServiceValidationError, match="outside the config dir"):
        await fake_hub.services.async_call("anpr", "hotlist_import", {"path": "../../etc/passwd"}, blocking=True)


async def test_entries_are_stored_in_the_recorder(hub: Hub, tmp_path: Path) -> None:
    """Entries survive a reload through the recorder database."""
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{tmp_path / 'hacho.db'}", "commit_interval": 3600})
    assert await async_setup(hub, anpr_config())
    await _add(hub, list="stolen", plate="1234BCD", reason="robbery", expires="2099-01-01")
    await hub.services.async_call("anpr", "hotlist_import", {"csv": CSV_OK}, blocking=True)
    await hub.services.async_call("anpr", "hotlist_remove", {"list": "stolen", "plate": "CE1234AB"}, blocking=True)
    await async_unload(hub)
    assert await async_setup(hub, anpr_config())
    manager = hub.data[DATA_KEY]
    entries = {(e.list_id, e.plate): e for e in manager.hotlists.entries()}
    assert set(entries) == {("stolen", "1234BCD"), ("port_access", "5678FGH")}
    assert entries[("stolen", "1234BCD")].reason == "robbery"  # the CSV row replaced it
    assert state_of(hub, "sensor.anpr_hotlist_stolen").state == "1"
    await async_unload(hub)


async def test_rest_updates(hub: Hub) -> None:
    """The Ministry's feed pushes JSON or CSV; entries are listed and deleted over the API."""
    token = await hub.async_add_executor_job(create_token, hub.config_dir, "dgp_feed", None)
    http = await async_setup_http(hub, {"port": 0})
    assert await async_setup(hub, anpr_config())
    await http.async_start()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{http.base_url}/api/anpr/hotlists"
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.post(
                f"{base}/stolen/entries", json=[{"plate": "1234BCD", "reason": "robbery", "expires": "30d"}]
            ) as resp:
                assert resp.status == 200 and await resp.json() == {"added": 1, "updated": 0}
            async with session.post(
                f"{base}/stolen/entries", data="plate,reason\n5678FGH,theft\n", headers={"Content-Type": "text/csv"}
            ) as resp:
                assert resp.status == 200 and await resp.json() == {"added": 1, "updated": 0}
            async with session.post(
                f"{base}/stolen/entries", data="plate,reason\n-,theft\n", headers={"Content-Type": "text/csv"}
            ) as resp:
                assert resp.status == 400
                assert "csv:2: 'plate'" in (await resp.json())["error"]["message"]
            async with session.get(base) as resp:
                lists = {item["id"]: item for item in await resp.json()}
                assert lists["stolen"]["entries"] == 2 and lists["port_access"]["kind"] == "allow"
            async with session.get(f"{base}/stolen/entries") as resp:
                body = await resp.json()
                assert [e["plate"] for e in body] == ["1234BCD", "5678FGH"]
                assert body[1]["source"] == "api:dgp_feed"
            async with session.delete(f"{base}/stolen/entries/1234BCD") as resp:
                assert resp.status == 200
            async with session.delete(f"{base}/stolen/entries/1234BCD") as resp:
                assert resp.status == 404
            async with session.get(f"{base}/nope/entries") as resp:
                assert resp.status == 404
        async with aiohttp.ClientSession() as anonymous, anonymous.get(base) as resp:
            assert resp.status == 401
    finally:
        await async_unload(hub)
        await http.async_stop()
