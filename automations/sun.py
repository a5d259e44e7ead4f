"""Sunrise and sunset at the site (the `hub:` latitude, longitude and elevation), computed with astral.

Times are epoch seconds so that triggers schedule them on the hub clock (a FakeClock in rule tests).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from astral import Observer
from astral.sun import sunrise, sunset

from hub.exceptions import HubError
from hub.helpers.dt import hub_tz

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["SUN_EVENTS", "next_sun_event", "observer", "sun_event_on"]

SUN_EVENTS = ("sunrise", "sunset")
_SEARCH_DAYS = 370  # past a polar night or midnight sun


def observer(hub: Hub) -> Observer:
    """Where the site is; a clear error when the `hub:` section gives no coordinates."""
    config = getattr(hub, "config", None)
    latitude = getattr(config, "latitude", None)
    longitude = getattr(config, "longitude", None)
    if latitude is None or longitude is None:
        raise HubError("the sun needs the site's latitude and longitude (set them in the hub: section)")
    return Observer(float(latitude), float(longitude), float(getattr(config, "elevation", 0.0) or 0.0))


def sun_event_on(hub: Hub, event: str, day: date) -> datetime | None:
    """The sunrise or sunset of a local calendar day, or None when the sun does not rise/set that day."""
    func = sunrise if event == "sunrise" else sunset
    try:
        return func(observer(hub), date=day, tzinfo=hub_tz(hub))
    except ValueError:  # the sun stays above or below the horizon all day
        return None


def next_sun_event(hub: Hub, event: str, after: float, offset: timedelta = timedelta(0)) -> float | None:
    """The first time strictly after `after` (epoch s) that is `event` plus `offset`."""
    local_day = datetime.fromtimestamp(after, hub_tz(hub)).date()
    for days in range(-1, _SEARCH_DAYS):
        when = sun_event_on(hub, event, local_day + timedelta(days=days))
        if when is not None and (when + offset).timestamp() > after:
            return (when + offset).timestamp()
    return None
