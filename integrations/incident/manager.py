"""Incidents in the recorder database: create, add notes, link alarms and plate reads, attach documents,
change status and owner; who may read which incident (own centre, shared ones, admins everything)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.auth.permissions import Principal, get_permissions
from hub.auth.users import Role
from hub.core import Context, Hub, HubKey
from hub.exceptions import ServiceValidationError
from hub.helpers.ids import uuid7_str
from hub.recorder import get_recorder

from .clips import clip_of
from .models import IncidentItemRow, IncidentRow

__all__ = [
    "DATA_MANAGER",
    "EVENT_INCIDENT_CHANGED",
    "STATUSES",
    "IncidentManager",
    "IncidentReader",
    "get_incidents",
]

DATA_MANAGER: Final[HubKey[IncidentManager]] = HubKey("incident")
EVENT_INCIDENT_CHANGED: Final = "incident_changed"
STATUSES: Final = ("open", "in_progress", "closed")
MEDIA_DIR: Final = "media/incidents"
MAX_DOCUMENT_BYTES: Final = 10 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class IncidentReader:
    """Which incidents one user reads: their centre's, those shared with every centre, all for admins."""

    sees_all: bool
    centre: str | None
    blind: bool = False

    def sees(self, incident: dict[str, Any]) -> bool:
        if self.blind:
            return False
        return self.sees_all or incident["centre"] == self.centre or bool(incident["shared"])


def _row_dict(row: IncidentRow) -> dict[str, Any]:
    return {"incident_id": row.incident_id, "title": row.title, "centre": row.centre, "status": row.status,
            "owner": row.owner, "shared": row.shared, "created_by": row.created_by, "created_ts": row.created_ts,
            "updated_ts": row.updated_ts}


def _item_dict(row: IncidentItemRow) -> dict[str, Any]:
    item = {"item_id": row.item_id, "ts": row.ts, "kind": row.kind, "ref": row.ref, "text": row.text,
            "files": [f for f in (row.file_path or "").split("\n") if f], "user_id": row.user_id}
    if row.kind == "clip":
        item["clip"] = clip_of(row.ref)
    return item


