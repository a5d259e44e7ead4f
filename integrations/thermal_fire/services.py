"""Services: confirm or dismiss a fire (a dismissal can become an exclusion mask), clear exclusions,
and start a simulated ignition (simulator only)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import ServiceValidationError

from .const import (
    DOMAIN,
    SERVICE_CLEAR_EXCLUSIONS,
    SERVICE_CONFIRM,
    SERVICE_DISMISS,
    STATUS_CONFIRMED,
    STATUS_DISMISSED,
)
from .fires import FireChange

if TYPE_CHECKING:
    from .manager import ThermalFireManager

__all__ = ["async_register_services"]

_LOGGER = logging.getLogger(__name__)

SERVICE_SIMULATE_IGNITION = "simulate_ignition"
EXCLUSION_MARGIN_PX = 3

FIRE_SCHEMA = vol.Schema({vol.Required("fire"): vol.All(str, vol.Length(min=1))})
DISMISS_SCHEMA = vol.Schema(
    {
        vol.Required("fire"): vol.All(str, vol.Length(min=1)),
        vol.Optional("exclude", default=True): bool,
        vol.Optional("reason", default="false alarm"): str,
    }
)
CLEAR_SCHEMA = vol.Schema({vol.Optional("tower"): str, vol.Optional("preset"): str})
IGNITION_SCHEMA = vol.Schema(
    {
        vol.Required("latitude"): vol.All(vol.Coerce(float), vol.Range(min=-90, max=90)),
        vol.Required("longitude"): vol.All(vol.Coerce(float), vol.Range(min=-180, max=180)),
        vol.Optional("spread_ms", default=0.01): vol.All(vol.Coerce(float), vol.Range(min=0.0001, max=5)),
    }
)


def _rect(bbox: list[int], camera: dict[str, Any]) -> list[int]:
    """The exclusion rectangle for a hotspot box (same margin the worker applies)."""
    c0, r0, c1, r1 = bbox
    m = EXCLUSION_MARGIN_PX
    return [max(0, c0 - m), max(0, r0 - m), min(camera["width"] - 1, c1 + m), min(camera["height"] - 1, r1 + m)]


def async_register_services(hub: Hub, manager: ThermalFireManager) -> list[CALLBACK_TYPE]:
    """Register the services; returns their removers."""

    def lookup(call: ServiceCall) -> Any:
        fire = manager.fire_by_id(call.data["fire"])
        if fire is None:
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: 'fire': no active fire {call.data['fire']!r}")
        return fire

    async def confirm(call: ServiceCall) -> dict[str, Any]:
        fire = lookup(call)
        fire.status = STATUS_CONFIRMED
        manager.apply_change(FireChange("updated", fire, reason="confirmed"), context=call.context)
        _LOGGER.info("Fire %s confirmed", fire.fire_id)
        return {"fire_id": fire.fire_id, "status": fire.status}

    async def dismiss(call: ServiceCall) -> dict[str, Any]:
        fire = lookup(call)
        assert manager.registry is not None
        excluded: list[dict[str, Any]] = []
        for (tower_id, preset, track_id), obs in fire.observations.items():
            worker = manager.workers.get(tower_id)
            bbox = list(obs.report["hotspot"]["bbox"])
            if worker is not None:
                worker.command(
                    {
                        "op": "dismiss",
                        "preset": preset,
                        "track_id": track_id,
                        "exclude": call.data["exclude"],
                        "bbox": bbox,
                    }
                )
            if call.data["exclude"]:
                tower = manager.towers[tower_id]
                name = tower["presets"][preset]["name"]
                rect = _rect(bbox, tower["camera"])
                manager.exclusions.setdefault(tower_id, {}).setdefault(name, []).append(rect)
                excluded.append({"tower": tower_id, "preset": name, "rect": rect})
        manager.registry.remove(fire.fire_id)
        fire.status = STATUS_DISMISSED
        change = FireChange("cleared", fire, reason=f"dismissed: {call.data['reason']}")
        manager.apply_change(change, context=call.context)
        if excluded:
            await manager.async_store()
        _LOGGER.info("Fire %s dismissed (%s), %d exclusion(s)", fire.fire_id, call.data["reason"], len(excluded))
        return {"fire_id": fire.fire_id, "exclusions": excluded}

    async def clear_exclusions(call: ServiceCall) -> None:
        tower_id = call.data.get("tower")
        if tower_id is not None and tower_id not in manager.towers:
            raise ServiceValidationError(f"{DOMAIN}.{SERVICE_CLEAR_EXCLUSIONS}: 'tower': unknown tower {tower_id!r}")
        for tid in [tower_id] if tower_id else list(manager.towers):
            names = [p["name"] for p in manager.towers[tid]["presets"]]
            preset = call.data.get("preset")
            if preset is not None and preset not in names:
                raise ServiceValidationError(
                    f"{DOMAIN}.{SERVICE_CLEAR_EXCLUSIONS}: 'preset': tower {tid} has no preset {preset!r}"
                )
            if preset is None:
                manager.exclusions.pop(tid, None)
            else:
                manager.exclusions.get(tid, {}).pop(preset, None)
            worker = manager.workers.get(tid)
            if worker is not None:
                worker.command({"op": "clear_exclusions", "preset": None if preset is None else names.index(preset)})
        await manager.async_store()

    async def simulate_ignition(call: ServiceCall) -> dict[str, Any]:
        if manager.world is None:
            raise ServiceValidationError(f"{DOMAIN}.{SERVICE_SIMULATE_IGNITION}: no tower uses the simulator")
        lat, lon, start = manager.world.ignite(
            call.data["latitude"], call.data["longitude"], hub.clock.time(), call.data["spread_ms"]
        )
        return {"latitude": lat, "longitude": lon, "start": start}

    return [
        hub.services.async_register(
            DOMAIN,
            SERVICE_CONFIRM,
            confirm,
            FIRE_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
            description="Confirm a detected fire (status becomes confirmed).",
        ),
        hub.services.async_register(
            DOMAIN,
            SERVICE_DISMISS,
            dismiss,
            DISMISS_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
            description="Dismiss a fire as a false alarm; by default its pixels "
            "become an exclusion mask of that preset.",
        ),
        hub.services.async_register(
            DOMAIN,
            SERVICE_CLEAR_EXCLUSIONS,
            clear_exclusions,
            CLEAR_SCHEMA,
            description="Forget run-time exclusion masks (of a tower or preset).",
        ),
        hub.services.async_register(
            DOMAIN,
            SERVICE_SIMULATE_IGNITION,
            simulate_ignition,
            IGNITION_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
            description="Start a fire in the simulated world.",
        ),
    ]
