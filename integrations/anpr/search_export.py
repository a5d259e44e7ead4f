"""A plate search exported as evidence (hub.evidence): the search is run again (its purpose audited first),
and its reads with their images go into a signed zip with the cameras' states and events of the window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from hub.core import Context
from hub.evidence.bundle import BundleFile
from hub.exceptions import ServiceValidationError
from hub.helpers import config_validation as cv

from .search import SEARCH_SCHEMA, async_search

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import AnprManager

__all__ = ["EXPORT_SEARCH_SCHEMA", "SEARCH_FILE", "async_export_search"]

SEARCH_FILE: Final = "anpr/plate_search.json"
WINDOW_MARGIN_S: Final = 60.0
EXPORT_SEARCH_SCHEMA: Final = SEARCH_SCHEMA.extend({
    vol.Required("case_reference"): vol.All(cv.string, vol.Length(min=1, max=255)),
})


async def async_export_search(hub: Hub, manager: AnprManager, data: dict[str, Any],
                              context: Context) -> dict[str, Any]:
    """Search (audited with its purpose), then export the reads, their images and the cameras' window."""
    from hub.evidence import async_export
    from hub.evidence.http import check_exporter

    check_exporter(hub, context.user_id)
    search = {key: value for key, value in data.items() if key != "case_reference"}
    result = await async_search(hub, manager, search, context)
    if not result["reads"]:
        raise ServiceValidationError("'plate': the search found no reads to export")
    paths = await hub.async_add_executor_job(_image_files, hub, result["reads"])
    files = [BundleFile(SEARCH_FILE, json.dumps({"query": {k: v for k, v in search.items() if k != "purpose"},
                                                 "purpose": data["purpose"], "result": result},
                                                ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"),
                        "plate_search", "application/json"), *paths]
    times = [read["ts"] for read in result["reads"]]
    cameras = sorted({read["camera"] for read in result["reads"]})
    entity_ids = [f"camera.anpr_{camera}" for camera in cameras if hub.states.get(f"camera.anpr_{camera}")]
    exported = await async_export(hub, reason=f"Plate search: {data['purpose']}",
                                  case_reference=data["case_reference"], context=context,
                                  start=min(times) - WINDOW_MARGIN_S, end=max(times) + WINDOW_MARGIN_S,
                                  entity_ids=entity_ids, extra_files=files)
    return exported.as_dict()


def _image_files(hub: Hub, reads: list[dict[str, Any]]) -> list[BundleFile]:
    """Each read's images as bundle files (blocking)."""
    found = []
    for read in reads:
        for kind, relative in read["image_paths"].items():
            path = Path(relative) if Path(relative).is_absolute() else hub.config_dir / relative
            try:
                data = path.read_bytes()
            except OSError:
                continue
            found.append(BundleFile(f"images/anpr_read_{read['read_id']}_{kind}.jpg", data, "image", "image/jpeg",
                                    source=read["camera"], time_ts=read["ts"], original=relative))
    return found
