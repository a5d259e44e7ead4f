"""A simulated bollard PLC: a pymodbus server that speaks our register map with believable behaviour.

Used by the tests (short travel times, driven by the hub's FakeClock) and by the Ceuta simulator
(seconds of travel, jitter, faults). Behaviour, as a real PLC program would have it:

- A command acts only when its sequence number is newer than the last one taken in; a retried write
  with the same number, or a late older one, changes nothing (see `registers.is_newer`).
- Remote commands are refused in local/manual mode; raise is refused while the loop sees a vehicle;
  raise/lower are refused while faulted; emergency lower is refused only in local mode (it opens
  the hydraulic release valve, which works even when the pump is faulted).
- A vehicle arriving over a rising bollard makes it go back down (anti-crush interlock).
- The heartbeat register counts up every `heartbeat_period` seconds unless frozen.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymodbus.constants import ExcCodes

from integrations.modbus.const import InputType
from integrations.modbus.server import ModbusDataStore, SimulatedModbusServer

from .registers import (
    BLOCK_STRIDE,
    DI_DOWN_LIMIT,
    DI_LOCAL_MODE,
    DI_LOOP_OCCUPIED,
    DI_UP_LIMIT,
    HR_COMMAND,
    HR_SEQUENCE,
    IR_FAULT_CODE,
    IR_HEARTBEAT,
    IR_LAST_COMMAND,
    IR_LAST_SEQUENCE,
    IR_RESULT,
    IR_STATE,
    BollardState,
    Command,
    CommandResult,
    FaultCode,
    is_newer,
)

__all__ = ["BollardPLCSimulator", "SimClock", "SimulatedBollard"]

_LOGGER = logging.getLogger(__name__)


class _Handle(Protocol):
    def cancel(self) -> None: ...


class SimClock(Protocol):
    """What the simulator needs from a clock: `hub.clock` (a FakeClock in tests) fits."""

    def time(self) -> float: ...

    def call_later(self, delay: float, func: Callable[[], None]) -> _Handle: ...


class _LoopClock:
    """The event loop's own clock, when no hub clock is given."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    def time(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, func: Callable[[], None]) -> _Handle:
        return self._loop.call_later(delay, func)


