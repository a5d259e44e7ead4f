"""CAP 1.2 alerts (OASIS Common Alerting Protocol): the message model, areas, references and the XML."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from xml.etree import ElementTree as ET

from hub.helpers.ids import uuid7_time

from .const import MsgType

__all__ = [
    "CAP_NAMESPACE",
    "Alert",
    "Area",
    "Resource",
    "Translation",
    "build_cap_xml",
    "cap_time",
    "polygon_from_geojson",
    "reference",
]

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
_FORBIDDEN_IN_IDS = frozenset(" ,<&")


def cap_time(ts: float, tz: tzinfo | None = None) -> str:
    """A CAP date-time: whole seconds with a numeric offset; UTC is written "-00:00" as CAP 1.2 asks."""
    moment = datetime.fromtimestamp(int(ts), tz or UTC)
    offset = moment.utcoffset()
    if not offset:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hours:02d}:{mins:02d}"


def reference(sender: str, identifier: str, sent: str) -> str:
    """One entry of `<references>`: "sender,identifier,sent"."""
    return f"{sender},{identifier},{sent}"


def reference_to_own(sender: str, identifier: str, tz: tzinfo | None = None) -> str:
    """The reference to an earlier message of ours from its identifier alone: a UUIDv7 carries its `sent`.

    Raises ValueError when `identifier` is not one of our (UUIDv7) identifiers.
    """
    return reference(sender, identifier, cap_time(uuid7_time(identifier), tz))


def check_cap_id(value: str, what: str) -> str:
    """CAP identifiers and senders may not contain spaces, commas, '<' or '&'."""
    if not value or _FORBIDDEN_IN_IDS & set(value):
        raise ValueError(f"{what} {value!r} may not be empty or contain spaces, commas, '<' or '&'")
    return value


@dataclass(frozen=True, slots=True)
class Area:
    """Where an alert applies: a circle (centre and radius in km) and/or polygons of (lat, lon) points."""

    description: str
    circle: tuple[float, float, float] | None = None  # lat, lon, radius_km
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # each closed, (lat, lon)

    @classmethod
    def make(cls, description: str, *, circle: tuple[float, float, float] | None = None,
             polygons: Sequence[Sequence[Sequence[float]]] = ()) -> Area:
        """Build an area, checking coordinates and closing open polygons (ValueError when invalid)."""
        if circle is not None:
            lat, lon, radius = (float(v) for v in circle)
            _check_point(lat, lon)
            if not math.isfinite(radius) or radius < 0:
                raise ValueError(f"circle radius must be a number of km >= 0, got {radius}")
            circle = (lat, lon, radius)
        closed = tuple(_closed(polygon) for polygon in polygons)
        if circle is None and not closed and not description:
            raise ValueError("an area needs a description, a circle or a polygon")
        return cls(description or "Area", circle, closed)

    def cap_circle(self) -> str | None:
        """`lat,lon radius` (CAP order: latitude first, radius in km)."""
        if self.circle is None:
            return None
        lat, lon, radius = self.circle
        return f"{_num(lat)},{_num(lon)} {_num(radius)}"

    def cap_polygons(self) -> list[str]:
        """`lat,lon lat,lon ...` per polygon, first point repeated last."""
        return [" ".join(f"{_num(lat)},{_num(lon)}" for lat, lon in polygon) for polygon in self.polygons]

    def as_dict(self) -> dict[str, Any]:
        """JSON form (points as [lat, lon], like CAP)."""
        data: dict[str, Any] = {"description": self.description}
        if self.circle is not None:
            data["circle"] = {"lat": self.circle[0], "lon": self.circle[1], "radius_km": self.circle[2]}
        if self.polygons:
            data["polygons"] = [[list(point) for point in polygon] for polygon in self.polygons]
        return data


def _check_point(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ValueError(f"latitude must be between -90 and 90, got {lat}")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ValueError(f"longitude must be between -180 and 180, got {lon}")


def _closed(points: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    pairs: list[tuple[float, float]] = []
    for point in points:
        if len(point) != 2:
            raise ValueError(f"a polygon point is [lat, lon], got {list(point)}")
        lat, lon = float(point[0]), float(point[1])
        _check_point(lat, lon)
        pairs.append((lat, lon))
    if pairs and pairs[0] != pairs[-1]:
        pairs.append(pairs[0])
    if len(pairs) < 4:
        raise ValueError("a polygon needs at least 3 distinct points")
    return tuple(pairs)


def _num(value: float) -> str:
    """Up to 6 decimals (about 0.1 m), no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def polygon_from_geojson(geometry: Mapping[str, Any]) -> list[list[tuple[float, float]]]:
    """CAP polygons, as (lat, lon) points, from a GeoJSON Polygon or MultiPolygon (whose points are [lon, lat]).

    Only outer rings are kept: CAP has no holes. Raises ValueError for other geometries.
    """
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        rings = [coordinates[0]] if coordinates else []
    elif kind == "MultiPolygon":
        rings = [polygon[0] for polygon in coordinates or [] if polygon]
    else:
        raise ValueError(f"expected a GeoJSON Polygon or MultiPolygon, got {kind!r}")
    polygons = []
    for ring in rings:
        try:
            polygons.append([(float(point[1]), float(point[0])) for point in ring])  # [lon, lat] -> (lat, lon)
        except (TypeError, IndexError, ValueError):
            raise ValueError("GeoJSON positions must be [longitude, latitude]") from None
    if not polygons:
        raise ValueError("the GeoJSON geometry has no ring")
    return polygons


