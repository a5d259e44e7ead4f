"""Plate search for investigators: exact, confusable or pattern, in a time window and at a camera, with a
stated purpose that is in the audit log before any result is answered (see docs/anpr.md "Plate search").

Reads that matched no list are stored as a keyed hash only (privacy.PlateHasher):

* `exact` hashes the searched plate and finds every read of it, hashed or not;
* `confusable` hashes every variant of the plate with confusable characters swapped (O/0, I/1, B/8...)
  and so also finds hashed reads, of full plates only (at most MAX_VARIANTS variants);
* `pattern` (`*` any run, `?` one character; a partial plate is `*123*`) can only look at the plates kept
  in clear, those of hotlist hits: a hash cannot be matched against a pattern. The answer says how many
  hashed reads in the window it could not look at (`hashed_not_searched`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from hub.audit import get_audit
from hub.auth.permissions import area_centre, get_permissions
from hub.auth.users import Role
from hub.core import Context
from hub.exceptions import HubError, ServiceValidationError
from hub.helpers import config_validation as cv

from .formats import count_confusions, expand_confusions, normalize
from .models import AnprHit, AnprRead

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import AnprManager

__all__ = [
    "ACTION_PLATE_SEARCH",
    "ACTION_PLATE_VIEW",
    "MAX_VARIANTS",
    "MODES",
    "SEARCH_SCHEMA",
    "CameraScope",
    "async_read_image",
    "async_search",
    "camera_scope",
    "describe_read",
]

ACTION_PLATE_SEARCH: Final = "plate_search"
ACTION_PLATE_VIEW: Final = "plate_image_view"
MODE_EXACT: Final = "exact"
MODE_CONFUSABLE: Final = "confusable"
MODE_PATTERN: Final = "pattern"
MODES: Final = (MODE_EXACT, MODE_CONFUSABLE, MODE_PATTERN)
MAX_VARIANTS: Final = 1024
MIN_PURPOSE: Final = 10
HIT_WINDOW_S: Final = 120.0  # a hit's evidence belongs to the pass read up to this long after it
IMAGE_KINDS: Final = ("crop", "frame")
_PATTERN_CHARS = re.compile(r"[^A-Z0-9*?]")



SEARCH_SCHEMA: Final = vol.Schema({
    vol.Required("purpose"): vol.All(cv.string, vol.Strip, vol.Length(
        min=MIN_PURPOSE, max=500, msg=f"state the purpose of the search ({MIN_PURPOSE} to 500 characters)")),
    vol.Required("plate"): vol.All(cv.string, vol.Length(min=1, max=16)),
    vol.Optional("mode", default=MODE_EXACT): vol.In(MODES),
    vol.Optional("start"): vol.Any(None, cv.timestamp),
    vol.Optional("end"): vol.Any(None, cv.timestamp),
    vol.Optional("camera"): vol.Any(None, cv.string),
    vol.Optional("limit", default=200): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
})


@dataclass(frozen=True, slots=True)
class CameraScope:
    """Which cameras' reads one user may search: all, or those in areas their centre reads."""

    everything: bool
    cameras: frozenset[str]

    def allows(self, camera: str) -> bool:
        return self.everything or camera in self.cameras


def camera_scope(hub: Hub, manager: AnprManager, user_id: str | None) -> CameraScope:
    """The cameras `user_id` may search (hub.auth.visibility's rule: own centre's areas and what others share);
    the hub itself (no user) and admins search every camera."""
    from hub.auth.visibility import ReadScope

    policy = get_permissions(hub)
    if user_id is None or policy is None or not policy.enforced:
        return CameraScope(True, frozenset())
    principal = policy.principal(user_id)
    if principal is None or principal.role is Role.AGENCY:
        return CameraScope(False, frozenset())
    if principal.role is Role.ADMIN:
        return CameraScope(True, frozenset())
    scope = ReadScope(centre=principal.centre)
    return CameraScope(False, frozenset(camera_id for camera_id, camera in manager.cameras.items()
                                        if camera.config.area is not None
                                        and scope.sees_area(hub, camera.config.area)))


def _like(pattern: str) -> str:
    return pattern.replace("*", "%").replace("?", "_")


