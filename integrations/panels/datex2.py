"""DATEX II v3 VMS publication of what every panel shows, for traffic-information users.

`build_vms_publication(hub)` returns the XML document (a `d2:payload` of type `vms:VmsPublication`):
one `vmsControllerStatus` per panel with its working status, location, faults, and the displayed
message as pages (`MultiPageDisplay`) of text lines (`TextDisplay`). Who set a message is published
as the control centre only, never the user. `GET /api/datex2/vms` serves it once the HTTP API runs.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from hub.core import Hub, HubKey
from hub.exceptions import HubError

from .config import DatexSettings
from .const import (
    DATEX2_PATH,
    DOMAIN,
    STATUS_COMM_FAILURE,
    STATUS_PIXEL_ERRORS,
    Priority,
)
from .entity import PanelEntity
from .message import PanelMessage

__all__ = [
    "DATEX_SETTINGS",
    "NS",
    "async_register_datex2_view",
    "build_vms_publication",
]

_LOGGER = logging.getLogger(__name__)

DATEX_SETTINGS: HubKey[DatexSettings] = HubKey("panels_datex2_settings")

NS = {
    "d2": "http://datex2.eu/schema/3/d2Payload",
    "com": "http://datex2.eu/schema/3/common",
    "vms": "http://datex2.eu/schema/3/vms",
    "loc": "http://datex2.eu/schema/3/locationReferencing",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "hacho": "urn:hacho:datex2:panels:1",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

_XSI_TYPE = f"{{{NS['xsi']}}}type"
CONTROLLER_TABLE_ID = "hacho-panels"

# What kind of information each priority carries (vms:MessageInformationTypeEnum).
_INFORMATION_TYPE = {
    Priority.emergency: "situationWarning",
    Priority.security: "instructionOrMessage",
    Priority.traffic: "trafficManagement",
    Priority.information: "instructionOrMessage",
}
# vms:ColourEnum for our configured colours (full colour signs have no single line colour).
_COLOURS = {"amber": "amber", "white": "white", "red": "red", "green": "green", "blue": "blue",
            "white_yellow": "whiteYellow"}


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent: ET.Element, prefix: str, name: str, text: Any = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(prefix, name), attrs)
    if text is not None:
        element.text = _text(text)
    return element


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _multilingual(parent: ET.Element, prefix: str, name: str, text: str, lang: str) -> None:
    element = _sub(parent, prefix, name)
    values = _sub(element, "com", "values")
    _sub(values, "com", "value", text, lang=lang)


def _working_status(panel: PanelEntity) -> str:
    if panel.status == STATUS_COMM_FAILURE:
        return "notWorking"
    return "working" if panel.current_message is not None else "blank"


def _message(parent: ET.Element, panel: PanelEntity, message: PanelMessage, lang: str) -> None:
    wrapper = _sub(parent, "vms", "vmsMessage", messageIndex="1")
    vms_message = _sub(wrapper, "vms", "vmsMessage")
    if message.centre:
        _multilingual(vms_message, "vms", "messageSetBy", message.centre, lang)
    set_by_system = message.user_id is None
    _sub(vms_message, "vms", "setBySystem", set_by_system)
    _sub(vms_message, "vms", "codedReasonForSetting", "situation" if set_by_system else "operatorCreated")
    _sub(vms_message, "vms", "messageInformationType", _INFORMATION_TYPE[message.priority])
    _sub(vms_message, "vms", "primarySetting", True)
    _sub(vms_message, "vms", "timeLastSet", _time(message.set_at))
    _sub(vms_message, "vms", "sequencingInterval", message.page_time)
    area = _sub(vms_message, "vms", "displayAreaSettings", displayAreaIndex="1")
    area.set(_XSI_TYPE, "vms:MultiPageDisplay")
    colour = _COLOURS.get(panel.capabilities.colour)
    for page_number, page in enumerate(message.pages, 1):
        text_display = _sub(area, "vms", "displayAreaSettings", pageNumber=str(page_number))
        text_display.set(_XSI_TYPE, "vms:TextDisplay")
        for line_index, line in enumerate(page, 1):
            line_wrapper = _sub(text_display, "vms", "textLine", lineIndex=str(line_index))
            text_line = _sub(line_wrapper, "vms", "textLine", lineLanguage=lang)
            _sub(text_line, "vms", "textLine", line)
            if colour is not None:
                _sub(text_line, "vms", "lineColour", colour)
            _sub(text_line, "vms", "isExactTextOnSign", True)
    if message.pictogram is not None:
        pictogram_area = _sub(vms_message, "vms", "displayAreaSettings", displayAreaIndex="2")
        pictogram_area.set(_XSI_TYPE, "vms:PictogramDisplay")
        pictogram = _sub(pictogram_area, "vms", "pictogram")
        pictogram.set(_XSI_TYPE, "vms:RegularPictogram")
        _sub(pictogram, "vms", "customPictogramCode", message.pictogram)
    extension = _sub(vms_message, "vms", "_vmsMessageExtension")
    hacho = _sub(extension, "hacho", "panelMessage")
    _sub(hacho, "hacho", "messageId", message.id)
    _sub(hacho, "hacho", "priority", message.priority.name)
    _sub(hacho, "hacho", "justify", message.justify.value)
    if message.expires_at is not None:
        _sub(hacho, "hacho", "expires", _time(message.expires_at))


def _controller(root: ET.Element, panel: PanelEntity, now: float, lang: str) -> None:
    controller = _sub(root, "vms", "vmsControllerStatus")
    _sub(controller, "vms", "vmsControllerTableReference", id=CONTROLLER_TABLE_ID, version="1",
         targetClass="vms:VmsControllerTable")
    _sub(controller, "vms", "vmsControllerReference", id=panel.panel_id, version="1",
         targetClass="vms:VmsController")
    _sub(controller, "vms", "statusUpdateTime", _time(now))
    wrapper = _sub(controller, "vms", "vmsStatus", vmsIndex="1")
    status = _sub(wrapper, "vms", "vmsStatus")
    _sub(status, "vms", "statusUpdateTime", _time(now))
    _sub(status, "vms", "workingStatus", _working_status(panel))
    message = panel.current_message
    if message is not None:
        _message(status, panel, message, lang)
    cfg = panel.config
    if cfg.latitude is not None and cfg.longitude is not None:
        location = _sub(status, "vms", "vmsLocationOverride")
        location.set(_XSI_TYPE, "loc:PointLocation")
        by_coordinates = _sub(location, "loc", "pointByCoordinates")
        coordinates = _sub(by_coordinates, "loc", "pointCoordinates")
        _sub(coordinates, "loc", "latitude", f"{cfg.latitude:.6f}")
        _sub(coordinates, "loc", "longitude", f"{cfg.longitude:.6f}")
    if panel.status == STATUS_PIXEL_ERRORS:
        fault = _sub(status, "vms", "vmsFault")
        _multilingual(fault, "com", "faultDescription", f"{panel.pixel_errors} pixel errors", "en")
        _sub(fault, "com", "faultLastUpdateTime", _time(now))
        _sub(fault, "com", "faultImpactSeverity", "low")
        _sub(fault, "vms", "vmsFault", "other")
    if panel.status == STATUS_COMM_FAILURE:
        fault = _sub(controller, "vms", "vmsControllerFault")
        _sub(fault, "com", "faultLastUpdateTime", _time(now))
        _sub(fault, "com", "faultImpactSeverity", "high")
        _sub(fault, "vms", "vmsControllerFault", "communicationsFailure")


def build_vms_publication(hub: Hub) -> bytes:
    """The DATEX II v3 VmsPublication of every panel's current state, as UTF-8 XML."""
    from hub.helpers.entity_platform import async_entities

    settings = hub.data.get(DATEX_SETTINGS) or DatexSettings()
    now = hub.clock.time()
    root = ET.Element(_q("d2", "payload"), {
        _XSI_TYPE: "vms:VmsPublication", "lang": settings.lang, "modelBaseVersion": "3",
    })
    _sub(root, "com", "publicationTime", _time(now))
    creator = _sub(root, "com", "publicationCreator")
    _sub(creator, "com", "country", settings.country)
    _sub(creator, "com", "nationalIdentifier", settings.national_identifier)
    header = _sub(root, "vms", "headerInformation")
    _sub(header, "com", "confidentiality", "noRestriction")
    _sub(header, "com", "informationStatus", "real")
    panels = sorted((e for e in async_entities(hub, DOMAIN) if isinstance(e, PanelEntity)),
                    key=lambda p: p.panel_id)
    for panel in panels:
        _controller(root, panel, now, settings.lang)
    # ElementTree declares every namespace used on the root, with the prefixes registered above,
    # which the xsi:type values rely on.
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ("<?xml version='1.0' encoding='UTF-8'?>\n" + body + "\n").encode()


def async_register_datex2_view(hub: Hub, public: bool = False) -> bool:
    """Serve the publication at GET /api/datex2/vms when the HTTP API is set up; False otherwise.

    aiohttp routes cannot be removed: after an unload the route stays and answers 404 until the
    integration is loaded again, when the existing route serves again.
    """
    try:
        from hub.http import get_http

        from .datex2_view import DatexVmsView, async_register_view
    except ImportError as err:
        _LOGGER.debug("DATEX II view not registered: %s", err)
        return False
    try:
        if any(isinstance(view, DatexVmsView) for view in get_http(hub).views):
            return True
        return async_register_view(hub, public)
    except HubError as err:
        _LOGGER.info("DATEX II VMS publication not served at %s: %s", DATEX2_PATH, err)
        return False
