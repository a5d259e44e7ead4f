"""Device screens: the list, bollards (commands behind a confirmation), panels (compose, preview), sensors."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.core import State, split_entity_id, valid_entity_id

from .cameras import camera_grants
from .const import ALARM_PRE_ROLL
from .data import device_for, devices, state_location, state_name
from .device_list import PAGE_SIZES, DeviceQuery, query_devices
from .i18n import N_
from .view import FrontendView, Refused, page

__all__ = ["DeviceListView", "DeviceView"]

_HIDDEN_ATTRIBUTES = frozenset({"friendly_name", "pages", "queued", "charset", "pictograms"})


def _attribute_rows(state: State) -> list[tuple[str, Any]]:
    """(label, value) of the attributes worth showing; the template formats each value by its type."""
    return [(key.replace("_", " "), value) for key, value in state.attributes.items()
            if key not in _HIDDEN_ATTRIBUTES and value is not None and value != [] and value != {}]


class DeviceListView(FrontendView):
    """Every device: search, filters by kind, area, centre and state, sort and paging, all as query
    parameters (the page works without scripts)."""

    url = "/c/{centre}/devices"
    name = "frontend:devices"

    @page
    async def get(self, request: web.Request, centre: str) -> web.StreamResponse:
        """The device list."""
        viewer = self.viewer(request, centre)
        try:
            query = DeviceQuery.from_params(request.query)
        except vol.Invalid as err:
            raise Refused(self.error_page(request, 400, N_("Bad filter"), N_("The filter %(id)s is not valid."),
                                          viewer.principal, id=".".join(map(str, err.path)) or "?")) from None
        names = self.frontend.templates.names
        result = query_devices(devices(self.frontend, viewer), query,
                               names.area if names is not None else str, viewer.centre.id)
        return self.render(request, viewer, "devices.html", page="devices", title=N_("Devices"), query=query,
                           result=result, page_sizes=PAGE_SIZES)


class DeviceView(FrontendView):
    """One device: a bollard, a panel or a sensor."""

    url = "/c/{centre}/devices/{entity_id}"
    name = "frontend:device"

    @page
    async def get(self, request: web.Request, centre: str, entity_id: str) -> web.StreamResponse:
        """The device's page."""
        viewer = self.viewer(request, centre)
        state = self.frontend.hub.states.get(entity_id) if valid_entity_id(entity_id) else None
        device = device_for(self.frontend, viewer, state) if state is not None else None
        if state is None or device is None:
            raise Refused(self.error_page(request, 404, N_("No such device"),
                                          N_("There is no device %(id)s."), viewer.principal,
                                          id=repr(entity_id[:80])))
        context: dict[str, Any] = {
            "device": device,
            "state": state,
            "attributes": _attribute_rows(state),
            "owner_name": self.frontend.centre_name(device.owner),
            "location": state_location(self.frontend.hub, state),
        }
        data: dict[str, Any] = {"entity_id": entity_id, "can_act": device.can_act}
        if device.kind == "bollard":
            context["pending"] = state.attributes.get("pending_command")
            context["may_confirm"] = (device.can_act and context["pending"] is not None
                                      and context["pending"].get("requested_by") != viewer.principal.user_id)
            data["pending_id"] = context["pending"].get("id") if context["pending"] else None
        elif device.kind == "panel":
            attrs = state.attributes
            data["capabilities"] = {key: attrs.get(key) for key in (
                "rows", "chars_per_row", "max_pages", "colour", "charset", "pictograms")}
            data["current"] = _panel_message(attrs)
        elif device.kind == "camera":
            grants = camera_grants(self.frontend, viewer, entity_id)
            context["grants"] = grants
            data["camera"] = grants.as_dict() if grants is not None else None
            data["start"] = _start_time(request.query.get("t"))
            data["markers_url"] = f"/c/{viewer.centre.id}/api/cameras/{split_entity_id(entity_id)[1]}/markers"
            data["pre_roll"] = ALARM_PRE_ROLL
            data["purpose"] = request.query.get("purpose", "")[:500]  # pre-fills the playback's purpose
        elif device.kind == "sensor":
            data["unit"] = state.attributes.get("unit_of_measurement", "")
            data["numeric"] = _is_number(state.state)
        template = f"device_{device.kind}.html" if device.kind in ("bollard", "panel", "sensor", "camera") \
            else "device_other.html"
        title = f"{state_name(state)} ({split_entity_id(entity_id)[0]})"
        return self.render(request, viewer, template, page="devices", title=title, page_data=data, **context)


def _panel_message(attrs: Any) -> dict[str, Any] | None:
    """What the panel shows now, as panel.js draws it (None: blank)."""
    if not attrs.get("pages"):
        return None
    return {key: attrs.get(key) for key in ("pages", "justify", "priority", "expires", "user_id", "centre")}


def _start_time(text: str | None) -> float | None:
    """The playback start asked for in the query (`?t=<unix seconds>`), None when absent or not a time."""
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < 1e11 else None


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
