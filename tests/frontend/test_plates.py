"""Plate search on the simulated site: refused without a purpose, audited (committed) before results, hashed
reads found by exact and confusable plate but not by pattern, centre scoping, images through an audited route."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from hub.audit.models import AuditEntry
from hub.recorder import get_recorder
from integrations.anpr import DATA_KEY
from integrations.anpr.models import AnprHit, AnprRead

from .conftest import MakeClient, WebClient
from .site import LOCAL, Site, async_start_site, async_stop_site

HASH_KEY = "plate-search-test-key-0123"


def _jpeg() -> bytes:
    """A real little JPEG (the PDF report decodes it)."""
    import cv2
    import numpy as np

    image = np.full((60, 200, 3), 255, np.uint8)
    cv2.putText(image, "4321FGH", (5, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return bytes(data)


JPEG = _jpeg()
PURPOSE = "Stolen car report 2026/1182, Guardia Civil request"


def _camera(camera_id: str, area: str) -> dict[str, Any]:
    return {"id": camera_id, "name": f"Cámara {area}", "source": f"sim://{camera_id}?seed=1&rate=0", "fps": 2,
            "detectors": ["morph"], "area": area, "latitude": 35.88, "longitude": -5.31}


ANPR = {"hash_key": HASH_KEY, "workers": "thread", "lists": [{"id": "stolen", "name": "Stolen", "priority": 1}],
        "cameras": [_camera("cam_real", "calle_real"), _camera("cam_tarajal", "tarajal")]}


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The site with ANPR (a Local Police camera, Calle Real; a National Police one, Tarajal) and evidence exports."""
    from hub.evidence import async_setup_evidence

    running = await async_start_site(config_dir, extra_sections={"anpr": ANPR}, before_start=async_setup_evidence)
    yield running
    await async_stop_anpr_site(running)


async def async_stop_anpr_site(site: Site) -> None:
    """Unload the integrations first (the ANPR camera workers stop: a hub stop alone leaves them running and
    the interpreter aborts at exit), then stop the site."""
    from hub.setup import async_get_setup_manager

    await async_get_setup_manager(site.hub).async_unload_all()
    await async_stop_site(site)


async def store_reads(site: Site) -> dict[str, int]:
    """Reads as the ANPR integration stores them: a hit (plate in clear, images), hashed non-hits."""
    hub = site.hub
    manager = hub.data[DATA_KEY]
    now = time.time()
    hashed = manager.hasher
    crop = manager.media.save("reads", "cam_real", f"{int((now - 3000) * 1000)}_{hashed('4321FGH')[:12]}_crop",
                              JPEG, now - 3000)
    assert crop.is_file()
    hit_crop = manager.media.save("hits", "cam_real", "hit1_crop", JPEG, now - 600)
    hit_frame = manager.media.save("hits", "cam_real", "hit1_frame", JPEG, now - 600)
    rel = hub.config_dir

    def _insert(session: Any) -> dict[str, int]:
        rows = {
            "plain_real": AnprRead(ts=now - 3000, camera="cam_real", plate_hash=hashed("4321FGH"), plate=None,
                                   hit=False, direction="approaching", lane=1, confidence=0.91),
            "plain_tarajal": AnprRead(ts=now - 2000, camera="cam_tarajal", plate_hash=hashed("4321FGH"),
                                      plate=None, hit=False, direction="approaching", lane=1, confidence=0.9),
            "hit_real": AnprRead(ts=now - 598, camera="cam_real", plate_hash=hashed("4321FGH"), plate="4321FGH",
                                 hit=True, direction="approaching", lane=1, confidence=0.95),
            "other": AnprRead(ts=now - 500, camera="cam_real", plate_hash=hashed("9999XYZ"), plate=None, hit=False,
                              direction=None, lane=1, confidence=0.8),
        }
        session.add_all(rows.values())
        session.add(AnprHit(hit_id="hit1", ts=now - 600, camera="cam_real", list_id="stolen",
                            entry_plate="4321FGH", plate="4321FGH", confidence=0.95, distance=0.0,
                            status="pending", crop_path=hit_crop.relative_to(rel).as_posix(),
                            frame_path=hit_frame.relative_to(rel).as_posix()))
        session.flush()
        return {name: row.read_id for name, row in rows.items()}

    result: dict[str, int] = await get_recorder(hub).async_db_job(_insert)
    return result


async def audit_rows(site: Site, action: str) -> list[AuditEntry]:
    def _get(session: Any) -> list[AuditEntry]:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))
        for row in rows:
            session.expunge(row)
        return rows

    rows: list[AuditEntry] = await get_recorder(site.hub).async_db_job(_get)
    return rows


async def _image(client: WebClient, path: str) -> tuple[int, bytes]:
    async with client.session.get(client.url(path)) as resp:
        return resp.status, await resp.read()


async def _search(client: WebClient, **query: str) -> tuple[int, str]:
    return await client.get(f"/c/{LOCAL}/plates?{urlencode(query)}")


