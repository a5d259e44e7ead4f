"""From a notify call or a forwarded event to an Alert, and from an Alert to outbox messages per agency and format."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any
from urllib.parse import urlsplit

import orjson

from hub.core import Context, Event, Hub
from hub.helpers.ids import uuid7_str, uuid7_time
from hub.outbox import NewMessage

from .cap import Alert, Area, Resource, Translation, build_cap_xml, cap_time, reference_to_own
from .config import AgenciesConfig, AgencyConfig, EventRule, render
from .const import CONTENT_TYPE_CAP, CONTENT_TYPE_JSON, OUTBOX_KIND, Format, MsgType

__all__ = ["AlertBuilder", "AlertContent", "alert_messages", "area_from_event_data", "render_payload"]

_REFERENCE_PARTS = 3


@dataclass(frozen=True, slots=True)
class AlertContent:
    """What a caller wants to say; the builder adds identity, time, sender and scope."""

    event: str
    categories: tuple[str, ...] = ("Other",)
    urgency: str = "Unknown"
    severity: str = "Unknown"
    certainty: str = "Unknown"
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    msg_type: MsgType = MsgType.ALERT
    references: tuple[str, ...] = ()  # our identifiers, or full "sender,identifier,sent" entries
    areas: tuple[Area, ...] = ()
    resources: tuple[Resource, ...] = ()
    alarm_id: str | None = None
    status: str | None = None  # overrides the configured status (an exercise)
    translations: tuple[Translation, ...] = ()  # the texts in other languages (one more <info> each)
    extra: Mapping[str, Any] = field(default_factory=dict)


class AlertBuilder:
    """Makes Alerts with this hub's sender, language, status, scope and time zone."""

    def __init__(self, hub: Hub, conf: AgenciesConfig) -> None:
        core = hub.config
        site = core.site if core is not None else "hacho"
        self.hub = hub
        self.conf = conf
        self.sender = conf.sender or f"hacho@{site}"
        self.sender_name = conf.sender_name or (core.name if core is not None else None)
        self.tz: tzinfo | None = core.tz if core is not None else None

    def reference(self, text: str) -> str:
        """A `<references>` entry from an entry or one of our identifiers (ValueError when it is neither)."""
        if text.count(",") == _REFERENCE_PARTS - 1:
            return text
        try:
            return reference_to_own(self.sender, text, self.tz)
        except ValueError:
            raise ValueError(f"reference {text!r} is neither one of our identifiers nor "
                             "'sender,identifier,sent'") from None

    def build(self, content: AlertContent) -> Alert:
        """A new Alert; its identifier is a UUIDv7 whose time is its `sent` (so it can be referenced by id)."""
        identifier = uuid7_str(self.hub.clock.time())
        extra: dict[str, Any] = dict(content.extra)
        parameters: list[tuple[str, str]] = []
        if content.alarm_id is not None:
            extra["alarm_id"] = content.alarm_id
            parameters.append(("hacho:alarm_id", content.alarm_id))
        return Alert(
            identifier=identifier,
            sender=self.sender,
            sent=cap_time(uuid7_time(identifier), self.tz),
            status=content.status or self.conf.status,
            msg_type=content.msg_type,
            scope=self.conf.scope,
            restriction=self.conf.restriction if self.conf.scope == "Restricted" else None,
            references=tuple(self.reference(ref) for ref in content.references),
            event=content.event,
            categories=content.categories,
            urgency=content.urgency,
            severity=content.severity,
            certainty=content.certainty,
            language=self.conf.language,
            sender_name=self.sender_name,
            headline=content.headline,
            description=content.description,
            instruction=content.instruction,
            parameters=tuple(parameters),
            resources=content.resources,
            areas=content.areas,
            translations=tuple(t for t in content.translations if t.language != self.conf.language),
            extra=extra,
        )


def _json_default(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def render_payload(alert: Alert, fmt: Format) -> tuple[str, str]:
    """(body, content type) of an alert in one format."""
    if fmt is Format.CAP:
        return build_cap_xml(alert), CONTENT_TYPE_CAP
    body = orjson.dumps(alert.as_dict(), default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    return body, CONTENT_TYPE_JSON


def alert_messages(alert: Alert, agencies: Iterable[AgencyConfig], context: Context | None = None,
                   source: str = "notify") -> list[NewMessage]:
    """One outbox message per agency and format; the alarm id (if any) is the correlation id."""
    alarm_id = alert.extra.get("alarm_id")
    messages: list[NewMessage] = []
    for agency in agencies:
        for fmt in agency.formats:
            body, content_type = render_payload(alert, fmt)
            messages.append(NewMessage(
                destination=agency.id,
                kind=OUTBOX_KIND,
                payload=body,
                headers={"content-type": content_type},
                meta={
                    "format": fmt.value,
                    "identifier": alert.identifier,
                    "sender": alert.sender,
                    "sent": alert.sent,
                    "msg_type": alert.msg_type.value,
                    "event": alert.event,
                    "headline": alert.headline,
                    "source": source,
                    "context_id": context.id if context is not None else None,
                },
                correlation_id=str(alarm_id) if alarm_id is not None else None,
            ))
    return messages


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def area_from_event_data(data: Mapping[str, Any], description: str | None, radius_km: float) -> Area | None:
    """A circle around the event's position (latitude/longitude, lat/lon or location: {lat, lon}), if any."""
    raw_location = data.get("location")
    location: Mapping[str, Any] = raw_location if isinstance(raw_location, Mapping) else {}
    lat = _float(data.get("latitude", data.get("lat", location.get("lat", location.get("latitude")))))
    lon = _float(data.get("longitude", data.get("lon", location.get("lon", location.get("longitude")))))
    if lat is None or lon is None:
        return None
    radius = _float(data.get("radius_km"))
    try:
        return Area.make(description or str(data.get("area_id") or "Event location"),
                         circle=(lat, lon, radius if radius is not None else radius_km))
    except ValueError:
        return None


def image_resource(url: str, description: str = "Image") -> Resource:
    """A resource linking an image; the MIME type from the file name (JPEG when unknown)."""
    mime, _encoding = mimetypes.guess_type(urlsplit(url).path)
    return Resource(description, mime if mime and mime.startswith("image/") else "image/jpeg", url)


def content_from_event(rule: EventRule, event: Event) -> AlertContent:
    """The alert for a forwarded event, from the rule's CAP fields filled with the event data."""
    data = event.data
    cap = rule.cap
    area = area_from_event_data(data, render(cap.get("area"), data), cap["radius_km"])
    image = data.get("image_url")
    alarm_id = data.get("alarm_id")
    return AlertContent(
        event=render(cap.get("event"), data) or event.event_type,
        categories=tuple(cap["category"]),
        urgency=cap["urgency"],
        severity=cap["severity"],
        certainty=cap["certainty"],
        headline=render(cap.get("headline"), data),
        description=render(cap.get("description"), data),
        instruction=render(cap.get("instruction"), data),
        areas=(area,) if area is not None else (),
        resources=(image_resource(str(image)),) if isinstance(image, str) and image else (),
        alarm_id=str(alarm_id) if alarm_id is not None else None,
        translations=tuple(Translation(language, render(texts.get("event"), data), render(texts.get("headline"), data),
                                       render(texts.get("description"), data), render(texts.get("instruction"), data))
                           for language, texts in cap.get("translations", {}).items()),
        extra={"source_event": {
            "event_type": event.event_type,
            "data": dict(data),
            "time_fired": event.time_fired_ts,
            "origin": str(event.origin),
            "context_id": event.context.id,
        }},
    )
