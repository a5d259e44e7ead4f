"""The device list's search, filters, sort and paging, from the page's query parameters (no script needed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from .const import KIND_ORDER
from .data import Device, to_float

__all__ = ["PAGE_SIZES", "QUERY_SCHEMA", "DevicePage", "DeviceQuery", "query_devices"]

PAGE_SIZES: Final = (25, 50, 100, 200)
SORTS: Final = ("name", "kind", "area", "centre", "state", "last_seen")


def _blank_is_none(value: Any) -> Any:
    return None if value in ("", None) else value


def _optional(validator: Any) -> Any:
    """An empty parameter means none; a given one must pass `validator`."""
    return vol.All(_blank_is_none, vol.Any(None, validator))


_TEXT: Final = vol.All(str, vol.Length(max=64))

QUERY_SCHEMA: Final = vol.Schema({
    vol.Optional("q", default=None): _optional(vol.All(str, vol.Length(max=100))),
    vol.Optional("kind", default=None): _optional(vol.In(KIND_ORDER)),
    vol.Optional("area", default=None): _optional(_TEXT),
    vol.Optional("centre", default=None): _optional(_TEXT),
    vol.Optional("state", default=None): _optional(_TEXT),
    vol.Optional("sort", default="name"): _optional(vol.In(SORTS)),
    vol.Optional("desc", default=False): _optional(vol.Boolean()),
    vol.Optional("page", default=1): _optional(vol.All(vol.Coerce(int), vol.Range(min=1))),
    vol.Optional("size", default=50): _optional(vol.All(vol.Coerce(int), vol.In(PAGE_SIZES))),
}, extra=vol.REMOVE_EXTRA)


@dataclass(frozen=True, slots=True)
class DeviceQuery:
    """What the list is asked for."""

    q: str | None = None
    kind: str | None = None
    area: str | None = None
    centre: str | None = None
    state: str | None = None
    sort: str = "name"
    desc: bool = False
    page: int = 1
    size: int = 50

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> DeviceQuery:
        """From query parameters; raises vol.Invalid for a bad one."""
        clean = QUERY_SCHEMA({key: params[key] for key in params})
        return cls(q=(clean["q"] or "").strip() or None, kind=clean["kind"], area=clean["area"],
                   centre=clean["centre"], state=clean["state"], sort=clean["sort"] or "name",
                   desc=bool(clean["desc"]), page=clean["page"] or 1, size=clean["size"] or 50)

    def params(self, **changes: Any) -> dict[str, str]:
        """Query parameters for a link (the non-default values, with `changes`)."""
        values = {"q": self.q, "kind": self.kind, "area": self.area, "centre": self.centre, "state": self.state,
                  "sort": self.sort if self.sort != "name" else None, "desc": "1" if self.desc else None,
                  "page": self.page if self.page != 1 else None, "size": self.size if self.size != 50 else None}
        values.update(changes)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


@dataclass(frozen=True, slots=True)
class DevicePage:
    """One page of the list, with what the filters can choose from."""

    items: Sequence[Device]
    total: int
    page: int
    pages: int
    kinds: Sequence[str]
    areas: Sequence[str]
    centres: Sequence[str]
    states: Sequence[str]


def _matches(device: Device, query: DeviceQuery, names: Callable[[Device], str]) -> bool:
    if query.kind and device.kind != query.kind:
        return False
    if query.area and device.area != query.area:
        return False
    if query.centre and device.owner != query.centre:
        return False
    if query.state and device.state != query.state:
        return False
    if query.q:
        needle = query.q.casefold()
        return needle in device.name.casefold() or needle in device.entity_id.casefold() \
            or needle in names(device).casefold()
    return True


def query_devices(found: Sequence[Device], query: DeviceQuery,
                  area_name: Callable[[str], str] = str, own_centre: str | None = None) -> DevicePage:
    """Filter, sort and page `found`; the choices come from every device (not only the shown ones).
    Sorted by name, `own_centre`'s devices come first."""
    def searchable(device: Device) -> str:
        return area_name(device.area) if device.area else ""

    chosen = [device for device in found if _matches(device, query, searchable)]
    keys: dict[str, Callable[[Device], Any]] = {
        "name": lambda d: (d.owner != own_centre, d.name.casefold()),
        "kind": lambda d: (KIND_ORDER.index(d.kind), d.name.casefold()),
        "area": lambda d: (searchable(d).casefold(), d.name.casefold()),
        "centre": lambda d: (d.owner or "", d.name.casefold()),
        "state": lambda d: (d.state, d.name.casefold()),
        "last_seen": lambda d: (d.last_seen or 0.0, d.name.casefold()),
    }
    chosen.sort(key=keys[query.sort], reverse=query.desc)
    pages = max(1, -(-len(chosen) // query.size))
    page = min(query.page, pages)
    start = (page - 1) * query.size
    return DevicePage(
        items=chosen[start:start + query.size], total=len(chosen), page=page, pages=pages,
        kinds=[kind for kind in KIND_ORDER if any(d.kind == kind for d in found)],
        areas=sorted({d.area for d in found if d.area}, key=lambda a: area_name(a).casefold()),
        centres=sorted({d.owner for d in found if d.owner}),
        states=sorted({d.state for d in found if to_float(d.state) is None}),  # words; a reading is no filter
    )
