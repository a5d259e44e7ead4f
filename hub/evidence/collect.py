"""What goes into an export: the events and states of a time window (or an alarm) and the images they name."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..recorder.history import get_history
from ..recorder.queries import get_events
from .bundle import BundleFile
from .const import IMAGES_DIR, MAX_EVENTS, MAX_IMAGE_BYTES, MEDIA_SUFFIXES, MEDIA_TYPES

__all__ = ["Collected", "Scope", "collect", "find_images"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_BASE64_FORMATS = {"png": ".png", "jpeg": ".jpg", "jpg": ".jpg", "webp": ".webp", "gif": ".gif"}
_SOURCE_KEYS = ("entity_id", "camera", "tower", "device_id", "source")


@dataclass(frozen=True, slots=True)
class Scope:
    """What to export: a time window, narrowed to some entities and an alarm's contexts when given."""

    start_ts: float
    end_ts: float
    entity_ids: tuple[str, ...] = ()
    alarm_id: str | None = None
    context_ids: frozenset[str] = frozenset()

    @property
    def narrowed(self) -> bool:
        """Whether events are picked (by entity, alarm or context) rather than all of the window."""
        return bool(self.entity_ids or self.alarm_id or self.context_ids)


@dataclass(slots=True)
class Collected:
    """Events (oldest first, as recorded) and each entity's states in the window."""

    events: list[dict[str, Any]]
    states: dict[str, list[dict[str, Any]]]
    truncated: bool = False
    sources: set[str] = field(default_factory=set)


def _mentions(data: Mapping[str, Any], wanted: set[str]) -> bool:
    for key in ("entity_id", "entities"):
        value = data.get(key)
        if isinstance(value, str) and value in wanted:
            return True
        if isinstance(value, list | tuple) and any(isinstance(item, str) and item in wanted for item in value):
            return True
    return False


def _source_of(data: Mapping[str, Any]) -> str | None:
    for key in _SOURCE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    entities = data.get("entities")
    if isinstance(entities, list) and entities and isinstance(entities[0], str):
        return entities[0]
    return None


def _sources_of(data: Mapping[str, Any]) -> set[str]:
    """Every device an event names (entity, camera, tower, device, source, its entities)."""
    found = {value for key in _SOURCE_KEYS if isinstance(value := data.get(key), str) and value}
    entities = data.get("entities")
    if isinstance(entities, list):
        found.update(item for item in entities if isinstance(item, str))
    return found


def _keep(event: Mapping[str, Any], scope: Scope, wanted: set[str]) -> bool:
    if not scope.narrowed:
        return True
    data = event.get("data") or {}
    context = event.get("context") or {}
    return (scope.alarm_id is not None and data.get("alarm_id") == scope.alarm_id) or _mentions(data, wanted) \
        or context.get("id") in scope.context_ids or context.get("parent_id") in scope.context_ids


def collect(session: Session, scope: Scope, max_events: int = MAX_EVENTS) -> Collected:
    """Read the window's events (those about the scope's entities, alarm or contexts, when narrowed) and
    the entities' states, with the state each was in at the start. Runs in the recorder thread."""
    wanted = set(scope.entity_ids)
    rows = get_events(session, None, scope.start_ts, scope.end_ts, None, limit=max_events + 1)
    truncated = len(rows) > max_events
    events = [event for event in rows[:max_events] if _keep(event, scope, wanted)]
    history = get_history(session, scope.entity_ids, scope.start_ts, scope.end_ts, include_start_state=True) \
        if scope.entity_ids else {}
    states = {entity_id: [state.as_dict() for state in items] for entity_id, items in history.items()}
    sources: set[str] = set()
    for event in events:
        sources |= _sources_of(event.get("data") or {})
    sources.update(entity_id for entity_id, items in states.items() if items)
    return Collected(events, states, truncated, sources)


# --------------------------------------------------------------------------- images


def _walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, str(index)))


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_")[:150] or "image"


def find_images(events: Iterable[Mapping[str, Any]], config_dir: Path,
                allowed_dirs: Sequence[str | Path] = ()) -> list[BundleFile]:
    """The images events refer to: files under the config dir (or an allowed external dir) named in their data,
    and base64 images carried inline (thermal thumbnails). Blocking: file reads."""
    roots = [config_dir.resolve(), *(Path(d).resolve() for d in allowed_dirs)]
    found: dict[str, BundleFile] = {}
    for index, event in enumerate(events):
        data = event.get("data") or {}
        source = _source_of(data) or str(event.get("event_type"))
        when = event.get("time_fired_ts")
        for path, value in _walk(data):
            item: BundleFile | None = None
            if isinstance(value, Mapping) and value.get("encoding") == "base64" and isinstance(value.get("data"), str):
                suffix = _BASE64_FORMATS.get(str(value.get("format", "")).lower())
                if suffix is None:
                    continue
                try:
                    raw = base64.b64decode(value["data"], validate=True)
                except (binascii.Error, ValueError):
                    continue
                name = f"{IMAGES_DIR}/{index:05d}_{_safe(str(event.get('event_type')))}_{_safe('_'.join(path))}{suffix}"
                item = BundleFile(name, raw, "image", MEDIA_TYPES[suffix], source, when)
            elif isinstance(value, str) and "://" not in value and Path(value).suffix.lower() in MEDIA_SUFFIXES:
                candidate = Path(value)
                resolved = (candidate if candidate.is_absolute() else config_dir / candidate).resolve()
                if resolved.as_posix() in found or not _inside(resolved, roots) or not resolved.is_file():
                    continue
                if resolved.stat().st_size > MAX_IMAGE_BYTES:
                    continue
                try:
                    relative = resolved.relative_to(roots[0]).as_posix()
                except ValueError:
                    relative = resolved.as_posix()
                suffix = resolved.suffix.lower()
                item = BundleFile(f"{IMAGES_DIR}/{_safe(relative)}", resolved.read_bytes(), "image",
                                  MEDIA_TYPES[suffix], source, when, relative)
                found[resolved.as_posix()] = item
                continue
            if item is not None:
                found[item.path] = item
    names: set[str] = set()
    images: list[BundleFile] = []
    for item in found.values():  # two different files whose safe names collide get a number
        name, n = item.path, 2
        while name in names:
            stem, dot, suffix = item.path.rpartition(".")
            name = f"{stem}_{n}{dot}{suffix}"
            n += 1
        names.add(name)
        images.append(item if name == item.path else BundleFile(name, item.data, item.kind, item.media_type,
                                                                item.source, item.time_ts, item.original))
    return images
