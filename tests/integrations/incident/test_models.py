"""The incident and shift log tables: revisions r0600 (incident) and r0610 (shift_log) create exactly what the
models declare."""

from __future__ import annotations

from pathlib import Path

from hub.recorder.models import Base
from integrations.incident import models as _incident_models  # noqa: F401 - their tables on Base
from integrations.shift_log import models as _shift_log_models  # noqa: F401
from tests.migrations import schema_differences


def test_revision_matches_the_models(tmp_path: Path) -> None:
    assert schema_differences(tmp_path, "incident", "shift_log") == []
    assert {"incidents", "incident_items", "shift_log"} <= set(Base.metadata.tables)
