"""The face tables' migration (r0700) matches integrations/face/models.py."""

from __future__ import annotations

from pathlib import Path

import integrations.face.models  # noqa: F401 - registers the tables on Base.metadata
from hub.recorder.models import Base
from tests.migrations import schema_differences


def test_face_migration_matches_the_models(tmp_path: Path) -> None:
    assert schema_differences(tmp_path, "face_") == []  # other parts' tables are their own tests' concern
    assert any(name.startswith("face_") for name in Base.metadata.tables)
