"""The map's base layers (`frontend: map: layers:`): the offline base map, raster tiles (XYZ/WMTS) and WMS.

    frontend:
      map:
        layers:                           # the first is shown at start; the layer control offers the rest
          - name: Ceuta (sin conexión)
            type: offline                 # the bundled coastline (frontend/static/basemap, OpenStreetMap, ODbL)
          - name: IGN Base
            type: wms
            url: https://www.ign.es/wms-inspire/ign-base
            layers: IGNBaseTodo
            attribution: "© Instituto Geográfico Nacional de España"
          - name: PNOA ortofoto
            type: tile                    # {z}/{x}/{y} (and {s}); a WMTS in its REST form is the same
            url: https://tms-pnoa-ma.idee.es/1.0.0/pnoa-ma/{z}/{x}/{-y}.jpeg
            attribution: "PNOA cedido por © Instituto Geográfico Nacional"

Without `map:` the offline base map is the only layer, so the map works with no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

import voluptuous as vol

from hub.helpers import config_validation as cv

from .i18n import N_

__all__ = [
    "DEFAULT_LAYERS",
    "LAYER_SCHEMA",
    "MAP_SCHEMA",
    "TYPE_OFFLINE",
    "TYPE_TILE",
    "TYPE_WMS",
    "layer_origins",
    "legacy_tile_layer",
    "tile_origin",
]

CONF_LAYERS: Final = "layers"
TYPE_OFFLINE: Final = "offline"
TYPE_TILE: Final = "tile"
TYPE_WMS: Final = "wms"
# the default layer's name is a catalogue msgid (the page shows layer names through the reader's language)
DEFAULT_LAYERS: Final = ({"name": N_("Ceuta (offline)"), "type": TYPE_OFFLINE, "attribution":
                          "© OpenStreetMap contributors (ODbL)", "max_zoom": 18},)


def tile_url(value: Any) -> str:
    """An http(s) URL template with {z}, {x} and {y} (or {-y}, TMS rows), and optionally {s} for subdomains."""
    value = cv.url(value)
    missing = [key for key in ("{z}", "{x}") if key not in value]
    if "{y}" not in value and "{-y}" not in value:
        missing.append("{y}")
    if missing:
        raise vol.Invalid(f"a tile URL needs {', '.join(missing)} (e.g. https://tile.example/{{z}}/{{x}}/{{y}}.png)")
    return value


def tile_origin(url: str) -> str:
    """The origin to allow in the Content-Security-Policy for a layer's URL (`{s}.` becomes `*.`)."""
    parts = urlsplit(url.replace("{s}.", "SUBDOMAIN."))
    host = parts.netloc.replace("SUBDOMAIN.", "*.")
    return f"{parts.scheme}://{host}"


_COMMON: Final = {
    vol.Required("name"): vol.All(str, vol.Length(min=1, max=80)),
    vol.Optional("attribution", default=""): vol.All(str, vol.Length(max=300)),
    vol.Optional("max_zoom", default=19): vol.All(int, vol.Range(min=1, max=22)),
}
_OFFLINE: Final = vol.Schema({vol.Required("type"): TYPE_OFFLINE, **_COMMON})
_TILE: Final = vol.Schema({vol.Required("type"): TYPE_TILE, vol.Required("url"): tile_url, **_COMMON})
_WMS: Final = vol.Schema({
    vol.Required("type"): TYPE_WMS,
    vol.Required("url"): cv.url,
    vol.Required("layers"): vol.All(str, vol.Length(min=1)),  # the service's layer names, comma-separated
    vol.Optional("styles", default=""): str,
    vol.Optional("format", default="image/png"): vol.In(["image/png", "image/jpeg", "image/webp"]),
    vol.Optional("transparent", default=False): bool,
    vol.Optional("version", default="1.3.0"): vol.In(["1.1.1", "1.3.0"]),
    **_COMMON,
})
_BY_TYPE: Final = {TYPE_OFFLINE: _OFFLINE, TYPE_TILE: _TILE, TYPE_WMS: _WMS}


def LAYER_SCHEMA(value: Any) -> dict[str, Any]:
    """One layer, checked by the schema of its `type`."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a layer (name, type, ...)")
    kind = value.get("type")
    if kind not in _BY_TYPE:
        raise vol.Invalid(f"layer type must be one of {', '.join(_BY_TYPE)}, got {kind!r}", path=["type"])
    result: dict[str, Any] = _BY_TYPE[kind](value)
    return result


MAP_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_LAYERS, default=lambda: [dict(layer) for layer in DEFAULT_LAYERS]): vol.All(
        [LAYER_SCHEMA], vol.Length(min=1, msg="the map needs at least one base layer"),
        cv.unique("name", "layer name")),
}, extra=vol.PREVENT_EXTRA)


def legacy_tile_layer(url: str, attribution: str) -> dict[str, Any]:
    """The layer that the older `tile_url`/`tile_attribution` keys stand for."""
    return {"name": "Teselas", "type": TYPE_TILE, "url": url, "attribution": attribution, "max_zoom": 19}


def layer_origins(layers: Iterable[dict[str, Any]]) -> list[str]:
    """The origins the map's layers load images from (for the Content-Security-Policy)."""
    return sorted({tile_origin(layer["url"]) for layer in layers if layer.get("url")})
