"""The `bollard.raise`, `bollard.lower`, `bollard.emergency_lower` and `bollard.confirm` services."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.core import CALLBACK_TYPE, Hub, ServiceCall, SupportsResponse
from hub.exceptions import HubError
from hub.helpers.entity_service import async_register_entity_service

from .const import (
    ATTR_PENDING_ID,
    ATTR_REASON,
    ENTITY_DOMAIN,
    SERVICE_CONFIRM,
    SERVICE_EMERGENCY_LOWER,
    SERVICE_LOWER,
    SERVICE_RAISE,
)
from .entity import Bollard
from .errors import BollardRefused
from .registers import Command
from .schema import COMMAND_SCHEMA, CONFIRM_SCHEMA

__all__ = ["async_register_services"]

_COMMANDS = {
    SERVICE_RAISE: Command.RAISE,
    SERVICE_LOWER: Command.LOWER,
    SERVICE_EMERGENCY_LOWER: Command.EMERGENCY_LOWER,
}


async def _async_command(call: ServiceCall, bollards: list[Bollard]) -> dict[str, Any] | None:
    """Command every targeted bollard (all are tried, so one refusal never holds up an emergency
    lowering of the others); then raise the refusal(s), if any."""
    command = _COMMANDS[call.service]
    outcomes = await asyncio.gather(
        *(b.async_command(command, call.context, call.data.get(ATTR_REASON)) for b in bollards),
        return_exceptions=True,
    )
    results: dict[str, Any] = {}
    errors: list[HubError] = []
    for bollard, outcome in zip(bollards, outcomes, strict=True):
        if isinstance(outcome, HubError):
            errors.append(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results[bollard.entity_id] = outcome
    if len(errors) == 1:
        raise errors[0]
    if errors:
        refusals = [e for e in errors if isinstance(e, BollardRefused)]
        if len(refusals) == len(errors):
            raise BollardRefused("; ".join(str(e) for e in refusals), refusals[0].reason)
        raise next(e for e in errors if not isinstance(e, BollardRefused))
    return {"bollards": results} if call.return_response else None


async def _async_confirm(call: ServiceCall, bollards: list[Bollard]) -> dict[str, Any] | None:
    [bollard] = bollards
    result = await bollard.async_confirm(call.data[ATTR_PENDING_ID], call.context)
    return {"bollards": {bollard.entity_id: result}} if call.return_response else None


def async_register_services(hub: Hub) -> list[CALLBACK_TYPE]:
    """Register the bollard services; returns their removers."""
    descriptions = {
        SERVICE_RAISE: "Raise bollards (refused with a vehicle on the loop; may need a second user)",
        SERVICE_LOWER: "Lower bollards (may need a second user)",
        SERVICE_EMERGENCY_LOWER: "Lower bollards now for emergency vehicles (never waits for a second user)",
    }
    removers = [
        async_register_entity_service(hub, ENTITY_DOMAIN, service, _async_command, COMMAND_SCHEMA,
                                      entity_type=Bollard, supports_response=SupportsResponse.OPTIONAL,
                                      description=description)
        for service, description in descriptions.items()
    ]
    removers.append(async_register_entity_service(
        hub, ENTITY_DOMAIN, SERVICE_CONFIRM, _async_confirm, CONFIRM_SCHEMA, entity_type=Bollard, single=True,
        supports_response=SupportsResponse.OPTIONAL, description="Confirm a pending bollard command as the second user",
    ))
    return removers
