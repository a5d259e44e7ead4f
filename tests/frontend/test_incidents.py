"""Incidents on the simulated site, through the screens' forms: open one, link an alarm and a plate read with
its images, add a note, share it, and print the PDF report (its text read back with pdftotext)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REQUIRE_SERVICES

from .conftest import MakeClient, WebClient
from .site import LOCAL, NATIONAL, Site, async_start_site
from .test_plates import ANPR, async_stop_anpr_site, audit_rows, store_reads

NOTE = "Vehículo huyó hacia el Tarajal; avisada la Guardia Civil"


def _png() -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    return bytes(data)


def aiohttp_file(data: bytes, name: str) -> Any:
    """A file field for an aiohttp form post."""
    import io

    field = io.BytesIO(data)
    field.name = name
    return field


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[Site]:
    """The site with ANPR and incidents."""
    running = await async_start_site(config_dir, extra_sections={"anpr": ANPR, "incident": {}})
    yield running
    await async_stop_anpr_site(running)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if REQUIRE_SERVICES:
            pytest.fail(f"{tool} is not installed (scripts/setup-test-deps.sh installs poppler-utils)")
        pytest.skip(f"{tool} is not installed (scripts/setup-test-deps.sh installs poppler-utils)")
    return path


async def _run(tool: str, *args: str, stdin: bytes) -> str:
    proc = await asyncio.create_subprocess_exec(_poppler(tool), *args, stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(stdin)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def _post_form(client: WebClient, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    """Post a form as the page does (CSRF token in the form); the status and URL after redirects."""
    assert client.csrf is not None
    async with client.session.post(client.url(path), data={"csrf_token": client.csrf, **data}) as resp:
        return resp.status, str(resp.url.path), await resp.text()


async def test_incident_from_alarm_and_plate_read_to_pdf_report(site: Site, make_client: MakeClient,
                                                                 tmp_path: Path) -> None:
    ids = await store_reads(site)
    raised: Any = await site.hub.services.async_call("alarm", "raise", {
        "type": "intrusion", "area_id": "calle_real", "title": "Vehículo en Calle Real cerrada"},
        return_response=True)
    op = await make_client("op_local")
    status, url, html = await _post_form(op, f"/c/{LOCAL}/incidents", {"title": "Robo de vehículo 4321FGH"})
    assert status == 200, html
    match = re.fullmatch(rf"/c/{LOCAL}/incidents/([0-9a-f-]{{36}})", url)
    assert match, url
    incident_url = url
    for form in ({"action": "link_alarm", "alarm_id": raised["alarm_id"]},
                 {"action": "link_read", "read_id": str(ids["hit_real"]), "plate": "4321FGH"},
                 {"action": "link_read", "read_id": str(ids["plain_real"]), "plate": "4321FGH"},
                 {"action": "note", "text": NOTE}):
        status, url, html = await _post_form(op, incident_url, form)
        assert status == 200 and url == incident_url, html
    # A document (an image of the scene) attached through the page's upload form.
    scene = _png()
    async with op.session.post(op.url(incident_url), data={
            "csrf_token": op.csrf, "action": "document", "description": "Foto del lugar",
            "content_base64": aiohttp_file(scene, "escena calle real.png")}) as resp:
        assert resp.status == 200 and str(resp.url.path) == incident_url
        html = await resp.text()
    kinds = re.findall(r'class="incident-item" data-kind="(\w+)"', html)
    assert kinds == ["created", "alarm", "plate_read", "plate_read", "note", "document"]
    link = re.search(r'class="incident-document" href="([^"]+)"', html)
    assert link is not None
    async with op.session.get(op.url(link.group(1))) as resp:
        assert resp.status == 200 and await resp.read() == scene
    assert "Vehículo en Calle Real cerrada" in html and NOTE in html

    # Another centre's read cannot be linked; nor can an operator of the other centre touch it.
    status, _, html = await _post_form(op, incident_url, {"action": "link_read", "read_id": str(ids["plain_tarajal"])})
    assert status == 400 and "no plate read" in html
    national = await make_client("op_national")
    status, _ = await national.get(incident_url.replace(LOCAL, NATIONAL))
    assert status == 404
    status, _, html = await _post_form(op, incident_url, {"action": "update", "owner": "nobody_here"})
    assert status == 400 and "no user" in html
    status, _, html = await _post_form(op, incident_url, {"action": "update", "status": "in_progress", "shared": "yes",
                                                          "owner": "op_local2"})
    assert status == 200 and 'id="incident-owner"><span class="name" title="op_local2">Op Local2</span><' in html
    status, html = await national.get(f"/c/{NATIONAL}/incidents")
    assert status == 200 and "Robo de vehículo 4321FGH" in html  # shared: it is on their list now
    status, _, html = await _post_form(national, incident_url.replace(LOCAL, NATIONAL),
                                       {"action": "note", "text": "not ours to write"})
    assert status == 403 and "not owned by" in html
    engineer = await make_client("eng_local")
    status, _, _ = await _post_form(engineer, f"/c/{LOCAL}/incidents", {"title": "Engineer incident"})
    assert status == 403

    async with op.session.get(op.url(f"{incident_url}/report.pdf")) as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf"
        pdf = await resp.read()
    text = await _run("pdftotext", "-layout", "-", "-", stdin=pdf)
    flat = " ".join(text.split())
    for expected in ("Robo de vehículo 4321FGH", "Vehículo en Calle Real", "Foto del lugar",
                     "4321FGH · Cámara calle_real", "Vehículo huyó hacia el Tarajal", "Op Local"):
        assert expected in flat, (expected, flat)
    # people by name and each change in words, as on the page: no user id, no Python value
    assert ("Responsable: Op Local2" in flat and "Compartido: sí" in flat) or (
        "Owner: Op Local2" in flat and "Shared: yes" in flat), flat
    assert "op_local" not in flat and "True" not in flat, flat
    # Labels in the reader's language: English msgids, or Spanish once the message catalogue is installed.
    english = ("Incident report: Robo", "in_progress", "Images")
    spanish = ("Informe de incidente: Robo", "en curso", "Imágenes")
    assert all(word in flat for word in english) or all(word in flat for word in spanish), flat
    (tmp_path / "report.pdf").write_bytes(pdf)
    listing = await _run("pdfimages", "-list", str(tmp_path / "report.pdf"), stdin=b"")
    # The hit's crop and overview frame, the hashed read's crop and the attached photo are in the report.
    assert len([line for line in listing.splitlines()[2:] if line.strip()]) == 4, listing
    exports = await audit_rows(site, "export")
    assert [row.target for row in exports] == [f"incident:{match.group(1)}"]
    commands = [row.target for row in await audit_rows(site, "command") if row.user_id == "op_local"]
    assert commands.count("incident.link_plate_read") == 3 and "incident.create" in commands