def _criteria(manager: AnprManager, plate: str, mode: str) -> tuple[ColumnElement[bool], str]:
    """The SQL condition for the plate, and the normalised plate as searched."""
    if mode == MODE_PATTERN:
        text = _PATTERN_CHARS.sub("", plate.upper().replace("Ñ", "N"))
        if len(text.replace("*", "").replace("?", "")) < 2:
            raise ServiceValidationError("'plate': a pattern needs at least two letters or digits")
        return AnprRead.plate.like(_like(text)), text
    text = normalize(plate)
    if len(text) < 4:
        raise ServiceValidationError("'plate': give the whole plate (4 characters or more), or use mode pattern")
    if mode == MODE_EXACT:
        return or_(AnprRead.plate_hash == manager.hasher(text), AnprRead.plate == text), text
    if count_confusions(text) > MAX_VARIANTS:
        raise ServiceValidationError(f"'plate': {text!r} has too many confusable characters to search "
                                     f"(more than {MAX_VARIANTS} variants); use mode pattern")
    variants = expand_confusions(text)
    return or_(AnprRead.plate_hash.in_([manager.hasher(v) for v in variants]), AnprRead.plate.in_(variants)), text


def _image_paths(manager: AnprManager, row: AnprRead, hit: AnprHit | None) -> dict[str, str]:
    """Images of one read that exist, relative to the config dir (blocking)."""
    base = manager.hub.config_dir
    found: dict[str, str] = {}
    if hit is not None:
        for kind, rel in (("crop", hit.crop_path), ("frame", hit.frame_path)):
            if rel and (base / rel).is_file():
                found[kind] = rel
        return found
    day = time.strftime("%Y%m%d", time.gmtime(row.ts))
    path = manager.media.root / "reads" / row.camera / day / f"{int(row.ts * 1000)}_{row.plate_hash[:12]}_crop.jpg"
    if path.is_file():
        found["crop"] = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
    return found


def _matching_hit(session: Session, row: AnprRead) -> AnprHit | None:
    if not row.hit or row.plate is None:
        return None
    return session.scalars(select(AnprHit).where(
        AnprHit.camera == row.camera, AnprHit.plate == row.plate, AnprHit.ts <= row.ts + 1.0,
        AnprHit.ts >= row.ts - HIT_WINDOW_S).order_by(AnprHit.ts.desc()).limit(1)).first()


def _list_name(manager: AnprManager, hit: AnprHit | None) -> str | None:
    """The name of the list a hit matched (its id when the list is no longer configured)."""
    if hit is None:
        return None
    listed = manager.hotlists.lists.get(hit.list_id)
    return listed.name if listed is not None else hit.list_id


def _read_dict(manager: AnprManager, row: AnprRead, hit: AnprHit | None) -> dict[str, Any]:
    camera = manager.cameras.get(row.camera)
    config = camera.config if camera is not None else None
    return {
        "read_id": row.read_id, "ts": row.ts, "camera": row.camera,
        "camera_name": config.name if config is not None else row.camera,
        "area": config.area if config is not None else None,
        "latitude": config.latitude if config is not None else None,
        "longitude": config.longitude if config is not None else None,
        "plate": row.plate, "plate_hash": row.plate_hash, "hit": row.hit, "direction": row.direction,
        "lane": row.lane, "confidence": round(row.confidence, 3),
        "list": hit.list_id if hit is not None else None, "list_name": _list_name(manager, hit),
        "hit_id": hit.hit_id if hit is not None else None,
        "image_paths": (paths := _image_paths(manager, row, hit)),  # relative to the config dir
        "images": sorted(paths),
    }


