"""Names the hub gives what it creates (a fire's entity, a lane's counter, a list's size) in the site's
language (`hub: language:`), as Home Assistant names entities from its integrations' translations.

Each integration keeps its names beside its code: `{language: {key: pattern}}` with English complete; a
pattern's `{placeholders}` are filled in, and a key missing in the site's language falls back to English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import Hub

__all__ = ["EntityNames", "localized_name", "localized_names"]

EntityNames = Mapping[str, Mapping[str, str]]


def localized_names(hub: Hub, names: EntityNames) -> dict[str, str]:
    """Every name in the hub's language, English where it has none."""
    language = hub.config.language if hub.config is not None else "en"
    return {**names["en"], **names.get(language, {})}


def localized_name(hub: Hub, names: EntityNames, key: str, **placeholders: Any) -> str:
    """The name `key` in the hub's language (English when it has none), its placeholders filled in."""
    return localized_names(hub, names)[key].format(**placeholders)
