"""`thermal_fire.drill`: a fire drill, the one way a person makes the fire chain run.

`thermal_fire_detected` belongs to the towers (owned event): nobody fires it through the API. A
drill instead raises an alarm marked as one (`SIMULACRO` title, `data.drill: true`, its own
`source_event`), and, when `agency_id` is given, sends those agencies a CAP alert whose
`<status>` is `Exercise`, linked to the alarm. It acts as the caller (the permission hook checks
`alarm.raise` and `agency.notify` for them; the drill itself is an audited `alarm_raise` class
service), and fires `thermal_fire_drill` for automations that rehearse with it. It never touches
panels: a drill does not tell the public there is a fire.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import voluptuous as vol

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.helpers import config_validation as cv

from .const import DOMAIN

__all__ = ["DRILL_SCHEMA", "EVENT_DRILL", "SERVICE_DRILL", "async_register_drill"]

SERVICE_DRILL: Final = "drill"
EVENT_DRILL: Final = "thermal_fire_drill"
CAP_EXERCISE: Final = "Exercise"

DRILL_SCHEMA: Final = vol.Schema({
    vol.Required("latitude"): cv.latitude,
    vol.Required("longitude"): cv.longitude,
    vol.Optional("alarm_type", default="fire"): cv.string,
    vol.Optional("title", default="Incendio forestal"): cv.string,
    vol.Optional("agency_id", default=list): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("uncertainty_m", default=200.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=10000)),
})


def async_register_drill(hub: Hub) -> CALLBACK_TYPE:
    """Register `thermal_fire.drill`; returns its remover."""

    async def drill(call: ServiceCall) -> dict[str, Any]:
        data = call.data
        drill_id = uuid.uuid4().hex[:12]
        title = f"SIMULACRO: {data['title']}"
        raised = await hub.services.async_call("alarm", "raise", {
            "type": data["alarm_type"], "title": title,
            "message": "Ejercicio de simulacro: no es un incendio real.",
            "source": f"{DOMAIN}.drill", "source_event": EVENT_DRILL,
            "latitude": data["latitude"], "longitude": data["longitude"], "dedup_key": f"drill_{drill_id}",
            "data": {"drill": True, "drill_id": drill_id},
        }, blocking=True, context=call.context, return_response=True)
        alarm_id = raised["alarm_id"] if isinstance(raised, dict) else None
        if data["agency_id"]:
            await hub.services.async_call("agency", "notify", {
                "agency_id": data["agency_id"], "status": CAP_EXERCISE, "event": f"Simulacro: {data['title']}",
                "category": "Fire", "urgency": "Immediate", "severity": "Severe", "certainty": "Observed",
                "headline": title, "description": "Ejercicio de simulacro del Centro de Control; no es real.",
                "area": {"description": f"Simulacro {drill_id}", "circle": {
                    "lat": data["latitude"], "lon": data["longitude"],
                    "radius_km": round(max(data["uncertainty_m"] / 1000, 0.2), 2)}},
                **({"alarm_id": alarm_id} if alarm_id else {}),
            }, blocking=True, context=call.context)
        result = {"drill_id": drill_id, "alarm_id": alarm_id, "agencies": data["agency_id"],
                  "cap_status": CAP_EXERCISE}
        hub.bus.async_fire(EVENT_DRILL, {**result, "latitude": data["latitude"], "longitude": data["longitude"]},
                           context=call.context)
        return result

    return hub.services.async_register(DOMAIN, SERVICE_DRILL, drill, DRILL_SCHEMA, SupportsResponse.OPTIONAL,
                                       "Run a fire drill: an alarm marked SIMULACRO and, to the agencies "
                                       "given, a CAP alert with status Exercise")
