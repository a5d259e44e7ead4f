"""Where an alarm is: its area and position, derived when the raiser gave only part of them.

In order: what the raiser gave; the alarm's entities (their latitude/longitude attributes, their area);
the area's centre; the smallest area containing the position; last, the alarm type's configured place
(`area_id`, or `latitude`/`longitude`) for alarms whose source has no place of its own (video storage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from hub.auth.permissions import entity_area
from hub.const import ATTR_LATITUDE, ATTR_LONGITUDE
from hub.core import Hub, callback
from hub.helpers.area_registry import DATA_REGISTRY as AREAS

__all__ = ["NO_PLACE", "Place", "async_alarm_place"]


class Place(NamedTuple):
    """An alarm's area and position (each None only when nothing at all gives one)."""

    area_id: str | None
    latitude: float | None
    longitude: float | None


NO_PLACE: Final = Place(None, None, None)


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


@callback
def async_alarm_place(hub: Hub, given: Place, entities: Sequence[str], default: Place) -> Place:
    """The alarm's place: `given` completed from the entities, the area registry and the type's `default`."""
    area_id, lat, lon = given
    for entity_id in entities:
        state = hub.states.get(entity_id)
        if lat is None and state is not None:
            e_lat, e_lon = _float(state.attributes.get(ATTR_LATITUDE)), _float(state.attributes.get(ATTR_LONGITUDE))
            if e_lat is not None and e_lon is not None:
                lat, lon = e_lat, e_lon
        if area_id is None:
            area_id = entity_area(hub, entity_id)
    registry = hub.data.get(AREAS)
    if area_id is None and lat is not None and lon is not None and registry is not None:
        inside = registry.areas_containing(lat, lon)
        area_id = inside[0].id if inside else None
    if area_id is None:
        area_id = default.area_id
    if lat is None and default.latitude is not None:
        lat, lon = default.latitude, default.longitude
    if lat is None and area_id is not None and registry is not None:
        area = registry.async_get_area(area_id)
        if area is not None:
            lat, lon = area.latitude, area.longitude
    return Place(area_id, lat, lon)
