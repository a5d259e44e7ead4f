"""The `bollard` entity: PLC status into state, the safety checks, and sequence-numbered commands."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.core import CALLBACK_TYPE, Context, callback
from hub.exceptions import DeviceUnavailable
from hub.helpers.actuator import ATTR_COMMAND_ID, CommandOnce
from hub.helpers.entity import Entity
from hub.helpers.event import async_call_later, async_track_time_interval
from integrations.modbus.client import ModbusDeviceError

from .const import (
    CONF_AREA,
    CONF_CONFIRMATION_TIMEOUT,
    CONF_HEARTBEAT_TIMEOUT,
    CONF_ID,
    CONF_NAME,
    CONF_REQUIRE_CONFIRMATION,
    CONF_SCAN_INTERVAL,
    CONF_TRAVEL_TIMEOUT,
    ENTITY_DOMAIN,
    EVENT_BOLLARD_COMMAND,
    EVENT_BOLLARD_FAULT,
    EVENT_BOLLARD_REFUSED,
    HEARTBEAT_AGE_DEADBAND,
    STATE_FAULT,
    FaultReason,
    RefusalReason,
)
from .errors import BollardRefused
from .plc import BollardPLC
from .registers import BollardState, Command, CommandResult, PlcStatus, fault_name, next_sequence

__all__ = ["Bollard", "PendingCommand"]

_LOGGER = logging.getLogger(__name__)

_COMMAND_NAMES = {Command.RAISE: "raise", Command.LOWER: "lower", Command.EMERGENCY_LOWER: "emergency_lower"}
_TARGET = {Command.RAISE: BollardState.RAISED, Command.LOWER: BollardState.LOWERED,
           Command.EMERGENCY_LOWER: BollardState.LOWERED}


@dataclass(slots=True)
class PendingCommand:
    """A command waiting for a second user's confirmation (two-person rule)."""

    id: str
    command: Command
    context: Context
    reason: str | None
    expires_ts: float
    requested_ts: float | None = None  # when the first user asked (the screens say "asked 20 s ago")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "command": _COMMAND_NAMES[self.command],
            "requested_by": self.context.user_id,
            "requested_centre": self.context.centre,
            "requested_at": datetime.fromtimestamp(self.requested_ts, UTC).isoformat()
            if self.requested_ts is not None else None,
            "expires_at": datetime.fromtimestamp(self.expires_ts, UTC).isoformat(),
        }


@dataclass(slots=True)
class _Issued:
    """The last command sent: what, which sequence number, who asked, who confirmed, when."""

    command: Command
    sequence: int
    context: Context
    requested_by: str | None
    requested_centre: str | None
    confirmed_by: str | None
    at_ts: float


