"""Services to steer the simulated city for demos and drills: a gale, a bollard fault, a vehicle on a loop."""

from __future__ import annotations

from typing import Any

from hub.core import CALLBACK_TYPE, ServiceCall, SupportsResponse, callback
from hub.exceptions import ServiceValidationError
from integrations.bollards.registers import FaultCode

from .const import DOMAIN, SERVICE_BOLLARD_FAULT, SERVICE_STORM, SERVICE_VEHICLE
from .schema import BOLLARD_FAULT_SCHEMA, STORM_SCHEMA, VEHICLE_SCHEMA
from .simulator import CitySimulator

__all__ = ["async_register_services"]


@callback
def async_register_services(simulator: CitySimulator) -> list[CALLBACK_TYPE]:
    """Register simulator.storm, simulator.bollard_fault and simulator.vehicle_on_loop; returns removers."""
    hub = simulator.hub

    @callback
    def storm(call: ServiceCall) -> dict[str, Any]:
        gale = simulator.start_gale(call.data["duration"], call.data.get("strength"))
        return {"duration": round(gale.duration), "mean_wind_kmh": round(gale.strength * 3.6, 1)}

    def _field_bollard(call: ServiceCall) -> Any:
        if simulator.field is None:
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: the simulator plays no bollard PLCs")
        try:
            return simulator.field.get(call.data["bollard"])
        except KeyError as err:
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: {err.args[0]}", path=["bollard"]) from None

    @callback
    def bollard_fault(call: ServiceCall) -> dict[str, Any]:
        item = _field_bollard(call)
        try:
            code = FaultCode[call.data["code"].upper()]
        except KeyError:
            names = ", ".join(code.name.lower() for code in FaultCode if code)
            raise ServiceValidationError(f"{DOMAIN}.{call.service}: unknown fault code "
                                         f"'{call.data['code']}' (one of {names})", path=["code"]) from None
        assert simulator.field is not None
        repair = call.data.get("repair_after") or item.rng.uniform(*simulator.field.repair_time)
        simulator.field.fault(item, code, repair)
        return {"bollard": item.bollard_id, "code": code.name.lower(), "repair_after": round(repair)}

    @callback
    def vehicle(call: ServiceCall) -> dict[str, Any]:
        item = _field_bollard(call)
        assert simulator.field is not None
        placed = simulator.field.vehicle(item, call.data["seconds"], force=True)
        return {"bollard": item.bollard_id, "placed": placed}

    return [
        hub.services.async_register(DOMAIN, SERVICE_STORM, storm, STORM_SCHEMA, SupportsResponse.OPTIONAL,
                                    "Start a simulated Levante gale now"),
        hub.services.async_register(DOMAIN, SERVICE_BOLLARD_FAULT, bollard_fault, BOLLARD_FAULT_SCHEMA,
                                    SupportsResponse.OPTIONAL, "Make a simulated bollard PLC report a fault"),
        hub.services.async_register(DOMAIN, SERVICE_VEHICLE, vehicle, VEHICLE_SCHEMA, SupportsResponse.OPTIONAL,
                                    "Put a vehicle on a simulated bollard's loop for some seconds"),
    ]