async def test_search_refused_without_purpose_and_audited_with_one(site: Site, make_client: MakeClient) -> None:
    ids = await store_reads(site)
    op = await make_client("op_local")
    status, html = await _search(op, plate="4321 FGH", mode="exact", purpose="")
    assert status == 400 and 'id="search-error"' in html and "plate-read" not in html
    status, html = await _search(op, plate="4321FGH", mode="exact", purpose="because")
    assert status == 400 and "plate-read" not in html
    assert await audit_rows(site, "plate_search") == []  # nothing searched, nothing recorded

    status, html = await _search(op, plate="4321-fgh", mode="exact", purpose=PURPOSE)
    assert status == 200, html
    # Exact search goes through the keyed hash: the hashed read and the hit at the Local Police camera;
    # the Tarajal read belongs to the National Police and is not shown to a Local Police operator.
    assert f'data-read-id="{ids["plain_real"]}"' in html and f'data-read-id="{ids["hit_real"]}"' in html
    assert f'data-read-id="{ids["plain_tarajal"]}"' not in html and f'data-read-id="{ids["other"]}"' not in html
    assert 'id="plate-journey"' in html
    rows = await audit_rows(site, "plate_search")
    assert len(rows) == 1 and rows[0].user_id == "op_local" and rows[0].target == "plate:4321FGH"
    assert PURPOSE in rows[0].data

    # The images are served through the permission-checked route, and viewing them is audited.
    assert await _image(op, f"/c/{LOCAL}/plates/reads/{ids['hit_real']}/frame") == (200, JPEG)
    assert await _image(op, f"/c/{LOCAL}/plates/reads/{ids['plain_real']}/crop") == (200, JPEG)
    status, _ = await _image(op, f"/c/{LOCAL}/plates/reads/{ids['plain_tarajal']}/crop")
    assert status == 404  # another centre's camera
    assert len(await audit_rows(site, "plate_image_view")) == 2


async def test_confusable_and_pattern_search_and_who_may_search(site: Site, make_client: MakeClient) -> None:
    ids = await store_reads(site)
    admin = await make_client("admin")
    # Misheard as 432IFGH: the confusable search hashes each variant and finds the hashed reads too.
    status, html = await _search(admin, plate="432IFGH", mode="confusable", purpose=PURPOSE)
    assert status == 200, html
    for name in ("plain_real", "plain_tarajal", "hit_real"):
        assert f'data-read-id="{ids[name]}"' in html
    status, html = await _search(admin, plate="432IFGH", mode="exact", purpose=PURPOSE)
    assert status == 200 and "plate-read" not in html
    # A pattern sees only plates kept in clear (hits); it says how many hashed reads it could not look at.
    status, html = await _search(admin, plate="*21FG*", mode="pattern", purpose=PURPOSE)
    assert status == 200, html
    assert f'data-read-id="{ids["hit_real"]}"' in html and f'data-read-id="{ids["plain_real"]}"' not in html
    assert 'id="hashed-note"' in html
    # Time window and camera.
    status, html = await _search(admin, plate="4321FGH", purpose=PURPOSE, camera="cam_tarajal")
    assert f'data-read-id="{ids["plain_tarajal"]}"' in html and f'data-read-id="{ids["hit_real"]}"' not in html

    engineer = await make_client("eng_local")
    status, html = await _search(engineer, plate="4321FGH", purpose=PURPOSE)
    assert status == 403 and "plate-read" not in html
    status, _ = await _image(engineer, f"/c/{LOCAL}/plates/reads/{ids['hit_real']}/crop")
    assert status == 403
    searches = await audit_rows(site, "plate_search")
    assert [row.user_id for row in searches] == ["admin"] * 4


async def test_search_exported_to_signed_evidence_by_a_supervisor(site: Site, make_client: MakeClient) -> None:
    import json
    import zipfile

    from hub.evidence import verify_bundle

    ids = await store_reads(site)
    form = {"plate": "4321FGH", "mode": "exact", "purpose": PURPOSE, "camera": "", "start": "", "end": ""}
    op = await make_client("op_local")
    status, html = await _search(op, **form)
    assert status == 200 and 'id="plate-export"' not in html  # operators search; exports are for supervisors
    async with op.session.post(op.url(f"/c/{LOCAL}/plates"),
                               data={**form, "case_reference": "DIL-1182/2026", "csrf_token": op.csrf}) as resp:
        assert resp.status == 403

    sup = await make_client("sup_local")
    status, html = await _search(sup, **form)
    assert status == 200 and 'id="plate-export"' in html
    async with sup.session.post(sup.url(f"/c/{LOCAL}/plates"),
                                data={**form, "case_reference": "DIL-1182/2026", "csrf_token": sup.csrf}) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert 'id="export-done"' in html
    exports = await audit_rows(site, "export")
    assert len(exports) == 1 and exports[0].user_id == "sup_local" and "DIL-1182/2026" in exports[0].data
    zips = sorted((site.hub.config_dir / "evidence").glob("evidence_*.zip"))
    assert len(zips) == 1
    verified = await site.hub.async_add_executor_job(verify_bundle, zips[0])
    assert verified.ok, verified.problems
    with zipfile.ZipFile(zips[0]) as archive:
        names = set(archive.namelist())
        search = json.loads(archive.read("anpr/plate_search.json"))
        assert archive.read(f"images/anpr_read_{ids['hit_real']}_frame.jpg") == JPEG
    assert {f"images/anpr_read_{ids['hit_real']}_crop.jpg", f"images/anpr_read_{ids['plain_real']}_crop.jpg"} <= names
    assert search["purpose"] == PURPOSE and [r["read_id"] for r in search["result"]["reads"]] == [
        ids["plain_real"], ids["hit_real"]]
    # The export ran the search again: its purpose is in the audit log twice for the supervisor.
    assert [r.user_id for r in await audit_rows(site, "plate_search")].count("sup_local") == 2
