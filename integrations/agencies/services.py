"""Services agency.notify, agency.replay and agency.enable: schemas and handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.helpers import config_validation as cv

from .audit import audit
from .cap import Area, Translation, polygon_from_geojson
from .config import translations_schema
from .const import (
    AUDIT_ACTION_ENABLE,
    AUDIT_ACTION_REPLAY,
    CAP_CATEGORY,
    CAP_CERTAINTY,
    CAP_SEVERITY,
    CAP_STATUS,
    CAP_URGENCY,
    SERVICE_DOMAIN,
    SERVICE_ENABLE,
    SERVICE_NOTIFY,
    SERVICE_REPLAY,
    MsgType,
)
from .manager import AgencyManager
from .messages import AlertContent, image_resource

__all__ = ["ENABLE_SCHEMA", "NOTIFY_SCHEMA", "REPLAY_SCHEMA", "async_register_services", "content_from_call"]

_LOGGER = logging.getLogger(__name__)


def _one_of(values: Sequence[str]) -> Callable[[Any], str]:
    """Case-insensitive choice returning the canonical spelling ('severe' -> 'Severe')."""
    canonical = {value.lower(): value for value in values}

    def validate(value: Any) -> str:
        text = cv.string(value).strip().lower()
        if text not in canonical:
            raise vol.Invalid(f"expected one of {', '.join(values)}, got {value!r}")
        return canonical[text]

    return validate


def _ids(value: Any) -> list[str]:
    """One id, a list, or a comma-separated text."""
    items = [part.strip() for part in value.split(",")] if isinstance(value, str) else cv.ensure_list(value)
    result = [cv.string(item) for item in items if str(item).strip()]
    if not result:
        raise vol.Invalid("expected at least one id")
    return list(dict.fromkeys(result))


def _point(value: Any) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise vol.Invalid(f"a point is [lat, lon], got {value!r}")
    return cv.latitude(value[0]), cv.longitude(value[1])


def _area(value: Any) -> Area:
    """`{description, circle: {lat, lon, radius_km}, polygon: [[lat, lon], ...], geojson: {...}}` -> Area."""
    conf = AREA_SCHEMA(value)
    circle = conf.get("circle")
    polygons: list[Sequence[Sequence[float]]] = []
    if "polygon" in conf:
        polygons.append(conf["polygon"])
    if "geojson" in conf:
        geometry = conf["geojson"]
        if geometry.get("type") == "Feature":
            geometry = geometry.get("geometry") or {}
        try:
            polygons.extend(polygon_from_geojson(geometry))
        except ValueError as err:
            raise vol.Invalid(str(err), path=["geojson"]) from None
    if circle is None and not polygons:
        raise vol.Invalid("an area needs a circle, a polygon or a geojson polygon")
    try:
        return Area.make(conf.get("description", ""), polygons=polygons,
                         circle=(circle["lat"], circle["lon"], circle["radius_km"]) if circle else None)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


AREA_SCHEMA = vol.Schema({
    vol.Optional("description"): cv.string,
    vol.Optional("circle"): vol.Schema({
        vol.Required("lat"): cv.latitude,
        vol.Required("lon"): cv.longitude,
        vol.Required("radius_km"): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }),
    vol.Optional("polygon"): vol.All(list, vol.Length(min=3), [_point]),
    vol.Optional("geojson"): dict,
})

NOTIFY_SCHEMA = vol.Schema({
    vol.Required("agency_id"): _ids,
    vol.Required("event"): cv.string,
    vol.Optional("headline"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("instruction"): cv.string,
    vol.Optional("category", default=["Other"]): vol.All(_ids, [_one_of(CAP_CATEGORY)]),
    vol.Optional("urgency", default="Unknown"): _one_of(CAP_URGENCY),
    vol.Optional("severity", default="Unknown"): _one_of(CAP_SEVERITY),
    vol.Optional("certainty", default="Unknown"): _one_of(CAP_CERTAINTY),
    vol.Optional("msg_type", default=MsgType.ALERT.value): _one_of([m.value for m in MsgType]),
    vol.Optional("references", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("area"): vol.All(cv.ensure_list, [_area]),
    vol.Optional("image_url"): cv.url,
    vol.Optional("alarm_id"): cv.string,
    vol.Optional("status"): _one_of(CAP_STATUS),
    vol.Optional("translations", default=dict): translations_schema(cv.string),
})

REPLAY_SCHEMA = vol.Schema(vol.All(
    vol.Schema({
        vol.Optional("message_id"): _ids,
        vol.Optional("agency_id"): cv.slug,
    }),
    vol.Schema(vol.Any({vol.Required("message_id"): object}, {vol.Required("agency_id"): object},
                       msg="give message_id (one or more) or agency_id (all its dead letters)"),
               extra=vol.ALLOW_EXTRA),
))

ENABLE_SCHEMA = vol.Schema({vol.Required("agency_id"): cv.slug})


def content_from_call(data: Any) -> AlertContent:
    """The alert content of validated agency.notify data."""
    image = data.get("image_url")
    return AlertContent(
        event=data["event"],
        categories=tuple(data["category"]),
        urgency=data["urgency"],
        severity=data["severity"],
        certainty=data["certainty"],
        headline=data.get("headline"),
        description=data.get("description"),
        instruction=data.get("instruction"),
        msg_type=MsgType(data["msg_type"]),
        references=tuple(data["references"]),
        areas=tuple(data.get("area", ())),
        resources=(image_resource(image),) if image else (),
        alarm_id=data.get("alarm_id"),
        status=data.get("status"),
        translations=tuple(Translation(language, texts.get("event"), texts.get("headline"), texts.get("description"),
                                       texts.get("instruction"))
                           for language, texts in data["translations"].items()),
    )


def async_register_services(hub: Hub, manager: AgencyManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    async def notify(call: ServiceCall) -> dict[str, Any]:
        result = await manager.async_notify(call.data["agency_id"], content_from_call(call.data), call.context)
        return dict(result)

    async def replay(call: ServiceCall) -> dict[str, Any]:
        replayed = await manager.async_replay(call.data.get("message_id"), call.data.get("agency_id"))
        ids = [message.id for message in replayed]
        audit(hub, AUDIT_ACTION_REPLAY, target=f"agency/{call.data.get('agency_id') or 'messages'}",
              outcome="ok" if ids else "nothing", context=call.context,
              data={"requested": call.data.get("message_id"), "replayed": ids})
        return {"replayed": ids}

    async def enable(call: ServiceCall) -> dict[str, Any]:
        agency_id = call.data["agency_id"]
        enabled = await manager.async_enable(agency_id, call.context)
        audit(hub, AUDIT_ACTION_ENABLE, target=f"agency/{agency_id}", outcome="ok" if enabled else "not_disabled",
              context=call.context, data={"agency_id": agency_id})
        return {"enabled": enabled}

    return [
        hub.services.async_register(
            SERVICE_DOMAIN, SERVICE_NOTIFY, notify, NOTIFY_SCHEMA, supports_response=SupportsResponse.OPTIONAL,
            description="Send an alert (JSON or CAP 1.2, per agency) to agencies through the durable outbox"),
        hub.services.async_register(
            SERVICE_DOMAIN, SERVICE_REPLAY, replay, REPLAY_SCHEMA, supports_response=SupportsResponse.OPTIONAL,
            description="Deliver dead-lettered messages again (by message_id, or all of an agency_id)"),
        hub.services.async_register(
            SERVICE_DOMAIN, SERVICE_ENABLE, enable, ENABLE_SCHEMA, supports_response=SupportsResponse.OPTIONAL,
            description="Deliver again to an agency whose endpoint answered 410 Gone"),
    ]