@dataclass
class SimulatedBollard:
    """One bollard in the simulated PLC. Tests and the city simulator steer it with the methods below."""

    slave: int
    base: int
    name: str
    travel_time: float | tuple[float, float]
    emergency_travel_time: float
    plc: BollardPLCSimulator = field(repr=False)
    state: BollardState = BollardState.LOWERED
    fault_code: int = FaultCode.NONE
    last_sequence: int = 0
    last_command: int = 0
    result: CommandResult = CommandResult.NONE
    loop_occupied: bool = False
    local_mode: bool = False
    jammed: bool = False
    accepted_commands: int = 0  # commands the PLC acted on
    moves: int = 0  # movements started
    _timer: _Handle | None = field(default=None, repr=False)
    _target: BollardState | None = field(default=None, repr=False)

    # ---- what the outside world does

    def set_loop(self, occupied: bool) -> None:
        """A vehicle drives onto (or leaves) the loop over the bollard."""
        self.loop_occupied = occupied
        if occupied and self.state is BollardState.RAISING:
            _LOGGER.info("Bollard %s: vehicle over a rising bollard, lowering", self.name)
            self._start(BollardState.LOWERED, self.emergency_travel_time)
        self.sync()

    def set_local_mode(self, local: bool) -> None:
        """Turn the cabinet key switch to local/manual (True) or remote (False)."""
        self.local_mode = local
        self.sync()

    def jam(self, jammed: bool = True) -> None:
        """The mechanism stalls: a started movement never reaches its limit switch."""
        self.jammed = jammed

    def set_fault(self, code: FaultCode | int) -> None:
        """The PLC detects a fault: movement stops, state FAULT."""
        self._cancel_timer()
        self._target = None
        self.fault_code = int(code)
        self.state = BollardState.FAULT
        self.sync()

    def clear_fault(self, state: BollardState = BollardState.LOWERED) -> None:
        """A technician clears the fault; the bollard rests at `state`."""
        self.fault_code = FaultCode.NONE
        self.state = state
        self.sync()

    # ---- the PLC program

    def handle_command(self, code: int, sequence: int) -> None:
        """A new (code, sequence) pair arrived in the holding registers."""
        if not is_newer(sequence, self.last_sequence):
            _LOGGER.debug("Bollard %s: sequence %s already taken (last %s), ignored",
                          self.name, sequence, self.last_sequence)
            return
        self.last_sequence = sequence
        self.last_command = code
        self.result = self._decide(code)
        if self.result is CommandResult.ACCEPTED:
            self.accepted_commands += 1
            if code == Command.RAISE:
                self._start(BollardState.RAISED, self._travel())
            else:
                fast = code == Command.EMERGENCY_LOWER
                self._start(BollardState.LOWERED, self.emergency_travel_time if fast else self._travel())
        self.sync()

    def _decide(self, code: int) -> CommandResult:
        if code not in (Command.RAISE, Command.LOWER, Command.EMERGENCY_LOWER):
            return CommandResult.REJECTED_INVALID
        if self.local_mode:
            return CommandResult.REJECTED_LOCAL_MODE
        if code == Command.EMERGENCY_LOWER:
            if self.state is BollardState.FAULT:
                self.fault_code = FaultCode.NONE
            return CommandResult.ACCEPTED
        if self.state is BollardState.FAULT:
            return CommandResult.REJECTED_FAULT
        if code == Command.RAISE and self.loop_occupied:
            return CommandResult.REJECTED_LOOP_OCCUPIED
        return CommandResult.ACCEPTED

    def _travel(self) -> float:
        if isinstance(self.travel_time, tuple):
            return self.plc.rng.uniform(*self.travel_time)
        return self.travel_time

    def _start(self, target: BollardState, duration: float) -> None:
        if self.state is target and self._target is None:
            return  # already there: nothing moves
        self._cancel_timer()
        self._target = target
        self.state = BollardState.RAISING if target is BollardState.RAISED else BollardState.LOWERING
        self.moves += 1
        if not self.jammed:
            self._timer = self.plc.clock.call_later(duration, self._arrive)

    def _arrive(self) -> None:
        self._timer = None
        if self._target is not None:
            self.state, self._target = self._target, None
        self.sync()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---- registers

    def sync(self) -> None:
        """Publish the bollard's state into the PLC's input registers and discrete inputs."""
        store = self.plc.store
        store.set_registers(self.slave, InputType.INPUT, self.base + IR_STATE, [int(self.state)])
        store.set_registers(self.slave, InputType.INPUT, self.base + IR_FAULT_CODE, [int(self.fault_code)])
        store.set_registers(self.slave, InputType.INPUT, self.base + IR_LAST_SEQUENCE, [self.last_sequence])
        store.set_registers(self.slave, InputType.INPUT, self.base + IR_HEARTBEAT,
                            [self.plc.heartbeat(self.slave)])
        store.set_registers(self.slave, InputType.INPUT, self.base + IR_RESULT, [int(self.result)])
        store.set_registers(self.slave, InputType.INPUT, self.base + IR_LAST_COMMAND, [self.last_command])
        bits = {
            DI_UP_LIMIT: self.state is BollardState.RAISED,
            DI_DOWN_LIMIT: self.state is BollardState.LOWERED,
            DI_LOOP_OCCUPIED: self.loop_occupied,
            DI_LOCAL_MODE: self.local_mode,
        }
        for offset, value in bits.items():
            store.set_registers(self.slave, InputType.DISCRETE_INPUT, self.base + offset, [value])

    def stop(self) -> None:
        """Cancel a pending arrival (simulator shutdown)."""
        self._cancel_timer()


