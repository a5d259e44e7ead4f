"""The street around the simulated bollard PLCs: vehicles over the loops, faults and their repair.

`BollardField` drives `integrations.bollards.plc_sim.BollardPLCSimulator` (which plays the PLC
program and the register map): vehicles drive over lowered bollards at a rate that follows the
time of day (deliveries in the morning, residents at night), each staying on the loop a few
seconds; now and then a bollard faults (rate per bollard per day) and a technician clears it
later. Every random choice comes from the bollard's own seeded generator and every wait runs on
`hub.clock`, so tests with a FakeClock see the same street for the same seed.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from hub.clock import TimerHandle
from hub.core import Hub
from integrations.bollards.plc_sim import BollardPLCSimulator, SimulatedBollard
from integrations.bollards.registers import BollardState, FaultCode

from .daycycle import delivery_profile, hour_of_day

__all__ = ["FIELD_FAULTS", "BollardField", "FieldBollard"]

_LOGGER = logging.getLogger(__name__)

# Faults a street bollard really shows, most common first.
FIELD_FAULTS = (FaultCode.HYDRAULIC_PRESSURE_LOW, FaultCode.MOTOR_OVERLOAD, FaultCode.OBSTRUCTION,
                FaultCode.LIMIT_SWITCH_CONFLICT, FaultCode.POWER_FAILURE)
_FAULT_WEIGHTS = (5, 3, 3, 2, 1)


@dataclass
class FieldBollard:
    """One bollard's street: its generator, rates and pending timers."""

    bollard_id: str
    sim: SimulatedBollard
    rng: random.Random
    loop_rate: float  # vehicles per hour at the busiest time
    vehicles: int = 0  # vehicles that drove over
    faults: int = 0
    timers: dict[str, TimerHandle] = field(default_factory=dict)


class BollardField:
    """Vehicles and faults for every bollard of the simulated PLCs."""

    def __init__(self, hub: Hub, plc: BollardPLCSimulator, tz: tzinfo, *, fault_rate: float,
                 repair_time: tuple[float, float], loop_dwell: tuple[float, float]) -> None:
        self._hub = hub
        self.plc = plc
        self._tz = tz
        self.fault_rate = fault_rate  # per bollard per day
        self.repair_time = repair_time
        self.loop_dwell = loop_dwell
        self.bollards: dict[str, FieldBollard] = {}
        self._running = False

    def add(self, bollard_id: str, sim: SimulatedBollard, rng: random.Random, loop_rate: float) -> FieldBollard:
        item = self.bollards[bollard_id] = FieldBollard(bollard_id, sim, rng, loop_rate)
        return item

    def get(self, bollard_id: str) -> FieldBollard:
        """The bollard by id (case-insensitive). Raises KeyError naming the known ones."""
        for key, item in self.bollards.items():
            if key.lower() == bollard_id.lower():
                return item
        raise KeyError(f"no simulated bollard '{bollard_id}' (known: {', '.join(self.bollards) or 'none'})")

    def start(self) -> None:
        self._running = True
        for item in self.bollards.values():
            self._schedule_vehicle(item)
            self._schedule_fault(item)

    def stop(self) -> None:
        self._running = False
        for item in self.bollards.values():
            for timer in item.timers.values():
                timer.cancel()
            item.timers.clear()

    def _later(self, item: FieldBollard, name: str, delay: float, func: Callable[[], None]) -> None:
        old = item.timers.pop(name, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            item.timers.pop(name, None)
            if self._running:
                func()

        item.timers[name] = self._hub.clock.call_later(delay, fire)

    # ---- vehicles

    def _schedule_vehicle(self, item: FieldBollard) -> None:
        if item.loop_rate <= 0:
            return
        # Arrivals at the peak rate, thinned by the time of day (a non-homogeneous Poisson process).
        self._later(item, "vehicle", item.rng.expovariate(item.loop_rate / 3600), lambda: self._maybe_vehicle(item))

    def _maybe_vehicle(self, item: FieldBollard) -> None:
        local = datetime.fromtimestamp(self._hub.clock.time(), self._tz)
        if item.rng.random() < min(1.0, delivery_profile(hour_of_day(local), local.weekday())):
            self.vehicle(item, item.rng.uniform(*self.loop_dwell))
        self._schedule_vehicle(item)

    def vehicle(self, item: FieldBollard, seconds: float, *, force: bool = False) -> bool:
        """A vehicle drives onto the loop for `seconds`: only onto a free loop over a lowered bollard,
        unless `force`d (a vehicle stopped over the bollard, whatever is there: the drill service)."""
        sim = item.sim
        if not force and (sim.loop_occupied or sim.state is not BollardState.LOWERED):
            return False  # a raised bollard stops the traffic; a busy loop is already busy
        item.vehicles += 1
        sim.set_loop(True)
        self._later(item, "leave", seconds, lambda: sim.set_loop(False))
        return True

    # ---- faults

    def _schedule_fault(self, item: FieldBollard) -> None:
        if self.fault_rate <= 0:
            return
        self._later(item, "fault", item.rng.expovariate(self.fault_rate / 86400), lambda: self._random_fault(item))

    def _random_fault(self, item: FieldBollard) -> None:
        code = item.rng.choices(FIELD_FAULTS, _FAULT_WEIGHTS)[0]
        self.fault(item, code, item.rng.uniform(*self.repair_time))

    def fault(self, item: FieldBollard, code: FaultCode, repair_after: float) -> None:
        """The PLC reports a fault now; a technician clears it `repair_after` seconds later."""
        sim = item.sim
        if sim.state is BollardState.FAULT:
            return
        rest = BollardState.RAISED if sim.state in (BollardState.RAISED, BollardState.RAISING) else BollardState.LOWERED
        item.faults += 1
        _LOGGER.info("Simulated bollard %s: fault %s, repaired in %.0f min", item.bollard_id, code.name.lower(),
                     repair_after / 60)
        sim.set_fault(code)
        self._later(item, "repair", repair_after, lambda: self._repair(item, rest))

    def _repair(self, item: FieldBollard, rest: BollardState) -> None:
        if item.sim.state is BollardState.FAULT:
            item.sim.clear_fault(rest)
            _LOGGER.info("Simulated bollard %s: repaired", item.bollard_id)
        self._schedule_fault(item)
