"""The ANPR worker process starts with its own modules only: not the package's hub side, not the database."""

from __future__ import annotations

import pytest

from tests.processes import fresh_import, worker_modules


@pytest.mark.parametrize("target", ["run_worker", "run_shared_worker"])
def test_the_worker_process_loads_only_its_own_modules(target: str) -> None:
    modules = worker_modules(f"integrations.anpr.worker:{target}")
    assert "integrations.anpr.worker" in modules
    hub_side = {"integrations.anpr.manager", "integrations.anpr.services", "integrations.anpr.hotlist",
                "integrations.anpr.records", "integrations.anpr.api", "hub.core", "hub.recorder", "hub.http"}
    heavy = {"sqlalchemy", "alembic", "aiohttp", "jinja2", "scipy"}
    assert not modules & (hub_side | heavy), modules & (hub_side | heavy)


def test_the_hub_side_loads_neither_opencv_nor_onnxruntime() -> None:
    """Frames are read and plates recognised in the worker processes only."""
    modules = fresh_import("integrations.anpr")
    assert "integrations.anpr.manager" in modules
    assert not modules & {"cv2", "onnxruntime"}
