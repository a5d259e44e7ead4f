"""Our bollard PLC register map (docs/bollard-register-map.md), shared by the hub and the simulator.

Each bollard occupies 16 addresses from its base address in each table, so one PLC can drive
several bollards (bases 0, 16, 32...).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

__all__ = [
    "BLOCK_STRIDE",
    "DI_COUNT",
    "HR_COUNT",
    "IR_COUNT",
    "BollardState",
    "Command",
    "CommandResult",
    "FaultCode",
    "PlcStatus",
    "fault_name",
    "is_newer",
    "next_sequence",
]

BLOCK_STRIDE: Final = 16

# Holding registers (read/write), written together in ONE "write multiple registers" (16) request.
HR_COMMAND: Final = 0  # Command code
HR_SEQUENCE: Final = 1  # command sequence number, 1..65535 then 1 again (0 = no command)
HR_COUNT: Final = 2

# Input registers (read only).
IR_STATE: Final = 0  # BollardState
IR_FAULT_CODE: Final = 1  # FaultCode (0 = none)
IR_LAST_SEQUENCE: Final = 2  # last sequence number the PLC took in (acted on or rejected)
IR_HEARTBEAT: Final = 3  # +1 every PLC heartbeat period (1 s), wraps at 65535
IR_RESULT: Final = 4  # CommandResult of the command with IR_LAST_SEQUENCE
IR_LAST_COMMAND: Final = 5  # Command code that came with IR_LAST_SEQUENCE
IR_COUNT: Final = 6

# Discrete inputs (read only).
DI_UP_LIMIT: Final = 0  # bollard fully up (limit switch)
DI_DOWN_LIMIT: Final = 1  # bollard fully down, flush with the road
DI_LOOP_OCCUPIED: Final = 2  # the inductive loop sees a vehicle over the bollard
DI_LOCAL_MODE: Final = 3  # key switch on the cabinet: local/manual control, remote commands refused
DI_COUNT: Final = 4


class Command(IntEnum):
    """Command codes (holding register base+0)."""

    NONE = 0
    RAISE = 1
    LOWER = 2
    EMERGENCY_LOWER = 3


class BollardState(IntEnum):
    """State enum (input register base+0)."""

    UNKNOWN = 0
    RAISED = 1
    LOWERED = 2
    RAISING = 3
    LOWERING = 4
    FAULT = 5


class CommandResult(IntEnum):
    """What the PLC did with the last sequence number it took in (input register base+4)."""

    NONE = 0
    ACCEPTED = 1
    REJECTED_LOCAL_MODE = 2
    REJECTED_LOOP_OCCUPIED = 3
    REJECTED_FAULT = 4
    REJECTED_INVALID = 5


class FaultCode(IntEnum):
    """PLC fault codes (input register base+1)."""

    NONE = 0
    MOTOR_OVERLOAD = 1
    TRAVEL_TIMEOUT = 2
    LIMIT_SWITCH_CONFLICT = 3
    HYDRAULIC_PRESSURE_LOW = 4
    POWER_FAILURE = 5
    OBSTRUCTION = 6


def next_sequence(sequence: int) -> int:
    """The sequence number after `sequence`: 1..65535, then 1 again (0 means 'no command')."""
    return 1 if sequence >= 0xFFFF else sequence + 1


def is_newer(sequence: int, last: int) -> bool:
    """Whether `sequence` comes after `last` in serial-number arithmetic (RFC 1982, 16 bits).

    A PLC accepts a command only when its sequence number is newer than the last one it took in: a
    retried write (same number) or a late duplicate (older number) never acts twice. After a PLC
    restart `last` is 0 and any non-zero number is newer.
    """
    if sequence == 0:
        return False
    if last == 0:
        return True
    return 0 < (sequence - last) % 0x10000 < 0x8000


@dataclass(frozen=True, slots=True)
class PlcStatus:
    """One reading of a bollard's input registers and discrete inputs."""

    state: BollardState
    fault_code: int
    last_sequence: int
    heartbeat: int
    result: CommandResult
    last_command: int
    up_limit: bool
    down_limit: bool
    loop_occupied: bool
    local_mode: bool

    @classmethod
    def from_registers(cls, registers: list[int], bits: list[bool]) -> PlcStatus:
        """Build from IR_COUNT input registers and DI_COUNT discrete inputs read at the base address."""
        try:
            state = BollardState(registers[IR_STATE])
        except ValueError:
            state = BollardState.UNKNOWN
        try:
            result = CommandResult(registers[IR_RESULT])
        except ValueError:
            result = CommandResult.NONE
        return cls(
            state=state,
            fault_code=registers[IR_FAULT_CODE],
            last_sequence=registers[IR_LAST_SEQUENCE],
            heartbeat=registers[IR_HEARTBEAT],
            result=result,
            last_command=registers[IR_LAST_COMMAND],
            up_limit=bool(bits[DI_UP_LIMIT]),
            down_limit=bool(bits[DI_DOWN_LIMIT]),
            loop_occupied=bool(bits[DI_LOOP_OCCUPIED]),
            local_mode=bool(bits[DI_LOCAL_MODE]),
        )


def fault_name(code: int) -> str:
    """A readable name for a PLC fault code."""
    try:
        return FaultCode(code).name.lower()
    except ValueError:
        return f"code_{code}"
