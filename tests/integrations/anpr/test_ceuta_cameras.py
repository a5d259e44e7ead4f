"""The Ceuta site's own simulated ANPR cameras, as config/ceuta/anpr.yaml sets them up (its sources, frame rate and
the default detectors), read planted stolen plates and raise hits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hacho.bootstrap import load_and_check_core
from hub.core import Hub
from integrations.anpr.config import DEFAULT_DETECTORS

from .conftest import SetupAnpr, collect, state_of, wait_for

SITE = Path(__file__).resolve().parents[3] / "config" / "ceuta"


def _site_cameras() -> list[dict[str, Any]]:
    """The site's cameras with a `sim://` source (the one that reads a camera entity needs the camera integration)."""
    raw = load_and_check_core(SITE).raw["anpr"]
    cameras = [dict(c) for c in raw["cameras"] if str(c.get("source", "")).startswith("sim://")]
    assert cameras and all("detectors" not in c for c in cameras)  # the site runs the default detectors
    return cameras


async def test_the_sites_simulated_cameras_read_planted_plates_and_raise_hits(
    hub: Hub, setup_anpr: SetupAnpr
) -> None:
    cameras = _site_cameras()
    manager = await setup_anpr(cameras=cameras, tracking={"timeout": 1.0})
    assert all(c.config.detectors == DEFAULT_DETECTORS for c in manager.cameras.values())
    ids = [str(c["id"]) for c in cameras]
    await wait_for(lambda: all(state_of(hub, f"camera.anpr_{i}").state == "streaming" for i in ids), 60,
                   "the cameras to stream")
    plates = {"tarajal_in": "4321FGH", "port_gate": "8765BCD"}
    for plate in plates.values():
        await hub.services.async_call("anpr", "hotlist_add", {"list": "stolen", "plate": plate}, blocking=True)
    hits = collect(hub, "anpr_hotlist_hit")
    for camera_id, plate in plates.items():
        await hub.services.async_call("anpr", "simulate_vehicle", {"camera": camera_id, "plate": plate},
                                      blocking=True)
    await wait_for(lambda: {(h.data["camera"], h.data["plate"]) for h in hits} >= set(plates.items()), 20,
                   "a hit from each of the site's cameras")
