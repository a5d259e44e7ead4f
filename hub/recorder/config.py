"""The `recorder:` configuration schema (defaults live here) and the include/exclude filter it builds."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from ..const import EVENT_STATE_CHANGED
from .const import (
    CONF_AUTO_PURGE,
    CONF_COMMIT_INTERVAL,
    CONF_DB_URL,
    CONF_DOMAINS,
    CONF_ENTITIES,
    CONF_ENTITY_GLOBS,
    CONF_EVENT_TYPES,
    CONF_EXCLUDE,
    CONF_INCLUDE,
    CONF_MAX_QUEUE,
    CONF_PURGE_KEEP_DAYS,
    CONF_PURGE_KEEP_DAYS_BY_DOMAIN,
    DEFAULT_COMMIT_INTERVAL,
    DEFAULT_KEEP_DAYS,
    DEFAULT_KEEP_DAYS_BY_DOMAIN,
    DEFAULT_MAX_QUEUE,
)

__all__ = ["CONFIG_SCHEMA", "RecorderFilter"]


def _string_list(value: Any) -> list[str]:
    """A string or a list of strings, as a list of lower-case strings."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise vol.Invalid(f"expected a list of strings, got {type(value).__name__}")
    result = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise vol.Invalid(f"expected a non-empty string, got {item!r}")
        result.append(item.strip().lower())
    return result


def _db_url(value: Any) -> str:
    if not isinstance(value, str) or "://" not in value:
        raise vol.Invalid(
            f"expected a database URL like sqlite:///path or postgresql+psycopg://..., got {value!r}"
        )
    return value


_FILTER_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_DOMAINS, default=list): _string_list,
        vol.Optional(CONF_ENTITIES, default=list): _string_list,
        vol.Optional(CONF_ENTITY_GLOBS, default=list): _string_list,
        vol.Optional(CONF_EVENT_TYPES, default=list): _string_list,
    }
)

_KEEP_DAYS = vol.All(vol.Coerce(int), vol.Range(min=0))

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_DB_URL): _db_url,
        vol.Optional(CONF_COMMIT_INTERVAL, default=DEFAULT_COMMIT_INTERVAL): vol.All(
            vol.Coerce(float), vol.Range(min=0.01, max=3600)
        ),
        vol.Optional(CONF_MAX_QUEUE, default=DEFAULT_MAX_QUEUE): vol.All(vol.Coerce(int), vol.Range(min=100)),
        vol.Optional(CONF_PURGE_KEEP_DAYS, default=DEFAULT_KEEP_DAYS): _KEEP_DAYS,
        vol.Optional(CONF_PURGE_KEEP_DAYS_BY_DOMAIN, default=lambda: dict(DEFAULT_KEEP_DAYS_BY_DOMAIN)): {
            vol.All(str, vol.Lower): _KEEP_DAYS
        },
        vol.Optional(CONF_AUTO_PURGE, default=True): bool,
        vol.Optional(CONF_INCLUDE, default=dict): _FILTER_SCHEMA,
        vol.Optional(CONF_EXCLUDE, default=dict): _FILTER_SCHEMA,
    },
    extra=vol.PREVENT_EXTRA,
)


def _globs_regex(globs: list[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs))


class RecorderFilter:
    """Decides what gets recorded (Home Assistant's rules). Answers are cached per entity id and event type.

    Entities, in order: listed in `include.entities` -> recorded; listed in `exclude.entities`
    -> not; matching `exclude.domains`/`exclude.entity_globs` -> not; when `include.domains` or
    `include.entity_globs` exist -> recorded only if it matches them; when only
    `include.entities` exist -> not, unless exclude has domains or globs (then the include list
    names exceptions to them and everything else is recorded); no include rules -> recorded.
    Events: `exclude.event_types` are never recorded; when `include.event_types` is given only
    those are recorded. State changes follow the entity rules only, unless `state_changed` itself
    is in `exclude.event_types` (then no states are recorded).
    """

    def __init__(self, include: Mapping[str, list[str]], exclude: Mapping[str, list[str]]) -> None:
        self._inc_entities = frozenset(include.get(CONF_ENTITIES, ()))
        self._inc_domains = frozenset(include.get(CONF_DOMAINS, ()))
        self._inc_globs = _globs_regex(list(include.get(CONF_ENTITY_GLOBS, ())))
        self._exc_entities = frozenset(exclude.get(CONF_ENTITIES, ()))
        self._exc_domains = frozenset(exclude.get(CONF_DOMAINS, ()))
        self._exc_globs = _globs_regex(list(exclude.get(CONF_ENTITY_GLOBS, ())))
        self._inc_events = frozenset(include.get(CONF_EVENT_TYPES, ()))
        self._exc_events = frozenset(exclude.get(CONF_EVENT_TYPES, ()))
        self._include_matches = bool(self._inc_domains or self._inc_globs)
        self._include_list_only = bool(self._inc_entities) and not (self._exc_domains or self._exc_globs)
        self.record_states = EVENT_STATE_CHANGED not in self._exc_events
        self._entity_cache: dict[str, bool] = {}
        self._event_cache: dict[str, bool] = {}

    def entity_allowed(self, entity_id: str) -> bool:
        """Whether state changes of `entity_id` are recorded."""
        allowed = self._entity_cache.get(entity_id)
        if allowed is None:
            allowed = self._decide_entity(entity_id)
            if len(self._entity_cache) < 100_000:
                self._entity_cache[entity_id] = allowed
        return allowed

    def _decide_entity(self, entity_id: str) -> bool:
        if entity_id in self._inc_entities:
            return True
        if entity_id in self._exc_entities:
            return False
        domain = entity_id.partition(".")[0]
        if domain in self._exc_domains or (self._exc_globs is not None and self._exc_globs.match(entity_id)):
            return False
        if self._include_matches:
            return domain in self._inc_domains or (
                self._inc_globs is not None and self._inc_globs.match(entity_id) is not None
            )
        return not self._include_list_only

    def event_allowed(self, event_type: str) -> bool:
        """Whether events of `event_type` (other than state_changed) are recorded."""
        allowed = self._event_cache.get(event_type)
        if allowed is None:
            allowed = event_type not in self._exc_events and (
                not self._inc_events or event_type in self._inc_events
            )
            if len(self._event_cache) < 10_000:
                self._event_cache[event_type] = allowed
        return allowed
