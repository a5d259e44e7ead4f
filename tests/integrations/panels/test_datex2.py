"""Tests of the DATEX II v3 VMS publication: document structure and content, and GET /api/datex2/vms."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import aiohttp

from hub.auth.tokens import create_token
from hub.core import Context, Hub
from hub.http import async_setup_http
from integrations.panels import build_vms_publication
from integrations.panels.datex2 import NS, async_register_datex2_view
from integrations.panels.driver import MemoryPanelDriver, PanelStatusUpdate

from .conftest import PORT, TARAJAL

XSI_TYPE = f"{{{NS['xsi']}}}type"


def q(path: str) -> str:
    """An ElementPath with prefixes expanded."""
    for prefix, uri in NS.items():
        path = path.replace(f"{prefix}:", f"{{{uri}}}")
    return path


def controllers(root: ET.Element) -> dict[str, ET.Element]:
    result = {}
    for controller in root.findall(q("vms:vmsControllerStatus")):
        ref = controller.find(q("vms:vmsControllerReference"))
        assert ref is not None
        result[ref.get("id", "")] = controller
    return result


async def test_publication_header_and_blank_panels(panels_hub: Hub) -> None:
    body = build_vms_publication(panels_hub)
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = ET.fromstring(body)
    assert root.tag == q("d2:payload")
    assert root.get(XSI_TYPE) == "vms:VmsPublication"
    assert (root.get("lang"), root.get("modelBaseVersion")) == ("es", "3")
    assert root.findtext(q("com:publicationTime")) == "2026-01-01T12:00:00Z"
    assert root.findtext(q("com:publicationCreator/com:country")) == "es"
    assert root.findtext(q("com:publicationCreator/com:nationalIdentifier")) == "CEUTA-CCS"
    assert root.findtext(q("vms:headerInformation/com:informationStatus")) == "real"
    units = controllers(root)
    assert list(units) == ["P-PORT-1", "P-TARAJAL-1"]
    port = units["P-PORT-1"]
    status = port.find(q("vms:vmsStatus/vms:vmsStatus"))
    assert status is not None
    assert status.findtext(q("vms:workingStatus")) == "blank"
    assert status.find(q("vms:vmsMessage")) is None
    location = status.find(q("vms:vmsLocationOverride"))
    assert location is not None and location.get(XSI_TYPE) == "loc:PointLocation"
    coords = location.find(q("loc:pointByCoordinates/loc:pointCoordinates"))
    assert coords is not None
    assert coords.findtext(q("loc:latitude")) == "35.889400"
    assert coords.findtext(q("loc:longitude")) == "-5.316600"


async def test_publication_carries_displayed_pages_lines_and_faults(
        panels_hub: Hub, driver: Callable[[str], MemoryPanelDriver]) -> None:
    await panels_hub.services.async_call(
        "panel", "display",
        {"entity_id": PORT, "pages": [["ACCESO PUERTO", "CERRADO"], ["DESVIO <AV ESPAÑA>"]],
         "priority": "emergency", "duration": 900, "pictogram": "danger", "page_time": 2.5},
        context=Context(user_id="op-17", centre="ceuta_norte"),
    )
    driver(TARAJAL).report(PanelStatusUpdate(status="comm_failure"))
    driver(PORT).report(PanelStatusUpdate(pixel_errors=4))
    root = ET.fromstring(build_vms_publication(panels_hub))
    units = controllers(root)

    status = units["P-PORT-1"].find(q("vms:vmsStatus/vms:vmsStatus"))
    assert status is not None
    assert status.findtext(q("vms:workingStatus")) == "working"
    wrapper = status.find(q("vms:vmsMessage"))
    assert wrapper is not None and wrapper.get("messageIndex") == "1"
    message = wrapper.find(q("vms:vmsMessage"))
    assert message is not None
    assert message.findtext(q("vms:messageSetBy/com:values/com:value")) == "ceuta_norte"
    assert b"op-17" not in build_vms_publication(panels_hub)  # users are not published
    assert message.findtext(q("vms:setBySystem")) == "false"
    assert message.findtext(q("vms:codedReasonForSetting")) == "operatorCreated"
    assert message.findtext(q("vms:messageInformationType")) == "situationWarning"
    assert message.findtext(q("vms:timeLastSet")) == "2026-01-01T12:00:00Z"
    assert message.findtext(q("vms:sequencingInterval")) == "2.5"
    areas = message.findall(q("vms:displayAreaSettings"))
    assert [a.get(XSI_TYPE) for a in areas] == ["vms:MultiPageDisplay", "vms:PictogramDisplay"]
    pages = areas[0].findall(q("vms:displayAreaSettings"))
    assert [(p.get("pageNumber"), p.get(XSI_TYPE)) for p in pages] == [("1", "vms:TextDisplay"),
                                                                       ("2", "vms:TextDisplay")]
    text = [
        [(line.get("lineIndex"), line.findtext(q("vms:textLine/vms:textLine")))
         for line in page.findall(q("vms:textLine"))]
        for page in pages
    ]
    assert text == [[("1", "ACCESO PUERTO"), ("2", "CERRADO")], [("1", "DESVIO <AV ESPAÑA>")]]
    first_line = pages[0].find(q("vms:textLine/vms:textLine"))
    assert first_line is not None and first_line.findtext(q("vms:lineColour")) == "amber"
    assert areas[1].findtext(q("vms:pictogram/vms:customPictogramCode")) == "danger"
    extension = message.find(q("vms:_vmsMessageExtension/hacho:panelMessage"))
    assert extension is not None
    assert extension.findtext(q("hacho:priority")) == "emergency"
    assert extension.findtext(q("hacho:expires")) == "2026-01-01T12:15:00Z"
    fault = status.find(q("vms:vmsFault"))
    assert fault is not None and fault.findtext(q("vms:vmsFault")) == "other"
    assert fault.findtext(q("com:faultDescription/com:values/com:value")) == "4 pixel errors"

    tarajal = units["P-TARAJAL-1"]
    assert tarajal.findtext(q("vms:vmsStatus/vms:vmsStatus/vms:workingStatus")) == "notWorking"
    assert tarajal.findtext(q("vms:vmsControllerFault/vms:vmsControllerFault")) == "communicationsFailure"


async def test_served_at_api_datex2_vms_with_a_token(panels_hub: Hub) -> None:
    token = await panels_hub.async_add_executor_job(create_token, panels_hub.config_dir, "traffic", None)
    http = await async_setup_http(panels_hub, {"port": 0})
    assert async_register_datex2_view(panels_hub)
    assert async_register_datex2_view(panels_hub)  # a second registration is a no-op
    await http.async_start()
    await panels_hub.services.async_call("panel", "display",
                                         {"entity_id": TARAJAL, "lines": ["FRONTERA", "ABIERTA"]})
    try:
        async with aiohttp.ClientSession() as session:
            url = f"{http.base_url}/api/datex2/vms"
            async with session.get(url) as resp:
                assert resp.status == 401
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200
                assert resp.content_type == "application/xml"
                root = ET.fromstring(await resp.read())
    finally:
        await http.async_stop()
    lines = [e.text for e in root.iter(q("vms:textLine")) if e.text and e.text.strip()]
    assert lines == ["FRONTERA", "ABIERTA"]
