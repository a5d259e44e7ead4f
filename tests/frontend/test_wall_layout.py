"""The camera wall is saved per operator on the server (issue 15): its layout and the camera of each tile, kept in the
user store beside the user's language. The payload is checked field by field; each user has their own wall; a saved
camera the user may no longer watch is dropped silently."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.auth.users import async_get_users

from .conftest import MakeClient, page_data
from .site import LOCAL, Site, async_start_site, async_stop_site

# Three cameras that record nothing (no stream is needed to arrange a wall): two of the Local Police (area port),
# one of the National Police (area tarajal, not shared).
CAMERAS = {"cameras": [
    {"id": cid, "name": name, "area": area, "main": "rtsp://127.0.0.1:9/none", "record": {"mode": "off"}}
    for cid, name, area in (("port_gate", "Puerta del puerto", "port"), ("port_quay", "Muelle del puerto", "port"),
                            ("tarajal_lane1", "Tarajal carril 1", "tarajal"))]}
WALL = f"/c/{LOCAL}/api/wall"


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    running = await async_start_site(config_dir, extra_sections={"camera": {**CAMERAS, "min_free_bytes": 0}})
    yield running
    await async_stop_site(running)


async def test_the_wall_is_saved_per_operator(site: Site, make_client: MakeClient) -> None:
    operator = await make_client("op_local")
    status, wall = await operator.post_json(WALL, {})  # nothing saved yet: the default
    assert status == 400 and wall["error"]["message"].startswith("layout:")
    async with operator.session.get(operator.url(WALL)) as resp:
        assert resp.status == 200
        assert await resp.json() == {"layout": 4, "tiles": ["port_quay", "port_gate"]}  # by name

    status, wall = await operator.post_json(WALL, {"layout": 9, "tiles": ["port_gate", "port_quay"]})
    assert status == 200, wall
    assert wall == {"layout": 9, "tiles": ["port_gate", "port_quay"]}
    # the page hands the saved wall to the script, on any browser (another session of the same user)
    again = await make_client("op_local")
    status, html = await again.get(f"/c/{LOCAL}/cameras")
    assert status == 200
    assert page_data(html)["wall"] == {"layout": 9, "tiles": ["port_gate", "port_quay"]}
    users = await async_get_users(site.hub)
    record = users.get("op_local")
    assert record is not None and (record.wall_layout, record.wall_tiles) == (9, ("port_gate", "port_quay"))

    # another operator of the same centre has their own wall, untouched
    other = await make_client("op_local2")
    status, html = await other.get(f"/c/{LOCAL}/cameras")
    assert page_data(html)["wall"] == {"layout": 4, "tiles": ["port_quay", "port_gate"]}
    status, wall = await other.post_json(WALL, {"layout": 1, "tiles": ["port_gate"]})
    assert status == 200 and wall == {"layout": 1, "tiles": ["port_gate", "port_quay"]}  # the rest keep order
    status, html = await again.get(f"/c/{LOCAL}/cameras")
    assert page_data(html)["wall"] == {"layout": 9, "tiles": ["port_gate", "port_quay"]}


@pytest.mark.parametrize(("payload", "field"), [
    ({"layout": 3, "tiles": []}, "layout:"),
    ({"layout": "4", "tiles": []}, "layout:"),
    ({"layout": 4.0, "tiles": []}, "layout:"),
    ({"layout": True, "tiles": []}, "layout:"),
    ({"layout": 4, "tiles": "port_gate"}, "tiles:"),
    ({"layout": 16, "tiles": ["port_gate"] * 17}, "tiles: at most 16"),
    ({"layout": 4, "tiles": ["port_gate", 7]}, "tiles[1]:"),
    ({"layout": 4, "tiles": ["no_such_camera"]}, "tiles[0]:"),
    ({"layout": 4, "tiles": ["port_quay", "tarajal_lane1"]}, "tiles[1]:"),  # the National Police's, not shared
])
async def test_a_wrong_wall_is_refused_naming_the_field(site: Site, make_client: MakeClient,
                                                       payload: dict[str, object], field: str) -> None:
    operator = await make_client("op_local")
    status, body = await operator.post_json(WALL, payload)
    assert status == 400, body
    assert body["error"]["message"].startswith(field), body
    record = (await async_get_users(site.hub)).get("op_local")
    assert record is not None and record.wall_layout is None  # nothing saved


async def test_without_csrf_or_session_nothing_is_saved(site: Site, make_client: MakeClient) -> None:
    operator = await make_client("op_local")
    status, _body = await operator.post_json(WALL, {"layout": 1, "tiles": []}, csrf=False)
    assert status == 403
    anonymous = await make_client()
    status, _body = await anonymous.post_json(WALL, {"layout": 1, "tiles": []})
    assert status in (401, 403)
    record = (await async_get_users(site.hub)).get("op_local")
    assert record is not None and record.wall_layout is None


async def test_a_camera_no_longer_watchable_is_dropped_silently(site: Site, make_client: MakeClient) -> None:
    # saved while the operator could watch it (the camera's area moved since, say): the user store holds it
    users = await async_get_users(site.hub)
    await users.async_set_wall("op_local", 4, ["tarajal_lane1", "port_gate", "", "gone_camera"])
    operator = await make_client("op_local")
    status, html = await operator.get(f"/c/{LOCAL}/cameras")
    assert status == 200
    data = page_data(html)
    assert data["wall"] == {"layout": 4, "tiles": ["port_quay", "port_gate"]}
    assert "tarajal_lane1" not in html and "gone_camera" not in html
    # the admin may watch every camera: the same kind of wall keeps its cameras where they were put
    admin = await make_client("admin")
    status, wall = await admin.post_json(WALL, {"layout": 4, "tiles": ["tarajal_lane1", "port_gate"]})
    assert status == 200 and wall == {"layout": 4, "tiles": ["tarajal_lane1", "port_gate", "port_quay"]}
