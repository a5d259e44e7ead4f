"""A hub with the recorder, permissions, audit log, four users and the face integration; LFW faces to work on.

The images are read from /work/shared/data/faces (measurement set; never copied into the repository): each
test copies the few it needs into its temporary config dir and builds 720p "camera frames" from them.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.audit import async_setup_audit, get_audit
from hub.auth import async_setup_permissions, passwords
from hub.auth.users import add_user
from hub.clock import FakeClock
from hub.config.core import ControlCentre, CoreConfig
from hub.core import Context, Hub
from hub.recorder import async_setup_recorder

FACES = Path(__file__).resolve().parents[4] / "shared" / "data" / "faces"
if not FACES.is_dir():
    FACES = Path("/work/shared/data/faces")
SOUGHT = ("Abdullah_Gul/Abdullah_Gul_0013.jpg", "Abdullah_Gul/Abdullah_Gul_0014.jpg")
STRANGER = "Aaron_Tippin/Aaron_Tippin_0001.jpg"
CENTRE = "national_police"
SUP1 = Context(user_id="sup1", centre=CENTRE)
SUP2 = Context(user_id="sup2", centre=CENTRE)
OP1 = Context(user_id="op1", centre=CENTRE)
OP2 = Context(user_id="op2", centre=CENTRE)

pytest.importorskip("dlib")
pytest.importorskip("face_recognition_models")


@pytest.fixture(autouse=True, scope="session")
def face_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Engines made without a cache folder convert the ResNet into a temporary one, not the user's ~/.cache."""
    import os

    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(autouse=True)
def cheap_hashes() -> Iterator[None]:
    passwords.configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords.configure_hasher()


def read_bgr(path: Path) -> Any:
    """An image file as BGR pixels (fails the test when unreadable)."""
    import cv2

    image = cv2.imread(str(path))
    assert image is not None, path
    return image


def frame_with(config_dir: Path, name: str, *faces: str) -> str:
    """A 1280x720 frame (JPEG in the config dir) with the given LFW photos pasted in; its relative path."""
    import cv2
    import numpy as np

    canvas = np.full((720, 1280, 3), 90, dtype=np.uint8)
    for index, face in enumerate(faces):
        image = cv2.imread(str(FACES / "images" / face))
        assert image is not None, face
        x = 100 + index * 400
        canvas[200:200 + image.shape[0], x:x + image.shape[1]] = image
    cv2.imwrite(str(config_dir / name), canvas)
    return name


@dataclass
class FaceSite:
    """The hub, its face manager and helpers."""

    hub: Hub
    config_dir: Path
    clock: FakeClock

    @property
    def manager(self) -> Any:
        from integrations.face import DATA_KEY

        return self.hub.data[DATA_KEY]

    async def call(self, service: str, data: dict[str, Any] | None = None, context: Context = SUP1) -> Any:
        return await self.hub.services.async_call("face", service, data or {}, context=context,
                                                  return_response=True)

    async def audit(self, action: str) -> list[dict[str, Any]]:
        audit = get_audit(self.hub)
        assert audit is not None
        await audit.async_flush()
        return await audit.async_query(action=action, limit=100)

    async def authorisation(self, *, urgent: bool = False, confirm: bool = True, use: str = "real_time",
                            cameras: tuple[str, ...] = ("cam_port",)) -> str:
        """An authorisation with the sought person on its watchlist; confirmed by a second person if asked."""
        created = await self.call("authorisation_create", {
            "authority": "Juzgado de Instrucción nº 2 de Ceuta", "reference": "DP 77/2026",
            "purpose": "suspect_localisation", "use": use, "cameras": list(cameras), "hours": 8,
            "urgent": urgent})
        shutil.copy(FACES / "images" / SOUGHT[0], self.config_dir / "reference.jpg")
        await self.call("watchlist_add", {"authorisation_id": created["authorisation_id"], "label": "Suspect A",
                                          "image": "reference.jpg"})
        if confirm and not urgent:
            await self.call("authorisation_confirm", {"authorisation_id": created["authorisation_id"]}, SUP2)
        return str(created["authorisation_id"])


@pytest.fixture
async def site(config_dir: Path) -> AsyncIterator[FaceSite]:
    from integrations import face

    clock = FakeClock()
    hub = Hub(config_dir, clock=clock)
    hub.config = CoreConfig(name="Hacho Ceuta", site=CENTRE,
                            control_centres=(ControlCentre(CENTRE, "Policía Nacional", (), True),))
    for user, role in (("sup1", "supervisor"), ("sup2", "supervisor"), ("op1", "operator"), ("op2", "operator")):
        await hub.async_add_executor_job(lambda u=user, r=role: add_user(
            config_dir, u, role=r, centre=CENTRE, password="correct horse battery"))
    await async_setup_recorder(hub, {"db_url": f"sqlite:///{config_dir / 'hacho.db'}", "commit_interval": 0.1})
    await async_setup_permissions(hub)
    await async_setup_audit(hub, register_views=False)
    assert await face.async_setup(hub, face.CONFIG_SCHEMA({}))
    await hub.async_start()
    yield FaceSite(hub, config_dir, clock)
    await face.async_unload(hub)
    await hub.async_stop()