async def async_search(hub: Hub, manager: AnprManager, data: dict[str, Any], context: Context) -> dict[str, Any]:
    """Audit the search with its purpose (committed first), then answer the reads the user may see."""
    audit = get_audit(hub)
    if audit is None:
        raise HubError("Plate search needs the audit log (it records every search's purpose first)")
    condition, text = _criteria(manager, data["plate"], data["mode"])
    scope = camera_scope(hub, manager, context.user_id)
    query = {"plate": text, "mode": data["mode"], "camera": data.get("camera"), "start": data.get("start"),
             "end": data.get("end")}
    seq = audit.record(ACTION_PLATE_SEARCH, context=context, target=f"plate:{text}",
                       data={"purpose": data["purpose"], "query": query})
    if seq is None:
        raise HubError("The audit log is not taking entries; the search is refused")
    await audit.async_wait_written(seq)

    filters = [condition]
    if data.get("start") is not None:
        filters.append(AnprRead.ts >= data["start"])
    if data.get("end") is not None:
        filters.append(AnprRead.ts <= data["end"])
    if data.get("camera"):
        filters.append(AnprRead.camera == data["camera"])
    if not scope.everything:
        filters.append(AnprRead.camera.in_(sorted(scope.cameras)))
    window = filters[1:]

    def _query(session: Session) -> tuple[list[tuple[AnprRead, AnprHit | None]], int]:
        rows = session.scalars(select(AnprRead).where(and_(*filters)).order_by(AnprRead.ts)
                               .limit(data["limit"])).all()
        hidden = 0
        if data["mode"] == MODE_PATTERN:
            hidden = int(session.scalar(select(func.count()).select_from(AnprRead).where(
                and_(AnprRead.plate.is_(None), *window))) or 0)
        pairs = [(row, _matching_hit(session, row)) for row in rows]
        for row, hit in pairs:
            session.expunge(row)
            if hit is not None:
                session.expunge(hit)
        return pairs, hidden

    await manager.read_log.async_flush()
    from hub.recorder import get_recorder

    pairs, hidden = await get_recorder(hub).async_db_job(_query)
    reads = await hub.async_add_executor_job(lambda: [_read_dict(manager, r, h) for r, h in pairs])
    return {"plate": text, "mode": data["mode"], "reads": reads, "count": len(reads),
            "truncated": len(reads) >= data["limit"], "hashed_not_searched": hidden,
            "not_shared": _unsearched_cameras(hub, manager, scope), "audit_seq": seq}


def _unsearched_cameras(hub: Hub, manager: AnprManager, scope: CameraScope) -> dict[str, int]:
    """How many ANPR cameras the search left out, per owning centre (a search says what it does not cover).

    Cameras, not reads: whether the plate was seen at a camera the user may not search is itself personal data of
    that other centre, so it is neither shown nor counted."""
    counts: dict[str, int] = {}
    if scope.everything:
        return counts
    for camera_id, camera in manager.cameras.items():
        if camera_id in scope.cameras:
            continue
        centre = area_centre(hub, camera.config.area) or ""
        counts[centre] = counts.get(centre, 0) + 1
    return counts


async def _async_read_row(hub: Hub, read_id: int) -> tuple[AnprRead, AnprHit | None] | None:
    from hub.recorder import get_recorder

    def _get(session: Session) -> tuple[AnprRead, AnprHit | None] | None:
        row = session.get(AnprRead, read_id)
        if row is None:
            return None
        hit = _matching_hit(session, row)
        session.expunge(row)
        if hit is not None:
            session.expunge(hit)
        return row, hit

    found: tuple[AnprRead, AnprHit | None] | None = await get_recorder(hub).async_db_job(_get)
    return found


async def describe_read(hub: Hub, manager: AnprManager, read_id: int,
                        context: Context) -> tuple[dict[str, Any], list[str]] | None:
    """One read as a search answers it, and its image paths (relative to the config dir), if the user may
    see that camera's reads; None otherwise (incidents link reads with their images)."""
    found = await _async_read_row(hub, read_id)
    if found is None or not camera_scope(hub, manager, context.user_id).allows(found[0].camera):
        return None
    row, hit = found
    shown = await hub.async_add_executor_job(_read_dict, manager, row, hit)
    paths = await hub.async_add_executor_job(_image_paths, manager, row, hit)
    return shown, [paths[kind] for kind in IMAGE_KINDS if kind in paths]


async def async_read_image(hub: Hub, manager: AnprManager, read_id: int, kind: str,
                           context: Context) -> Path | None:
    """The file of one read's image, if it exists and the user may see that camera's reads (the view is audited)."""
    if kind not in IMAGE_KINDS:
        return None
    found = await _async_read_row(hub, read_id)
    if found is None or not camera_scope(hub, manager, context.user_id).allows(found[0].camera):
        return None
    row, hit = found
    paths = await hub.async_add_executor_job(_image_paths, manager, row, hit)
    if kind not in paths:
        return None
    audit = get_audit(hub)
    if audit is not None:
        audit.record(ACTION_PLATE_VIEW, context=context, target=f"anpr_read:{read_id}", data={"image": kind})
    path = Path(paths[kind])
    return path if path.is_absolute() else hub.config_dir / path