@dataclass(frozen=True, slots=True)
class Resource:
    """A file that goes with an alert (a camera image), by link."""

    description: str
    mime_type: str
    uri: str

    def as_dict(self) -> dict[str, Any]:
        return {"description": self.description, "mime_type": self.mime_type, "uri": self.uri}


@dataclass(frozen=True, slots=True)
class Translation:
    """The alert's texts in another language: one more CAP <info> (the same facts, areas and resources)."""

    language: str
    event: str | None = None  # None: the original's
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"language": self.language, "event": self.event, "headline": self.headline,
                "description": self.description, "instruction": self.instruction}


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as the hub sends it: the CAP <alert> with one <info> per language (the first is `language`)."""

    identifier: str
    sender: str
    sent: str  # CAP date-time text
    status: str
    msg_type: MsgType
    scope: str
    event: str
    categories: tuple[str, ...] = ("Other",)
    urgency: str = "Unknown"
    severity: str = "Unknown"
    certainty: str = "Unknown"
    language: str = "es-ES"
    restriction: str | None = None
    references: tuple[str, ...] = ()
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()
    note: str | None = None
    incidents: str | None = None
    translations: tuple[Translation, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # JSON only (alarm id, the source event)

    def as_dict(self) -> dict[str, Any]:
        """The JSON format: the same fields as the CAP XML, plus `extra`."""
        data: dict[str, Any] = {
            "identifier": self.identifier,
            "sender": self.sender,
            "sent": self.sent,
            "status": self.status,
            "msgType": self.msg_type.value,
            "scope": self.scope,
            "info": {
                "language": self.language,
                "category": list(self.categories),
                "event": self.event,
                "urgency": self.urgency,
                "severity": self.severity,
                "certainty": self.certainty,
                "senderName": self.sender_name,
                "headline": self.headline,
                "description": self.description,
                "instruction": self.instruction,
                "web": self.web,
                "contact": self.contact,
                "parameters": {name: value for name, value in self.parameters},
                "resources": [resource.as_dict() for resource in self.resources],
                "areas": [area.as_dict() for area in self.areas],
            },
        }
        if self.restriction is not None:
            data["restriction"] = self.restriction
        if self.references:
            data["references"] = list(self.references)
        if self.note is not None:
            data["note"] = self.note
        if self.incidents is not None:
            data["incidents"] = self.incidents
        if self.translations:
            data["translations"] = [translation.as_dict() for translation in self.translations]
        data.update(self.extra)
        return data


def _sub(parent: ET.Element, tag: str, text: str | None) -> None:
    if text is not None and text != "":
        ET.SubElement(parent, tag).text = text


def _info(root: ET.Element, alert: Alert, texts: Translation) -> None:
    """One <info>: the alert's facts, areas and resources with the texts of one language."""
    info = ET.SubElement(root, "info")
    _sub(info, "language", texts.language)
    for category in alert.categories:
        _sub(info, "category", category)
    for tag, text in (
        ("event", texts.event or alert.event), ("urgency", alert.urgency), ("severity", alert.severity),
        ("certainty", alert.certainty), ("senderName", alert.sender_name), ("headline", texts.headline),
        ("description", texts.description), ("instruction", texts.instruction), ("web", alert.web),
        ("contact", alert.contact),
    ):
        _sub(info, tag, text)
    for name, value in alert.parameters:
        parameter = ET.SubElement(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    for resource in alert.resources:
        element = ET.SubElement(info, "resource")
        _sub(element, "resourceDesc", resource.description)
        _sub(element, "mimeType", resource.mime_type)
        _sub(element, "uri", resource.uri)
    for area in alert.areas:
        element = ET.SubElement(info, "area")
        _sub(element, "areaDesc", area.description)
        for polygon in area.cap_polygons():
            _sub(element, "polygon", polygon)
        _sub(element, "circle", area.cap_circle())


def build_cap_xml(alert: Alert) -> str:
    """The CAP 1.2 XML document, elements in the order the OASIS schema requires."""
    check_cap_id(alert.identifier, "identifier")
    check_cap_id(alert.sender, "sender")
    if alert.msg_type is not MsgType.ALERT and not alert.references:
        raise ValueError(f"a CAP {alert.msg_type.value} must reference the message it updates or cancels")
    root = ET.Element("alert", {"xmlns": CAP_NAMESPACE})  # unprefixed children inherit the namespace
    for tag, text in (
        ("identifier", alert.identifier), ("sender", alert.sender), ("sent", alert.sent),
        ("status", alert.status), ("msgType", alert.msg_type.value), ("scope", alert.scope),
        ("restriction", alert.restriction if alert.scope == "Restricted" else None),
        ("note", alert.note), ("references", " ".join(alert.references) or None), ("incidents", alert.incidents),
    ):
        _sub(root, tag, text)
    _info(root, alert, Translation(alert.language, alert.event, alert.headline, alert.description,
                                   alert.instruction))
    for translation in alert.translations:
        _info(root, alert, translation)
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body