class IncidentManager:
    """The incident store: every change is one recorder job, answered once committed."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._centres: dict[str, str | None] = {}

    # ---- who

    def principal(self, context: Context) -> Principal | None:
        policy = get_permissions(self.hub)
        return policy.principal(context.user_id) if policy is not None and context.user_id else None

    def reader(self, user_id: str | None) -> IncidentReader:
        """The reader for a user id (no user or no users at all: the hub itself, reads everything)."""
        policy = get_permissions(self.hub)
        if user_id is None or policy is None or not policy.enforced:
            return IncidentReader(True, None)
        principal = policy.principal(user_id)
        if principal is None or principal.role is Role.AGENCY:
            return IncidentReader(False, None, blind=True)
        return IncidentReader(principal.role is Role.ADMIN, principal.centre)

    # ---- reading

    async def async_get(self, incident_id: str) -> dict[str, Any] | None:
        """An incident with its timeline (oldest first), or None."""
        def _get(session: Session) -> dict[str, Any] | None:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                return None
            items = session.scalars(select(IncidentItemRow).where(IncidentItemRow.incident_id == incident_id)
                                    .order_by(IncidentItemRow.ts, IncidentItemRow.item_id))
            return {**_row_dict(row), "timeline": [_item_dict(item) for item in items]}

        result: dict[str, Any] | None = await get_recorder(self.hub).async_db_job(_get)
        return result

    async def async_list(self, reader: IncidentReader, *, limit: int = 200) -> list[dict[str, Any]]:
        """The incidents `reader` sees, open ones first, newest first."""
        def _list(session: Session) -> list[dict[str, Any]]:
            query = select(IncidentRow)
            if not reader.sees_all:
                query = query.where(or_(IncidentRow.centre == reader.centre, IncidentRow.shared.is_(True)))
            rows = session.scalars(query.order_by(IncidentRow.created_ts.desc()).limit(limit))
            return [_row_dict(row) for row in rows]

        if reader.blind:
            return []
        found: list[dict[str, Any]] = await get_recorder(self.hub).async_db_job(_list)
        return sorted(found, key=lambda i: (i["status"] == "closed", -i["created_ts"]))

    async def async_hidden(self, reader: IncidentReader) -> dict[str, int]:
        """How many incidents `reader` does not see, per owning centre (the count only)."""
        if reader.sees_all or reader.blind:
            return {}

        def _count(session: Session) -> dict[str, int]:
            others = or_(IncidentRow.centre.is_(None), IncidentRow.centre != reader.centre)
            rows = session.execute(select(IncidentRow.centre, func.count())
                                   .where(IncidentRow.shared.is_(False), others).group_by(IncidentRow.centre))
            return {centre or "": int(count) for centre, count in rows}

        found: dict[str, int] = await get_recorder(self.hub).async_db_job(_count)
        return found

    def owner_centre(self, incident_id: str) -> str | None:
        """Cached owner centre (for the permission hook, which runs in the loop without I/O)."""
        return self._centres.get(incident_id)

    def known_ids(self) -> frozenset[str]:
        """Every incident's id (as loaded at set-up, and those created since)."""
        return frozenset(self._centres)

    async def async_load_owners(self) -> None:
        """Remember every incident's centre (the permission hook needs it without a database read)."""
        def _load(session: Session) -> dict[str, str | None]:
            return {incident_id: centre for incident_id, centre in
                    session.execute(select(IncidentRow.incident_id, IncidentRow.centre))}

        self._centres = await get_recorder(self.hub).async_db_job(_load)

    # ---- changing

    async def async_create(self, title: str, context: Context, *, shared: bool = False,
                           centre: str | None = None) -> dict[str, Any]:
        """A new open incident owned by the caller's centre (and by the caller)."""
        principal = self.principal(context)
        owner_centre = centre or context.centre or (principal.centre if principal is not None else None)
        if owner_centre is None and self.hub.config is not None:
            owner_centre = self.hub.config.default_centre.id
        now = self.hub.clock.time()
        incident_id = uuid7_str(now)
        row = IncidentRow(incident_id=incident_id, title=title, centre=owner_centre, status="open",
                          owner=context.user_id, shared=shared, created_by=context.user_id, created_ts=now,
                          updated_ts=now)

        def _save(session: Session) -> dict[str, Any]:
            session.add(row)
            session.add(IncidentItemRow(incident_id=incident_id, ts=now, kind="created", text=title,
                                        user_id=context.user_id))
            return _row_dict(row)

        created: dict[str, Any] = await get_recorder(self.hub).async_db_job(_save)
        self._centres = {**self._centres, incident_id: owner_centre}
        self._fire(created, "created", context)
        return created

    async def async_add_item(self, incident_id: str, kind: str, context: Context, *, ref: str | None = None,
                             text: str | None = None, files: list[str] | None = None,
                             changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append one timeline item (and apply `changes` to the incident); ServiceValidationError when the
        incident does not exist or is closed (a closed incident takes no evidence, only a reopening)."""
        now = self.hub.clock.time()

        def _save(session: Session) -> dict[str, Any]:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                raise ServiceValidationError(f"'incident_id': no incident {incident_id!r}")
            if row.status == "closed" and not (changes and changes.get("status") not in (None, "closed")):
                raise ServiceValidationError(f"'incident_id': incident {incident_id!r} is closed; reopen it first")
            for key, value in (changes or {}).items():
                setattr(row, key, value)
            row.updated_ts = now
            item = IncidentItemRow(incident_id=incident_id, ts=now, kind=kind, ref=ref, text=text,
                                   file_path="\n".join(files or ()) or None, user_id=context.user_id)
            session.add(item)
            session.flush()
            return {**_row_dict(row), "item": _item_dict(item)}

        result: dict[str, Any] = await get_recorder(self.hub).async_db_job(_save)
        self._fire(result, kind, context, sharing_changed=bool(changes and "shared" in changes))
        return result

    async def async_remove_item(self, incident_id: str, item_id: int, context: Context, *,
                                text: str | None = None) -> dict[str, Any]:
        """Take one item (a clip) out of the timeline, leaving a `removed` item that says what went."""
        now = self.hub.clock.time()

        def _remove(session: Session) -> dict[str, Any]:
            row = session.get(IncidentRow, incident_id)
            item = session.get(IncidentItemRow, item_id)
            if row is None or item is None or item.incident_id != incident_id:
                raise ServiceValidationError(f"'item_id': incident {incident_id!r} has no item {item_id}")
            if row.status == "closed":
                raise ServiceValidationError(f"'incident_id': incident {incident_id!r} is closed; reopen it first")
            session.delete(item)
            row.updated_ts = now
            removed = IncidentItemRow(incident_id=incident_id, ts=now, kind="removed", ref=item.kind,
                                      text=text if text is not None else item.text, user_id=context.user_id)
            session.add(removed)
            session.flush()
            return {**_row_dict(row), "item": _item_dict(removed)}

        result: dict[str, Any] = await get_recorder(self.hub).async_db_job(_remove)
        self._fire(result, "removed", context)
        return result

    async def async_save_document(self, incident_id: str, filename: str, content_base64: str) -> str:
        """Decode and store an attached document under media/incidents/<id>/; its path relative to the config."""
        try:
            data = base64.b64decode(content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ServiceValidationError("'content_base64': not valid base64") from None
        if not data or len(data) > MAX_DOCUMENT_BYTES:
            raise ServiceValidationError(f"'content_base64': a document is 1 byte to {MAX_DOCUMENT_BYTES} bytes")
        name = _SAFE_NAME.sub("_", Path(filename).name).strip("._") or "document"
        relative = f"{MEDIA_DIR}/{incident_id}/{uuid7_str(self.hub.clock.time())[-8:]}_{name}"

        def _write() -> None:
            path = self.hub.config_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await self.hub.async_add_executor_job(_write)
        return relative

    def _fire(self, incident: dict[str, Any], change: str, context: Context, *, sharing_changed: bool = False
              ) -> None:
        # `sharing_changed`: shared or unshared by this change (the federation withdraws an unshared one)
        self.hub.bus.async_fire(EVENT_INCIDENT_CHANGED, {
            "incident_id": incident["incident_id"], "change": change, "status": incident["status"],
            "centre": incident["centre"], "shared": incident["shared"], "sharing_changed": sharing_changed},
            context=context)


def get_incidents(hub: Hub) -> IncidentManager | None:
    """The incident manager, when the integration is set up."""
    return hub.data.get(DATA_MANAGER)