class Bollard(Entity):
    """An anti-ramming bollard on a PLC speaking our register map.

    State comes from polling the PLC (`scan_interval`). It reads `fault` when the PLC reports a fault,
    its limit switches contradict each other, its heartbeat stops counting (`heartbeat_timeout`), or
    a commanded movement did not reach its limit switch within `travel_timeout` (this one latches
    until the next command). It reads `unavailable` when the PLC does not answer.
    """

    domain = ENTITY_DOMAIN

    def __init__(self, config: Mapping[str, Any], plc: BollardPLC) -> None:
        self.bollard_id: str = config[CONF_ID]
        self._plc = plc
        self._attr_name = config.get(CONF_NAME) or f"Bollard {self.bollard_id}"
        self._attr_unique_id = f"bollard_{self.bollard_id}"
        self._attr_suggested_object_id = self.bollard_id
        self._attr_area_id = config.get(CONF_AREA)
        self.require_confirmation: bool = config[CONF_REQUIRE_CONFIRMATION]
        self._confirmation_timeout: float = config[CONF_CONFIRMATION_TIMEOUT]
        self._travel_timeout: float = config[CONF_TRAVEL_TIMEOUT]
        self._heartbeat_timeout: float = config[CONF_HEARTBEAT_TIMEOUT]
        self._scan_interval: float = config[CONF_SCAN_INTERVAL]
        self._status: PlcStatus | None = None
        self._heartbeat: int | None = None
        self._heartbeat_ts = 0.0
        self._heartbeat_stale = False
        self._travel_fault = False
        self._comm_down = False
        self._active_faults: set[FaultReason] = set()
        self._expect: tuple[BollardState, int] | None = None
        self._cancel_travel: CALLBACK_TYPE | None = None
        self._pending: PendingCommand | None = None
        self._cancel_pending: CALLBACK_TYPE | None = None
        self._last: _Issued | None = None
        self._lock = asyncio.Lock()
        self._once = CommandOnce()
        self._polling = False

    # ---- state (memory only)

    @property
    def faults(self) -> list[FaultReason]:
        """Why the bollard is in fault now (empty when it is not)."""
        status = self._status
        found: list[FaultReason] = []
        if status is None:
            return found
        if status.state is BollardState.FAULT:
            found.append(FaultReason.PLC_FAULT)
        if status.up_limit and status.down_limit:
            found.append(FaultReason.LIMIT_CONFLICT)
        if self._heartbeat_stale:
            found.append(FaultReason.HEARTBEAT_STALE)
        if self._travel_fault:
            found.append(FaultReason.TRAVEL_TIMEOUT)
        return found

    @property
    def state(self) -> str | None:
        if self._status is None:
            return None
        if self.faults:
            return STATE_FAULT
        return self._status.state.name.lower()

    @property
    def pending(self) -> PendingCommand | None:
        """The command waiting for confirmation, if any."""
        return self._pending

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        status = self._status
        last = self._last
        age = self.hub.clock.time() - self._heartbeat_ts if status is not None else None
        return {
            "bollard_id": self.bollard_id,
            "loop_occupied": status.loop_occupied if status else None,
            "mode": None if status is None else ("local" if status.local_mode else "remote"),
            "up_limit": status.up_limit if status else None,
            "down_limit": status.down_limit if status else None,
            "fault_code": status.fault_code if status else None,
            "faults": [str(f) for f in self.faults],
            "heartbeat_age": None if age is None else (int(age) if age >= HEARTBEAT_AGE_DEADBAND else 0),
            "last_command": _COMMAND_NAMES[last.command] if last else None,
            "last_command_by": last.requested_by if last else None,
            "last_command_centre": last.requested_centre if last else None,
            "last_command_confirmed_by": last.confirmed_by if last else None,
            "last_command_at": datetime.fromtimestamp(last.at_ts, UTC).isoformat() if last else None,
            "require_confirmation": self.require_confirmation,
            "pending_command": self._pending.as_dict() if self._pending else None,
        }

    # ---- lifecycle and polling

    async def async_added_to_hub(self) -> None:
        self.async_on_remove(async_track_time_interval(self.hub, self._async_tick, self._scan_interval))
        self.async_on_remove(self._cancel_timers)
        self.hub.async_create_task(self._async_tick(self.hub.clock.now()), f"bollard {self.bollard_id} poll")

    @callback
    def _cancel_timers(self) -> None:
        for cancel in (self._cancel_travel, self._cancel_pending):
            if cancel is not None:
                cancel()
        self._cancel_travel = self._cancel_pending = None

    async def _async_tick(self, _now: datetime) -> None:
        if self._polling:  # the previous read still waits on the PLC: skip, don't pile up
            return
        self._polling = True
        try:
            await self.async_poll()
        finally:
            self._polling = False

    async def async_poll(self) -> PlcStatus | None:
        """Read the PLC and update the state; None when it did not answer."""
        try:
            status = await self._plc.async_read_status()
        except (DeviceUnavailable, ModbusDeviceError) as err:
            self._comm_failed(err)
            return None
        self._apply_status(status)
        return status

    @callback
    def _comm_failed(self, err: Exception) -> None:
        if not self._comm_down:
            self._comm_down = True
            _LOGGER.warning("Bollard %s: PLC not answering: %s", self.bollard_id, err)
            self._fire_fault(FaultReason.COMM_FAILURE, str(err))
        self._attr_available = False
        self.async_write_state()

    @callback
    def _apply_status(self, status: PlcStatus) -> None:
        now = self.hub.clock.time()
        if self._comm_down:
            _LOGGER.info("Bollard %s: PLC answers again", self.bollard_id)
            self._comm_down = False
        self._attr_available = True
        if status.heartbeat != self._heartbeat:
            self._heartbeat = status.heartbeat
            self._heartbeat_ts = now
        self._heartbeat_stale = now - self._heartbeat_ts > self._heartbeat_timeout
        self._status = status
        self._check_progress(status)
        faults = set(self.faults)
        for reason in faults - self._active_faults:
            if reason is not FaultReason.TRAVEL_TIMEOUT:  # fired by the travel watch itself
                self._fire_fault(reason, self._fault_message(reason, status))
        for reason in self._active_faults - faults:
            _LOGGER.info("Bollard %s: %s cleared", self.bollard_id, reason)
        self._active_faults = faults
        self.async_write_state()

    def _fault_message(self, reason: FaultReason, status: PlcStatus) -> str:
        if reason is FaultReason.PLC_FAULT:
            return f"PLC reports fault {status.fault_code} ({fault_name(status.fault_code)})"
        if reason is FaultReason.LIMIT_CONFLICT:
            return "up and down limit switches both active"
        return f"PLC heartbeat unchanged for more than {self._heartbeat_timeout:g} s"

    @callback
    def _check_progress(self, status: PlcStatus) -> None:
        """Follow the commanded movement: PLC rejection, or arrival confirmed by the limit switch."""
        if self._expect is None:
            return
        target, sequence = self._expect
        if status.last_sequence == sequence and status.result not in (CommandResult.ACCEPTED,
                                                                        CommandResult.NONE):
            self._stop_expecting()
            assert self._last is not None
            self._fire_refused(RefusalReason.PLC_REJECTED, self._plc_rejected_message(status),
                               self._last.command, self._last.context)
            return
        arrived = (status.up_limit and not status.down_limit) if target is BollardState.RAISED \
            else (status.down_limit and not status.up_limit)
        if status.state is target and arrived:
            _LOGGER.info("Bollard %s: %s confirmed by limit switch", self.bollard_id, target.name.lower())
            self._stop_expecting()

    @callback
    def _stop_expecting(self) -> None:
        self._expect = None
        if self._cancel_travel is not None:
            self._cancel_travel()
            self._cancel_travel = None

    @callback
    def _travel_timed_out(self, _now: datetime) -> None:
        self._cancel_travel = None
        if self._expect is None:
            return
        target, sequence = self._expect
        self._expect = None
        self._travel_fault = True
        last = self._last
        self._fire_fault(
            FaultReason.TRAVEL_TIMEOUT,
            f"not {target.name.lower()} within {self._travel_timeout:g} s of command {sequence}",
            last.context.child() if last else None,
        )
        self._active_faults.add(FaultReason.TRAVEL_TIMEOUT)
        self.async_write_state()

    # ---- events

    def _base_data(self, context: Context | None) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "bollard_id": self.bollard_id,
            "area_id": self.area_id,
            "user_id": context.user_id if context else None,
            "centre": context.centre if context else None,
        }

    @callback
    def _fire_fault(self, reason: FaultReason, message: str, context: Context | None = None) -> None:
        status = self._status
        last = self._last
        _LOGGER.warning("Bollard %s fault: %s", self.bollard_id, message)
        self.hub.bus.async_fire(EVENT_BOLLARD_FAULT, {
            **self._base_data(context),
            "reason": str(reason),
            "message": message,
            "fault_code": status.fault_code if status else None,
            "last_command": _COMMAND_NAMES[last.command] if last else None,
            "last_command_by": last.requested_by if last else None,
        }, context=context)

    @callback
    def _fire_refused(self, reason: RefusalReason, message: str, command: Command | None,
                      context: Context, **extra: Any) -> BollardRefused:
        name = _COMMAND_NAMES.get(command) if command is not None else None
        _LOGGER.info("Bollard %s: %s %s", self.bollard_id, name, message)
        self.hub.bus.async_fire(EVENT_BOLLARD_REFUSED, {
            **self._base_data(context),
            "command": name,
            "reason": str(reason),
            "message": message,
            **extra,
        }, context=context)
        return BollardRefused(message, reason, bollard_id=self.bollard_id)

    def _plc_rejected_message(self, status: PlcStatus) -> str:
        why = status.result.name.lower().removeprefix("rejected_")
        return f"refused: the PLC of bollard {self.bollard_id} rejected the command ({why})"

    # ---- commands (the service handlers call these)

    async def async_command(self, command: Command, context: Context,
                            reason: str | None = None) -> dict[str, Any]:
        """Raise, lower or emergency-lower after the safety checks; with the two-person rule, raise and
        lower only create a pending command. Raises BollardRefused (and fires `bollard_refused`).

        The same command sent again while it runs or within the travel window is not executed again:
        that caller gets the first's result (same `command_id`)."""
        return await self._once.async_run(
            self.bollard_id, _COMMAND_NAMES[command], self._travel_timeout, self.hub.clock.time,
            lambda command_id: self._async_command(command, context, reason, command_id))

    async def _async_command(self, command: Command, context: Context, reason: str | None,
                             command_id: str) -> dict[str, Any]:
        async with self._lock:
            extra = {"operator_reason": reason, ATTR_COMMAND_ID: command_id}
            if command is not Command.EMERGENCY_LOWER and self._pending is not None:
                raise self._fire_refused(
                    RefusalReason.PENDING_CONFIRMATION,
                    f"refused: bollard {self.bollard_id} has a command waiting for confirmation "
                    f"({self._pending.id})", command, context, pending_id=self._pending.id, **extra)
            await self._async_fresh_status(command, context, extra)
            self._check_safety(command, context, extra)
            if command is Command.EMERGENCY_LOWER:
                return await self._async_send(command, context, reason, requested=context, command_id=command_id)
            if self.require_confirmation:
                if not context.user_id:
                    raise self._fire_refused(
                        RefusalReason.UNIDENTIFIED_USER,
                        f"refused: bollard {self.bollard_id} needs two identified users", command, context,
                        **extra)
                return self._create_pending(command, context, reason)
            return await self._async_send(command, context, reason, requested=context, command_id=command_id)

    async def async_confirm(self, pending_id: str, context: Context) -> dict[str, Any]:
        """The second user confirms a pending command; it is checked again and sent."""
        async with self._lock:
            pending = self._pending
            if pending is None or pending.id != pending_id:
                raise self._fire_refused(
                    RefusalReason.NO_PENDING,
                    f"refused: no command {pending_id} is waiting for bollard {self.bollard_id}",
                    pending.command if pending else None, context, pending_id=pending_id)
            extra = {"pending_id": pending_id, "requested_by": pending.context.user_id}
            if not context.user_id:
                raise self._fire_refused(
                    RefusalReason.UNIDENTIFIED_USER,
                    f"refused: confirming a command for bollard {self.bollard_id} needs an identified user",
                    pending.command, context, **extra)
            if context.user_id == pending.context.user_id:
                raise self._fire_refused(
                    RefusalReason.SAME_USER,
                    f"refused: a different user must confirm the command for bollard {self.bollard_id}",
                    pending.command, context, **extra)
            self._clear_pending()
            await self._async_fresh_status(pending.command, context, extra)
            self._check_safety(pending.command, context, extra)
            return await self._async_send(pending.command, context, pending.reason, requested=pending.context,
                                          pending_id=pending.id)

    async def _async_fresh_status(self, command: Command, context: Context,
                                  extra: dict[str, Any]) -> PlcStatus:
        """Read the PLC now: safety decisions never rest on a reading one scan interval old."""
        status = await self.async_poll()
        if status is None:
            raise self._fire_refused(RefusalReason.UNAVAILABLE,
                                     f"refused: bollard {self.bollard_id} is not answering", command, context,
                                     **extra)
        return status

    def _check_safety(self, command: Command, context: Context, extra: dict[str, Any]) -> None:
        status = self._status
        assert status is not None
        bollard = self.bollard_id
        if status.local_mode:
            raise self._fire_refused(RefusalReason.LOCAL_MODE,
                                     f"refused: bollard {bollard} is in local/manual mode", command, context,
                                     **extra)
        if command is Command.EMERGENCY_LOWER:
            if self.faults:
                _LOGGER.warning("Bollard %s: emergency lower sent despite %s", bollard,
                                ", ".join(map(str, self.faults)))
            return  # lowering is the safe direction: nothing else blocks it
        if self._heartbeat_stale:
            raise self._fire_refused(RefusalReason.HEARTBEAT_STALE,
                                     f"refused: the PLC of bollard {bollard} stopped its heartbeat", command,
                                     context, **extra)
        faults = [f for f in self.faults if f is not FaultReason.TRAVEL_TIMEOUT]
        if faults:
            listed = ", ".join(map(str, faults))
            raise self._fire_refused(RefusalReason.FAULT,
                                     f"refused: bollard {bollard} is in fault ({listed})", command, context,
                                     **extra)
        if command is Command.RAISE and status.loop_occupied:
            raise self._fire_refused(RefusalReason.VEHICLE_ON_LOOP,
                                     f"refused: vehicle over bollard {bollard}", command, context, **extra)

    @callback
    def _create_pending(self, command: Command, context: Context, reason: str | None) -> dict[str, Any]:
        now = self.hub.clock.time()
        pending = PendingCommand(secrets.token_hex(6), command, context, reason,
                                 now + self._confirmation_timeout, now)
        self._pending = pending

        @callback
        def _expired(_now: datetime) -> None:
            self._pending_expired(pending)

        self._cancel_pending = async_call_later(self.hub, self._confirmation_timeout, _expired)
        self.hub.bus.async_fire(EVENT_BOLLARD_COMMAND, {
            **self._base_data(context),
            "command": _COMMAND_NAMES[command],
            "status": "pending_confirmation",
            "pending_id": pending.id,
            "operator_reason": reason,
            "expires_at": pending.as_dict()["expires_at"],
        }, context=context)
        self.async_set_context(context)
        self.async_write_state()
        return {"status": "pending_confirmation", **pending.as_dict(), "pending_id": pending.id}

    @callback
    def _pending_expired(self, pending: PendingCommand) -> None:
        if self._pending is not pending:
            return
        self._cancel_pending = None
        self._pending = None
        self._fire_refused(RefusalReason.CONFIRMATION_EXPIRED,
                           f"refused: nobody confirmed the command for bollard {self.bollard_id} "
                           f"within {self._confirmation_timeout:g} s",
                           pending.command, pending.context, pending_id=pending.id)
        self.async_write_state()

    @callback
    def _clear_pending(self) -> str | None:
        pending, self._pending = self._pending, None
        if self._cancel_pending is not None:
            self._cancel_pending()
            self._cancel_pending = None
        return pending.id if pending else None

    async def _async_send(self, command: Command, context: Context, reason: str | None, *,
                          requested: Context, pending_id: str | None = None,
                          command_id: str | None = None) -> dict[str, Any]:
        """Write (command, next sequence number), then check the PLC took it; start the travel watch."""
        status = self._status
        assert status is not None
        cancelled = self._clear_pending() if command is Command.EMERGENCY_LOWER else None
        sequence = next_sequence(status.last_sequence)
        confirmed_by = context.user_id if requested is not context else None
        data = {
            **self._base_data(context),
            "command": _COMMAND_NAMES[command],
            "sequence": sequence,
            "operator_reason": reason,
            "requested_by": requested.user_id,
            "requested_centre": requested.centre,
            "confirmed_by": confirmed_by,
            "pending_id": pending_id,
            "cancelled_pending": cancelled,
            ATTR_COMMAND_ID: command_id,
        }
        try:
            await self._plc.async_send_command(command, sequence)
        except (DeviceUnavailable, ModbusDeviceError) as err:
            message = f"command {_COMMAND_NAMES[command]} {sequence} not confirmed by the PLC: {err}"
            self._fire_fault(FaultReason.COMM_FAILURE, message, context)
            raise DeviceUnavailable(f"bollard {self.bollard_id}: {message}") from err
        self._last = _Issued(command, sequence, context, requested.user_id, requested.centre, confirmed_by,
                             self.hub.clock.time())
        self._travel_fault = False
        self._active_faults.discard(FaultReason.TRAVEL_TIMEOUT)
        self._stop_expecting()
        self._expect = (_TARGET[command], sequence)
        self._cancel_travel = async_call_later(self.hub, self._travel_timeout, self._travel_timed_out)
        self.hub.bus.async_fire(EVENT_BOLLARD_COMMAND, {**data, "status": "sent"}, context=context)
        self.async_set_context(context)
        status = await self.async_poll() or status
        if status.last_sequence == sequence and status.last_command != command:
            # Another control centre's command took this number first: ours was ignored.
            self._stop_expecting()
            raise self._fire_refused(
                RefusalReason.PLC_REJECTED,
                f"refused: another command took sequence {sequence} on bollard {self.bollard_id}; try again",
                command, context)
        if status.last_sequence == sequence and status.result not in (CommandResult.ACCEPTED,
                                                                        CommandResult.NONE):
            # _check_progress already fired bollard_refused for it.
            raise BollardRefused(self._plc_rejected_message(status), RefusalReason.PLC_REJECTED,
                                 bollard_id=self.bollard_id)
        return {"status": "sent", "command": _COMMAND_NAMES[command], "sequence": sequence,
                "state": self.state}