class BollardPLCSimulator:
    """One or more simulated PLCs (Modbus slaves) on one TCP port, each driving bollards.

    `clock` drives travel and heartbeat: pass `hub.clock` in tests so a FakeClock moves them.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: SimClock | None = None,
                 heartbeat_period: float = 1.0, seed: int | None = None) -> None:
        self.store = ModbusDataStore()
        self.server = SimulatedModbusServer(self.store, host, port)
        self._clock = clock
        self.heartbeat_period = heartbeat_period
        self.rng = random.Random(seed)
        self.bollards: dict[tuple[int, int], SimulatedBollard] = {}
        self._heartbeats: dict[int, int] = {}
        self._frozen: set[int] = set()
        self._heartbeat_timer: _Handle | None = None
        self.store.write_hooks.append(self._on_write)

    @property
    def clock(self) -> SimClock:
        """The clock in use (the loop's when none was given)."""
        if self._clock is None:
            self._clock = _LoopClock()
        return self._clock

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        """The TCP port (known after start when 0 was asked for)."""
        return self.server.port

    def add_bollard(self, slave: int = 1, base: int = 0, *, name: str | None = None,
                    travel_time: float | tuple[float, float] = 4.0,
                    emergency_travel_time: float | None = None,
                    state: BollardState = BollardState.LOWERED) -> SimulatedBollard:
        """Add a bollard at `base` (a multiple of 16) of PLC `slave`."""
        if base % BLOCK_STRIDE:
            raise ValueError(f"base address {base} is not a multiple of {BLOCK_STRIDE}")
        if (slave, base) in self.bollards:
            raise ValueError(f"slave {slave} already has a bollard at {base}")
        low = travel_time[0] if isinstance(travel_time, tuple) else travel_time
        bollard = SimulatedBollard(
            slave=slave, base=base, name=name or f"{slave}:{base}", travel_time=travel_time,
            emergency_travel_time=emergency_travel_time if emergency_travel_time is not None else low / 2,
            plc=self, state=state,
        )
        self._heartbeats.setdefault(slave, 0)
        self.store.set_registers(slave, InputType.HOLDING, base + HR_COMMAND, [0, 0])
        self.bollards[(slave, base)] = bollard
        bollard.sync()
        return bollard

    def bollard(self, slave: int = 1, base: int = 0) -> SimulatedBollard:
        """The bollard at `base` of PLC `slave`."""
        return self.bollards[(slave, base)]

    def heartbeat(self, slave: int) -> int:
        """The current heartbeat counter of PLC `slave`."""
        return self._heartbeats.get(slave, 0)

    def freeze_heartbeat(self, slave: int = 1, frozen: bool = True) -> None:
        """Stop (or restart) PLC `slave`'s heartbeat: its program hangs but Modbus still answers."""
        if frozen:
            self._frozen.add(slave)
        else:
            self._frozen.discard(slave)

    def set_responding(self, slave: int, responding: bool) -> None:
        """Make PLC `slave` stop answering Modbus requests (cable cut, power loss)."""
        self.store.set_responding(slave, responding)

    async def async_start(self) -> None:
        """Start serving and beating."""
        await self.server.async_start()
        self._schedule_heartbeat()

    async def async_stop(self) -> None:
        """Stop serving; cancel timers."""
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None
        for bollard in self.bollards.values():
            bollard.stop()
        await self.server.async_stop()

    def _schedule_heartbeat(self) -> None:
        self._heartbeat_timer = self.clock.call_later(self.heartbeat_period, self._beat)

    def _beat(self) -> None:
        for slave in self._heartbeats:
            if slave not in self._frozen:
                self._heartbeats[slave] = (self._heartbeats[slave] + 1) & 0xFFFF
        for slave, base in self.bollards:
            if slave not in self._frozen:
                self.store.set_registers(slave, InputType.INPUT, base + IR_HEARTBEAT,
                                         [self._heartbeats[slave]])
        self._schedule_heartbeat()

    def _on_write(self, slave: int, table: InputType, address: int, values: list[Any]) -> ExcCodes | None:
        """A holding-register write: store it, then run the command logic of every bollard it touches."""
        if table is not InputType.HOLDING:
            return ExcCodes.ILLEGAL_ADDRESS  # the PLC has no coils: commands only through the map
        end = address + len(values)
        touched = [b for (s, base), b in self.bollards.items()
                   if s == slave and address <= base + HR_SEQUENCE and end > base + HR_COMMAND]
        if not touched:
            return None
        self.store.set_registers(slave, table, address, values)
        for bollard in touched:
            code, sequence = self.store.get_registers(slave, table, bollard.base + HR_COMMAND, 2)
            if address <= bollard.base + HR_SEQUENCE < address + len(values):
                bollard.handle_command(code, sequence)
        return None
